"""The money side's changes to claims: the payment cycle and a deposit's release (funding) change
claim state only through this, by the claim's declared transitions."""
import datetime

from core import clock
from core.bulk import update_prepare, write_prepared

from ..fsm_log import transition_log_flush
from ..models import Claim, ClaimState, claim_transition_target

S = ClaimState


def claims_record_payment(*, paid: list[tuple[int, str]], awaiting: list[int] = (), paid_on: datetime.date,
                          by=None, paid_note: str = "", awaiting_note: str = "") -> None:
    """Claims the money side has just paid or could not pay, in the caller's transaction (which holds
    their rows locked: `claims.selectors.claim_payment_queue_locked`).

    `paid`: (claim id, its state now), approved or awaiting funds -> `paid` on `paid_on`.
    `awaiting`: approved claim ids -> `awaiting_funds`. The declared transitions (`pay`, `await_funds`)
    decide where each leads, and refuse one that is not declared; the new states go in one UPDATE and
    every transition into the log in one COPY, whatever the number of claims.
    """
    targets: dict[tuple, str] = {}

    def target(name: str, state: str) -> str:
        found = targets.get((name, state))
        if found is None:
            found = targets[(name, state)] = claim_transition_target(name, state)
        return found

    by_id = getattr(by, "pk", by)
    rows, log_rows = [], []
    for claim_id, state in paid:
        new = target("pay", state)
        rows.append((claim_id, new, paid_on))
        log_rows.append((Claim, claim_id, state, new, "pay", by_id, paid_note))
    for claim_id in awaiting:
        new = target("await_funds", S.APPROVED)
        rows.append((claim_id, new, None))
        log_rows.append((Claim, claim_id, S.APPROVED, new, "await_funds", by_id, awaiting_note))
    write_prepared(update_prepare(Claim, "id", ("state", "paid_on"), rows))
    transition_log_flush(log_rows, timestamp=clock.now())
