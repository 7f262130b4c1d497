"""Reads of the Training area: the library, the sessions, and a session's report and checklist (read in its
sandbox, from the scenario's keys, by the same report `run_scenario` prints)."""
from pathlib import Path

from django.conf import settings

from claims.models import Claim
from parties.models import Carrier, Employer, Member, Provider
from plans.models import Plan

from .models import SandboxWorld, ScenarioTemplate, TrainingSession
from .sandbox.connections import alias_register, sandbox_active
from .scenarios import World, expectations_compare, scenario_load, scenario_report

SCENARIO_LIBRARY = Path(settings.BASE_DIR) / "scenarios"
KIND_MODELS = {"carriers": Carrier, "employers": Employer, "plans": Plan, "members": Member,
               "providers": Provider, "claims": Claim}


def scenario_library() -> list[dict]:
    """Every file of scenarios/ with its name and description (a file that does not load is listed with
    its error, so that the trainer sees why it cannot start)."""
    out = []
    for path in sorted(SCENARIO_LIBRARY.glob("*.yaml")):
        text = path.read_text()
        try:
            sc = scenario_load(text=text)
            out.append({"file": path.name, "name": sc.name, "description": sc.description,
                        "steps": len(sc.checklist), "error": ""})
        except Exception as exc:  # noqa: BLE001 - shown to the trainer, never a server error
            out.append({"file": path.name, "name": path.stem, "description": "", "steps": 0, "error": str(exc)})
    return out


def scenario_library_text(*, file: str) -> str | None:
    """The text of a library file by its name (no paths: only the files the library lists)."""
    names = {p.name: p for p in SCENARIO_LIBRARY.glob("*.yaml")}
    path = names.get(str(file or ""))
    return path.read_text() if path else None


def session_list(*, include_ended: bool = False):
    qs = TrainingSession.objects.select_related("template").order_by("-created_at")
    return qs if include_ended else qs.exclude(state=TrainingSession.S.ENDED)


def template_list():
    return ScenarioTemplate.objects.order_by("-created_at")


def _world(world_row: SandboxWorld) -> World:
    w = World()
    for kind, model in KIND_MODELS.items():
        keys = world_row.keys.get(kind, {})
        rows = model.objects.in_bulk(list(keys.values()))
        setattr(w, kind, {key: rows[pk] for key, pk in keys.items() if pk in rows})
    return w


def session_status(*, session: TrainingSession) -> dict:
    """See training.services.session_status_record, which keeps the ticks; this reads only."""
    return _session_status(session=session)


def _session_status(*, session: TrainingSession) -> dict:
    """The session's date, logins, report (as `run_scenario --json` prints it) and checklist progress."""
    out = {"code": session.code, "scenario": session.scenario_name, "state": session.state,
           "generation": session.generation, "advance": None, "logins": [], "report": None, "checklist": []}
    if session.state == TrainingSession.S.ADVANCING:
        out["advance"] = {"to": str(session.advance_to), "day": str(session.advance_day),
                          "jobs_run": session.advance_jobs_run}
    if session.error:
        out["error"] = session.error
    if not session.database or session.state not in (TrainingSession.S.READY, TrainingSession.S.ADVANCING):
        return out
    sc = scenario_load(text=session.scenario_text)
    with sandbox_active(alias_register(database_name=session.database), header=session.header):
        world_row = SandboxWorld.objects.get(pk=1)
        report = scenario_report(sc=sc, w=_world(world_row))
        out["logins"] = world_row.logins
    out["today"] = report["as_of"]
    out["report"] = report
    out["checklist"] = checklist_progress(steps=sc.checklist, report=report, seen=session.checklist_done)
    return out


def checklist_progress(*, steps: list[dict], report: dict, seen=()) -> list[dict]:
    """Each step with `matches` (the report matches its `done_when`) and `done` (it matches, or it matched
    when the session was last looked at: `seen`). Never because a button was pressed."""
    out = []
    for i, step in enumerate(steps):
        missing = expectations_compare(expected=step["done_when"], actual=report)
        out.append({"number": i + 1, "as": step["as"], "do": step["do"], "done_when": step["done_when"],
                    "matches": not missing, "done": not missing or (i + 1) in seen, "missing": missing})
    return out
