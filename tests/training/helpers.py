"""Running `manage.py run_scenario` in-process, and counting what a run leaves behind."""
import copy
import datetime
from pathlib import Path

import yaml
from django.core.management import call_command
from django_fsm_log.models import StateLog

from claims.models import Accumulator, Claim, LineResult
from core import clock
from parties.models import Employer, Member, Provider
from plans.models import Coverage, FeeSchedule, Plan

REPO_ROOT = Path(__file__).resolve().parents[2]


SCENARIOS_DIR = REPO_ROOT / "scenarios"  # the project's own scenario library (the shared ones among them)


def scenario_library() -> list[Path]:
    return sorted(SCENARIOS_DIR.glob("*.yaml"))


def run_scenario(path, *args, capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `run_scenario path *args`."""
    capsys.readouterr()  # drop anything printed before
    try:
        call_command("run_scenario", str(path), *args)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def row_counts() -> dict:
    models = (Claim, LineResult, Accumulator, Member, Coverage, Employer, Plan, FeeSchedule, Provider, StateLog)
    counts = {m.__name__: m.objects.count() for m in models}
    counts["clock"] = clock.today()
    return counts


D = datetime.date.fromisoformat

BASE = {
    "name": "Claims only",
    "description": "A family on an ASO plan; no money events.",
    "start": D("2026-01-01"),
    "world": {
        "employers": [{
            "key": "globex", "name": "Globex", "funding": "ASO",
            "plan": {
                "name": "Globex PPO", "year_start": D("2026-01-01"),
                "deductible": {"individual": 1000, "family": 2000},
                "out_of_pocket_max": {"individual": 4000, "family": 8000},
                "coinsurance": 0.20, "copays": {"office_visit": 30},
            },
        }],
        "members": [
            {"key": "alice", "employer": "globex", "name": "Alice Ng", "born": D("1985-04-02"),
             "coverage_start": D("2026-01-01")},
            {"key": "sam", "subscriber": "alice", "relationship": "child", "name": "Sam Ng", "born": D("2015-06-01")},
        ],
        "providers": [{"key": "mercy", "name": "Mercy General", "npi": "1234567893", "network": "in"}],
        "fee_schedule": {
            "99213": {"category": "office_visit", "fee": 120},
            "70551": {"category": "imaging", "fee": 1500},
            "27447": {"category": "surgery", "fee": 20000},
        },
    },
    "events": [
        {"date": D("2026-01-15"), "submit_claim": {"key": "a", "provider": "mercy", "member": "alice",
                                                   "service_date": D("2026-01-10"),
                                                   "lines": [{"code": "99213", "billed": 200}]}},
        {"submit_claim": {"key": "b", "provider": "mercy", "member": "sam", "service_date": D("2026-01-12"),
                          "lines": [{"code": "70551", "billed": 2500}]}},
        {"submit_claim": {"key": "c", "provider": "mercy", "member": "alice", "service_date": D("2026-01-14"),
                          "lines": [{"code": "27447", "billed": 30000}]}},
        {"date": D("2026-01-16"), "run": "adjudication"},
        {"date": D("2026-01-17"), "review": {"claim": "c", "decision": "approve"}},
    ],
    "expect": {
        "as_of": D("2026-01-17"),
        "claims": {
            "a": {"state": "approved", "allowed": 120, "copay": 30, "plan_paid": 90, "member_responsibility": 30,
                  "provider_write_off": 80, "reason_codes": ["3", "45"]},
            "b": {"state": "approved", "deductible": 1000, "coinsurance": 100, "plan_paid": 400},
            "c": {"state": "approved", "allowed": 20000, "deductible": 1000, "coinsurance": 2970, "plan_paid": 16030,
                  "member_responsibility": 3970, "provider_write_off": 10000, "reason_codes": ["1", "2", "45"]},
        },
        "accumulators": {
            "alice": {"plan_year": D("2026-01-01"), "deductible_met": 1000, "out_of_pocket_met": 4000,
                      "family_deductible_met": 2000, "family_out_of_pocket_met": 5100},
            "sam": {"deductible_met": 1000, "out_of_pocket_met": 1100, "family_out_of_pocket_met": 5100},
        },
    },
}


def base_scenario() -> dict:
    return copy.deepcopy(BASE)


def write_scenario(tmp_path, data: dict | str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
    return path


# --- The business clock of a training session, moved as the trainer moves it -----------------------
# Each new day runs the jobs funding/schedule.py (the beat schedule) makes due on it, in their time
# of day; the interval job (adjudication, every few minutes) runs before each of them and last; a
# payment cycle that paid money is followed by a stop-loss evaluation, as funding.tasks.payment_cycle
# chains it.

def clock_advance(*, days: int | None = None, to: datetime.date | None = None) -> list[str]:
    """Move the business clock forward a day at a time (by `days`, or to `to`), running each new day's due
    jobs as a training session's clock does (training.schedule: the beat schedule's jobs, by the same job
    functions the workers run). Returns what ran."""
    from training.schedule import job_run, jobs_due

    day = clock.today()
    target = to if to is not None else day + datetime.timedelta(days=days)
    ran = []
    while day < target:
        day += datetime.timedelta(days=1)
        clock.clock_set(day=day)
        for job in jobs_due(day=day):
            ran += [f"{day} {done}" for done in job_run(job=job, day=day)]
    return ran
