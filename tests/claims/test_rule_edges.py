"""DOMAIN.md §3 (claim lifecycle) and §4 (pricing of one line): edge cases the other claims tests
do not reach. Each test's docstring quotes the DOMAIN.md sentence it checks.
"""
from decimal import Decimal

from claims import services
from plans import services as plan_services
from tests.claims.helpers import (
    ZERO,
    accumulator,
    appeal,
    assert_balanced,
    assert_figures,
    assert_only_billed,
    codes,
    day,
    fresh,
    line_results,
    review,
    run,
    state,
)
from training.scenarios import scenario_load, scenario_run

D = Decimal



# --- §3 auto-adjudication: order of the steps when several apply --------------------------------

def test_eligibility_comes_before_duplicate(world):
    """"Auto-adjudication, in this order: 1. Eligibility ... 3. Duplicate": an exact copy of an approved
    claim whose service date is no longer covered is denied 27 (member owes), not 18."""
    lines = [("70551", 2500)]
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-01")
    assert state(original) == "approved"
    plan_services.coverage_change(member=world.alice, end=day("2026-01-15"), set_end=True)
    twin = world.submit(on="2026-02-05", service="2026-01-20", lines=lines)
    run("2026-02-05")
    c = fresh(twin)
    assert (c.state, c.reason_codes, c.is_duplicate) == ("denied", "27", False)
    assert_figures(c, not_covered=2500, member_responsibility=2500)


def test_claim_denied_before_the_duplicate_step_names_no_original(make_world):
    """DOMAIN.md §3: "Auto-adjudication, in this order: 1. Eligibility ... 2. Timely
    filing ... 3. Duplicate": a claim denied at step 1 (CARC 27) or step 2 (CARC 29) never reaches
    step 3, so it is not a duplicate of anything: no `duplicate_of`, and no other claim in its trace."""
    w = make_world(timely_filing_days=30)
    lines = [("99213", 200)]
    original = w.submit(on="2026-01-25", service="2026-01-20", lines=lines)
    run("2026-01-25")
    late_copy = w.submit(on="2026-03-01", service="2026-01-20", lines=lines)  # 40 days: CARC 29
    run("2026-03-01")
    plan_services.coverage_change(member=w.alice, end=day("2026-01-15"), set_end=True)
    ineligible_copy = w.submit(on="2026-03-02", service="2026-01-20", lines=lines)  # CARC 27 (step 1 first)
    run("2026-03-02")
    got = [(codes(c), fresh(c).is_duplicate, fresh(c).duplicate_of_id,
            original.claim_number in line_results(c)[0].trace_text) for c in (late_copy, ineligible_copy)]
    # Actual: [("29", False, <original id>, True), ("27", False, <original id>, True)]: the 27/29 line
    # trace reads e.g. "denied, CARC 27: service date after the coverage end (claim C000000001)".
    assert got == [("29", False, None, False), ("27", False, None, False)]


def test_late_and_over_the_threshold_is_29_not_pended(make_world):
    """"2. Timely filing: received date − service date > the plan's timely-filing days ...: every line
    denied, CARC 29" comes before "4. Review": a late claim over the threshold is never pended."""
    w = make_world(timely_filing_days=30)
    claim = w.submit(on="2026-03-01", service="2026-01-20", lines=[("27447", 30000)])  # 40 days
    run("2026-03-01")
    c = fresh(claim)
    assert (c.state, c.reason_codes) == ("denied", "29")
    assert_figures(c, provider_write_off=30000)


def test_ineligible_and_over_the_threshold_is_26_not_pended(make_world):
    """"1. Eligibility ... CARC 26 if the date is before the coverage start" comes before "4. Review"."""
    w = make_world(coverage_start=day("2026-02-01"))
    claim = w.submit(on="2026-02-10", service="2026-01-31", lines=[("27447", 30000)])
    run("2026-02-10")
    c = fresh(claim)
    assert (c.state, c.reason_codes) == ("denied", "26")
    assert_figures(c, not_covered=30000, member_responsibility=30000)


# --- §3 duplicates -------------------------------------------------------------------------------

