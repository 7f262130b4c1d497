"""Every scenario file of the project's library (scenarios/) runs and meets its expectations (exit 0),
and leaves the database as it found it. The shared scenarios are among them, byte for byte."""
import json

import pytest
import yaml

from tests.training.helpers import SCENARIOS_DIR, row_counts, run_scenario, scenario_library

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
