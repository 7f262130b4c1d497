"""Training sessions on the running backend (SQLite file copies or PostgreSQL template clones): isolation of
two sessions of one scenario, reset and end, the clock moved day by day with the due jobs, the refusals."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from claims.models import Claim
from claims.services import claim_review
from core import clock
from core.errors import Forbidden
from funding.models import Payment
from parties.models import PartyLink
from tests.factories import ProviderFactory
from training import selectors, services, tasks
from training.errors import TrainingConflict, TrainingError, TrainingNotFound
from training.models import SandboxWorld, ScenarioTemplate, TrainingSession
from training.sandbox.databases import database_exists
from training.schedule import jobs_due

from .sessions import PENDED, inside, session_start, trainer_login

pytestmark = pytest.mark.django_db
S = TrainingSession.S


def _claim_state(session, key="c1") -> str:
    with inside(session):
        world = SandboxWorld.objects.get(pk=1)
        return Claim.objects.get(pk=world.keys["claims"][key]).state


def _approve(session, key="c1") -> None:
    with inside(session):
        world = SandboxWorld.objects.get(pk=1)
        examiner = get_user_model().objects.get(username="examiner")
        claim_review(claim_id=world.keys["claims"][key], decision="approve", user=examiner, note="looks right")


def test_a_session_is_the_scenario_played_with_a_login_per_role_and_party():
    trainer = trainer_login()
    session = session_start(by=trainer)
    assert session.state == S.READY and session.generation == 1 and database_exists(name=session.database)
    status = selectors.session_status(session=session)
    assert status["today"] == "2026-01-05"
    assert status["report"]["claims"]["c1"]["state"] == "pended"
    assert [login["username"] for login in status["logins"]] == [
        "examiner", "supervisor", "provider:mercy", "employer:globex", "member:alice"]
    with inside(session):
        links = dict(PartyLink.objects.values_list("user__username", "role"))
        assert links == {"examiner": "claims_examiner", "supervisor": "supervisor", "provider:mercy": "provider_staff",
                         "employer:globex": "employer_admin", "member:alice": "member"}
        assert get_user_model().objects.get(username="examiner").check_password("demo")
    assert [(s["number"], s["done"]) for s in status["checklist"]] == [(1, False), (2, False)]
    # Nothing of the scenario is in the control database.
    assert Claim.objects.count() == 0 and PartyLink.objects.filter(role="member").count() == 0


def test_two_sessions_of_one_scenario_never_see_each_other():
    trainer = trainer_login()
    first, second = session_start(by=trainer), session_start(by=trainer)
    assert first.template_id == second.template_id and first.database != second.database
    assert ScenarioTemplate.objects.count() == 1  # built once, cloned twice
    _approve(first)
    assert _claim_state(first) == "approved"
    assert _claim_state(second) == "pended"
    steps = selectors.session_status(session=first)["checklist"]
    assert [s["done"] for s in steps] == [True, False]  # ticked by the report, not by a button
    assert [s["done"] for s in selectors.session_status(session=second)["checklist"]] == [False, False]


def test_reset_goes_back_to_the_scenario_end_and_end_drops_the_database():
    trainer = trainer_login()
    first, second = session_start(by=trainer), session_start(by=trainer)
    _approve(first)
    _approve(second)
    old = first.database
    reset = services.training_session_reset(code=first.code, by=trainer)
    assert reset.generation == 2 and reset.database != old and not database_exists(name=old)
    assert _claim_state(reset) == "pended"
    assert _claim_state(second) == "approved"  # the other session untouched
    ended = services.training_session_end(code=second.code, by=trainer)
    assert ended.state == S.ENDED and not database_exists(name=second.database)
    assert _claim_state(reset) == "pended"
    with pytest.raises(TrainingConflict):
        services.training_session_reset(code=second.code, by=trainer)
    assert selectors.session_status(session=ended)["report"] is None


def test_moving_the_clock_runs_the_due_jobs_in_that_session_only():
    trainer = trainer_login()
    first, second = session_start(by=trainer), session_start(by=trainer)
    _approve(first)
    _approve(second)
    moved = tasks.session_advance_enqueue(code=first.code, by=trainer, days=7, now=True)
    assert moved.state == S.READY and moved.advance_day == datetime.date(2026, 1, 12) and moved.error == ""
    report = selectors.session_status(session=moved)["report"]
    assert report["as_of"] == "2026-01-12"
    c1 = report["claims"]["c1"]
    # The first payment cycle after the approval (18:00 on the 6th) paid it from the sponsor's account.
    assert (c1["state"], c1["paid_on"], c1["paid_from"]) == ("paid", "2026-01-06", "employer:globex")
    assert [s["done"] for s in selectors.session_status(session=moved)["checklist"]] == [True, True]
    # The other session: same scenario, its clock and its claim where they were.
    other = selectors.session_status(session=second)["report"]
    assert other["as_of"] == "2026-01-05" and other["claims"]["c1"]["state"] == "approved"
    with inside(second):
        assert Payment.objects.count() == 0
    assert Payment.objects.count() == 0 and Claim.objects.count() == 0  # nor the control database
    assert clock.today() != datetime.date(2026, 1, 12)


def test_the_clock_never_moves_backwards_and_a_date_is_checked():
    trainer = trainer_login()
    session = session_start(by=trainer)
    for kwargs, field in (({"to": "2026-01-05"}, "to"), ({"to": "2025-12-31"}, "to"), ({"to": "2026-02-30"}, "to"),
                          ({"days": 0}, "days"), ({"days": "x"}, "days"), ({"days": 9999}, "days"), ({}, "to")):
        with pytest.raises(TrainingError) as refused:
            tasks.session_advance_enqueue(code=session.code, by=trainer, now=True, **kwargs)
        assert field in refused.value.message_dict, kwargs
    session.refresh_from_db()
    assert session.state == S.READY and selectors.session_status(session=session)["today"] == "2026-01-05"


def test_only_trainers_supervisors_and_the_administrator_run_sessions():
    trainer = trainer_login()
    session = session_start(by=trainer)
    provider_staff = get_user_model().objects.create(username="front-desk")
    PartyLink.objects.create(user=provider_staff, role=PartyLink.Role.PROVIDER_STAFF, provider=ProviderFactory())
    for act in (lambda: session_start(by=provider_staff),
                lambda: tasks.session_advance_enqueue(code=session.code, by=provider_staff, days=1, now=True),
                lambda: services.training_session_reset(code=session.code, by=provider_staff),
                lambda: services.training_session_end(code=session.code, by=provider_staff)):
        with pytest.raises(Forbidden):
            act()
    with pytest.raises(TrainingNotFound):
        services.training_session_end(code="NOSUCH", by=trainer)
    session.refresh_from_db()
    assert session.state == S.READY and TrainingSession.objects.count() == 1


def test_a_bad_scenario_is_refused_with_its_path_and_nothing_is_made():
    trainer = trainer_login()
    bad = PENDED.replace("member: alice, service_date", "member: zed, service_date")
    for text, needle in ((bad, "events[0].submit_claim.member: unknown member 'zed'"), ("", "scenario"),
                         ("a: [", "scenario"), ("name: x\x00", "NUL")):
        with pytest.raises(TrainingError) as refused:
            session_start(by=trainer, text=text)
        assert needle in refused.value.text()
    assert TrainingSession.objects.count() == 0 and ScenarioTemplate.objects.count() == 0


def test_a_template_that_cannot_be_built_fails_its_session_visibly_and_a_new_start_retries(monkeypatch):
    trainer = trainer_login()

    def broken(*, sc):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("training.sandbox.build.scenario_play", broken)
    text = PENDED + "# a file of its own: no template of it was built before\n"
    failed = session_start(by=trainer, text=text)
    assert failed.state == S.FAILED and "the disk is full" in failed.error
    template = failed.template
    template.refresh_from_db()
    assert template.state == ScenarioTemplate.State.FAILED and not database_exists(name=template.database)
    monkeypatch.undo()
    retried = session_start(by=trainer, text=text)
    assert retried.state == S.READY and retried.template_id == template.pk
    assert _claim_state(retried) == "pended"


def test_the_jobs_of_a_day_follow_the_beat_schedule():
    # 2026-01-05 is a Monday; 2026-02-01 a Sunday and the first of a month.
    assert jobs_due(day=datetime.date(2026, 1, 5)) == [
        "adjudication", "stop_loss", "adjudication", "reimbursement_billing", "adjudication", "payment_cycle",
        "adjudication"]
    assert jobs_due(day=datetime.date(2026, 2, 1)) == [
        "adjudication", "fee_billing", "adjudication", "stop_loss", "adjudication", "payment_cycle", "adjudication"]
    assert jobs_due(day=datetime.date(2026, 1, 7)) == [
        "adjudication", "stop_loss", "adjudication", "payment_cycle", "adjudication"]


def test_sandbox_aliases_are_forgotten_after_each_test():
    assert not [a for a in connections.settings if a.startswith("training_")]


def test_a_task_carrying_a_session_header_runs_in_that_session_and_a_stale_one_is_dropped():
    from claims.services import claim_submit
    from claims.tasks import adjudicate_pending_claims
    from parties.models import Member
    from training.sandbox.celery import HEADER

    trainer = trainer_login()
    first, second = session_start(by=trainer), session_start(by=trainer)
    with inside(first):
        claim = claim_submit(member_id=Member.objects.get().member_id, npi="1234567893", service_date="2026-01-03",
                             lines=[{"code": "27447", "billed": "500.00"}])
    # Applied from the control side, as a worker takes a message: the header alone puts it in the session.
    assert adjudicate_pending_claims.apply(headers={HEADER: first.header}).get() == 1
    with inside(first):
        assert Claim.objects.get(pk=claim.pk).state == "approved"
    with inside(second):
        assert Claim.objects.filter(state="submitted").count() == 0 and Claim.objects.count() == 1
    assert Claim.objects.count() == 0
    # After a reset the old generation's messages are dropped: nothing runs, anywhere.
    stale = first.header
    reset = services.training_session_reset(code=first.code, by=trainer)
    with inside(reset):
        claim = claim_submit(member_id=Member.objects.get().member_id, npi="1234567893", service_date="2026-01-03",
                             lines=[{"code": "27447", "billed": "500.00"}])
    assert adjudicate_pending_claims.apply(headers={HEADER: stale}).get() is None
    with inside(reset):
        assert Claim.objects.get(pk=claim.pk).state == "submitted"


def test_a_job_disabled_in_the_sessions_schedule_does_not_run_when_its_clock_moves():
    from django_celery_beat.models import PeriodicTask

    trainer = trainer_login()
    session = session_start(by=trainer)
    _approve(session)
    with inside(session):
        PeriodicTask.objects.filter(task="funding.tasks.payment_cycle").update(enabled=False)
    moved = tasks.session_advance_enqueue(code=session.code, by=trainer, days=7, now=True)
    assert _claim_state(moved) == "approved"  # no payment cycle in this session's week
    with inside(moved):
        assert Payment.objects.count() == 0


def test_a_session_survives_a_restart_of_the_processes():
    """A new process knows no sandbox alias: the registry row and the database on disk are enough."""
    from training.sandbox.connections import SANDBOX_PREFIX, alias_forget

    trainer = trainer_login()
    session = session_start(by=trainer)
    _approve(session)
    for alias in [a for a in connections.settings if a.startswith(SANDBOX_PREFIX)]:
        alias_forget(alias=alias)
    again = TrainingSession.objects.get(code=session.code)
    assert _claim_state(again) == "approved"
    assert selectors.session_status(session=again)["checklist"][0]["done"] is True


def test_a_build_whose_worker_died_is_taken_again_and_a_live_one_is_not():
    import datetime as dt

    from django.utils import timezone

    from training.models import ScenarioTemplate

    trainer = trainer_login()
    text = PENDED + "# a build of its own\n"
    waiting = services.training_session_start(scenario_text=text, source="test", by=trainer)  # queued, not built
    template = waiting.template
    ScenarioTemplate.objects.filter(pk=template.pk).update(claimed_at=timezone.now(), progress="playing the scenario")
    services.template_build(template_id=template.pk)  # another worker holds it: nothing done
    template.refresh_from_db()
    waiting.refresh_from_db()
    assert template.state == ScenarioTemplate.State.BUILDING and waiting.state == S.PREPARING
    ScenarioTemplate.objects.filter(pk=template.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    services.template_build(template_id=template.pk)  # that worker died long ago: built now
    template.refresh_from_db()
    waiting.refresh_from_db()
    assert template.state == ScenarioTemplate.State.READY and waiting.state == S.READY
    assert _claim_state(waiting) == "pended"
