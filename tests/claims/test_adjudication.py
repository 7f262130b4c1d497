"""Auto-adjudication, examiner review, appeal and pricing (DOMAIN.md §3–4), one rule per test."""
import datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm_log.models import StateLog

from claims import engine, services
from claims.models import Accumulator, Claim, LineResult
from core.errors import Forbidden, NotFound
from parties import services as party_services
from plans import services as plan_services
from tests.claims.helpers import (
    ZERO,
    accumulator,
    adjudicate,
    appeal,
    assert_balanced,
    assert_figures,
    assert_only_billed,
    codes,
    day,
    fresh,
    line_results,
    new_npi,
    review,
    run,
    state,
    transitions,
)
from tests.factories import login

D = Decimal



def line_figures(lr: LineResult) -> dict:
    return {f: getattr(lr, f) for f in ("allowed", "deductible", "copay", "coinsurance", "not_covered",
                                       "balance_billed", "provider_write_off", "plan_paid")}


# --- The worked example (DOMAIN.md §4) ---------------------------------------------------------

def test_worked_example_claims_a_to_d(world, examiner):
    a = world.submit(on="2026-01-15", service="2026-01-10", lines=[("99213", 200)])
    assert run("2026-01-16") == 1
    assert state(a) == "approved"
    assert_figures(a, allowed=120, copay=30, plan_paid=90, member_responsibility=30, provider_write_off=80)
    assert codes(a) == "3,45"
    assert accumulator(world.alice) == (D("0.00"), D("30.00"))

    b = world.submit(on="2026-01-16", service="2026-01-12", lines=[("70551", 2500)])
    run("2026-01-16")
    assert state(b) == "approved"
    assert_figures(b, allowed=1500, deductible=1000, coinsurance=100, plan_paid=400, member_responsibility=1100,
                   provider_write_off=1000)
    assert codes(b) == "1,2,45"
    assert accumulator(world.alice) == (D("1000.00"), D("1130.00"))

    c = world.submit(on="2026-01-16", service="2026-01-14", lines=[("27447", 30000)])
    run("2026-01-16")
    assert state(c) == "pended"
    assert_only_billed(c)
    assert accumulator(world.alice) == (D("1000.00"), D("1130.00"))
    review(c, "approve", examiner, on="2026-01-17")
    assert state(c) == "approved"
    assert_figures(c, allowed=20000, coinsurance=2870, plan_paid=17130, member_responsibility=2870,
                   provider_write_off=10000)
    assert codes(c) == "2,45"
    assert accumulator(world.alice) == (D("1000.00"), D("4000.00"))

    d = world.submit(on="2026-01-18", service="2026-01-15", lines=[("99213", 200)])
    run("2026-01-18")
    assert state(d) == "approved"
    assert_figures(d, allowed=120, plan_paid=120, provider_write_off=80)
    assert codes(d) == "45"
    assert accumulator(world.alice) == (D("1000.00"), D("4000.00"))
    for claim in (a, b, c, d):
        assert_balanced(claim)
        assert fresh(claim).family_coverage is False
        assert fresh(claim).plan_year_start == day("2026-01-01")
    assert not Accumulator.objects.filter(scope="family").exists()


def test_worked_example_line_results_and_trace(world):
    b = world.submit(on="2026-01-15", service="2026-01-12", lines=[("70551", 2500)])
    run("2026-01-16")
    (lr,) = line_results(b)
    assert (lr.round, lr.category, lr.fee, lr.reason_codes, lr.denial_code) == (1, "imaging", D("1500.00"), "1,2,45", "")
    assert line_figures(lr) == {"allowed": D("1500.00"), "deductible": D("1000.00"), "copay": ZERO,
                                "coinsurance": D("100.00"), "not_covered": ZERO, "balance_billed": ZERO,
                                "provider_write_off": D("1000.00"), "plan_paid": D("400.00")}
    assert "plan pays 400.00" in lr.trace_text
    assert fresh(b).adjudicated_on == day("2026-01-16")


# --- 1. Eligibility: CARC 26 / 27 ------------------------------------------------------------

def _assert_denied_member_owes(claim, code: str):
    c = fresh(claim)
    assert c.state == "denied"
    assert c.reason_codes == code
    assert_figures(c, not_covered=c.billed, member_responsibility=c.billed)
    assert_balanced(c)
    for lr in line_results(c):
        assert (lr.denial_code, lr.reason_codes, lr.allowed) == (code, code, ZERO)
        assert lr.not_covered == lr.line.billed


def _assert_denied_provider_writes_off(claim, code: str):
    c = fresh(claim)
    assert c.state == "denied"
    assert c.reason_codes == code
    assert_figures(c, provider_write_off=c.billed)
    assert_balanced(c)
    for lr in line_results(c):
        assert (lr.denial_code, lr.reason_codes, lr.allowed) == (code, code, ZERO)
        assert lr.provider_write_off == lr.line.billed


def test_service_before_coverage_start_is_26(make_world):
    w = make_world(coverage_start=day("2026-02-01"))
    early = w.submit(on="2026-02-05", service="2026-01-31", lines=[("99213", 200), ("70551", 2500)])
    first_day = w.submit(on="2026-02-05", service="2026-02-01", lines=[("99213", 200)])
    run("2026-02-06")
    _assert_denied_member_owes(early, "26")
    assert state(first_day) == "approved"
    assert accumulator(w.alice) == (ZERO, D("30.00"))  # only the covered claim counted


