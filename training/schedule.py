"""Which jobs fall due on a simulated day, as the sandbox's beat schedule (django-celery-beat's tables, as
funding/schedule.py installed them and an administrator may have changed them) says, in the order of
their time of day; and running them with `today=day` through the same job functions the workers call."""
import datetime

from celery.schedules import crontab
from django_celery_beat.models import PeriodicTask

from .scenarios.events import JOBS

# The beat's task -> the scenario runner's job (the same function the worker's task calls).
TASK_JOBS = {
    "claims.tasks.adjudicate_pending_claims": "adjudication",
    "funding.tasks.payment_cycle": "payment_cycle",
    "funding.tasks.reimbursement_billing": "reimbursement_billing",
    "funding.tasks.fee_billing": "fee_billing",
    "funding.tasks.stop_loss_evaluation": "stop_loss",
}
DAY_SECONDS = 24 * 3600


def _crontab_hits(entry, day: datetime.date) -> list[tuple[int, int]]:
    """The (hour, minute) times of `day` at which the crontab fires."""
    cron = crontab(minute=entry.minute, hour=entry.hour, day_of_week=entry.day_of_week,
                   day_of_month=entry.day_of_month, month_of_year=entry.month_of_year)
    # celery's crontab counts Sunday as 0; Python's isoweekday Sunday as 7.
    if day.month not in cron.month_of_year or day.day not in cron.day_of_month \
            or day.isoweekday() % 7 not in cron.day_of_week:
        return []
    return sorted((h, m) for h in cron.hour for m in cron.minute)


def jobs_due(*, day: datetime.date) -> list[str]:
    """The jobs of `day` in time order. A job on an interval of a day or less (auto-adjudication every five
    minutes) runs before each timed job and at the end of the day: each of its runs in between would find
    what the next one finds."""
    timed: list[tuple[tuple[int, int], str]] = []
    frequent: list[str] = []
    for task in PeriodicTask.objects.filter(enabled=True, task__in=TASK_JOBS).select_related("crontab", "interval"):
        job = TASK_JOBS[task.task]
        if task.interval_id is not None:
            if task.interval.every * _period_seconds(task.interval.period) <= DAY_SECONDS:
                frequent.append(job)
        elif task.crontab_id is not None:
            timed += [(at, job) for at in _crontab_hits(task.crontab, day)]
    order: list[str] = []
    for _, job in sorted(timed):
        order += frequent + [job]
    return order + frequent


def _period_seconds(period: str) -> int:
    return {"days": DAY_SECONDS, "hours": 3600, "minutes": 60, "seconds": 1, "microseconds": 0}.get(period, DAY_SECONDS)


def job_run(*, job: str, day: datetime.date) -> list[str]:
    """Run the job for `day`, and what its task chains (a payment cycle that paid money queues a stop-loss
    evaluation: funding.tasks.payment_cycle). Returns the jobs run."""
    result = JOBS[job](day)
    if job == "payment_cycle" and result is not None and result.amount_paid > 0:
        JOBS["stop_loss"](day)
        return [job, "stop_loss"]
    return [job]