def test_duplicate_of_a_claim_denied_for_eligibility(world):
    """"a claim received earlier (in received order) that is not rejected and not itself a duplicate,
    in any other state ... (the same multiset of code, units and billed amount): every line denied,
    CARC 18": here the earlier claim was denied 27 and the copy lists its lines in another order."""
    lines = [("70551", 2500), ("99213", 200)]
    plan_services.coverage_change(member=world.alice, end=day("2026-01-15"), set_end=True)
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-01")
    assert codes(original) == "27"
    plan_services.coverage_change(member=world.alice, end=None, set_end=True)
    twin = world.submit(on="2026-02-05", service="2026-01-20", lines=list(reversed(lines)))
    run("2026-02-05")
    c = fresh(twin)
    assert (c.state, c.reason_codes, c.is_duplicate, c.duplicate_of_id) == ("denied", "18", True, original.pk)
    assert_only_billed(c)
    assert accumulator(world.alice) == (ZERO, ZERO)


def test_appealed_original_keeps_its_place_ahead_of_its_duplicate(world):
    """"an appealed claim keeps its original place and received date": re-adjudicated, the original is
    not a duplicate of its later copy (which was itself denied 18) and is priced."""
    lines = [("70551", 2500)]
    plan_services.coverage_change(member=world.alice, end=day("2026-01-15"), set_end=True)
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-01")
    plan_services.coverage_change(member=world.alice, end=None, set_end=True)
    twin = world.submit(on="2026-02-05", service="2026-01-20", lines=lines)
    run("2026-02-05")
    assert (codes(twin), fresh(twin).duplicate_of_id) == ("18", original.pk)
    appeal(original, on="2026-02-10")
    run("2026-02-10")
    c = fresh(original)
    assert (c.state, c.is_duplicate, c.duplicate_of_id, c.reason_codes) == ("approved", False, None, "1,2,45")
    assert_figures(c, allowed=1500, deductible=1000, coinsurance=100, plan_paid=400, member_responsibility=1100,
                   provider_write_off=1000)
    assert accumulator(world.alice) == (D("1000.00"), D("1100.00"))


def test_appealed_twin_keeps_its_place_ahead_of_its_later_twin(world):
    """"A claim that had already been adjudicated when another is adjudicated for the first time counts
    as received earlier than it ...; a re-adjudication after an appeal keeps the claim's original place,
    so a later twin never makes the appealed claim a copy": twins submitted the same day, both denied 26;
    the coverage is corrected and the first is appealed: it is approved, not denied 18."""
    lines = [("70551", 2500)]
    plan_services.coverage_change(member=world.alice, start=day("2026-02-01"), set_start=True)
    first = world.submit(on="2026-02-03", service="2026-01-20", lines=lines)
    second = world.submit(on="2026-02-03", service="2026-01-20", lines=lines)
    run("2026-02-03")
    assert [codes(first), codes(second)] == ["26", "26"]
    assert [fresh(first).is_duplicate, fresh(second).is_duplicate] == [False, False]
    plan_services.coverage_change(member=world.alice, start=day("2026-01-01"), set_start=True)
    appeal(first, on="2026-02-10")
    run("2026-02-10")
    c = fresh(first)
    assert (c.state, c.is_duplicate, c.duplicate_of_id, c.reason_codes) == ("approved", False, None, "1,2,45")
    assert_figures(c, allowed=1500, deductible=1000, coinsurance=100, plan_paid=400, member_responsibility=1100,
                   provider_write_off=1000)
    # The later twin, appealed in its turn, is the copy: its first twin is earlier in received order.
    appeal(second, on="2026-02-11")
    run("2026-02-11")
    c = fresh(second)
    assert (c.state, c.is_duplicate, c.duplicate_of_id, c.reason_codes) == ("denied", True, first.pk, "18")
    assert_only_billed(c)
    assert accumulator(world.alice) == (D("1000.00"), D("1100.00"))


def test_a_first_adjudication_still_takes_an_adjudicated_claim_as_earlier(world):
    """"A claim that had already been adjudicated when another is adjudicated for the first time counts
    as received earlier than it (a submission that became visible late is the copy)": `late_seen` is
    received a day earlier than its twin, but becomes visible only after the twin was adjudicated."""
    lines = [("99213", 200)]
    twin = world.submit(on="2026-02-02", service="2026-01-20", lines=lines)
    run("2026-02-02")
    assert (state(twin), codes(twin)) == ("approved", "3,45")
    late_seen = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)  # received the day before
    run("2026-02-03")
    c = fresh(late_seen)
    assert (c.state, c.reason_codes, c.duplicate_of_id) == ("denied", "18", twin.pk)
    assert_only_billed(c)
    assert (state(twin), fresh(twin).is_duplicate) == ("approved", False)


