"""django-fsm-log storage that can buffer transition rows.

Outside `buffered_transition_log()` each transition's row is written at once, like django-fsm-log's
SimpleBackend. Inside, rows are collected so that a batch (auto-adjudication of a chunk, a payment
cycle) writes them in one statement, in the same transaction as its state changes. Rows are stamped
with the project's clock, so a simulated day shows in a claim's history as that day.
"""
import contextlib
import contextvars

from django.contrib.contenttypes.models import ContentType
from django_fsm_log.backends import SimpleBackend
from django_fsm_log.helpers import FSMLogDescriptor

from core import clock

_buffer: contextvars.ContextVar[list | None] = contextvars.ContextVar("fsm_log_buffer", default=None)


class BufferedBackend(SimpleBackend):
    @staticmethod
    def post_transition_callback(sender, instance, name, source, target, **kwargs):
        if target is None:
            return None
        try:
            by = FSMLogDescriptor(instance, "by").get()
        except AttributeError:
            by = None
        try:
            description = FSMLogDescriptor(instance, "description").get()
        except AttributeError:
            description = None
        # The instance, not its pk: a claim rejected at intake transitions before its first save.
        row = (sender, instance, source, target, name, getattr(by, "pk", by), description)
        rows = _buffer.get()
        if rows is not None:
            rows.append(row)
        else:
            transition_log_flush([row])
        return None


@contextlib.contextmanager
def buffered_transition_log():
    """Collect transition rows; the caller writes them with `transition_log_flush`."""
    rows: list = []
    token = _buffer.set(rows)
    try:
        yield rows
    finally:
        _buffer.reset(token)


STATE_LOG_FIELDS = ("timestamp", "by_id", "source_state", "state", "transition", "content_type_id", "object_id",
                    "description")


def transition_log_prepare(rows: list, *, timestamp=None):
    """Buffered rows as one prepared insert into django-fsm-log's table (`core.bulk.PreparedWrite`)."""
    from django_fsm_log.models import StateLog

    from core.bulk import insert_prepare

    stamp = timestamp or clock.now()
    ct_ids: dict = {}
    out = []
    for sender, instance, source, target, name, by_id, description in rows:
        ct_id = ct_ids.get(sender)
        if ct_id is None:
            ct_id = ct_ids[sender] = ContentType.objects.get_for_model(sender).pk
        object_id = instance if isinstance(instance, int) else instance.pk
        out.append((stamp, by_id, source, target, name, ct_id, object_id, description))
    return insert_prepare(StateLog, STATE_LOG_FIELDS, out)


def transition_log_flush(rows: list, *, timestamp=None) -> int:
    """Write buffered rows into django-fsm-log's table (COPY on PostgreSQL), and empty the buffer."""
    if not rows:
        return 0
    from core.bulk import write_prepared

    n = write_prepared(transition_log_prepare(rows, timestamp=timestamp))
    rows.clear()
    return n
