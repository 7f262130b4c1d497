"""Who works a claim of the examiners' queue: an examiner takes a pended or appealed claim, and releases
it, so that two examiners do not work the same one.

Taking and deciding lock the claim's row (`select_for_update`), so they happen one after the other:
of two examiners taking the same claim at once one holds it and the other gets a `ClaimConflict`
naming the holder; a claim held by one examiner cannot be decided by another. The hold ends when it
is released or when the claim leaves the queue (approved or denied, `claims.services.decisions`).
"""
from django.db import transaction

from core import clock
from parties.models import PartyLink
from parties.roles import Action, role_of

from ..errors import ClaimConflict, ClaimError
from ..models import Claim, ClaimAssignment
from ..review_queue import QUEUE_STATES
from ..selectors import claim_access_by_id
from .intake import claim_id_parse


def _person(user) -> str:
    return user.get_full_name() or user.get_username()


def _holder_text(assignment: ClaimAssignment) -> str:
    return f"{_person(assignment.examiner)} since {assignment.taken_at:%b %d, %Y %H:%M}"


def _locked_state(claim_id: int) -> str:
    """The claim's state, its row locked until the caller's transaction ends."""
    state = Claim.objects.filter(pk=claim_id).select_for_update().values_list("state", flat=True).first()
    if state is None:
        raise ClaimError({"claim": [f"no claim {claim_id}"]})
    return state


def _holding(claim_id: int) -> ClaimAssignment | None:
    return ClaimAssignment.objects.filter(claim_id=claim_id).select_related("examiner").first()


def _may_release_others(user) -> bool:
    """A supervisor (or the TPA's administrator) hands a claim back to the queue for anyone."""
    return bool(user.is_superuser) or role_of(user=user) == PartyLink.Role.SUPERVISOR


def claim_take(*, claim_id, user) -> ClaimAssignment:
    """`user` takes a pended or appealed claim: it is theirs until released or decided. Taking a claim
    one already holds is the same hold (a double click); one held by another is a ClaimConflict."""
    claim_id = claim_id_parse(claim_id)
    claim_access_by_id(user=user, claim_id=claim_id, action=Action.CLAIM_REVIEW)
    with transaction.atomic():
        state = _locked_state(claim_id)
        if state not in QUEUE_STATES:
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is {state}, not in the examiners' queue"]})
        held = _holding(claim_id)
        if held is not None:
            if held.examiner_id == user.pk:
                return held
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is held by {_holder_text(held)}"]})
        return ClaimAssignment.objects.create(claim_id=claim_id, examiner=user, taken_at=clock.now())


def claim_release(*, claim_id, user) -> None:
    """The holder (or a supervisor) gives the claim back to the queue. Releasing a claim nobody holds
    does nothing (a double click); one held by another examiner is a ClaimConflict naming the holder."""
    claim_id = claim_id_parse(claim_id)
    claim_access_by_id(user=user, claim_id=claim_id, action=Action.CLAIM_REVIEW)
    with transaction.atomic():
        _locked_state(claim_id)
        held = _holding(claim_id)
        if held is None:
            return
        if held.examiner_id != user.pk and not _may_release_others(user):
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is held by {_holder_text(held)}; "
                                           "only they or a supervisor may release it"]})
        held.delete()


def claim_hold_check(*, claim_id: int, user) -> None:
    """Inside the caller's transaction, the claim's row locked: a ClaimConflict when another examiner
    holds the claim. The system (`user` None: a job, a scenario) is not a person working the queue."""
    if user is None:
        return
    held = _holding(claim_id)
    if held is not None and held.examiner_id != user.pk:
        raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is held by {_holder_text(held)}"]})


def claim_hold_end(*, claim_id: int, state: str | None = None) -> None:
    """End the claim's hold when it is no longer work of the queue (`state` its state now; None: always)."""
    if state is None or state not in QUEUE_STATES:
        ClaimAssignment.objects.filter(claim_id=claim_id).delete()
