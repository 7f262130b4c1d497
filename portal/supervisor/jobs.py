"""The supervisor's jobs: start a payment cycle as a Celery task and follow it (`portal.models.JobRun`),
and read the last runs and the scheduled jobs.

A start checks the role (`parties.roles`, the same action the payment cycle service checks again when
it runs for that login), records the run `queued` and hands it to a worker once the transaction
commits. At most one run is queued or running (a database constraint): a second start, a double
click or another supervisor at the same moment, is a Conflict naming the run already under way.
"""
import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from core.errors import Conflict
from funding.models import PaymentCycle
from parties.roles import Action, action_check

from ..models import JobRun
from ..tasks import job_run_payment_cycle

# A run no worker has finished this long after it was requested is taken as lost (its worker died and
# the broker dropped the message): a new start marks it failed instead of waiting for it for ever.
# Longer than the broker's visibility timeout (30 minutes), after which a lost message is redelivered.
ABANDONED_AFTER = datetime.timedelta(hours=1)
LAST_RUNS = 10
SCHEDULED_JOBS = 50


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "someone no longer here"


def payment_cycle_job_start(*, by) -> JobRun:
    """Queue a payment cycle for `by` (who must be allowed to run one): its JobRun, `queued`."""
    action_check(user=by, action=Action.PAYMENT_CYCLE_RUN)
    kind = JobRun.Kind.PAYMENT_CYCLE
    now = timezone.now()
    with transaction.atomic():
        JobRun.objects.filter(kind=kind, state__in=JobRun.ACTIVE, requested_at__lt=now - ABANDONED_AFTER).update(
            state=JobRun.State.FAILED, finished_at=now,
            message="No worker finished it within an hour; a new run was started.")
        try:
            with transaction.atomic():
                run = JobRun.objects.create(kind=kind, requested_by=by, requested_at=now)
        except IntegrityError:
            active = JobRun.objects.select_related("requested_by").filter(kind=kind, state__in=JobRun.ACTIVE).first()
            under_way = (f"payment cycle #{active.pk} is already {active.state}, started by "
                         f"{_person(active.requested_by)}" if active else "a payment cycle is already under way")
            raise Conflict({"job": [under_way + "; wait for it to finish"]}) from None
        job_run_payment_cycle.delay_on_commit(run.pk)
    return run


def job_run_get(*, job_id: int) -> JobRun | None:
    return JobRun.objects.select_related("requested_by").filter(pk=job_id).first()


def job_run_list_latest(*, limit: int = LAST_RUNS) -> list[JobRun]:
    return list(JobRun.objects.select_related("requested_by").order_by("-id")[:limit])


def payment_cycle_list_latest(*, limit: int = LAST_RUNS) -> list[PaymentCycle]:
    """The last payment cycles and releases by a deposit, newest first (run date, then id: its index)."""
    return list(PaymentCycle.objects.order_by("-run_date", "-id")[:limit])


def periodic_task_list(*, limit: int = SCHEDULED_JOBS) -> list[PeriodicTask]:
    """The scheduled jobs (django-celery-beat), by name: a handful, read-only here (the admin edits them)."""
    return list(PeriodicTask.objects.select_related("interval", "crontab", "solar", "clocked").order_by("name")[:limit])
