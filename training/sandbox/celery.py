"""Celery tasks run in the training session that queued them.

A message published while a sandbox is active carries the header `training_session: <id>:<generation>`
(`before_task_publish`). The project's task class (config/celery.py names it) runs a task that carries one
inside that sandbox, and drops it when the session has ended or was reset since (a stale generation: its
database is gone). A task without the header runs on the control database, as ever.
"""
import logging

from celery.contrib.django.task import DjangoTask
from celery.signals import before_task_publish

from .connections import active_header, alias_register, control_active, sandbox_active

HEADER = "training_session"
log = logging.getLogger(__name__)


@before_task_publish.connect
def _stamp_session(sender=None, headers=None, **kwargs):
    header = active_header()
    if header and headers is not None:
        headers[HEADER] = header


def _header_of(request) -> str | None:
    value = request.get(HEADER)
    if value is None and isinstance(getattr(request, "headers", None), dict):
        value = request.headers.get(HEADER)
    return value


def session_database_for(header: str) -> str | None:
    """The database of the session the header names, if that session is open at that generation."""
    from ..models import TrainingSession

    try:
        session_id, generation = (int(part) for part in header.split(":"))
    except ValueError:
        return None
    with control_active():
        row = (TrainingSession.objects.filter(pk=session_id, generation=generation)
               .exclude(state__in=[TrainingSession.S.ENDED, TrainingSession.S.FAILED])
               .values_list("database", flat=True).first())
    return row or None


class SandboxTask(DjangoTask):
    """Celery's Django task (`delay_on_commit`), run in the session its message names."""

    def __call__(self, *args, **kwargs):
        header = _header_of(self.request)
        if not header:
            return super().__call__(*args, **kwargs)
        database = session_database_for(header)
        if database is None:
            log.info("task %s of training session %s dropped: the session ended or was reset", self.name, header)
            return None
        with sandbox_active(alias_register(database_name=database), header=header):
            return super().__call__(*args, **kwargs)