def test_service_after_coverage_end_is_27(make_world):
    w = make_world(coverage_end=day("2026-03-31"))
    last_day = w.submit(on="2026-04-05", service="2026-03-31", lines=[("99213", 200)])
    late = w.submit(on="2026-04-05", service="2026-04-01", lines=[("70551", 2500)])
    run("2026-04-06")
    assert state(last_day) == "approved"
    _assert_denied_member_owes(late, "27")
    assert accumulator(w.alice) == (ZERO, D("30.00"))


def test_coverage_ended_by_a_change_is_27(world):
    plan_services.coverage_change(member=world.alice, end=day("2026-03-31"), set_end=True)
    claim = world.submit(on="2026-04-05", service="2026-04-02", lines=[("99213", 200)])
    run("2026-04-06")
    _assert_denied_member_owes(claim, "27")


def test_dependent_follows_its_subscribers_end(world):
    sam = world.add_member("sam", subscriber=world.alice)  # no dates: follows alice
    plan_services.coverage_change(member=world.alice, end=day("2026-03-31"), set_end=True)
    inside = world.submit(on="2026-04-05", service="2026-03-31", lines=[("99213", 200)], member=sam)
    after = world.submit(on="2026-04-05", service="2026-04-01", lines=[("99213", 201)], member=sam)
    run("2026-04-06")
    assert state(inside) == "approved"
    _assert_denied_member_owes(after, "27")


def test_dependent_with_its_own_start(world):
    sam = world.add_member("sam", subscriber=world.alice, start=day("2026-03-01"))
    before = world.submit(on="2026-03-05", service="2026-02-28", lines=[("99213", 200)], member=sam)
    on_start = world.submit(on="2026-03-05", service="2026-03-01", lines=[("99213", 200)], member=sam)
    run("2026-03-06")
    _assert_denied_member_owes(before, "26")
    assert state(on_start) == "approved"


# --- 2. Timely filing: CARC 29 ---------------------------------------------------------------

@pytest.mark.parametrize(("limit", "kwargs"), [(90, {"timely_filing_days": 90}), (365, {})])
def test_timely_filing_boundary(make_world, limit, kwargs):
    w = make_world(**kwargs)
    service = day("2026-01-10")
    on_time = w.submit(on=service + datetime.timedelta(days=limit), service=service, lines=[("70551", 2500)])
    too_late = w.submit(on=service + datetime.timedelta(days=limit + 1), service=service, lines=[("70551", 2400)])
    adjudicate()
    assert state(on_time) == "approved"
    _assert_denied_provider_writes_off(too_late, "29")
    assert accumulator(w.alice) == (D("1000.00"), D("1100.00"))


def test_appealed_claim_keeps_its_received_date(make_world):
    """Denied 27, coverage corrected, appealed more than the filing limit after service: still timely."""
    w = make_world(coverage_end=day("2026-01-31"), timely_filing_days=90)
    claim = w.submit(on="2026-02-15", service="2026-02-10", lines=[("70551", 2500)])
    run("2026-02-16")
    _assert_denied_member_owes(claim, "27")
    plan_services.coverage_change(member=w.alice, end=None, set_end=True)
    appeal(claim, on="2026-09-01")  # 203 days after service
    run("2026-09-01")
    c = fresh(claim)
    assert c.received_date == day("2026-02-15")
    assert c.state == "approved"
    assert_figures(c, allowed=1500, deductible=1000, coinsurance=100, plan_paid=400, member_responsibility=1100,
                   provider_write_off=1000)


# --- 3. Duplicates: CARC 18 ------------------------------------------------------------------

LINES = [("99213", 200), ("70551", 2500, 1), ("99211", 25, 2)]


def _assert_duplicate_of(claim, original):
    c = fresh(claim)
    assert c.state == "denied"
    assert c.is_duplicate is True
    assert c.duplicate_of_id == original.pk
    assert c.reason_codes == "18"
    assert_only_billed(c)  # nothing is owed on a duplicate
    assert [lr.denial_code for lr in line_results(c)] == ["18"] * c.lines.count()
    assert all(line_figures(lr) == dict.fromkeys(line_figures(lr), ZERO) for lr in line_results(c))


def test_same_lines_in_another_order_is_a_duplicate(world):
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=LINES)
    again = world.submit(on="2026-02-02", service="2026-01-20", lines=list(reversed(LINES)))
    run("2026-02-03")
    assert state(original) == "approved"
    _assert_duplicate_of(again, original)
    assert_balanced(original)
    # Only the original touched the accumulators.
    assert accumulator(world.alice) == (fresh(original).deductible, fresh(original).deductible
                                        + fresh(original).copay + fresh(original).coinsurance)


def test_duplicate_in_a_later_run(world):
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=LINES)
    run("2026-02-01")
    again = world.submit(on="2026-03-01", service="2026-01-20", lines=LINES)
    run("2026-03-01")
    _assert_duplicate_of(again, original)


