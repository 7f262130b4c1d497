"""Demo training sessions (docs: README "Training sessions"): start one from a scenario, move its clock,
reset it, end it. Every function that acts for a person checks the role policy (Action.TRAINING_RUN).

The registry rows live in the control database; everything of the class's world lives in the session's own
database (training/sandbox/). A session's database is a clone of its scenario's template: starting is a
clone when the template exists (well under a second), a reset is a new clone (a new generation, so that
anything still queued for the old one is dropped), an end drops it.
"""
import datetime
import secrets
import time
from decimal import Decimal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core import clock
from core.dates import date_parse
from parties.roles import Action, action_check

from .errors import TrainingConflict, TrainingError, TrainingNotFound
from .models import ScenarioTemplate, TrainingSession
from .sandbox.build import template_database_build, template_key
from .sandbox.connections import alias_register, control_active, sandbox_active
from .sandbox.databases import database_clone, database_drop, database_exists, database_name
from .scenarios import ScenarioInvalid, scenario_load
from .schedule import job_run, jobs_due
from .selectors import session_status

S = TrainingSession.S
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud to a class
CODE_LENGTH = 6
ADVANCE_MAX_DAYS = 400
BUILD_ABANDONED_AFTER = datetime.timedelta(minutes=15)  # a build takes seconds; one older is a dead worker's
SCENARIO_TEXT_MAX = 200_000


def scenario_check(*, text: str):
    """The scenario file as run_scenario reads it, or TrainingError naming the path inside the file."""
    if not isinstance(text, str) or not text.strip():
        raise TrainingError({"scenario": ["Choose a scenario file or paste one."]})
    if len(text) > SCENARIO_TEXT_MAX:
        raise TrainingError({"scenario": [f"A scenario file is at most {SCENARIO_TEXT_MAX:,} characters."]})
    if "\x00" in text:
        raise TrainingError({"scenario": ["The file holds a NUL character: it is not a scenario file."]})
    try:
        return scenario_load(text=text)
    except ScenarioInvalid as exc:
        raise TrainingError({"scenario": [f"invalid scenario: {exc}"]}) from None


def _new_code() -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not TrainingSession.objects.filter(code=code).exists():
            return code


def training_session_start(*, scenario_text: str, source: str, by, build_now: bool = False) -> TrainingSession:
    """A new session of the scenario. With its template built, the session is ready at once; otherwise it is
    `preparing` until `template_build` (now with `build_now`; else the caller queues it: training.tasks)."""
    action_check(user=by, action=Action.TRAINING_RUN)
    sc = scenario_check(text=scenario_text)
    key = template_key(scenario_text=scenario_text)
    with transaction.atomic(using="control"):
        template, _ = ScenarioTemplate.objects.get_or_create(
            key=key, defaults={"scenario_name": sc.name, "database": database_name(kind="tpl", key=key[:16])})
        template = ScenarioTemplate.objects.select_for_update().get(pk=template.pk)
        if template.state == ScenarioTemplate.State.FAILED:
            template.retry(description="a new session asked for it")
            template.error = template.progress = ""
            template.claimed_at = None
            template.save()
        session = TrainingSession.objects.create(
            code=_new_code(), scenario_name=sc.name, scenario_source=source[:200], scenario_text=scenario_text,
            template=template, trainer=by if getattr(by, "pk", None) else None)
        ready = template.state == ScenarioTemplate.State.READY
    if ready:
        _session_open(session=session, by=by)
    elif build_now:
        template_build(template_id=template.pk)
    session.refresh_from_db()
    return session


