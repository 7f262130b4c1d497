"""The periodic jobs, installed into django-celery-beat's tables (editable in the admin afterwards).

`beat_schedule_install()` is idempotent: it updates or creates each job by its name. Migration
0003 runs it; run it again after changing the times here.
"""
import json

from django.conf import settings

# name -> (task, schedule). A crontab is (minute, hour, day_of_week, day_of_month, month_of_year).
SCHEDULE = {
    "auto-adjudication": ("claims.tasks.adjudicate_pending_claims", {"every_seconds": 300}),
    "payment cycle (daily 18:00)": ("funding.tasks.payment_cycle", {"crontab": ("0", "18", "*", "*", "*")}),
    "reimbursement billing (Mondays 06:00)": ("funding.tasks.reimbursement_billing",
                                              {"crontab": ("0", "6", "1", "*", "*")}),
    "fee billing (1st of the month 02:00)": ("funding.tasks.fee_billing", {"crontab": ("0", "2", "*", "1", "*")}),
    "stop-loss evaluation (daily 03:00)": ("funding.tasks.stop_loss_evaluation",
                                           {"crontab": ("0", "3", "*", "*", "*")}),
}


def beat_schedule_install(*, apps=None, using: str = "default") -> list[str]:
    """Create or update the periodic tasks by name; returns their names.

    `apps`: a migration's app registry (historical models); the live models otherwise. `using`: the
    database being migrated (a training sandbox's, say), never assumed to be the default.
    """
    if apps is None:
        from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
    else:
        CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
        IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
        PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    names = []
    for name, (task, when) in SCHEDULE.items():
        defaults = {"task": task, "enabled": True, "args": json.dumps([]), "kwargs": json.dumps({}),
                    "interval": None, "crontab": None}
        if "every_seconds" in when:
            defaults["interval"], _ = IntervalSchedule.objects.using(using).get_or_create(every=when["every_seconds"],
                                                                              period="seconds")
        else:
            minute, hour, dow, dom, moy = when["crontab"]
            defaults["crontab"], _ = CrontabSchedule.objects.using(using).get_or_create(
                minute=minute, hour=hour, day_of_week=dow, day_of_month=dom, month_of_year=moy,
                timezone=settings.TIME_ZONE,
            )
        PeriodicTask.objects.using(using).update_or_create(name=name, defaults=defaults)
        names.append(name)
    return names
