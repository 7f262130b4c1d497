"""`manage.py run_scenario` (SCENARIOS.md): exit statuses, messages naming the path, what it writes.

Claims-only scenario files are written here (tmp_path), so these tests need no money events.
"""
import json
import re
from decimal import Decimal

import pytest

from claims.models import Claim
from core import clock
from tests.training.helpers import D, base_scenario, row_counts, run_scenario, write_scenario

pytestmark = pytest.mark.django_db


def _plan(sc):
    return sc["world"]["employers"][0]["plan"]


def test_a_valid_file_exits_0_and_meets_its_expectations(tmp_path, capsys):
    code, out, err = run_scenario(write_scenario(tmp_path, base_scenario()), "--json", capsys=capsys)
    assert (code, err) == (0, "")
    report = json.loads(out)
    assert report["as_of"] == "2026-01-17"
    assert report["claims"]["c"] == {
        "state": "approved", "billed": "30000.00", "allowed": "20000.00", "deductible": "1000.00", "copay": "0.00",
        "coinsurance": "2970.00", "not_covered": "0.00", "balance_billed": "0.00", "plan_paid": "16030.00",
        "member_responsibility": "3970.00", "provider_write_off": "10000.00", "reason_codes": ["1", "2", "45"],
        "paid_from": None, "paid_on": None,
    }
    assert report["accumulators"]["alice"] == {
        "plan_year": "2026-01-01", "deductible_met": "1000.00", "out_of_pocket_met": "4000.00",
        "family_deductible_met": "2000.00", "family_out_of_pocket_met": "5100.00",
    }


def test_text_report_says_the_expectations_hold(tmp_path, capsys):
    code, out, err = run_scenario(write_scenario(tmp_path, base_scenario()), capsys=capsys)
    assert (code, err) == (0, "")
    assert "Claims only" in out
    assert "All expectations hold." in out


