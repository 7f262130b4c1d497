"""The project's one clock.

Every business date (received dates, paid dates, billing months, stop-loss evaluation) comes from
`today()`. A scenario or a training session moves it with `clock_set`; the simulated date is kept
in the database so the web process, the workers and the scheduler all see the same day.
"""
import datetime

from django.utils import timezone

from .models import BusinessClock


def today() -> datetime.date:
    simulated = BusinessClock.objects.filter(pk=1).values_list("simulated_date", flat=True).first()
    return simulated or timezone.localdate()


def now() -> datetime.datetime:
    """A timestamp on the business date: wall-clock time of day when the clock is real."""
    real = timezone.localtime()
    day = today()
    if day == real.date():
        return real
    return real.replace(year=day.year, month=day.month, day=day.day)


def clock_set(*, day: datetime.date | None) -> None:
    """Move the simulated clock to `day`; None returns to the real date."""
    BusinessClock.objects.update_or_create(pk=1, defaults={"simulated_date": day})