def test_appealed_original_and_a_new_copy_in_one_run(world):
    """"An adjudication run takes the submitted and appealed claims in received order ... (an appealed
    claim keeps its original place ...)": the appealed original is priced, the newer copy is CARC 18."""
    lines = [("70551", 2500)]
    plan_services.coverage_change(member=world.alice, end=day("2026-01-15"), set_end=True)
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-01")
    plan_services.coverage_change(member=world.alice, end=None, set_end=True)
    twin = world.submit(on="2026-02-05", service="2026-01-20", lines=lines)
    appeal(original, on="2026-02-06")
    run("2026-02-06")
    assert state(original) == "approved"
    c = fresh(twin)
    assert (c.state, c.reason_codes, c.duplicate_of_id) == ("denied", "18", original.pk)
    assert_only_billed(c)
    assert accumulator(world.alice) == (D("1000.00"), D("1100.00"))


def test_single_claim_adjudication_sees_a_submitted_original(world):
    """"a claim received earlier ... that is not rejected and not itself a duplicate, in any other
    state": the earlier copy is still `submitted`; adjudicating the later one alone denies it 18."""
    lines = [("99213", 200)]
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    twin = world.submit(on="2026-02-02", service="2026-01-20", lines=lines)
    c = services.claim_adjudicate(claim_id=twin.pk)
    assert (c.state, c.reason_codes, c.duplicate_of_id) == ("denied", "18", original.pk)
    assert_only_billed(c)
    assert state(original) == "submitted"
    run("2026-02-03")
    assert state(original) == "approved"
    assert accumulator(world.alice) == (ZERO, D("30.00"))


def test_copy_of_a_pended_claim_in_the_same_run_then_examiner_approves(world, examiner):
    """"Rejected, pended and duplicate claims carry 0.00 in every bucket but billed" and "when the
    examiner approves, steps 5 and on run at that moment": the copy stays 18 with nothing owed."""
    lines = [("27447", 30000)]
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    twin = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-01")
    assert state(original) == "pended"
    assert_only_billed(original)
    assert (state(twin), codes(twin), fresh(twin).duplicate_of_id) == ("denied", "18", original.pk)
    review(original, "approve", examiner, on="2026-02-03")
    assert_figures(original, allowed=20000, deductible=1000, coinsurance=3000, plan_paid=16000,
                   member_responsibility=4000, provider_write_off=10000)
    assert_only_billed(twin)
    assert accumulator(world.alice) == (D("1000.00"), D("4000.00"))


# --- §4 pricing edge cases -----------------------------------------------------------------------

def test_oop_max_reached_mid_claim_then_copay_capped_by_room(make_world):
    """"coinsurance = min(round(rate × (allowed − deductible)), R − deductible)" and "copay = min(C,
    allowed, R)", "Each line, in line order, in turn": line 1 fills the OOP maximum part way through
    its coinsurance; line 2's copay finds no room left."""
    w = make_world(oop=("1050", "2100"))
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("70551", 2500), ("99213", 200)])
    run("2026-02-02")
    mri, visit = line_results(claim)
    assert (mri.deductible, mri.coinsurance, mri.plan_paid, mri.reason_codes) == (
        D("1000.00"), D("50.00"), D("450.00"), "1,2,45")
    assert (visit.copay, visit.plan_paid, visit.reason_codes) == (ZERO, D("120.00"), "45")
    assert_figures(claim, allowed=1620, deductible=1000, coinsurance=50, plan_paid=570, member_responsibility=1050,
                   provider_write_off=1080)
    assert codes(claim) == "1,2,45"
    assert accumulator(w.alice) == (D("1000.00"), D("1050.00"))


