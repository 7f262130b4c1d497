"""Celery tasks for claims: thin adapters over claims.services."""
from celery import shared_task

from parties.roles import Action, action_check

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def adjudicate_pending_claims() -> int:
    """Adjudicate everything `submitted` or `appealed`, in received order, a chunk per transaction.

    Safe to run twice or to be delivered twice: claims leave those states as they are adjudicated,
    and the adjudication lock keeps two runs from pricing the same claim.
    """
    return services.claims_adjudicate_pending()


def adjudicate_pending_claims_enqueue(*, by) -> None:
    """A person asks for the batch now (a screen's button): their role must allow it; the job runs
    once the caller's transaction commits."""
    action_check(user=by, action=Action.CLAIMS_ADJUDICATE_PENDING)
    adjudicate_pending_claims.delay_on_commit()


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def adjudicate_claim(claim_id: int) -> str:
    """Adjudicate one claim now (the single-claim path the UI uses)."""
    try:
        return services.claim_adjudicate(claim_id=claim_id).state
    except services.ClaimConflict:
        return "skipped"  # already adjudicated by a batch run: nothing to do
