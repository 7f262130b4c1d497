"""The dashboards' background job: recompute the summary figures pages have asked for."""
from celery import shared_task

from .figures import figures_refresh

TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK)
def dashboard_figures_refresh(keys: list[str] | None = None) -> int:
    """Safe to deliver twice: it only recomputes figures."""
    return figures_refresh(keys=keys)