def test_two_lines_share_the_out_of_pocket_room(make_world):
    """"Remaining out-of-pocket room R = individual OOP max − individual OOP met", recomputed line by
    line: the second line's coinsurance is capped at what the first left."""
    w = make_world(oop=("1200", "2400"))
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("70551", 1500), ("70551", 1500)])
    run("2026-02-02")
    first, second = line_results(claim)
    assert (first.deductible, first.coinsurance, first.plan_paid) == (D("1000.00"), D("100.00"), D("400.00"))
    assert (second.deductible, second.coinsurance, second.plan_paid) == (ZERO, D("100.00"), D("1400.00"))
    assert_figures(claim, allowed=3000, deductible=1000, coinsurance=200, plan_paid=1800, member_responsibility=1200)
    assert accumulator(w.alice) == (D("1000.00"), D("1200.00"))


def test_out_of_network_coinsurance_capped_balance_billing_not(make_world):
    """"Out of network (with cover), billed − allowed is balance_billed to the member and counts toward
    no accumulator": the OON coinsurance stops at the OOP room, the balance bill does not."""
    w = make_world(oop=("1100", "2200"), oon_coinsurance="0.40")
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("70551", 2500)], provider=w.faraway)
    run("2026-02-02")
    assert_figures(claim, allowed=1500, balance_billed=1000, deductible=1000, coinsurance=100, plan_paid=400,
                   member_responsibility=2100)
    assert codes(claim) == "1,2"
    assert accumulator(w.alice) == (D("1000.00"), D("1100.00"))
    assert_balanced(claim)


def test_out_of_network_rate_rounds_half_up(make_world):
    """"rounding is half-up to the cent, done once per claim line" with "rate the plan's coinsurance
    (its out-of-network rate out of network)": 0.35 × 33.30 = 11.655 -> 11.66."""
    w = make_world(deductible=("0", "0"), oon_coinsurance="0.35")
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("80053", "40.00")], provider=w.faraway)
    run("2026-02-02")
    assert_figures(claim, allowed="33.30", balance_billed="6.70", coinsurance="11.66", plan_paid="21.64",
                   member_responsibility="18.36")
    assert_balanced(claim)


def test_copay_capped_by_family_room(make_world):
    """"copay = min(C, allowed, R)" with "on family coverage R = min(R, family OOP max − family OOP met)"."""
    w = make_world(deductible=("0", "0"), oop=("100", "150"), coinsurance="0.50")
    sam = w.add_member("sam", subscriber=w.alice)
    big = w.submit(on="2026-02-01", service="2026-01-10", lines=[("70551", 1500)])
    visit = w.submit(on="2026-02-01", service="2026-01-11", lines=[("99213", 120)], member=sam)
    visit2 = w.submit(on="2026-02-01", service="2026-01-12", lines=[("99213", 120)], member=sam)
    run("2026-02-02")
    assert_figures(big, allowed=1500, coinsurance=100, plan_paid=1400, member_responsibility=100)
    assert_figures(visit, allowed=120, copay=30, plan_paid=90, member_responsibility=30)
    assert_figures(visit2, allowed=120, copay=20, plan_paid=100, member_responsibility=20)
    assert accumulator(w.alice, scope="family") == (ZERO, D("150.00"))
    assert accumulator(sam) == (ZERO, D("50.00"))


def test_copay_per_line_with_units(world):
    """"allowed = min(billed, fee × units)" and "Category with a copay C, in network (per line)"."""
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("99211", 100, 3), ("99213", 200)])
    run("2026-02-02")
    first, second = line_results(claim)
    assert (first.allowed, first.copay, first.provider_write_off) == (D("75.00"), D("30.00"), D("25.00"))
    assert (second.allowed, second.copay, second.provider_write_off) == (D("120.00"), D("30.00"), D("80.00"))
    assert_figures(claim, allowed=195, copay=60, plan_paid=135, member_responsibility=60, provider_write_off=105)
    assert accumulator(world.alice) == (ZERO, D("60.00"))