@pytest.mark.parametrize(
    "other",
    [
        [("99213", 200), ("70551", 2500, 1), ("99211", 25, 3)],  # other units
        [("99213", 200), ("70551", 2499, 1), ("99211", 25, 2)],  # other billed
        [("99213", 200), ("70551", 2500, 1)],  # fewer lines
        [("99213", 200), ("70551", 2500, 1), ("99211", 25, 2), ("99211", 25, 2)],  # another copy of a line
    ],
)
def test_different_lines_are_not_a_duplicate(world, other):
    first = world.submit(on="2026-02-01", service="2026-01-20", lines=LINES)
    second = world.submit(on="2026-02-02", service="2026-01-20", lines=other)
    run("2026-02-03")
    assert state(first) == state(second) == "approved"
    assert not fresh(second).is_duplicate


def test_other_provider_member_or_date_is_not_a_duplicate(world):
    sam = world.add_member("sam", subscriber=world.alice)
    clinic = party_services.provider_register(name="Other clinic", npi=new_npi(), network="in")
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=LINES)
    others = [
        world.submit(on="2026-02-01", service="2026-01-21", lines=LINES),
        world.submit(on="2026-02-01", service="2026-01-20", lines=LINES, member=sam),
        world.submit(on="2026-02-01", service="2026-01-20", lines=LINES, provider=clinic),
    ]
    run("2026-02-03")
    for claim in (original, *others):
        assert state(claim) == "approved"
        assert not fresh(claim).is_duplicate


def test_rejected_earlier_claim_does_not_count(world):
    rejected = world.submit(on="2026-01-15", service="2026-01-20", lines=LINES)  # service after received
    assert state(rejected) == "rejected"
    claim = world.submit(on="2026-01-21", service="2026-01-20", lines=LINES)
    run("2026-01-22")
    assert state(claim) == "approved"
    assert not fresh(claim).is_duplicate


def test_duplicate_of_a_duplicate_points_at_the_original(world):
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=LINES)
    second = world.submit(on="2026-02-02", service="2026-01-20", lines=LINES)
    run("2026-02-02")
    third = world.submit(on="2026-02-03", service="2026-01-20", lines=LINES)
    fourth = world.submit(on="2026-02-03", service="2026-01-20", lines=list(reversed(LINES)))
    run("2026-02-04")
    for dup in (second, third, fourth):
        _assert_duplicate_of(dup, original)


@pytest.mark.parametrize("original_state", ["pended", "denied"])
def test_earlier_claim_in_any_state_counts(world, examiner, original_state):
    lines = [("27447", 30000)]  # pends
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-01")
    if original_state == "denied":
        review(original, "deny", examiner, on="2026-02-02", reason_code="50")
    assert state(original) == original_state
    again = world.submit(on="2026-02-03", service="2026-01-20", lines=lines)
    run("2026-02-03")
    _assert_duplicate_of(again, original)  # step 3 comes before the review threshold


def test_appealed_duplicate_is_still_a_duplicate(world):
    original = world.submit(on="2026-02-01", service="2026-01-20", lines=LINES)
    dup = world.submit(on="2026-02-02", service="2026-01-20", lines=LINES)
    run("2026-02-03")
    appeal(dup, on="2026-02-10")
    assert state(dup) == "appealed"
    run("2026-02-10")
    _assert_duplicate_of(dup, original)
    assert fresh(dup).adjudication_round == 2


def test_order_of_the_screening_steps(make_world):
    """Eligibility before timely filing before duplicates before the review threshold."""
    w = make_world(coverage_end=day("2026-06-30"), timely_filing_days=30, review_threshold="1000.00")
    ineligible_and_late = w.submit(on="2026-09-01", service="2026-07-02", lines=[("70551", 2500)])
    late_original = w.submit(on="2026-02-01", service="2026-01-10", lines=[("99213", 200)])
    late_and_duplicate = w.submit(on="2026-03-01", service="2026-01-10", lines=[("99213", 200)])
    original = w.submit(on="2026-03-01", service="2026-02-20", lines=[("70551", 2500)])
    duplicate_over_threshold = w.submit(on="2026-03-02", service="2026-02-20", lines=[("70551", 2500)])
    run("2026-09-01")
    assert codes(ineligible_and_late) == "27"
    assert state(late_original) == "approved"
    assert codes(late_and_duplicate) == "29"
    assert state(original) == "pended"
    _assert_duplicate_of(duplicate_over_threshold, original)


# --- 4. Review: pend, examiner approve / deny ------------------------------------------------

def test_review_threshold_is_inclusive(make_world):
    w = make_world(review_threshold="1000.00")
    at = w.submit(on="2026-02-01", service="2026-01-20", lines=[("70551", "600.00"), ("99213", "400.00")])
    below = w.submit(on="2026-02-01", service="2026-01-21", lines=[("70551", "600.00"), ("99213", "399.99")])
    run("2026-02-02")
    assert state(at) == "pended"
    assert_only_billed(at)
    c = fresh(at)
    assert (c.adjudication_round, c.reason_codes) == (0, "")
    assert not LineResult.objects.filter(claim=at).exists()
    assert state(below) == "approved"
    assert transitions(at)[-1][:3] == ("submitted", "pended", "pend")
    assert "review threshold" in transitions(at)[-1][4]