def test_json_prints_only_json(tmp_path, capsys):
    sc = base_scenario()
    sc["expect"]["claims"]["a"]["plan_paid"] = 91  # a mismatch too: stdout stays pure JSON
    code, out, err = run_scenario(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert code == 1
    report = json.loads(out)  # the whole of stdout
    assert set(report) >= {"scenario", "as_of", "claims", "accumulators"}
    assert "claims.a.plan_paid" in err


def test_expectation_mismatch_exits_1_naming_each_path(tmp_path, capsys):
    sc = base_scenario()
    sc["expect"]["claims"]["a"]["plan_paid"] = 91
    sc["expect"]["claims"]["b"]["state"] = "denied"
    sc["expect"]["accumulators"]["alice"]["out_of_pocket_met"] = "3999.99"
    sc["expect"]["claims"]["zz"] = {"state": "approved"}
    before = row_counts()
    code, out, err = run_scenario(write_scenario(tmp_path, sc), capsys=capsys)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 4, err
    assert re.fullmatch(r'claims\.a\.plan_paid: expected "?91(\.00)?"?, got "?90\.00"?', lines[0]), lines[0]
    assert re.fullmatch(r'claims\.b\.state: expected "?denied"?, got "?approved"?', lines[1]), lines[1]
    assert re.fullmatch(r'claims\.zz: expected .*, got .*', lines[2]), lines[2]
    assert re.fullmatch(r'accumulators\.alice\.out_of_pocket_met: expected "?3999\.99"?, got "?4000\.00"?',
                        lines[3]), lines[3]
    assert row_counts() == before


def test_money_compares_to_the_cent_whatever_its_spelling(tmp_path, capsys):
    sc = base_scenario()
    sc["expect"]["claims"]["a"].update({"plan_paid": "90", "copay": 30.0, "allowed": "120.00"})
    code, _, err = run_scenario(write_scenario(tmp_path, sc), capsys=capsys)
    assert (code, err) == (0, "")


def test_the_default_leaves_the_database_as_it_found_it(tmp_path, capsys):
    clock.clock_set(day=D("2025-06-01"))
    before = row_counts()
    code, _, _ = run_scenario(write_scenario(tmp_path, base_scenario()), capsys=capsys)
    assert code == 0
    assert row_counts() == before
    assert clock.today() == D("2025-06-01")


def test_keep_keeps_the_world(tmp_path, capsys):
    before = row_counts()
    code, _, _ = run_scenario(write_scenario(tmp_path, base_scenario()), "--keep", capsys=capsys)
    assert code == 0
    after = row_counts()
    assert after["Claim"] == before["Claim"] + 3
    assert after["Member"] == before["Member"] + 2
    assert after["Employer"] == before["Employer"] + 1
    assert after["Plan"] == before["Plan"] + 1
    assert after["StateLog"] == before["StateLog"] + 4  # a, b approved; c pended then approved
    assert clock.today() == D("2026-01-17")  # the session goes on from where the scenario ends
    c = Claim.objects.get(state="approved", billed="30000.00")
    assert (c.state, c.plan_paid, c.coinsurance) == ("approved", Decimal("16030.00"), Decimal("2970.00"))


def test_a_claim_failing_intake_is_not_an_invalid_file(tmp_path, capsys):
    sc = base_scenario()
    sc["events"] = [
        {"date": D("2026-01-15"), "submit_claim": {"key": "zero", "provider": "mercy", "member": "alice",
                                                   "service_date": D("2026-01-10"),
                                                   "lines": [{"code": "99213", "billed": 0}]}},
        {"submit_claim": {"key": "unknown_code", "provider": "mercy", "member": "alice",
                          "service_date": D("2026-01-10"), "lines": [{"code": "00000", "billed": 50}]}},
        {"submit_claim": {"key": "future", "provider": "mercy", "member": "alice",
                          "service_date": D("2026-01-20"), "lines": [{"code": "99213", "billed": 200}]}},
        {"submit_claim": {"key": "no_lines", "provider": "mercy", "member": "alice",
                          "service_date": D("2026-01-10"), "lines": []}},
        {"submit_claim": {"key": "negative", "provider": "mercy", "member": "sam",
                          "service_date": D("2026-01-10"), "lines": [{"code": "99213", "billed": -5}]}},
        {"date": D("2026-01-16"), "run": "adjudication"},
    ]
    rejected = {"state": "rejected", "allowed": 0, "plan_paid": 0, "member_responsibility": 0, "reason_codes": []}
    sc["expect"] = {"claims": {k: rejected for k in ("zero", "unknown_code", "future", "no_lines", "negative")},
                    "accumulators": {"alice": {"out_of_pocket_met": 0}}}
    code, out, err = run_scenario(write_scenario(tmp_path, sc), "--json", capsys=capsys)
    assert (code, err) == (0, "")
    assert json.loads(out)["claims"]["negative"]["billed"] == "-5.00"


# --- Invalid files: exit 2, the path named, nothing written -----------------------------------

def _unknown_key(sc):
    _plan(sc)["deductable"] = 500


def _unknown_top_level_key(sc):
    sc["colour"] = "red"


def _missing_coinsurance(sc):
    del _plan(sc)["coinsurance"]


def _missing_name(sc):
    del sc["name"]


def _missing_member_key(sc):
    del sc["world"]["members"][1]["key"]


def _unknown_member_in_event(sc):
    sc["events"].insert(3, {"submit_claim": {"key": "z", "provider": "mercy", "member": "zed",
                                             "service_date": D("2026-01-10"),
                                             "lines": [{"code": "99213", "billed": 200}]}})


def _unknown_provider_in_event(sc):
    sc["events"][1]["submit_claim"]["provider"] = "nowhere"


def _unknown_employer(sc):
    sc["world"]["members"][0]["employer"] = "initech"


def _unknown_claim_in_review(sc):
    sc["events"][4]["review"]["claim"] = "q"


def _member_key_twice(sc):
    sc["world"]["members"][1]["key"] = "alice"


def _claim_key_twice(sc):
    sc["events"][1]["submit_claim"]["key"] = "a"


def _bad_npi(sc):
    sc["world"]["providers"][0]["npi"] = "1234567890"


def _feb_29(sc):
    _plan(sc)["year_start"] = D("2028-02-29")


def _oon_without_coinsurance(sc):
    _plan(sc)["out_of_network"] = {"covered": True}


def _both_aggregates(sc):
    sc["world"]["carriers"] = [{"key": "acme", "name": "Acme"}]
    sc["world"]["employers"][0]["stop_loss"] = {
        "carrier": "acme", "start": D("2026-01-01"), "contract": "12/15", "specific_attachment": 100000,
        "aggregate_attachment": 1500000, "expected_claims": 1000000, "aggregate_factor": 1.25,
    }


def _review_of_a_claim_not_pended(sc):
    sc["events"].append({"review": {"claim": "a", "decision": "approve"}})


def _reason_code_outside_the_list(sc):
    sc["events"][4]["review"] = {"claim": "c", "decision": "deny", "reason_code": "45"}


def _appeal_of_a_claim_not_denied(sc):
    sc["events"].append({"appeal": {"claim": "b"}})


def _date_backwards(sc):
    sc["events"][4]["date"] = D("2026-01-15")


def _fund_for_a_fully_insured_employer(sc):
    sc["world"]["carriers"] = [{"key": "acme", "name": "Acme"}]
    sc["world"]["employers"][0].update({"funding": "FULLY_INSURED", "carrier": "acme"})
    sc["events"].append({"fund": {"employer": "globex", "amount": 100}})


INVALID = [
    (_unknown_key, "world.employers[0].plan.deductable"),
    (_unknown_top_level_key, "colour"),
    (_missing_coinsurance, "world.employers[0].plan.coinsurance"),
    (_missing_name, "name"),
    (_missing_member_key, "world.members[1].key"),
    (_unknown_member_in_event, "events[3].submit_claim.member: unknown member 'zed'"),
    (_unknown_provider_in_event, "events[1].submit_claim.provider"),
    (_unknown_employer, "world.members[0].employer"),
    (_unknown_claim_in_review, "events[4].review.claim"),
    (_member_key_twice, "world.members[1].key"),
    (_claim_key_twice, "events[1].submit_claim.key"),
    (_bad_npi, "world.providers[0].npi"),
    (_feb_29, "world.employers[0].plan.year_start"),
    (_oon_without_coinsurance, "world.employers[0].plan.out_of_network.coinsurance"),
    (_both_aggregates, "world.employers[0].stop_loss.aggregate_attachment"),
    (_review_of_a_claim_not_pended, "events[5].review.claim"),
    (_reason_code_outside_the_list, "events[4].review.reason_code"),
    (_appeal_of_a_claim_not_denied, "events[5].appeal.claim"),
    (_date_backwards, "events[4].date"),
    (_fund_for_a_fully_insured_employer, "events[5].fund.employer"),
]


@pytest.mark.parametrize("keep", [False, True], ids=["default", "keep"])
@pytest.mark.parametrize(("mutate", "path"), INVALID, ids=[m.__name__.strip("_") for m, _ in INVALID])
def test_invalid_file_exits_2_naming_the_path_and_writes_nothing(tmp_path, capsys, mutate, path, keep):
    sc = base_scenario()
    mutate(sc)
    file = write_scenario(tmp_path, sc)
    before = row_counts()
    code, out, err = run_scenario(file, "--json", *(["--keep"] if keep else []), capsys=capsys)
    assert code == 2, (out, err)
    assert path in err, err
    assert str(file) in err
    assert out == ""
    assert row_counts() == before


def test_not_yaml_exits_2(tmp_path, capsys):
    before = row_counts()
    code, _, err = run_scenario(write_scenario(tmp_path, "name: [unclosed\n"), capsys=capsys)
    assert code == 2
    assert "(file)" in err
    assert row_counts() == before


def test_missing_file_exits_2(tmp_path, capsys):
    code, _, err = run_scenario(tmp_path / "nope.yaml", capsys=capsys)
    assert code == 2
    assert "nope.yaml" in err


def test_a_key_written_twice_in_one_mapping_is_invalid(tmp_path, capsys):
    path = tmp_path / "twice.yaml"
    path.write_text("name: one\nname: two\nstart: 2026-01-01\nworld: {}\n")
    code, _, err = run_scenario(path, capsys=capsys)
    assert code == 2
    assert "(line 2): key 'name' is written twice" in err


def test_on_a_database_without_tables_it_migrates_first_then_runs(tmp_path):
    """A fresh checkout: the embedded SQLite file does not exist yet; the runner applies the
    migrations (saying so on stderr) rather than failing on a missing table."""
    import os
    import subprocess
    import sys

    from django.conf import settings

    from tests.training.helpers import SCENARIOS_DIR

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(SQLITE_PATH=str(tmp_path / "fresh.sqlite3"), VAR_DIR=str(tmp_path / "var"))
    run = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "run_scenario",
         str(SCENARIOS_DIR / "aso_cost_sharing.yaml")],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "migration(s): applying them first" in run.stderr
    assert "All expectations hold." in run.stdout
