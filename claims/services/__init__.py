"""Writes for claims: submission and intake edits (`intake`), auto-adjudication (`adjudication`), a
person's decisions on one claim (`decisions`), who holds a claim of the examiners' queue (`assignment`),
and the payment side's state changes (`payment`)."""
from ..errors import ClaimConflict, ClaimError
from .adjudication import (
    ADJUDICABLE,
    ADJUDICATION_LOCK_ID,
    CLAIM_COLS,
    ClaimRow,
    plan_terms_for,
)
from .assignment import QUEUE_STATES, claim_release, claim_take
from .decisions import claim_adjudicate, claim_appeal, claim_review, claims_adjudicate_pending
from .intake import (
    MAX_LINES,
    MAX_UNITS,
    SubmittedClaim,
    SubmittedLine,
    claim_id_parse,
    claim_lines_parse,
    claim_submit,
    claims_submit_batch,
    duplicate_key_for,
)
from .payment import claims_record_payment

__all__ = [
    "ADJUDICABLE", "ADJUDICATION_LOCK_ID", "CLAIM_COLS", "MAX_LINES", "MAX_UNITS", "QUEUE_STATES", "ClaimConflict",
    "ClaimError", "ClaimRow", "SubmittedClaim", "SubmittedLine", "claim_adjudicate", "claim_appeal", "claim_id_parse",
    "claim_lines_parse", "claim_release", "claim_review", "claim_submit", "claim_take", "claims_submit_batch",
    "claims_adjudicate_pending", "claims_record_payment", "duplicate_key_for",
    "plan_terms_for",
]
