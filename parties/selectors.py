"""Reads for parties."""
from django.db.models import QuerySet

from core.errors import NotFound

from .models import Employer, Member, PartyLink
from .roles import action_check, user_is_tpa_staff


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


def employer_access_by_id(*, user, employer_id, action) -> Employer:
    """The sponsor, for a login about to take `action` for it (record a deposit, a reimbursement):
    NotFound (404) when it does not exist, is no sponsor id at all, or the login may not see it (the
    same answer for all three), Forbidden (403) when the login's role may not take that action
    (`parties.roles`). The one check, for the services and every screen."""
    is_id = isinstance(employer_id, (int, str)) and not isinstance(employer_id, bool)
    text = str(employer_id).strip() if is_id else ""
    if not text.isdecimal() or int(text) >= 2**63:  # no id at all, or beyond the column: no such sponsor
        raise NotFound({"employer": [f"no sponsor {employer_id!r:.40}"]})
    employer = employer_list_visible_to(user=user).filter(pk=int(text)).first()
    if employer is None:
        raise NotFound({"employer": [f"no sponsor {int(text)}"]})
    action_check(user=user, action=action)
    return employer
