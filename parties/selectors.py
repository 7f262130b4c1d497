"""Reads for parties."""
from .models import Member, PartyLink


def party_link_for(*, user) -> PartyLink | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.party_link
    except PartyLink.DoesNotExist:
        return None


def family_members(*, subscriber: Member):
    return Member.objects.filter(pk=subscriber.pk) | Member.objects.filter(subscriber=subscriber)
