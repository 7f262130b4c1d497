"""A person's decisions on one claim: adjudicate it now, an examiner's review of a pended claim, an
appeal of a denied one. Each takes the acting login (`by`/`user`; None is the system: a job, a
scenario) and checks it through `claims.selectors.claim_access_by_id`: a claim it may not see is
NotFound, an action its role may not take is Forbidden."""
import datetime

from django.db import transaction

from core import clock
from core.text import shown
from parties.roles import Action, action_check

from ..carc import EXAMINER_DEFAULT_DENIAL, EXAMINER_DENIAL_CODES
from ..errors import ClaimConflict, ClaimError
from ..models import Claim, ClaimState
from ..selectors import claim_access_by_id
from .adjudication import (
    ADJUDICABLE,
    CLAIM_COLS,
    _adjudicate_rows,
    _adjudication_lock,
    claims_adjudicate_pending_run,
)
from .assignment import claim_hold_check, claim_hold_end
from .intake import claim_id_parse, text_clean

S = ClaimState
NOTE_WIDTH = 500


def _note(value, field: str) -> str:
    """A reason or note a person typed, kept in the claim's history: text, bounded, no NUL, no lone
    surrogate (neither can be stored)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ClaimError({field: [f"must be text, got {type(value).__name__}"]})
    return text_clean(value, field=field, width=NOTE_WIDTH)


def _locked_row(claim_id: int) -> tuple:
    rows = list(Claim.objects.filter(pk=claim_id).select_for_update().values_list(*CLAIM_COLS))
    if not rows:
        raise ClaimError({"claim": [f"no claim {claim_id}"]})
    return rows[0]


def claims_adjudicate_pending(*, chunk_size: int | None = None, today: datetime.date | None = None, by=None) -> int:
    """Adjudicate every `submitted` and `appealed` claim, in received order (the scheduled job)."""
    if by is not None:
        action_check(user=by, action=Action.CLAIMS_ADJUDICATE_PENDING)
    return claims_adjudicate_pending_run(chunk_size=chunk_size, today=today, by=by)


def claim_adjudicate(*, claim_id: int, today: datetime.date | None = None, by=None) -> Claim:
    """Adjudicate one submitted or appealed claim now (the same rules and writes as the batch)."""
    claim_id = claim_id_parse(claim_id)
    if by is not None:
        claim_access_by_id(user=by, claim_id=claim_id, action=Action.CLAIM_ADJUDICATE)
    today = today or clock.today()
    with transaction.atomic():
        _adjudication_lock()
        row = _locked_row(claim_id)
        if row[1] not in ADJUDICABLE:
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is {row[1]}, not submitted or appealed"]})
        claim_hold_check(claim_id=claim_id, user=by)
        states = _adjudicate_rows([row], today=today, by=by)
        claim_hold_end(claim_id=claim_id, state=states[claim_id])  # still held if it pended again
    return Claim.objects.get(pk=claim_id)


def claim_review(*, claim_id: int, decision: str, user=None, reason_code: str | None = None, note: str = "",
                 today: datetime.date | None = None) -> Claim:
    """An examiner approves (priced now) or denies (every line, with a reason code) a pended claim.

    Two examiners at once: the second finds the claim no longer pended and gets ClaimConflict; so does
    anyone but the examiner holding the claim (`claims.services.assignment`). The decision ends the hold.
    """
    claim_id = claim_id_parse(claim_id)
    if user is not None:
        claim_access_by_id(user=user, claim_id=claim_id, action=Action.CLAIM_REVIEW)
    if decision not in ("approve", "deny"):
        raise ClaimError({"decision": [f"must be approve or deny, got {shown(decision)}"]})
    if decision == "deny":
        reason_code = reason_code or EXAMINER_DEFAULT_DENIAL
        if isinstance(reason_code, int) and not isinstance(reason_code, bool) and 0 < reason_code < 10_000:
            reason_code = str(reason_code)  # 50 for "50"
        if reason_code not in EXAMINER_DENIAL_CODES:
            raise ClaimError({"reason_code": [f"must be one of {', '.join(EXAMINER_DENIAL_CODES)}"]})
    note = _note(note, "note")
    today = today or clock.today()
    with transaction.atomic():
        _adjudication_lock()
        row = _locked_row(claim_id)
        if row[1] != S.PENDED:
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is {row[1]}, no longer pended"]})
        claim_hold_check(claim_id=claim_id, user=user)
        _adjudicate_rows([row], today=today, by=user, mode=decision, deny_code=reason_code or "", note=note)
        claim_hold_end(claim_id=claim_id)
    return Claim.objects.get(pk=claim_id)


def claim_appeal(*, claim_id: int, user=None, reason: str = "") -> Claim:
    """Record an appeal of a denied claim; the next adjudication run re-adjudicates it."""
    claim_id = claim_id_parse(claim_id)
    if user is not None:
        claim_access_by_id(user=user, claim_id=claim_id, action=Action.CLAIM_APPEAL)
    reason = _note(reason, "reason")
    with transaction.atomic():
        claim = Claim.objects.select_for_update().filter(pk=claim_id).first()
        if claim is None:
            raise ClaimError({"claim": [f"no claim {claim_id}"]})
        if claim.state != S.DENIED:
            raise ClaimConflict({"claim": [f"claim {claim.claim_number} is {claim.state}, not denied"]})
        claim.appeal(by=user, description=f"appeal: {reason}" if reason else "appeal received")
        claim.save(update_fields=["state"])
        claim_hold_end(claim_id=claim_id)  # an appeal is new work: no hold left from an earlier round
    return claim