def test_examiner_approval_prices_on_the_accumulators_as_they_are_then(world, examiner):
    big = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    run("2026-02-01")
    assert state(big) == "pended"
    later = world.submit(on="2026-02-03", service="2026-01-25", lines=[("70551", 2500)])
    run("2026-02-03")
    assert_figures(later, allowed=1500, deductible=1000, coinsurance=100, plan_paid=400,
                   member_responsibility=1100, provider_write_off=1000)
    review(big, "approve", examiner, on="2026-02-10")
    c = fresh(big)
    assert c.state == "approved"
    # The deductible was met by the later claim, priced first; the OOP room left is 4000 - 1100.
    assert_figures(c, allowed=20000, coinsurance=2900, plan_paid=17100, member_responsibility=2900,
                   provider_write_off=10000)
    assert c.adjudicated_on == day("2026-02-10")
    assert c.adjudication_round == 1
    assert accumulator(world.alice) == (D("1000.00"), D("4000.00"))
    # The claim priced earlier is not re-priced.
    assert_figures(later, allowed=1500, deductible=1000, coinsurance=100, plan_paid=400,
                   member_responsibility=1100, provider_write_off=1000)
    log = transitions(c)
    assert log[-1][:4] == ("pended", "approved", "review_approve", examiner.pk)
    assert log[-1][4]


MEMBER_OWES, PROVIDER_WRITES_OFF = "member", "provider"


@pytest.mark.parametrize(
    ("reason_code", "code", "owed_by"),
    [("26", "26", MEMBER_OWES), ("27", "27", MEMBER_OWES), ("96", "96", MEMBER_OWES), ("242", "242", MEMBER_OWES),
     ("29", "29", PROVIDER_WRITES_OFF), ("50", "50", PROVIDER_WRITES_OFF), (None, "50", PROVIDER_WRITES_OFF),
     (50, "50", PROVIDER_WRITES_OFF)],
)
def test_examiner_denial_and_who_owes_it(world, examiner, reason_code, code, owed_by):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000), ("99213", 200)])
    run("2026-02-01")
    assert state(claim) == "pended"
    review(claim, "deny", examiner, on="2026-02-05", reason_code=reason_code)
    if owed_by == MEMBER_OWES:
        _assert_denied_member_owes(claim, code)
    else:
        _assert_denied_provider_writes_off(claim, code)
    assert not Accumulator.objects.exists()
    source, target, name, by, description = transitions(claim)[-1]
    assert (source, target, name, by) == ("pended", "denied", "review_deny", examiner.pk)
    assert code in description


@pytest.mark.parametrize("bad", ["18", "45", "1", "999", ""])
def test_examiner_reason_code_outside_the_list(world, examiner, bad):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    run("2026-02-01")
    before = StateLog.objects.count()
    if bad == "":
        review(claim, "deny", examiner, on="2026-02-02", reason_code=bad)  # blank: the default, 50
        assert codes(claim) == "50"
        return
    with pytest.raises(services.ClaimError) as exc:
        review(claim, "deny", examiner, on="2026-02-02", reason_code=bad)
    assert "reason_code" in exc.value.message_dict
    assert state(claim) == "pended"
    assert StateLog.objects.count() == before


def test_review_needs_a_role_that_reviews(world, django_user_model):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    run("2026-02-01")
    clerk = django_user_model.objects.create_user(username="clerk", password="x")  # no role: sees no claim
    with pytest.raises(NotFound) as exc:
        review(claim, "approve", clerk, on="2026-02-02")
    assert "claim" in exc.value.message_dict
    provider_staff = login("provider_staff", claim.provider)  # sees its claim, but may not review it
    with pytest.raises(Forbidden) as exc:
        review(claim, "approve", provider_staff, on="2026-02-02")
    assert "user" in exc.value.message_dict
    assert state(claim) == "pended"


@pytest.mark.parametrize("target", ["submitted", "approved", "denied", "rejected"])
def test_review_of_a_claim_that_is_not_pended(world, examiner, target):
    claim = _claim_in_state(world, examiner, target)
    before = (StateLog.objects.count(), LineResult.objects.count(), list(Accumulator.objects.values_list("oop_met")))
    for decision in ("approve", "deny"):
        with pytest.raises(services.ClaimConflict):
            review(claim, decision, examiner, on="2026-03-01")
    assert state(claim) == target
    assert (StateLog.objects.count(), LineResult.objects.count(),
            list(Accumulator.objects.values_list("oop_met"))) == before


def _claim_in_state(world, examiner, target: str) -> Claim:
    if target == "rejected":
        return world.submit(on="2026-02-01", service="2026-02-02", lines=[("99213", 200)])
    if target == "submitted":
        return world.submit(on="2026-02-01", service="2026-01-20", lines=[("99213", 200)])
    if target == "approved":
        claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("99213", 200)])
    elif target == "pended":
        claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    else:  # denied, appealed
        claim = world.submit(on="2026-02-01", service="2025-12-20", lines=[("99213", 200)])  # before the start
    run("2026-02-01")
    if target == "appealed":
        appeal(claim, on="2026-02-02")
    assert state(claim) == target
    return claim


# --- 5. Pricing a line ------------------------------------------------------------------------

