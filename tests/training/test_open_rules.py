"""The rules docs/scenarios.md now states (issue 8 §4): an event that is only a date, `requested` when
nothing is open, amounts that must be greater than 0, coverage that would end before it starts (in the
world, a dependent's inherited dates included, or after a `change_coverage`), and checklists."""
import json

import pytest

from core import clock
from tests.training.helpers import D, base_scenario, row_counts, run_scenario, write_scenario

pytestmark = pytest.mark.django_db


def _run(tmp_path, sc, *args, capsys):
    return run_scenario(write_scenario(tmp_path, sc), *args, capsys=capsys)


def _invalid(tmp_path, sc, capsys) -> str:
    before = row_counts()
    code, out, err = _run(tmp_path, sc, capsys=capsys)
    assert code == 2, (code, out, err)
    assert row_counts() == before
    return err


def _money_world(funding: str) -> dict:
    sc = base_scenario()
    sc["world"]["carriers"] = [{"key": "acme", "name": "Acme"}]
    sc["world"]["employers"][0]["funding"] = funding
    if funding != "ASO":
        sc["world"]["employers"][0]["carrier"] = "acme"
    sc["expect"] = {}
    return sc


# --- an event may be a date alone ---------------------------------------------------------------

def test_a_date_alone_moves_the_clock_and_nothing_else(tmp_path, capsys):
    sc = base_scenario()
    sc["events"].append({"date": D("2026-03-01")})
    sc["expect"]["as_of"] = D("2026-03-01")
    code, out, err = _run(tmp_path, sc, "--json", capsys=capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["as_of"] == "2026-03-01"
    assert report["claims"]["a"]["state"] == "approved"  # nothing else happened


def test_a_date_alone_still_may_not_move_the_clock_backwards(tmp_path, capsys):
    sc = base_scenario()
    sc["events"].append({"date": D("2026-01-02")})
    assert "events[5].date: moves the clock backwards" in _invalid(tmp_path, sc, capsys)


def test_an_event_with_neither_a_date_nor_a_kind_is_invalid(tmp_path, capsys):
    sc = base_scenario()
    sc["events"].append({})
    assert "events[5]: needs a date or exactly one of" in _invalid(tmp_path, sc, capsys)


# --- requested when nothing is open; amounts greater than 0 --------------------------------------

@pytest.mark.parametrize("funding, kind", [("ASO", "fund"), ("ASC", "pay_invoice")])
def test_requested_when_nothing_is_open_does_nothing(tmp_path, capsys, funding, kind):
    sc = _money_world(funding)
    sc["events"] = [{"date": D("2026-01-05"), kind: {"employer": "globex", "amount": "requested"}}]
    sc["expect"] = {"employers": {"globex": {"deposits": 0, "reimbursements_paid": 0, "balance": 0}}}
    code, out, err = _run(tmp_path, sc, "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["employers"]["globex"]["deposits"] == "0.00"


@pytest.mark.parametrize("amount", [0, "0.00", -5, "-0.01"])
@pytest.mark.parametrize("funding, kind", [("ASO", "fund"), ("ASC", "pay_invoice")])
def test_an_amount_not_greater_than_0_is_invalid(tmp_path, capsys, funding, kind, amount):
    sc = _money_world(funding)
    sc["events"] = [{"date": D("2026-01-05"), kind: {"employer": "globex", "amount": amount}}]
    assert f"events[0].{kind}.amount: must be greater than 0" in _invalid(tmp_path, sc, capsys)


def test_requested_funds_what_the_open_requests_ask(tmp_path, capsys):
    sc = base_scenario()
    sc["events"] += [{"date": D("2026-01-18"), "run": "payment_cycle"},
                     {"fund": {"employer": "globex", "amount": "requested"}},
                     {"fund": {"employer": "globex", "amount": "requested"}}]  # the second finds nothing open
    sc["expect"] = {"employers": {"globex": {"funding_requested": "16520.00", "deposits": "16520.00",
                                             "claims_paid": "16520.00", "balance": "0.00"}},
                    "claims": {"a": {"state": "paid"}, "b": {"state": "paid"}, "c": {"state": "paid"}}}
    code, out, err = _run(tmp_path, sc, "--json", capsys=capsys)
    assert code == 0, err


# --- coverage that would end before it starts ----------------------------------------------------

def test_a_members_own_coverage_ending_before_it_starts_is_invalid(tmp_path, capsys):
    sc = base_scenario()
    sc["world"]["members"][0]["coverage_end"] = D("2025-12-31")
    err = _invalid(tmp_path, sc, capsys)
    assert "world.members[0].coverage_end: coverage of 'alice' would end (2025-12-31) before it starts (2026-01-01)" in err


def test_a_dependents_own_end_before_the_start_it_inherits_is_invalid(tmp_path, capsys):
    sc = base_scenario()
    sc["world"]["members"][1]["coverage_end"] = D("2025-06-30")  # sam inherits alice's start, 2026-01-01
    assert "world.members[1].coverage_end: coverage of 'sam' would end (2025-06-30)" in _invalid(tmp_path, sc, capsys)


def test_a_dependents_own_start_after_the_end_it_inherits_is_invalid(tmp_path, capsys):
    sc = base_scenario()
    sc["world"]["members"][0]["coverage_end"] = D("2026-06-30")
    sc["world"]["members"][1]["coverage_start"] = D("2026-07-01")  # sam inherits alice's end
    assert "world.members[1].coverage_start: coverage of 'sam' would end (2026-06-30) before it starts (2026-07-01)" \
        in _invalid(tmp_path, sc, capsys)


def test_change_coverage_ending_a_coverage_before_its_start_is_invalid(tmp_path, capsys):
    sc = base_scenario()
    sc["events"].append({"change_coverage": {"member": "alice", "coverage_end": D("2025-12-01")}})
    err = _invalid(tmp_path, sc, capsys)
    assert "events[5].change_coverage.coverage_end: its coverage would end (2025-12-01) before it starts" in err


def test_change_coverage_of_a_subscriber_that_breaks_a_dependents_inherited_dates_is_invalid(tmp_path, capsys):
    sc = base_scenario()
    sc["world"]["members"][1]["coverage_end"] = D("2026-03-31")  # sam ends on its own date, starts with alice
    sc["events"].append({"change_coverage": {"member": "alice", "coverage_start": D("2026-04-01")}})
    err = _invalid(tmp_path, sc, capsys)
    assert ("events[5].change_coverage.coverage_start: its dependent 'sam''s coverage would end (2026-03-31) "
            "before it starts (2026-04-01)") in err


def test_change_coverage_that_keeps_every_date_in_order_plays(tmp_path, capsys):
    sc = base_scenario()
    sc["events"].append({"date": D("2026-02-01"), "change_coverage": {"member": "alice", "coverage_end": D("2026-01-31")}})
    sc["events"].append({"submit_claim": {"key": "late", "provider": "mercy", "member": "sam",
                                          "service_date": D("2026-02-01"), "lines": [{"code": "99213", "billed": 90}]}})
    sc["events"].append({"run": "adjudication"})
    sc["expect"]["claims"]["late"] = {"state": "denied", "reason_codes": ["27"], "not_covered": 90}
    sc["expect"]["as_of"] = D("2026-02-01")
    code, out, err = _run(tmp_path, sc, capsys=capsys)
    assert code == 0, err


# --- checklists -----------------------------------------------------------------------------------

def _with_checklist(steps) -> dict:
    sc = base_scenario()
    sc["checklist"] = steps
    return sc


def test_a_checklist_is_checked_and_not_played(tmp_path, capsys):
    sc = _with_checklist([
        {"as": "examiner", "do": "Approve the surgery", "done_when": {"claims": {"c": {"state": "approved"}}}},
        {"as": "member:alice", "do": "Read the EOB", "done_when": {}},
        {"as": "provider:mercy", "do": "Appeal", "done_when": {"claims": {"a": {"state": "appealed"}}}},
    ])
    code, out, err = _run(tmp_path, sc, "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["claims"]["a"]["state"] == "approved"  # a step is done by people, not by the runner


@pytest.mark.parametrize("step, message", [
    ({"as": "janitor", "do": "x", "done_when": {}}, "checklist[0].as: must be examiner, supervisor"),
    ({"as": "member:zed", "do": "x", "done_when": {}}, "checklist[0].as: unknown member 'zed'"),
    ({"as": "carrier:acme", "do": "x", "done_when": {}}, "checklist[0].as: unknown carrier 'acme'"),
    ({"as": "examiner", "do": "x", "done_when": ["claims"]}, "checklist[0].done_when: must be a mapping"),
    ({"as": "examiner", "do": "x"}, "checklist[0].done_when: required key is missing"),
    ({"as": "examiner", "do": "x", "done_when": {}, "points": 3}, "checklist[0].points: unknown key"),
])
def test_a_checklist_step_that_names_no_known_role_or_part_is_invalid(tmp_path, capsys, step, message):
    assert message in _invalid(tmp_path, _with_checklist([step]), capsys)


def test_the_clock_is_left_as_found(tmp_path, capsys):
    clock.clock_set(day=D("2025-11-11"))
    sc = base_scenario()
    sc["events"].append({"date": D("2026-04-01")})
    sc["expect"]["as_of"] = D("2026-04-01")
    code, _, err = _run(tmp_path, sc, capsys=capsys)
    assert code == 0, err
    assert clock.today() == D("2025-11-11")
