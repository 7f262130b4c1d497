"""Training sessions with a REAL Celery worker (a `celery -A config worker` subprocess on the test database
and the broker): a task queued in a session runs in that session's sandbox and writes nothing elsewhere; the
clock moved from a screen walks in the worker; a message of a generation since reset is dropped."""
import datetime

import pytest
from django.contrib.auth import get_user_model

from claims.models import Claim
from claims.services import claim_review, claim_submit
from claims.tasks import adjudicate_pending_claims
from core import clock
from funding.models import Payment
from tests.portal.browser import CeleryWorker, wait_until
from training import selectors, tasks
from training.models import SandboxWorld, TrainingSession
from training.sandbox.celery import HEADER

from .sessions import inside, session_start, trainer_login

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    from config.celery import app

    app.control.purge()
    running = CeleryWorker(tmp_path / "worker.log")
    yield running
    running.stop()
    app.control.purge()


def _counts(session=None) -> tuple[int, int, datetime.date]:
    def read():
        return Claim.objects.count(), Payment.objects.count(), clock.today()
    if session is None:
        return read()
    with inside(session):
        return read()


def test_a_task_queued_in_a_session_runs_there_and_nowhere_else(worker):
    trainer = trainer_login()
    first, second = session_start(by=trainer), session_start(by=trainer)
    control_before, second_before = _counts(), _counts(second)
    with inside(first):
        claim = claim_submit(member_id=_member_id(), npi="1234567893", service_date="2026-01-03",
                             lines=[{"code": "27447", "billed": "500.00"}])
        adjudicate_pending_claims.delay()  # published from inside the sandbox: the message carries the header
    wait_until(lambda: _state(first, claim.pk) != "submitted", timeout=60, what="the adjudication", worker=worker)
    assert _state(first, claim.pk) == "approved"  # billed under the review threshold
    assert _counts() == control_before and _counts(second) == second_before


def test_moving_the_clock_from_a_screen_walks_in_the_worker(worker):
    trainer = trainer_login()
    first, second = session_start(by=trainer), session_start(by=trainer)
    with inside(first):
        world = SandboxWorld.objects.get(pk=1)
        claim_review(claim_id=world.keys["claims"]["c1"], decision="approve",
                     user=get_user_model().objects.get(username="examiner"), note="ok")
    moving = tasks.session_advance_enqueue(code=first.code, by=trainer, days=7)
    assert moving.state == TrainingSession.S.ADVANCING
    wait_until(lambda: TrainingSession.objects.get(pk=first.pk).state == TrainingSession.S.READY, timeout=90,
               what="the clock's walk", worker=worker)
    first.refresh_from_db()
    assert first.error == "" and first.advance_day == datetime.date(2026, 1, 12) and first.advance_jobs_run > 7
    report = selectors.session_status(session=first)["report"]
    assert report["as_of"] == "2026-01-12" and report["claims"]["c1"]["state"] == "paid"
    assert _counts(second)[1:] == (0, datetime.date(2026, 1, 5))
    assert _counts()[:2] == (0, 0)


def test_a_message_of_a_generation_since_reset_is_dropped(worker):
    trainer = trainer_login()
    session = session_start(by=trainer)
    stale = session.header
    tasks.session_reset_enqueue(code=session.code, by=trainer)
    session.refresh_from_db()
    assert session.header != stale
    tasks.session_clock_advance.apply_async(args=[session.pk, "2026-03-01"], headers={HEADER: stale})
    wait_until(lambda: "dropped" in worker.text(), timeout=60, what="the stale message dropped", worker=worker)
    assert selectors.session_status(session=session)["today"] == "2026-01-05"


def _state(session, claim_id) -> str:
    with inside(session):
        return Claim.objects.get(pk=claim_id).state


def _member_id() -> str:
    from parties.models import Member

    return Member.objects.get().member_id