def test_excluded_category_is_96_member_owes(make_world):
    w = make_world(excluded=["cosmetic"])
    only = w.submit(on="2026-02-01", service="2026-01-20", lines=[("15780", 1000)])
    mixed = w.submit(on="2026-02-01", service="2026-01-21", lines=[("15780", 1000), ("99213", 200)])
    run("2026-02-02")
    _assert_denied_member_owes(only, "96")
    c = fresh(mixed)
    assert c.state == "approved"  # not every line is denied
    assert c.reason_codes == "3,45,96"
    assert_figures(c, allowed=120, copay=30, plan_paid=90, not_covered=1000, member_responsibility=1030,
                   provider_write_off=80)
    assert_balanced(c)
    excluded_line, visit = line_results(c)
    assert (excluded_line.denial_code, excluded_line.allowed, excluded_line.not_covered) == ("96", ZERO, D("1000.00"))
    assert (visit.denial_code, visit.copay) == ("", D("30.00"))


def test_excluded_comes_before_out_of_network(make_world):
    w = make_world(excluded=["cosmetic"])
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("15780", 1000), ("99213", 200)],
                     provider=w.faraway)
    run("2026-02-02")
    c = fresh(claim)
    assert c.state == "denied"
    assert c.reason_codes == "96,242"
    assert [lr.denial_code for lr in line_results(c)] == ["96", "242"]
    assert_figures(c, not_covered=1200, member_responsibility=1200)


def test_out_of_network_without_cover_is_242_member_owes(world):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("99213", 200), ("99395", 250)],
                         provider=world.faraway)
    run("2026-02-02")
    _assert_denied_member_owes(claim, "242")
    assert not Accumulator.objects.exists()


def test_out_of_network_with_cover_balance_bills(make_world):
    w = make_world(oon_coinsurance="0.40")
    mri = w.submit(on="2026-02-01", service="2026-01-20", lines=[("70551", 2500)], provider=w.faraway)
    run("2026-02-02")
    c = fresh(mri)
    assert c.state == "approved"
    assert_figures(c, allowed=1500, balance_billed=1000, deductible=1000, coinsurance=200, plan_paid=300,
                   member_responsibility=2200)
    assert c.reason_codes == "1,2"  # no write-off out of network
    assert_balanced(c)
    # The balance counts toward no accumulator.
    assert accumulator(w.alice) == (D("1000.00"), D("1200.00"))
    # No copay out of network: the office visit takes the OON coinsurance.
    visit = w.submit(on="2026-02-03", service="2026-01-25", lines=[("99213", 200)], provider=w.faraway)
    run("2026-02-03")
    assert_figures(visit, allowed=120, balance_billed=80, coinsurance=48, plan_paid=72, member_responsibility=128)
    assert codes(visit) == "2"
    assert accumulator(w.alice) == (D("1000.00"), D("1248.00"))


def test_covered_in_full_in_network(world):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("99395", 250)])
    run("2026-02-02")
    assert_figures(claim, allowed=210, plan_paid=210, provider_write_off=40)
    assert codes(claim) == "45"
    assert accumulator(world.alice) == (ZERO, ZERO)


def test_covered_in_full_out_of_network_shares_cost(make_world):
    w = make_world(oon_coinsurance="0.40")
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("99395", 250)], provider=w.faraway)
    run("2026-02-02")
    assert_figures(claim, allowed=210, balance_billed=40, deductible=210, member_responsibility=250)
    assert codes(claim) == "1"
    assert accumulator(w.alice) == (D("210.00"), D("210.00"))


def test_preventive_is_covered_in_full_only_by_default(make_world):
    w = make_world(covered_in_full=[])
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("99395", 210)])
    run("2026-02-02")
    assert_figures(claim, allowed=210, deductible=210, member_responsibility=210)


def test_copay_capped_by_allowed(world):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("99211", 25)])
    run("2026-02-02")
    assert_figures(claim, allowed=25, copay=25, member_responsibility=25)
    assert codes(claim) == "3"
    assert accumulator(world.alice) == (ZERO, D("25.00"))


def test_copay_capped_by_remaining_out_of_pocket(make_world):
    w = make_world(oop=("50", "100"))
    visits = [w.submit(on="2026-02-01", service=f"2026-01-{d}", lines=[("99213", 120)]) for d in (10, 11, 12)]
    run("2026-02-02")
    assert_figures(visits[0], allowed=120, copay=30, plan_paid=90, member_responsibility=30)
    assert_figures(visits[1], allowed=120, copay=20, plan_paid=100, member_responsibility=20)
    assert_figures(visits[2], allowed=120, plan_paid=120)
    assert codes(visits[2]) == ""
    assert accumulator(w.alice) == (ZERO, D("50.00"))  # a copay never counts toward the deductible


def test_deductible_capped_by_out_of_pocket_room(make_world):
    w = make_world(oop=("500", "1000"))
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=[("70551", 1500)])
    run("2026-02-02")
    assert_figures(claim, allowed=1500, deductible=500, plan_paid=1000, member_responsibility=500)
    assert codes(claim) == "1"
    assert accumulator(w.alice) == (D("500.00"), D("500.00"))


@pytest.mark.parametrize(
    ("lines", "coinsurance", "plan_paid"),
    [
        ([("80053", "33.30")], "5.00", "28.30"),  # 0.15 x 33.30 = 4.995 -> 5.00
        ([("80061", "33.27")], "4.99", "28.28"),  # 4.9905 -> 4.99
        ([("80053", "66.60", 2)], "9.99", "56.61"),  # one line, two units: 9.99
        ([("80053", "33.30"), ("80053", "33.30")], "10.00", "56.60"),  # rounded per line, not per claim
    ],
)
def test_coinsurance_rounds_half_up_per_line(make_world, lines, coinsurance, plan_paid):
    w = make_world(deductible=("0", "0"), coinsurance="0.15", copays={})
    claim = w.submit(on="2026-02-01", service="2026-01-20", lines=lines)
    run("2026-02-02")
    c = fresh(claim)
    assert (c.coinsurance, c.plan_paid) == (D(coinsurance), D(plan_paid))
    assert_balanced(c)


