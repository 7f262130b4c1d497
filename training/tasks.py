"""Celery tasks of the Training area, and the calls that queue them (or run them here and now), for the
screens and the command line: thin adapters over training.services."""
import datetime

from celery import shared_task
from django.db import transaction

from . import services
from .models import TrainingSession
from .sandbox.celery import HEADER

TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK)
def scenario_template_build(template_id: int) -> str:
    """Build a scenario's template and open the sessions waiting for it (on the control database)."""
    return services.template_build(template_id=template_id).state


@shared_task(**TASK)
def session_clock_advance(session_id: int, to: str) -> int:
    """Runs in the session's sandbox (its message carries the session's header: training/sandbox/celery.py)."""
    return services.session_clock_walk(session_id=session_id, to=datetime.date.fromisoformat(to))


@shared_task(**TASK)
def sandbox_database_drop(name: str) -> str:
    """Drop a session's old database (after a reset or an end), on the control side: it waits for a checkpoint."""
    from .sandbox.databases import database_drop

    database_drop(name=name)
    return name


def _drop_later(*, name: str) -> None:
    transaction.on_commit(lambda: sandbox_database_drop.delay(name), using="control")


def session_reset_enqueue(*, code: str, by) -> TrainingSession:
    return services.training_session_reset(code=code, by=by, drop=_drop_later)


def session_end_enqueue(*, code: str, by) -> TrainingSession:
    return services.training_session_end(code=code, by=by, drop=_drop_later)


def session_start_enqueue(*, scenario_text: str, source: str, by) -> TrainingSession:
    """A session started from a screen: a template still to build is built by a worker."""
    session = services.training_session_start(scenario_text=scenario_text, source=source, by=by)
    if session.state == TrainingSession.S.PREPARING:
        template_id = session.template_id
        transaction.on_commit(lambda: scenario_template_build.delay(template_id), using="control")
    return session


def session_advance_enqueue(*, code: str, by, to=None, days=None, now: bool = False) -> TrainingSession:
    """Move a session's clock: the walk runs in the session, by a worker (the screens) or here and now
    (`now`: the command line, through the same task, so that the same header puts it in the session)."""
    session = services.training_session_advance(code=code, by=by, to=to, days=days)
    options = {"args": [session.pk, session.advance_to.isoformat()], "headers": {HEADER: session.header}}
    if now:
        session_clock_advance.apply(**options)
    else:
        transaction.on_commit(lambda: session_clock_advance.apply_async(**options), using="control")
    session.refresh_from_db()
    return session
