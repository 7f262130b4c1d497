"""Edge cases of `manage.py run_scenario` against SCENARIOS.md (and DOMAIN.md for the figures).

Each test quotes the SCENARIOS.md sentence it checks.
"""
import json
import re

import pytest
import yaml

from funding.models import (
    FundingRequest,
    LedgerEntry,
    Payment,
    ReimbursementInvoice,
    SponsorPayment,
    StopLossFiling,
)
from plans.models import StopLossPolicy
from tests.training.helpers import SCENARIOS_DIR, D, base_scenario, row_counts, run_scenario, write_scenario

pytestmark = pytest.mark.django_db

MONEY = re.compile(r"-?\d+\.\d\d")


def _run(path, *args, capsys):
    """run_scenario, but an uncaught exception (a traceback) is reported as such instead of erroring."""
    try:
        return run_scenario(path, *args, capsys=capsys)
    except Exception as exc:  # noqa: BLE001 - the point is to show the traceback as a result
        capsys.readouterr()
        return f"uncaught {type(exc).__name__}", "", str(exc)


def _counts() -> dict:
    counts = row_counts()
    for model in (LedgerEntry, Payment, FundingRequest, ReimbursementInvoice, SponsorPayment, StopLossFiling,
                  StopLossPolicy):
        counts[model.__name__] = model.objects.count()
    return counts


def _shared(name: str) -> dict:
    return yaml.safe_load((SCENARIOS_DIR / name).read_text())


def _plan(sc):
    return sc["world"]["employers"][0]["plan"]


def _claim(key, member, service_date, code, billed, provider="mercy", **line):
    return {"submit_claim": {"key": key, "provider": provider, "member": member, "service_date": D(service_date),
                             "lines": [{"code": code, "billed": billed, **line}]}}


# --- What the page makes invalid, how a refusal is named, kept runs, comparing -------------------

def _employer_ein(sc):
    sc["world"]["employers"][0]["ein"] = "12-3456789"


def _provider_tin(sc):
    sc["world"]["providers"][0]["tin"] = "123456789"


def _fee_description(sc):
    sc["world"]["fee_schedule"]["99213"]["description"] = "Office visit"


UNDEFINED_KEYS = [
    (_employer_ein, "world.employers[0].ein"),
    (_provider_tin, "world.providers[0].tin"),
    (_fee_description, "world.fee_schedule.99213.description"),
]