def test_embedded_family_deductible(make_world):
    w = make_world(deductible=("1000", "1500"))
    sam = w.add_member("sam", subscriber=w.alice)
    kim = w.add_member("kim", subscriber=w.alice)
    a1 = w.submit(on="2026-02-01", service="2026-01-10", lines=[("70551", 1500)])
    a2 = w.submit(on="2026-02-01", service="2026-01-11", lines=[("70551", 1500)])
    s1 = w.submit(on="2026-02-01", service="2026-01-12", lines=[("70551", 1500)], member=sam)
    k1 = w.submit(on="2026-02-01", service="2026-01-13", lines=[("70551", 1500)], member=kim)
    run("2026-02-02")
    assert fresh(a1).deductible == D("1000.00")  # alice stops at her own limit
    assert fresh(a2).deductible == ZERO
    assert fresh(s1).deductible == D("500.00")  # what the family has left
    assert fresh(k1).deductible == ZERO  # the family's is met: it stops everyone
    assert accumulator(w.alice)[0] == D("1000.00")
    assert accumulator(sam)[0] == D("500.00")
    assert accumulator(kim)[0] == ZERO
    assert accumulator(w.alice, scope="family")[0] == D("1500.00")
    for claim in (a1, a2, s1, k1):
        assert fresh(claim).family_coverage is True
        assert_balanced(claim)


def test_family_out_of_pocket_max(make_world):
    w = make_world(deductible=("0", "0"), oop=("3000", "4000"), coinsurance="0.50")
    sam = w.add_member("sam", subscriber=w.alice)
    kim = w.add_member("kim", subscriber=w.alice)
    a = w.submit(on="2026-02-01", service="2026-01-10", lines=[("27447", 20000)])
    s = w.submit(on="2026-02-01", service="2026-01-11", lines=[("27447", 20000)], member=sam)
    k = w.submit(on="2026-02-01", service="2026-01-12", lines=[("27447", 20000)], member=kim)
    run("2026-02-02")
    assert fresh(a).coinsurance == D("3000.00")  # the individual maximum
    assert fresh(s).coinsurance == D("1000.00")  # what the family has left
    assert fresh(k).coinsurance == ZERO
    assert fresh(k).plan_paid == D("20000.00")
    assert accumulator(w.alice, scope="family") == (ZERO, D("4000.00"))
    assert [accumulator(m)[1] for m in (w.alice, sam, kim)] == [D("3000.00"), D("1000.00"), ZERO]


def test_single_coverage_keeps_no_family_figures(world):
    claim = world.submit(on="2026-02-01", service="2026-01-10", lines=[("70551", 1500)])
    run("2026-02-02")
    assert fresh(claim).family_coverage is False
    assert not Accumulator.objects.filter(scope="family").exists()


def test_subscriber_with_a_dependent_is_on_family_coverage_for_its_own_claims(make_world):
    """Whatever the dependent's dates: here its coverage ended before the subscriber's claim."""
    w = make_world(deductible=("1000", "1200"))
    w.add_member("sam", subscriber=w.alice, start=day("2026-01-01"), end=day("2026-01-05"))
    claim = w.submit(on="2026-03-01", service="2026-02-10", lines=[("70551", 1500)])
    run("2026-03-01")
    c = fresh(claim)
    assert c.family_coverage is True
    assert accumulator(w.alice, scope="family") == (D("1000.00"), D("1100.00"))
    assert accumulator(w.alice) == (D("1000.00"), D("1100.00"))


def test_plan_year_rollover(make_world):
    """A plan year starting 07-01: a June service date belongs to the year that began the July before."""
    w = make_world(year_start=day("2025-07-01"), coverage_start=day("2025-07-01"))
    july = w.submit(on="2026-07-05", service="2026-07-02", lines=[("70551", 1500)])
    june = w.submit(on="2026-07-06", service="2026-06-20", lines=[("70551", 1500)])
    june_again = w.submit(on="2026-07-06", service="2026-06-25", lines=[("70551", 1500)])
    run("2026-07-07")
    assert (fresh(july).plan_year_start, fresh(july).deductible) == (day("2026-07-01"), D("1000.00"))
    assert (fresh(june).plan_year_start, fresh(june).deductible) == (day("2025-07-01"), D("1000.00"))
    assert (fresh(june_again).plan_year_start, fresh(june_again).deductible) == (day("2025-07-01"), ZERO)
    assert accumulator(w.alice, year=day("2025-07-01")) == (D("1000.00"), D("1400.00"))
    assert accumulator(w.alice, year=day("2026-07-01")) == (D("1000.00"), D("1100.00"))
    first_day = w.submit(on="2026-07-08", service="2026-07-01", lines=[("99213", 120)])
    run("2026-07-08")
    assert fresh(first_day).plan_year_start == day("2026-07-01")