def test_plan_year_not_starting_january_with_family(make_world):
    """"Accumulators of the plan year that holds the service date: ... both for the member and, on
    family coverage, the family": a plan year starting April 1."""
    w = make_world(year_start=day("2025-04-01"), coverage_start=day("2025-04-01"), deductible=("1000", "1500"))
    sam = w.add_member("sam", subscriber=w.alice)
    old = w.submit(on="2026-04-10", service="2026-03-31", lines=[("70551", 1500)], member=sam)
    new = w.submit(on="2026-04-10", service="2026-04-01", lines=[("70551", 1500)], member=sam)
    run("2026-04-11")
    assert (fresh(old).plan_year_start, fresh(old).deductible) == (day("2025-04-01"), D("1000.00"))
    assert (fresh(new).plan_year_start, fresh(new).deductible) == (day("2026-04-01"), D("1000.00"))
    for year in (day("2025-04-01"), day("2026-04-01")):
        assert accumulator(sam, year=year) == (D("1000.00"), D("1100.00"))
        assert accumulator(w.alice, scope="family", year=year) == (D("1000.00"), D("1100.00"))
        assert accumulator(w.alice, year=year) == (ZERO, ZERO)


# --- SCENARIOS.md: the runner's report of the same rules -----------------------------------------

SCENARIO = """
name: Family, plan year from July
start: 2026-06-01
world:
  employers:
    - key: globex
      name: Globex
      funding: ASO
      plan:
        year_start: 2025-07-01
        deductible: {individual: 1000, family: 1500}
        out_of_pocket_max: {individual: 4000, family: 8000}
        coinsurance: 0.20
        copays: {office_visit: 30}
  members:
    - {key: alice, employer: globex, name: Alice Ng, born: 1985-04-02, coverage_start: 2025-07-01}
    - {key: sam, subscriber: alice, relationship: child, name: Sam Ng, born: 2015-06-01}
  providers:
    - {key: mercy, name: Mercy, npi: "1234567893", network: in}
  fee_schedule:
    "99213": {category: office_visit, fee: 120}
    "70551": {category: imaging, fee: 1500}
events:
  - date: 2026-06-10
    submit_claim: {key: s1, provider: mercy, member: sam, service_date: 2026-06-05, lines: [{code: "70551", billed: 2500}]}
  - submit_claim: {key: a1, provider: mercy, member: alice, service_date: 2026-06-06, lines: [{code: "70551", billed: 2500}]}
  - submit_claim: {key: r1, provider: mercy, member: alice, service_date: 2026-06-20, lines: [{code: "70551", billed: 2500}]}
  - run: adjudication
  - date: 2026-07-02
    submit_claim: {key: a2, provider: mercy, member: alice, service_date: 2026-07-01, lines: [{code: "70551", billed: 2500}]}
  - run: adjudication
"""


def test_scenario_report_embedded_family_deductible_and_plan_year(db):
    """DOMAIN.md: "an embedded family deductible: the individual one stops at its own limit or when the
    family's is met"; SCENARIOS.md: "accumulators: for every member, the plan year that holds as_of;
    the family figures are the subscriber's family's"."""
    report = scenario_run(sc=scenario_load(text=SCENARIO))
    claims = report["claims"]
    assert {k: claims["s1"][k] for k in ("state", "deductible", "coinsurance", "plan_paid")} == {
        "state": "approved", "deductible": "1000.00", "coinsurance": "100.00", "plan_paid": "400.00"}
    # alice: individual 1,000 left, family only 500 left -> 500; coinsurance 20 % of 1,000.
    assert {k: claims["a1"][k] for k in ("state", "deductible", "coinsurance", "plan_paid", "reason_codes")} == {
        "state": "approved", "deductible": "500.00", "coinsurance": "200.00", "plan_paid": "800.00",
        "reason_codes": ["1", "2", "45"]}
    assert {k: claims["r1"][k] for k in ("state", "billed", "plan_paid", "member_responsibility", "reason_codes")} == {
        "state": "rejected", "billed": "2500.00", "plan_paid": "0.00", "member_responsibility": "0.00",
        "reason_codes": []}
    assert {k: claims["a2"][k] for k in ("deductible", "coinsurance", "plan_paid")} == {
        "deductible": "1000.00", "coinsurance": "100.00", "plan_paid": "400.00"}
    assert report["as_of"] == "2026-07-02"
    assert report["accumulators"] == {
        "alice": {"plan_year": "2026-07-01", "deductible_met": "1000.00", "out_of_pocket_met": "1100.00",
                  "family_deductible_met": "1000.00", "family_out_of_pocket_met": "1100.00"},
        "sam": {"plan_year": "2026-07-01", "deductible_met": "0.00", "out_of_pocket_met": "0.00",
                "family_deductible_met": "1000.00", "family_out_of_pocket_met": "1100.00"},
    }
