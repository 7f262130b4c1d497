"""Reads for parties."""
from django.db.models import QuerySet

from .models import Employer, Member, PartyLink
from .roles import user_is_tpa_staff


def party_link_for(*, user) -> PartyLink | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.party_link
    except PartyLink.DoesNotExist:
        return None


def family_members(*, subscriber: Member):
    return Member.objects.filter(pk=subscriber.pk) | Member.objects.filter(subscriber=subscriber)


def employer_list_visible_to(*, user) -> QuerySet[Employer]:
    """The sponsors a login may act on: TPA staff every one, an employer admin its own, nobody else any."""
    if user_is_tpa_staff(user=user):
        return Employer.objects.all()
    link = party_link_for(user=user)
    if link is not None and link.role == PartyLink.Role.EMPLOYER_ADMIN:
        return Employer.objects.filter(pk=link.employer_id)
    return Employer.objects.none()