def test_claim_denied_only_when_every_line_is_denied(make_world):
    w = make_world(excluded=["cosmetic", "lab"])
    all_denied = w.submit(on="2026-02-01", service="2026-01-20", lines=[("15780", 800), ("80053", 40)])
    one_priced = w.submit(on="2026-02-01", service="2026-01-21", lines=[("15780", 800), ("99395", 210)])
    run("2026-02-02")
    assert state(all_denied) == "denied"
    assert codes(all_denied) == "96"
    assert state(one_priced) == "approved"
    assert_figures(one_priced, allowed=210, plan_paid=210, not_covered=800, member_responsibility=800)


def test_reason_codes_in_numeric_order(make_world):
    w = make_world(excluded=["cosmetic"])
    claim = w.submit(on="2026-02-01", service="2026-01-20",
                     lines=[("15780", 800), ("70551", 2500), ("99213", 200)])
    run("2026-02-02")
    assert codes(claim) == "1,2,3,45,96"
    assert fresh(claim).reason_code_list == ["1", "2", "3", "45", "96"]
    # Numeric, not text order: 242 after 45, 3 before 26.
    outs = [engine.LineOut(codes=("242",)), engine.LineOut(codes=("45", "2")), engine.LineOut(codes=("1",)),
            engine.LineOut(codes=("3",)), engine.LineOut(codes=("26",))]
    assert engine.claim_reason_codes(outs) == "1,2,3,26,45,242"


def test_balancing_identity_over_a_mixed_run(make_world, examiner):
    w = make_world(excluded=["cosmetic"], oon_coinsurance="0.30", oop=("2500", "5000"))
    sam = w.add_member("sam", subscriber=w.alice)
    plan_services.coverage_change(member=w.alice, end=day("2026-05-31"), set_end=True)
    submitted = [
        w.submit(on="2026-02-01", service="2026-01-05", lines=[("99213", 200), ("15780", 800)]),
        w.submit(on="2026-02-01", service="2026-01-06", lines=[("70551", 2500), ("99395", 300)], provider=w.faraway),
        w.submit(on="2026-02-01", service="2026-01-07", lines=[("27447", 30000)], member=sam),
        w.submit(on="2026-02-02", service="2026-01-05", lines=[("15780", 800), ("99213", 200)]),  # duplicate
        w.submit(on="2026-02-02", service="2026-01-08", lines=[("80053", "33.30", 3), ("99211", 20)], member=sam),
        w.submit(on="2026-07-01", service="2026-06-02", lines=[("99213", 200)]),  # after the end: 27
        w.submit(on="2026-07-01", service="2026-06-03", lines=[("70551", 1400)], member=sam),  # follows alice: 27
    ]
    run("2026-07-02")
    review(submitted[2], "approve", examiner, on="2026-07-03")
    states = [state(c) for c in submitted]
    assert states == ["approved", "approved", "approved", "denied", "approved", "denied", "denied"]
    checked = 0
    for claim in Claim.objects.all():
        if claim.is_duplicate:
            assert_only_billed(claim)
            continue
        assert_balanced(claim)
        lines = line_results(claim)
        assert sum((lr.line.billed for lr in lines), ZERO) == claim.billed
        for lr in lines:
            owed = lr.deductible + lr.copay + lr.coinsurance + lr.not_covered + lr.balance_billed
            assert lr.line.billed == lr.plan_paid + owed + lr.provider_write_off
        checked += 1
    assert checked == 6


# --- Appeal ----------------------------------------------------------------------------------

def test_appeal_keeps_the_denial_until_re_adjudicated_then_prices_on_current_accumulators(world):
    plan_services.coverage_change(member=world.alice, end=day("2026-01-31"), set_end=True)
    claim = world.submit(on="2026-02-15", service="2026-02-10", lines=[("70551", 2500)])
    run("2026-02-16")
    _assert_denied_member_owes(claim, "27")
    denial = (fresh(claim).reason_codes, fresh(claim).not_covered, fresh(claim).member_responsibility)

    plan_services.coverage_change(member=world.alice, end=None, set_end=True)
    other = world.submit(on="2026-02-20", service="2026-02-18", lines=[("70551", 2500)])
    run("2026-02-20")
    other_figures = {f: getattr(fresh(other), f) for f in ("deductible", "coinsurance", "plan_paid")}
    assert other_figures["deductible"] == D("1000.00")

    appealed = appeal(claim, on="2026-03-01")
    assert appealed.state == "appealed"
    c = fresh(claim)
    assert c.state == "appealed"
    assert (c.reason_codes, c.not_covered, c.member_responsibility) == denial  # the denial's figures
    assert c.adjudication_round == 1

    run("2026-03-02")
    c = fresh(claim)
    assert c.state == "approved"
    assert c.adjudication_round == 2
    assert c.adjudicated_on == day("2026-03-02")
    # Priced on the accumulators as they are now: the deductible was met by `other`.
    assert_figures(c, allowed=1500, coinsurance=300, plan_paid=1200, member_responsibility=300,
                   provider_write_off=1000)
    assert {f: getattr(fresh(other), f) for f in other_figures} == other_figures  # not re-priced
    assert accumulator(world.alice) == (D("1000.00"), D("1400.00"))
    # Both rounds' line figures are kept; the current one is the latest.
    assert list(LineResult.objects.filter(claim=claim).order_by("round").values_list("round", "denial_code")) == [
        (1, "27"), (2, "")]
    assert [t[:3] for t in transitions(c)] == [("submitted", "denied", "deny"), ("denied", "appealed", "appeal"),
                                               ("appealed", "approved", "approve")]