@pytest.mark.parametrize(("mutate", "path"), UNDEFINED_KEYS, ids=[m.__name__.strip("_") for m, _ in UNDEFINED_KEYS])
def test_a_key_the_page_does_not_define_is_invalid(tmp_path, capsys, mutate, path):
    """SCENARIOS.md: "A file is invalid (exit 2, nothing written) when it has: a key this page does not
    define". The page's file format gives employers key/name/funding/carrier/plan/stop_loss, providers
    key/name/npi/network, fee-schedule entries category/fee: no `ein`, `tin` or `description`."""
    sc = base_scenario()
    mutate(sc)
    before = _counts()
    code, out, err = _run(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert code == 2, (code, err)
    assert path in err
    assert out == ""
    assert _counts() == before


def _events_mapping(sc):
    sc["events"] = {}
    sc["expect"] = {}


def _expect_list(sc):
    sc["expect"] = []


WRONG_TYPES = [(_events_mapping, "events"), (_expect_list, "expect")]


@pytest.mark.parametrize(("mutate", "path"), WRONG_TYPES, ids=[m.__name__.strip("_") for m, _ in WRONG_TYPES])
def test_events_and_expect_of_the_wrong_type_are_invalid(tmp_path, capsys, mutate, path):
    """SCENARIOS.md: "2 when the file is not a valid scenario (the message names the path inside the
    file ...)"; `events` is "a dated list of events" and `expect` "a part of the report" (a mapping:
    "mappings compared key by key"). An empty mapping for `events` or an empty list for `expect` is
    neither (the runner means to refuse them: "events: must be a list", "expect: must be a mapping")."""
    sc = base_scenario()
    mutate(sc)
    code, out, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert code == 2, (code, err)
    assert f"invalid scenario: {path}:" in err


def _compact_start(sc):
    sc["start"] = "20260101"


def _compact_event_date(sc):
    sc["events"][0]["date"] = "20260115"


def _week_service_date(sc):
    sc["events"][0]["submit_claim"]["service_date"] = "2026-W02-6"  # ISO week date for 2026-01-10


BAD_DATES = [
    (_compact_start, "start"),
    (_compact_event_date, "events[0].date"),
    (_week_service_date, "events[0].submit_claim.service_date"),
]


@pytest.mark.parametrize(("mutate", "path"), BAD_DATES, ids=[m.__name__.strip("_") for m, _ in BAD_DATES])
def test_dates_are_yyyy_mm_dd(tmp_path, capsys, mutate, path):
    """SCENARIOS.md: "Dates are `YYYY-MM-DD`." and "2 when the file is not a valid scenario (the message
    names the path inside the file ...)". "20260101" and "2026-W02-6" are not YYYY-MM-DD."""
    sc = base_scenario()
    mutate(sc)
    before = _counts()
    code, out, err = _run(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert code == 2, (code, err)
    assert path in err
    assert _counts() == before


def _copay_and_covered_in_full(sc):
    _plan(sc)["copays"] = {"office_visit": 30, "preventive": 10}
    _plan(sc)["covered_in_full"] = ["preventive"]


def _born_after_start(sc):
    sc["world"]["members"][1]["born"] = D("2026-03-01")


def _dependent_ends_before_it_starts(sc):
    sc["world"]["members"][1]["coverage_end"] = D("2025-12-01")  # its start follows alice: 2026-01-01


def _change_coverage_end_before_start(sc):
    sc["events"].append({"change_coverage": {"member": "alice", "coverage_end": D("2025-12-01")}})


def _laser_on_another_employers_member(sc):
    sc["world"]["carriers"] = [{"key": "acme", "name": "Acme"}]
    other_plan = dict(_plan(sc), name="Initech PPO")
    sc["world"]["employers"].append({"key": "initech", "name": "Initech", "funding": "ASO", "plan": other_plan})
    sc["world"]["members"].append({"key": "bob", "employer": "initech", "name": "Bob Stone", "born": D("1979-11-20"),
                                   "coverage_start": D("2026-01-01")})
    sc["world"]["employers"][0]["stop_loss"] = {"carrier": "acme", "start": D("2026-01-01"), "contract": "12/12",
                                                "specific_attachment": 100000, "lasers": {"bob": 5000}}


PATHS_IN_FILE = [
    (_copay_and_covered_in_full, r"world\.employers\[0\]\.plan\.(copays|covered_in_full)"),
    (_born_after_start, r"world\.members\[1\]\.born"),
    (_dependent_ends_before_it_starts, r"world\.members\[1\]\.coverage_end"),
    (_change_coverage_end_before_start, r"events\[5\]\.change_coverage\.coverage_end"),
    (_laser_on_another_employers_member, r"world\.employers\[0\]\.stop_loss\.lasers\.bob"),
]


@pytest.mark.parametrize(("mutate", "pattern"), PATHS_IN_FILE, ids=[m.__name__.strip("_") for m, _ in PATHS_IN_FILE])
def test_a_refusal_names_the_path_inside_the_file(tmp_path, capsys, mutate, pattern):
    """SCENARIOS.md: "2 when the file is not a valid scenario (the message names the path inside the
    file, e.g. `events[3].submit_claim.member: unknown member 'zed'`), with nothing written."
    The runner does exit 2 here; the path it names must be one that exists in the file (`born`,
    `coverage_end`, `plan.copays`, `lasers.bob`), not a model field (`date_of_birth`, `end`, ...)."""
    sc = base_scenario()
    mutate(sc)
    before = _counts()
    code, out, err = _run(write_scenario(tmp_path, sc), "--keep", capsys=capsys)
    assert code == 2, (code, err)
    assert re.search(pattern + ":", err), err
    assert out == ""
    assert _counts() == before


def _category_with_a_space(sc):
    sc["world"]["fee_schedule"]["99213"]["category"] = "office visit"
    _plan(sc)["copays"] = {"office visit": 30}


def _procedure_code_too_long(sc):
    sc["world"]["fee_schedule"]["12345678901"] = {"category": "lab", "fee": 5}


def _carrier_name_too_long(sc):
    sc["world"]["carriers"] = [{"key": "acme", "name": "A" * 201}]


SERVICE_REFUSALS = [
    (_category_with_a_space, "world.fee_schedule.99213.category"),
    (_procedure_code_too_long, "world.fee_schedule.12345678901"),
    (_carrier_name_too_long, "world.carriers[0].name"),
]


@pytest.mark.parametrize(("mutate", "path"), SERVICE_REFUSALS, ids=[m.__name__.strip("_") for m, _ in SERVICE_REFUSALS])
def test_a_world_the_services_refuse_exits_2_not_with_a_traceback(tmp_path, capsys, mutate, path):
    """SCENARIOS.md: "Exit status: 0 when the scenario ran and every expectation under `expect` holds;
    1 when an expectation fails ...; 2 when the file is not a valid scenario (the message names the
    path inside the file ...), with nothing written." A world the services refuse to store is not a
    valid scenario: exit 2 naming the path, never an uncaught exception (exit 1 with a traceback)."""
    sc = base_scenario()
    mutate(sc)
    before = _counts()
    code, out, err = _run(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert code == 2, (code, err)
    assert path in err
    assert _counts() == before


def test_a_kept_run_does_not_change_the_next_runs_report(capsys):
    """SCENARIOS.md: "Exit status: 0 when the scenario ran and every expectation under `expect` holds"
    and "`--keep` keeps the world and its history, so that a training session can go on in the web UI".
    The shared aso_cost_sharing.yaml (expecting `providers: {mercy: {paid: 17740}}`) must still meet
    its expectations when a training session kept an earlier run of it: its report is its own world's."""
    path = SCENARIOS_DIR / "aso_cost_sharing.yaml"
    code, _, err = _run(path, "--keep", capsys=capsys)
    assert (code, err) == (0, "")
    code, out, err = _run(path, "--json", capsys=capsys)
    assert json.loads(out)["providers"]["mercy"]["paid"] == "17740.00"
    assert (code, err) == (0, "")


def test_a_valid_file_is_not_invalid_because_of_an_earlier_kept_run(tmp_path, capsys):
    """SCENARIOS.md: "2 when the file is not a valid scenario" (and the list of what makes a file
    invalid has nothing about the database's contents). An out-of-network provider whose NPI a kept
    run registered in network is still a valid file: it builds its own world and exits 0."""
    code, _, _ = _run(SCENARIOS_DIR / "aso_cost_sharing.yaml", "--keep", capsys=capsys)
    assert code == 0
    sc = _shared("aso_cost_sharing.yaml")
    sc["world"]["providers"][0]["network"] = "out"
    sc.pop("expect")
    # Every claim is now denied (242): no funding request is open, so the deposit of "requested" goes.
    sc["events"] = [e for e in sc["events"] if "fund" not in e]
    code, out, err = _run(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["claims"]["a"]["reason_codes"] == ["242"]  # out of network, no OON cover


def test_values_that_are_not_money_compare_as_written(tmp_path, capsys):
    """SCENARIOS.md: "Money may be written as a number or a string with at most two decimals; it is
    compared as a `Decimal` to the cent." and "every key it gives must be in the report with an equal
    value (... lists compared whole, in order)". Reason codes are codes, not money: "3.0" is not "3"."""
    sc = base_scenario()
    sc["expect"]["claims"]["a"]["reason_codes"] = ["3.0", "45.00"]
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert code == 1
    assert err.startswith("claims.a.reason_codes: expected ")


# --- Behaviour that agrees with the page ------------------------------------------------------------

def test_json_report_sections_fields_order_and_money_strings(capsys):
    """SCENARIOS.md "The report": the JSON shows scenario, as_of, claims, accumulators, employers,
    carriers, providers, stop_loss, each claim/accumulator/employer/carrier with the fields in the
    order shown, money as strings with two decimals, dates as YYYY-MM-DD."""
    code, out, err = _run(SCENARIOS_DIR / "asc_reimbursement.yaml", "--json", capsys=capsys)
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert list(report) == ["scenario", "as_of", "claims", "accumulators", "employers", "carriers", "providers",
                            "stop_loss"]
    assert report["as_of"] == "2026-04-01"
    money_fields = ["billed", "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                    "plan_paid", "member_responsibility", "provider_write_off"]
    c1 = report["claims"]["c1"]
    assert list(c1) == ["state", *money_fields, "reason_codes", "paid_from", "paid_on"]
    assert all(MONEY.fullmatch(c1[k]) for k in money_fields)
    assert (c1["paid_from"], c1["paid_on"]) == ("carrier:acme", "2026-03-03")
    assert list(report["accumulators"]["bob"]) == ["plan_year", "deductible_met", "out_of_pocket_met",
                                                   "family_deductible_met", "family_out_of_pocket_met"]
    employer = report["employers"]["initech"]
    assert list(employer) == ["funding", "deposits", "balance", "funding_requested", "claims_paid",
                              "reimbursements_invoiced", "reimbursements_paid", "admin_fees", "premiums",
                              "stop_loss_received", "net_cost"]
    assert all(MONEY.fullmatch(v) for k, v in employer.items() if k != "funding")
    assert list(report["carriers"]["acme"]) == ["claims_paid", "receivable", "premiums", "stop_loss_paid"]
    assert report["providers"] == {"lakeside": {"paid": "95.00"}, "citymri": {"paid": "900.00"}}
    assert report["stop_loss"] == {}


def test_a_zero_payment_is_paid_with_its_account_under_aso(tmp_path, capsys):
    """SCENARIOS.md: "`claims.*.paid_from`: once paid, the account its arrangement pays from
    (`employer:KEY` under ASO ...), for a zero payment too; else null. `paid_on` likewise."
    (DOMAIN.md: a claim whose plan_paid is 0.00 is paid at once and never waits.)"""
    sc = base_scenario()
    sc["events"] = [
        {"date": D("2026-01-15"), **_claim("z", "alice", "2026-01-10", "70551", 100)},  # all deductible
        _claim("w", "alice", "2026-01-11", "99213", 200),                                  # plan pays 90
        {"run": "adjudication"},
        {"date": D("2026-01-20"), "run": "payment_cycle"},
    ]
    sc["expect"] = {"claims": {"z": {"state": "paid", "plan_paid": 0, "paid_from": "employer:globex",
                                     "paid_on": D("2026-01-20")},
                               "w": {"state": "awaiting_funds", "plan_paid": 90, "paid_from": None, "paid_on": None}},
                    "employers": {"globex": {"balance": 0, "funding_requested": 90, "claims_paid": 0}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")


def test_plan_defaults_and_line_units(tmp_path, capsys):
    """SCENARIOS.md plan defaults: "covered_in_full: [preventive]  # default [preventive]",
    "out_of_network: {covered: false}  # default", "timely_filing_days: 365  # default 365",
    "review_threshold: 25000  # default 25000", and lines "units: default 1"."""
    sc = base_scenario()
    sc["world"]["members"][0]["coverage_start"] = D("2025-01-01")
    sc["world"]["providers"].append({"key": "far", "name": "Far Clinic", "npi": "1987654328", "network": "out"})
    sc["world"]["fee_schedule"]["99395"] = {"category": "preventive", "fee": 210}
    sc["events"] = [
        {"date": D("2026-01-15"), **_claim("prev", "alice", "2026-01-10", "99395", 260)},
        _claim("one", "alice", "2026-01-11", "99213", 200),
        _claim("two", "alice", "2026-01-12", "99213", 300, units=2),
        _claim("at", "sam", "2026-01-12", "27447", 25000),
        _claim("under", "sam", "2026-01-13", "27447", "24999.99"),
        _claim("oon", "alice", "2026-01-12", "99213", 200, provider="far"),
        _claim("late", "alice", "2025-01-14", "99213", 200),    # received 366 days after service
        _claim("ontime", "alice", "2025-01-15", "99213", 201),  # 365 days
        {"run": "adjudication"},
    ]
    sc["expect"] = {"claims": {
        "prev": {"state": "approved", "allowed": 210, "plan_paid": 210, "member_responsibility": 0,
                 "reason_codes": ["45"]},
        "one": {"allowed": 120},
        "two": {"allowed": 240, "copay": 30, "plan_paid": 210},
        "at": {"state": "pended", "plan_paid": 0},
        "under": {"state": "approved", "allowed": 20000},
        "oon": {"state": "denied", "not_covered": 200, "reason_codes": ["242"]},
        "late": {"state": "denied", "provider_write_off": 200, "reason_codes": ["29"]},
        "ontime": {"state": "approved"},
    }}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")


def test_review_deny_defaults_to_reason_50(tmp_path, capsys):
    """SCENARIOS.md: "review: {claim: c1, decision: approve}  # a pended claim; or {decision: deny,
    reason_code: "50"}" (DOMAIN.md: the examiner's reason code, default 50; CARC 50 is written off)."""
    sc = base_scenario()
    sc["events"][4] = {"date": D("2026-01-17"), "review": {"claim": "c", "decision": "deny"}}
    sc["expect"] = {"claims": {"c": {"state": "denied", "allowed": 0, "plan_paid": 0, "member_responsibility": 0,
                                     "provider_write_off": 30000, "reason_codes": ["50"]}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")


def test_change_coverage_then_appeal_readjudicates(tmp_path, capsys):
    """SCENARIOS.md: "appeal: {claim: c2}  # denied -> appealed; the next adjudication run re-adjudicates
    it" and "change_coverage: {member: alice, coverage_end: 2026-06-30}  # coverage_start and
    coverage_end may be given"."""
    sc = base_scenario()
    sc["events"] = [
        {"date": D("2026-01-15"), **_claim("e", "alice", "2025-12-20", "99213", 200)},
        {"run": "adjudication"},
        {"date": D("2026-01-16"), "change_coverage": {"member": "alice", "coverage_start": D("2025-12-01")}},
        {"appeal": {"claim": "e"}},
        {"run": "adjudication"},
    ]
    sc["expect"] = {"claims": {"e": {"state": "approved", "copay": 30, "plan_paid": 90, "reason_codes": ["3", "45"]}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")


def test_a_dependent_follows_its_subscribers_coverage_change(tmp_path, capsys):
    """SCENARIOS.md: "a dependent takes its subscriber's employer and coverage dates unless it states its
    own" (DOMAIN.md: "they follow a later change"); change_coverage sets coverage_end."""
    sc = base_scenario()
    sc["events"] = [
        {"date": D("2026-01-15"), "change_coverage": {"member": "alice", "coverage_end": D("2026-01-31")}},
        {"date": D("2026-02-10"), **_claim("s", "sam", "2026-02-05", "99213", 200)},
        {"run": "adjudication"},
    ]
    sc["expect"] = {"claims": {"s": {"state": "denied", "not_covered": 200, "reason_codes": ["27"]}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")


def _pay_more_than_open(sc):
    sc["events"][5]["pay_invoice"]["amount"] = "995.01"


def _fund_an_asc_employer(sc):
    sc["events"].append({"fund": {"employer": "initech", "amount": 100}})


def _pay_invoice_of_a_fully_insured_employer(sc):
    sc["world"]["employers"][0].update({"funding": "FULLY_INSURED"})


MONEY_INVALID = [
    (_pay_more_than_open, "events[5].pay_invoice.amount"),
    (_fund_an_asc_employer, "events[7].fund.employer"),
    (_pay_invoice_of_a_fully_insured_employer, "events[5].pay_invoice.employer"),
]


@pytest.mark.parametrize("keep", [False, True], ids=["default", "keep"])
@pytest.mark.parametrize(("mutate", "path"), MONEY_INVALID, ids=[m.__name__.strip("_") for m, _ in MONEY_INVALID])
def test_money_events_that_cannot_happen_are_invalid(capsys, tmp_path, mutate, path, keep):
    """SCENARIOS.md: invalid (exit 2, nothing written) when it has "a `fund` for an employer that is not
    ASO or a `pay_invoice` for one that is not ASC, or one paying more than is open" (open invoices:
    995.00 in asc_reimbursement.yaml), also with --keep."""
    sc = _shared("asc_reimbursement.yaml")
    mutate(sc)
    file = write_scenario(tmp_path, sc)
    before = _counts()
    code, out, err = _run(file, "--json", *(["--keep"] if keep else []), capsys=capsys)
    assert code == 2, (code, err)
    assert path in err
    assert out == ""
    assert _counts() == before


def test_stop_loss_lists_only_employers_with_a_policy_and_members_with_a_reimbursement(tmp_path, capsys):
    """SCENARIOS.md: "`stop_loss`: only employers with a stop-loss policy; `specific`: member key ->
    total specific reimbursement (members with none left out)."""
    sc = _shared("specific_stop_loss.yaml")
    sc["world"]["members"].append({"key": "ed", "employer": "hooli", "name": "Ed Cruz", "born": D("1970-01-01"),
                                   "coverage_start": D("2026-01-01")})
    other_plan = dict(sc["world"]["employers"][0]["plan"], name="Other")
    sc["world"]["employers"].append({"key": "other", "name": "Other Co", "funding": "ASO", "plan": other_plan})
    code, out, err = _run(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["stop_loss"] == {"hooli": {"specific": {"dana": "2000.00"}, "aggregate": "0.00"}}


def test_accumulators_show_the_plan_year_holding_as_of(tmp_path, capsys):
    """SCENARIOS.md: "`accumulators`: for every member, the plan year that holds `as_of`" and "`as_of`:
    the clock after the last event"; "year_start: the plan year starts on this month and day every year"."""
    sc = base_scenario()
    _plan(sc)["year_start"] = D("2025-07-01")
    sc["world"]["members"][0]["coverage_start"] = D("2025-07-01")
    sc["expect"] = {"as_of": D("2026-01-17"),
                    "accumulators": {"alice": {"plan_year": D("2025-07-01"), "deductible_met": 1000}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")
    sc["events"].append({"date": D("2026-07-02"), "run": "fee_billing"})
    sc["events"].append({"run": "adjudication"})  # no date: the clock stays
    sc["expect"] = {"as_of": D("2026-07-02"),
                    "accumulators": {"alice": {"plan_year": D("2026-07-01"), "deductible_met": 0},
                                     "sam": {"plan_year": D("2026-07-01"), "family_out_of_pocket_met": 0}}}
    code, _, err = _run(write_scenario(tmp_path, sc, "later.yaml"), capsys=capsys)
    assert (code, err) == (0, "")


def test_expect_lists_are_compared_whole_and_in_order(tmp_path, capsys):
    """SCENARIOS.md: "`expect` matches part of the report: every key it gives must be in the report with
    an equal value (mappings compared key by key, so an empty mapping asserts nothing; lists compared
    whole, in order)" and mismatches print "`path: expected X, got Y`" on stderr, exit 1."""
    sc = base_scenario()
    sc["expect"] = {"claims": {"a": {"reason_codes": ["45", "3"]}, "b": {"reason_codes": ["1", "2"]}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == ['claims.a.reason_codes: expected ["45", "3"], got ["3", "45"]',
                     'claims.b.reason_codes: expected ["1", "2"], got ["1", "2", "45"]']


def test_expect_an_empty_mapping_asserts_nothing_but_its_key_must_exist(tmp_path, capsys):
    """SCENARIOS.md: "every key it gives must be in the report with an equal value (mappings compared
    key by key, so an empty mapping asserts nothing ...)"."""
    sc = base_scenario()
    sc["expect"] = {"claims": {}, "accumulators": {"alice": {}}, "employers": {}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")
    sc["expect"] = {"claims": {"zz": {}}}
    code, _, err = _run(write_scenario(tmp_path, sc), capsys=capsys)
    assert code == 1
    assert err.startswith("claims.zz: expected {}, got ")
