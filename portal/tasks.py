"""The dashboards' background job: recompute the summary figures pages have asked for."""
from celery import shared_task

from .figures import figures_refresh

TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK)
def dashboard_figures_refresh(keys: list[str] | None = None) -> int:
    """Safe to deliver twice: it only recomputes figures."""
    return figures_refresh(keys=keys)


@shared_task(**TASK)
def job_run_payment_cycle(job_run_id: int) -> None:
    """A payment cycle a person started from the jobs page (`portal.supervisor.jobs`), its progress kept in
    its JobRun: running, then done with the cycle's figures, or failed with the reason.

    Safe to deliver twice: a run already done or failed is left as it is; a run found `running` (its
    worker was lost) runs again, and the cycle finds nothing paid twice (it pays in one transaction,
    committed with the run's `done`)."""
    from django.db import transaction
    from django.utils import timezone

    from core.errors import DomainError
    from funding.services import payment_cycle_run
    from funding.tasks import stop_loss_evaluation

    from .models import JobRun

    State = JobRun.State
    with transaction.atomic():
        run = JobRun.objects.select_for_update().filter(pk=job_run_id, state__in=JobRun.ACTIVE).first()
        if run is None:
            return
        JobRun.objects.filter(pk=run.pk).update(state=State.RUNNING, started_at=timezone.now())

    def finish(state: str, message: str, result: dict | None = None) -> None:
        JobRun.objects.filter(pk=run.pk, state=State.RUNNING).update(
            state=state, finished_at=timezone.now(), message=message[:500], result=result or {})

    try:
        with transaction.atomic():
            if not JobRun.objects.select_for_update().filter(pk=run.pk, state=State.RUNNING).exists():
                return  # another delivery finished it meanwhile
            if run.requested_by is None:
                raise DomainError({"requested_by": ["the login that started this run no longer exists"]})
            cycle = payment_cycle_run(by=run.requested_by)
            if cycle is None:
                finish(State.DONE, "Nothing was waiting for payment.", {"cycle": None})
                return
            finish(State.DONE, "", {
                "cycle": cycle.pk, "run_date": cycle.run_date, "claims_paid": cycle.claims_paid,
                "amount_paid": cycle.amount_paid, "claims_awaiting_funds": cycle.claims_awaiting_funds,
                "funding_requests": cycle.funding_requests.count()})
            if cycle.amount_paid > 0:  # as the scheduled cycle does (funding.tasks.payment_cycle)
                stop_loss_evaluation.delay_on_commit()
    except DomainError as exc:
        finish(State.FAILED, exc.text())
    except Exception as exc:
        finish(State.FAILED, f"The job failed unexpectedly ({type(exc).__name__}); the cycle was rolled back.")
        raise
