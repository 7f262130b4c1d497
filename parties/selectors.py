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


TPA_ROLES = ("claims_examiner", "supervisor")


def user_is_tpa_staff(*, user) -> bool:
    """Superusers and the TPA's examiners and supervisors: they see every claim (one TPA runs this system)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    link = getattr(user, "party_link", None)
    return link is not None and link.role in TPA_ROLES


def user_is_outside_tpa(*, user) -> bool:
    """A login linked to a provider, sponsor, carrier or member rather than to the TPA. Such a login
    sees only what a `*_visible_to(user)` selector gives it; superusers and TPA staff see everything."""
    if getattr(user, "is_superuser", False):
        return False
    link = getattr(user, "party_link", None)
    return link is not None and link.role not in TPA_ROLES