def template_build(*, template_id: int) -> ScenarioTemplate:
    """Build the template (once: the first call claims the build, a second one finds it claimed or built) and
    open the sessions that wait for it."""
    now = timezone.now()
    claimed = ScenarioTemplate.objects.filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - BUILD_ABANDONED_AFTER),
        pk=template_id, state=ScenarioTemplate.State.BUILDING,
    ).update(progress="queued", claimed_at=now)
    template = ScenarioTemplate.objects.get(pk=template_id)
    if claimed:
        any_session = template.sessions.order_by("pk").first()
        text = any_session.scenario_text if any_session else None
        try:
            if text is None:
                raise TrainingError({"scenario": ["No session asked for this template."]})

            def progress(step: str) -> None:
                ScenarioTemplate.objects.filter(pk=template.pk).update(progress=step[:200])

            seconds = template_database_build(key=template.key, scenario_text=text, database=template.database,
                                              progress=progress)
        except Exception as exc:  # noqa: BLE001 - a template that cannot be built fails its sessions, visibly
            with transaction.atomic(using="control"):
                template = ScenarioTemplate.objects.select_for_update().get(pk=template.pk)
                if template.state == ScenarioTemplate.State.BUILDING:
                    template.fail(description=str(exc)[:500])
                    template.error = f"{type(exc).__name__}: {exc}"[:5000]
                    template.save()
                for session in template.sessions.filter(state=S.PREPARING):
                    session.fail(description="the scenario's template could not be built")
                    session.error = template.error
                    session.save()
            return template
        with transaction.atomic(using="control"):
            template = ScenarioTemplate.objects.select_for_update().get(pk=template.pk)
            if template.state == ScenarioTemplate.State.BUILDING:
                template.built(description=f"built in {seconds:.2f} s")
                template.built_seconds = Decimal(f"{seconds:.2f}")
                template.progress = "ready"
                template.save()
    template.refresh_from_db()
    if template.state == ScenarioTemplate.State.READY:  # not while another worker still builds it
        for session in template.sessions.filter(state=S.PREPARING):
            _session_open(session=session, by=None)
    return template


def _session_open(*, session: TrainingSession, by, drop=database_drop) -> None:
    """Clone the template into the session's next generation and switch the session to it; then `drop` the
    previous generation's database (a drop waits for a checkpoint, seconds on a busy server: the screens
    queue it for a worker)."""
    with transaction.atomic(using="control"):
        session = TrainingSession.objects.select_for_update().get(pk=session.pk)
        if session.state not in (S.PREPARING, S.READY, S.ADVANCING):
            raise TrainingConflict({"session": [f"Session {session.code} is {session.get_state_display().lower()}."]})
        old = session.database
        generation = session.generation + 1
        target = database_name(kind="s", key=f"{session.pk}_g{generation}")
        if database_exists(name=target):  # a leftover of an interrupted attempt
            database_drop(name=target)
        database_clone(source=session.template.database, target=target)
        session.generation, session.database = generation, target
        session.advance_to = session.advance_day = None
        session.advance_jobs_run = 0
        session.checklist_done = []
        if session.state == S.PREPARING:
            session.open(by=_log_by(by), description=f"generation {generation}")
        else:
            session.reset(by=_log_by(by), description=f"generation {generation}: back to the scenario's end")
        session.save()
    if old:
        drop(name=old)


def _log_by(user):
    return user if getattr(user, "pk", None) else None


def session_access_by_code(*, code: str, by, action: Action = Action.TRAINING_RUN) -> TrainingSession:
    action_check(user=by, action=action)
    session = TrainingSession.objects.filter(code=str(code or "").strip().upper()[:CODE_LENGTH]).first()
    if session is None:
        raise TrainingNotFound({"code": [f"No training session {code!r}."]})
    return session


def training_session_reset(*, code: str, by, drop=database_drop) -> TrainingSession:
    """Back to the scenario's end state: a new clone; the other sessions are untouched. `drop(name=…)` drops
    the previous generation's database."""
    session = session_access_by_code(code=code, by=by)
    if session.state not in (S.READY, S.ADVANCING):
        raise TrainingConflict({"session": [f"Session {session.code} is {session.get_state_display().lower()}: "
                                            "only a running session can be reset."]})
    _session_open(session=session, by=by, drop=drop)
    session.refresh_from_db()
    return session


def training_session_end(*, code: str, by, drop=database_drop) -> TrainingSession:
    session = session_access_by_code(code=code, by=by)
    with transaction.atomic(using="control"):
        session = TrainingSession.objects.select_for_update().get(pk=session.pk)
        if session.state == S.ENDED:
            return session
        database = session.database
        session.end(by=_log_by(by), description="ended by the trainer")
        session.ended_at = timezone.now()
        session.save()
    if database:
        drop(name=database)
    return session


