"""Summary figures for the dashboards, computed once and read many times (see portal.models).

A page asks `figures_get(key=..., compute=...)`: figures computed on today's business date and no older
than FRESH are returned as they are; older ones are returned too, with a refresh queued (the page stays
fast); none at all are computed now, once. The refresh job recomputes every key a page has asked for.
A compute function takes no arguments and returns JSON-serializable data (Decimals allowed).
"""
import datetime
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core import clock

from .models import DashboardFigures

FRESH = datetime.timedelta(minutes=5)

# key prefix -> function(rest of the key) -> compute function; filled by the role modules at import.
_COMPUTERS: dict[str, Callable[[str], Callable[[], dict]]] = {}


def figures_register(prefix: str):
    """Decorate `def compute_for(rest: str) -> Callable[[], dict]` for keys "prefix" or "prefix:rest"."""
    def decorate(fn):
        _COMPUTERS[prefix] = fn
        return fn
    return decorate


def _computer_for(key: str) -> Callable[[], dict]:
    prefix, _, rest = key.partition(":")
    return _COMPUTERS[prefix](rest)


def figures_compute(*, key: str) -> DashboardFigures:
    """Compute the figures of `key` now and keep them."""
    data = _computer_for(key)()
    row, _ = DashboardFigures.objects.update_or_create(
        key=key, defaults={"data": data, "computed_at": timezone.now(), "business_date": clock.today()})
    return row


def figures_get(*, key: str) -> DashboardFigures:
    """The figures of `key` (see the module's docstring): one query when they are kept and fresh."""
    row = DashboardFigures.objects.filter(key=key).first()
    if row is None:
        return figures_compute(key=key)
    stale = row.business_date != clock.today() or timezone.now() - row.computed_at > FRESH
    # One refresh queued a minute per process, not one per page view of a busy summary.
    if stale and cache.add(f"portal-figures-refresh:{key}", True, timeout=60):
        from .tasks import dashboard_figures_refresh  # the task module imports this one

        transaction.on_commit(lambda: dashboard_figures_refresh.delay(keys=[key]))
    return row


def figures_refresh(*, keys: list[str] | None = None) -> int:
    """Recompute `keys` (every kept key when None); a key whose summary no longer exists is dropped."""
    wanted = keys if keys is not None else list(DashboardFigures.objects.values_list("key", flat=True))
    done = 0
    for key in wanted:
        if key.partition(":")[0] not in _COMPUTERS:
            DashboardFigures.objects.filter(key=key).delete()
            continue
        figures_compute(key=key)
        done += 1
    return done