def test_appeal_can_be_denied_again_or_pended(world, examiner):
    big = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    early = world.submit(on="2026-02-01", service="2025-12-20", lines=[("99213", 200)])
    run("2026-02-01")
    review(big, "deny", examiner, on="2026-02-02")
    appeal(big, on="2026-02-03")
    appeal(early, on="2026-02-03")
    run("2026-02-04")
    assert state(big) == "pended"  # re-adjudicated: over the threshold again
    assert_only_billed(big)
    assert state(early) == "denied"
    assert codes(early) == "26"
    assert fresh(early).adjudication_round == 2
    review(big, "approve", examiner, on="2026-02-05")
    assert_figures(big, allowed=20000, deductible=1000, coinsurance=3000, plan_paid=16000,
                   member_responsibility=4000, provider_write_off=10000)


@pytest.mark.parametrize("target", ["submitted", "rejected", "pended", "approved", "appealed"])
def test_appeal_of_a_claim_that_is_not_denied(world, examiner, target):
    claim = _claim_in_state(world, examiner, target)
    before = StateLog.objects.count()
    with pytest.raises(services.ClaimConflict):
        appeal(claim, on="2026-03-01")
    assert state(claim) == target
    assert StateLog.objects.count() == before


def test_single_claim_adjudication_of_a_claim_already_done(world):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("99213", 200)])
    assert services.claim_adjudicate(claim_id=claim.pk).state == "approved"
    with pytest.raises(services.ClaimConflict):
        services.claim_adjudicate(claim_id=claim.pk)
    assert fresh(claim).adjudication_round == 1
    assert accumulator(world.alice) == (ZERO, D("30.00"))


# --- The transition log and the protected state ------------------------------------------------

def test_every_transition_is_logged_with_source_target_description_and_examiner(world, examiner):
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    run("2026-02-02")
    review(claim, "deny", examiner, on="2026-02-03", reason_code="50")
    appeal(claim, on="2026-02-04")
    run("2026-02-05")
    review(claim, "approve", examiner, on="2026-02-06")
    rejected = world.submit(on="2026-02-07", service="2026-02-08", lines=[("99213", 200)])
    log = transitions(claim)
    assert [row[:4] for row in log] == [
        ("submitted", "pended", "pend", None),
        ("pended", "denied", "review_deny", examiner.pk),
        ("denied", "appealed", "appeal", None),
        ("appealed", "pended", "pend", None),
        ("pended", "approved", "review_approve", examiner.pk),
    ]
    assert all(row[4] for row in log)  # every one says why
    assert transitions(rejected)[0][:3] == ("submitted", "rejected", "reject")
    assert "service_date" in transitions(rejected)[0][4]


def test_transitions_are_stamped_with_the_business_date(world, examiner):
    """Every transition's `when` comes from the one clock (core.clock), whichever path made it."""
    expected = []
    claim = world.submit(on="2026-02-01", service="2026-01-20", lines=[("27447", 30000)])
    run("2026-02-02")
    expected.append(day("2026-02-02"))
    review(claim, "deny", examiner, on="2026-02-03")
    expected.append(day("2026-02-03"))
    appeal(claim, on="2026-02-04")
    expected.append(day("2026-02-04"))
    rejected = world.submit(on="2026-02-07", service="2026-02-08", lines=[("99213", 200)])
    stamps = [timezone.localtime(ts).date() for ts in StateLog.objects.for_(fresh(claim)).order_by("pk")
              .values_list("timestamp", flat=True)]
    assert stamps == expected
    (rejected_stamp,) = StateLog.objects.for_(fresh(rejected)).values_list("timestamp", flat=True)
    assert timezone.localtime(rejected_stamp).date() == day("2026-02-07")


def test_state_cannot_be_set_directly(world):
    claim = fresh(world.submit(on="2026-02-01", service="2026-01-20", lines=[("99213", 200)]))
    with pytest.raises(AttributeError):
        claim.state = "paid"
    assert fresh(claim).state == "submitted"


# --- Order of pricing -------------------------------------------------------------------------

def test_accumulators_apply_in_received_order_not_service_date_order(world):
    later_service = world.submit(on="2026-03-01", service="2026-02-20", lines=[("70551", 2500)])
    earlier_service = world.submit(on="2026-03-02", service="2026-01-05", lines=[("70551", 2500)])
    run("2026-03-03")
    assert fresh(later_service).deductible == D("1000.00")
    assert fresh(earlier_service).deductible == ZERO


def test_appealed_claim_keeps_its_place_in_received_order(world):
    plan_services.coverage_change(member=world.alice, end=day("2026-01-31"), set_end=True)
    appealed = world.submit(on="2026-02-15", service="2026-02-10", lines=[("70551", 2500)])
    run("2026-02-15")
    assert codes(appealed) == "27"
    plan_services.coverage_change(member=world.alice, end=None, set_end=True)
    newer = world.submit(on="2026-03-01", service="2026-02-25", lines=[("70551", 2400)])
    appeal(appealed, on="2026-03-02")
    run("2026-03-03")  # one run: the appealed claim (received 02-15) goes first
    assert fresh(appealed).deductible == D("1000.00")
    assert fresh(newer).deductible == ZERO
    assert fresh(appealed).received_date == day("2026-02-15")