def session_status_record(*, session: TrainingSession) -> dict:
    """The session's status (training.selectors.session_status), keeping the checklist's steps that match now
    as done for this generation: a later step may change what an earlier one looked for."""
    status = session_status(session=session)
    matched = sorted({step["number"] for step in status["checklist"] if step["matches"]} - set(session.checklist_done))
    if matched:
        with transaction.atomic(using="control"):
            row = TrainingSession.objects.select_for_update().get(pk=session.pk)
            if row.generation == session.generation:
                row.checklist_done = sorted(set(row.checklist_done) | set(matched))
                row.save(update_fields=["checklist_done"])
                session.checklist_done = row.checklist_done
    return status


def session_today(*, session: TrainingSession) -> datetime.date:
    with sandbox_active(alias_register(database_name=session.database), header=session.header):
        return clock.today()


def training_session_advance(*, code: str, by, to=None, days: int | None = None) -> TrainingSession:
    """Check the move and mark the session `advancing` towards `to` (or by `days`); the caller runs
    training.tasks.session_clock_advance in the session (queued for a worker, or here and now), which walks
    day by day running the jobs due on each day as the beat schedule says."""
    session = session_access_by_code(code=code, by=by)
    if session.state != S.READY:
        raise TrainingConflict({"session": [f"Session {session.code} is {session.get_state_display().lower()}: "
                                            "wait until it is ready."]})
    today = session_status_record(session=session).get("today")
    today = datetime.date.fromisoformat(today) if today else session_today(session=session)
    if to is None and days is None:
        raise TrainingError({"to": ["Give a date (YYYY-MM-DD) or a number of days."]})
    if to is not None:
        try:
            to = date_parse(to)
        except (ValueError, TypeError) as exc:
            raise TrainingError({"to": [str(exc)[:200]]}) from None
    else:
        try:
            days = int(days)
        except (TypeError, ValueError):
            raise TrainingError({"days": ["must be a whole number of days"]}) from None
        if not 1 <= days <= ADVANCE_MAX_DAYS:
            raise TrainingError({"days": [f"must be between 1 and {ADVANCE_MAX_DAYS}"]})
        to = today + datetime.timedelta(days=days)
    if to <= today:
        raise TrainingError({"to": [f"The clock never moves backwards: the session's date is {today}, "
                                    f"give a later date than {to}."]})
    if (to - today).days > ADVANCE_MAX_DAYS:
        raise TrainingError({"to": [f"At most {ADVANCE_MAX_DAYS} days at a time."]})
    with transaction.atomic(using="control"):
        session = TrainingSession.objects.select_for_update().get(pk=session.pk)
        if session.state != S.READY:
            raise TrainingConflict({"session": [f"Session {session.code} is already moving its clock."]})
        session.advance_begin(by=_log_by(by), description=f"{today} -> {to}")
        session.advance_to, session.advance_day, session.advance_jobs_run = to, today, 0
        session.error = ""
        session.save()
    return session


def session_clock_walk(*, session_id: int, to: datetime.date) -> int:
    """In the session's sandbox (the task runs there): each day after the sandbox's date up to `to`, one
    transaction that sets the clock and runs that day's jobs. A second delivery of the message goes on from
    the day the first one reached. Returns the jobs run."""
    run = 0
    started = time.monotonic()
    try:
        day = clock.today()
        while day < to:
            day += datetime.timedelta(days=1)
            with transaction.atomic():
                clock.clock_set(day=day)
                for job in jobs_due(day=day):
                    run += len(job_run(job=job, day=day))
            with control_active():
                TrainingSession.objects.filter(pk=session_id).update(advance_day=day, advance_jobs_run=run)
    except Exception as exc:
        with control_active():
            TrainingSession.objects.filter(pk=session_id).update(error=f"{type(exc).__name__}: {exc}"[:5000])
        raise
    finally:
        with control_active(), transaction.atomic():
            session = TrainingSession.objects.select_for_update().get(pk=session_id)
            if session.state == S.ADVANCING:
                session.advance_end(description=f"{run} jobs in {time.monotonic() - started:.2f} s")
                session.save()
    return run
