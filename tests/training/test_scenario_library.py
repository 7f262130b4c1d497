"""Every scenario file of the project's library (scenarios/) runs and meets its expectations (exit 0),
and leaves the database as it found it. The shared scenarios are among them. Each file tells the
trainee what to notice, expects a meaningful part of its report and leaves a checklist of steps not
yet done; together the files cover the rules and arrangements of docs/domain.md."""
import json
import re
from decimal import Decimal
from functools import cache

import pytest
import yaml

from tests.training.helpers import SCENARIOS_DIR, row_counts, run_scenario, scenario_library
from training.scenarios import expectations_compare, scenario_file_load, scenario_run

SCENARIO_FILES = scenario_library()
SHARED = ("asc_reimbursement", "aso_cost_sharing", "fully_insured", "specific_stop_loss")


def test_the_library_holds_the_shared_scenarios():
    assert {p.stem for p in SCENARIO_FILES} >= set(SHARED), f"scenario files in {SCENARIOS_DIR}: {SCENARIO_FILES}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_scenario_meets_its_expectations(path, capsys):
    before = row_counts()
    code, out, err = run_scenario(path, "--json", capsys=capsys)
    assert code == 0, f"{path.name} exited {code}:\n{err}"
    assert err == ""
    report = json.loads(out)
    spec = yaml.safe_load(path.read_text())
    assert report["scenario"] == spec["name"]
    assert spec.get("expect"), f"{path.name} expects nothing: a scenario of the library says what it shows"
    submitted = [e["submit_claim"]["key"] for e in spec.get("events") or [] if "submit_claim" in e]
    assert list(report["claims"]) == submitted
    assert set(report["accumulators"]) == {m["key"] for m in spec["world"].get("members") or []}
    assert row_counts() == before  # the default leaves the database as it found it


def test_the_library_holds_at_least_twelve_files():
    assert len(SCENARIO_FILES) >= 12, [p.name for p in SCENARIO_FILES]


def _spec(path) -> dict:
    return yaml.safe_load(path.read_text())


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text.strip()))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_each_file_has_a_description_an_expect_and_a_checklist(path):
    spec = _spec(path)
    description = spec.get("description") or ""
    assert 2 <= _sentences(description) <= 4, f"{path.name}: a description of 2-4 sentences, got {description!r}"
    expect = spec.get("expect") or {}
    assert expect.get("claims"), f"{path.name}: expects its claims' figures"
    assert set(expect) - {"as_of", "claims"}, f"{path.name}: expects accumulators or money too"
    steps = spec.get("checklist") or []
    assert 2 <= len(steps) <= 4, f"{path.name}: 2-4 checklist steps, got {len(steps)}"
    for i, step in enumerate(steps):
        assert set(step) == {"as", "do", "done_when"}, f"{path.name} checklist[{i}]"
        assert step["done_when"] and len(step["do"]) > 20, f"{path.name} checklist[{i}]: says what to do and when done"


@cache
def _report(path) -> dict:
    """The end report of a library file (what run_scenario --json prints; the run is rolled back)."""
    return scenario_run(sc=scenario_file_load(path=path))


@pytest.mark.django_db
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_no_checklist_step_is_done_at_the_scenarios_end(path):
    report = _report(path)
    for i, step in enumerate(_spec(path)["checklist"]):
        mismatches = expectations_compare(expected=step["done_when"], actual=report)
        assert mismatches, f"{path.name} checklist[{i}] is already done at the end: {step['do']}"


@pytest.mark.django_db
def test_the_library_covers_the_rules_and_arrangements():
    specs = {p.stem: _spec(p) for p in SCENARIO_FILES}
    reports = {p.stem: _report(p) for p in SCENARIO_FILES}
    claims = [c for r in reports.values() for c in r["claims"].values()]
    done_when_claims = [c for sp in specs.values() for st in sp["checklist"]
                        for c in (st["done_when"].get("claims") or {}).values()]

    codes = {code for c in claims for code in c["reason_codes"]}
    assert codes >= {"1", "2", "3", "18", "26", "27", "29", "45", "50", "96", "242"}, sorted(codes, key=int)
    states = {c["state"] for c in claims}
    assert states >= {"submitted", "rejected", "pended", "approved", "denied", "awaiting_funds", "paid"}, states
    assert "appealed" in {c.get("state") for c in done_when_claims}

    assert any(Decimal(c["balance_billed"]) > 0 for c in claims)  # out of network, with cover
    # a line the member owes in full (an excluded category) on a claim the plan otherwise pays
    assert any(Decimal(c["not_covered"]) > 0 and c["state"] == "paid" for c in claims)
    assert any(Decimal(c["copay"]) > 0 for c in claims)
    assert any(c["reason_codes"] == ["45"] and Decimal(c["plan_paid"]) == Decimal(c["allowed"]) > 0
               for c in claims)  # the plan pays all: covered in full, or the out-of-pocket maximum reached
    assert any(a["family_deductible_met"] != a["deductible_met"] for r in reports.values()
               for a in r["accumulators"].values())  # a family's figures, beyond the member's own

    fundings = {e["funding"] for r in reports.values() for e in r["employers"].values()}
    assert fundings == {"ASO", "ASC", "FULLY_INSURED"}
    money = [e for r in reports.values() for e in r["employers"].values()]
    for figure in ("deposits", "funding_requested", "reimbursements_invoiced", "reimbursements_paid",
                   "admin_fees", "premiums", "stop_loss_received"):
        assert any(Decimal(e[figure]) > 0 for e in money), figure

    policies = [e["stop_loss"] for sp in specs.values() for e in sp["world"].get("employers") or []
                if e.get("stop_loss")]
    assert any(p.get("lasers") for p in policies)
    assert any(p.get("aggregate_attachment") or p.get("expected_claims") for p in policies)
    assert {p["contract"] for p in policies} == {"12/12", "12/15"}
    assert any(e["specific"] for r in reports.values() for e in r["stop_loss"].values())
    aggregate_steps = [st for sp in specs.values() for st in sp["checklist"]
                       for e in (st["done_when"].get("stop_loss") or {}).values() if Decimal(str(e.get("aggregate", 0))) > 0]
    assert aggregate_steps, "an aggregate stop-loss filing"

    events = [e for sp in specs.values() for e in sp.get("events") or []]
    kinds = {k for e in events for k in e if k != "date"} | {f"run:{e['run']}" for e in events if "run" in e}
    assert kinds >= {"submit_claim", "review", "appeal", "fund", "pay_invoice", "change_coverage", "run:adjudication",
                     "run:payment_cycle", "run:reimbursement_billing", "run:stop_loss", "run:fee_billing"}, kinds
    decisions = {e["review"]["decision"] for e in events if "review" in e}
    assert decisions == {"approve", "deny"}
    actors = {st["as"].partition(":")[0] for sp in specs.values() for st in sp["checklist"]}
    assert actors >= {"examiner", "supervisor", "provider", "employer"}
