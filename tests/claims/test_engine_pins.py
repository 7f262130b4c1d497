"""Pins on claims/engine.py: exact figures and exact trace text for the rules of DOMAIN.md §3–4 that
mutation testing (mutmut, `make mutation`) showed the other tests leave free.

Pure tests call the engine directly (PlanTerms / Accumulators / LineIn in, LineOut / Outcome out, the
trace a person reads through `trace_render`). The last section goes through the services: the reason
the transition log records for every claim-level decision (DOMAIN.md §3: every transition says why).

`make mutation` (mutmut 3.8.1, pyproject.toml [tool.mutmut]) kills every mutant of claims/engine.py but
these 19, which are equivalent (no input changes any figure, record or text):
- percent_text 1, 2 (`text = None`, `.get(None)`): the cache is not read, the text is computed again;
  11, 12 (`rstrip("XX0XX")`, `rstrip("XX.XX")`): a formatted number has no "X" to strip.
- PlanTerms.plan_year_start 11 (anchor year 2002 for 2001): only the anchor's month and day are used,
  and neither year is a leap year.
- remaining_room 7, 11 (`fam_room <= room`, `fam_ded_left <= ded_left`): on a tie both are the same
  amount; 13, 15 (`room <= ZERO`, `ded_left <= ZERO`): a zero is replaced by zero.
- price_line 24 (`billed <= schedule_amount`), 75 (`raw <= cap`): on a tie both are the same amount.
- trace_render 18 (split maxsplit -2 for -1): any negative maxsplit means no limit; 56 (`met = None`
  for `()`): both are falsy and only tested for truth.
- claim_totals 19, 25, 26, 27, 33, 34 (allowed, provider_write_off or plan_paid of the sums left out or
  None): the sums only feed `member_owes`, which reads none of the three.
"""
import datetime
from dataclasses import replace
from decimal import Decimal

import pytest

from claims import engine, services
from core import clock
from tests.claims.helpers import day, fresh, line_results, review, run, transitions

D = Decimal
ZERO = D("0.00")
FIGURES = ("allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed", "provider_write_off",
           "plan_paid")


def terms(**changes) -> engine.PlanTerms:
    """The worked example's plan (DOMAIN.md §4): deductible 1,000 (family 2,000), coinsurance 20 %, OOP max
    4,000 (family 8,000), office-visit copay 30, preventive covered in full, cosmetic excluded."""
    base = engine.PlanTerms(
        id=1, year_start_month=1, year_start_day=1,
        deductible_individual=D("1000.00"), deductible_family=D("2000.00"),
        oop_max_individual=D("4000.00"), oop_max_family=D("8000.00"),
        coinsurance=D("0.20"), oon_covered=False, oon_coinsurance=None, timely_filing_days=365,
        review_threshold=D("25000.00"), fee_schedule_id=1, excluded=frozenset({"cosmetic"}),
        covered_in_full=frozenset({"preventive"}), copays={"office_visit": D("30.00")},
    )
    return replace(base, **changes)


def line(billed, fee, category, *, units=1, code="X") -> engine.LineIn:
    return engine.LineIn(billed=D(billed), units=units, code=code, category=category, fee=D(fee))


OFFICE = ("200.00", "120.00", "office_visit")
MRI = ("2500.00", "1500.00", "imaging")
SURGERY = ("30000.00", "20000.00", "surgery")


def figures(out) -> dict:
    return {f: getattr(out, f) for f in FIGURES}


def want(**nonzero) -> dict:
    got = {f: ZERO for f in FIGURES}
    got.update({k: D(v) for k, v in nonzero.items()})
    return got


def met(acc) -> tuple:
    return acc.deductible_met, acc.oop_met, acc.family_deductible_met, acc.family_oop_met


def priced(ln, *, plan=None, acc=None, in_network=True):
    """(line out, its rendered trace, the accumulators after)."""
    acc = acc if acc is not None else engine.Accumulators()
    out = engine.price_line(ln, terms=plan or terms(), in_network=in_network, acc=acc)
    return out, engine.trace_render(out.trace, line=ln, out=out), acc


# --- Step 4: the remaining room and deductible, never below zero --------------------------------

def test_remaining_room_single_and_family_takes_the_smaller():
    t = terms()
    assert engine.remaining_room(terms=t, acc=engine.Accumulators(deductible_met=D("100.00"), oop_met=D("250.00"))) \
        == (D("3750.00"), D("900.00"))
    # Family coverage: the family's figures where they are smaller ...
    acc = engine.Accumulators(deductible_met=D("100.00"), oop_met=D("250.00"), family_deductible_met=D("1500.00"),
                              family_oop_met=D("7000.00"), family=True)
    assert engine.remaining_room(terms=t, acc=acc) == (D("1000.00"), D("500.00"))
    # ... the individual's where the family has more left.
    acc = engine.Accumulators(deductible_met=D("100.00"), oop_met=D("250.00"), family_deductible_met=D("300.00"),
                              family_oop_met=D("600.00"), family=True)
    assert engine.remaining_room(terms=t, acc=acc) == (D("3750.00"), D("900.00"))
    # Off family coverage the family's figures count for nothing.
    acc = engine.Accumulators(family_deductible_met=D("1999.00"), family_oop_met=D("7999.00"), family=False)
    assert engine.remaining_room(terms=t, acc=acc) == (D("4000.00"), D("1000.00"))


@pytest.mark.parametrize("family", [False, True])
def test_remaining_room_is_zero_when_met_is_above_a_lowered_maximum(family):
    """An administrator lowered the maxima mid-year below what was met: nothing is left, not a negative."""
    t = terms(deductible_individual=D("500.00"), deductible_family=D("900.00"), oop_max_individual=D("1000.00"),
              oop_max_family=D("1500.00"))
    acc = engine.Accumulators(deductible_met=D("800.00"), oop_met=D("1300.00"), family_deductible_met=D("1000.00"),
                              family_oop_met=D("1600.00"), family=family)
    room, ded_left = engine.remaining_room(terms=t, acc=acc)
    assert (room, ded_left) == (ZERO, ZERO)
    assert (str(room), str(ded_left)) == ("0.00", "0.00")


def test_remaining_room_is_zero_when_only_the_familys_met_is_above_its_lowered_maximum():
    t = terms(deductible_family=D("900.00"), oop_max_family=D("1500.00"))
    acc = engine.Accumulators(deductible_met=D("100.00"), oop_met=D("200.00"), family_deductible_met=D("1200.00"),
                              family_oop_met=D("2000.00"), family=True)
    assert engine.remaining_room(terms=t, acc=acc) == (ZERO, ZERO)


def test_copay_above_a_lowered_oop_maximum_is_zero_and_the_plan_pays_the_allowed():
    t = terms(oop_max_individual=D("1000.00"))
    acc = engine.Accumulators(deductible_met=D("1000.00"), oop_met=D("1300.00"))
    out, text, acc = priced(line(*OFFICE), plan=t, acc=acc)
    assert figures(out) == want(allowed="120.00", provider_write_off="80.00", plan_paid="120.00")
    assert out.codes == ("45",)
    assert met(acc) == (D("1000.00"), D("1300.00"), ZERO, ZERO)
    assert text == (
        "fee 120.00 × 1 = 120.00; allowed = min(billed 200.00, 120.00) = 120.00\n"
        "in network: provider writes off 80.00 (CARC 45)\n"
        "office_visit copay 30.00: copay = min(30.00, allowed 120.00, out-of-pocket remaining 0.00) = 0.00; "
        "no deductible, no coinsurance\n"
        "plan pays 120.00")


def test_deductible_above_a_lowered_deductible_is_zero_and_coinsurance_is_on_the_whole_allowed():
    t = terms(deductible_individual=D("500.00"))
    acc = engine.Accumulators(deductible_met=D("800.00"), oop_met=D("800.00"))
    out, text, acc = priced(line(*MRI), plan=t, acc=acc)
    assert figures(out) == want(allowed="1500.00", coinsurance="300.00", provider_write_off="1000.00",
                                plan_paid="1200.00")
    assert out.codes == ("2", "45")
    assert met(acc) == (D("800.00"), D("1100.00"), ZERO, ZERO)
    assert text == (
        "fee 1,500.00 × 1 = 1,500.00; allowed = min(billed 2,500.00, 1,500.00) = 1,500.00\n"
        "in network: provider writes off 1,000.00 (CARC 45)\n"
        "deductible remaining 0.00 of 500.00; applied 0.00\n"
        "coinsurance 20 % of 1,500.00 = 300.00; out-of-pocket remaining after deductible 3,200.00; applied 300.00\n"
        "plan pays 1,200.00\n"
        "out-of-pocket met now 1,100.00 of 4,000.00")


def test_deductible_and_coinsurance_above_a_lowered_oop_maximum_are_zero():
    t = terms(oop_max_individual=D("1000.00"))
    acc = engine.Accumulators(deductible_met=D("200.00"), oop_met=D("1300.00"))
    out, text, acc = priced(line(*MRI), plan=t, acc=acc)
    assert figures(out) == want(allowed="1500.00", provider_write_off="1000.00", plan_paid="1500.00")
    assert out.codes == ("45",)
    assert met(acc) == (D("200.00"), D("1300.00"), ZERO, ZERO)
    assert text.splitlines()[2:] == [
        "deductible remaining 800.00 of 1,000.00; applied 0.00",
        "coinsurance 20 % of 1,500.00 = 300.00; out-of-pocket remaining after deductible 0.00; applied 0.00",
        "plan pays 1,500.00",
    ]


def test_family_met_above_the_lowered_family_maximum_leaves_no_cost_sharing():
    t = terms(deductible_family=D("900.00"), oop_max_family=D("1500.00"))
    acc = engine.Accumulators(deductible_met=D("100.00"), oop_met=D("200.00"), family_deductible_met=D("1200.00"),
                              family_oop_met=D("2000.00"), family=True)
    out, text, acc = priced(line(*MRI), plan=t, acc=acc)
    assert figures(out) == want(allowed="1500.00", provider_write_off="1000.00", plan_paid="1500.00")
    assert met(acc) == (D("100.00"), D("200.00"), D("1200.00"), D("2000.00"))
    assert text.splitlines()[2] == "deductible remaining 0.00 of 1,000.00 (family 900.00); applied 0.00"


# --- Step 7: coinsurance rounds half up -----------------------------------------------------------

def test_coinsurance_rounds_half_up_where_half_even_would_round_down():
    """0.25 × 10.10 = 2.525: half up gives 2.53 (half even would give 2.52)."""
    t = terms(deductible_individual=ZERO, coinsurance=D("0.25"))
    out, text, acc = priced(line("10.10", "10.10", "lab"), plan=t)
    assert figures(out) == want(allowed="10.10", coinsurance="2.53", plan_paid="7.57")
    assert out.codes == ("2",)
    assert met(acc) == (ZERO, D("2.53"), ZERO, ZERO)
    assert text == (
        "fee 10.10 × 1 = 10.10; allowed = min(billed 10.10, 10.10) = 10.10\n"
        "deductible remaining 0.00 of 0.00; applied 0.00\n"
        "coinsurance 25 % of 10.10 = 2.53; out-of-pocket remaining after deductible 4,000.00; applied 2.53\n"
        "plan pays 7.57\n"
        "out-of-pocket met now 2.53 of 4,000.00")


def test_the_trace_shows_the_half_up_figure_even_where_the_cap_applies():
    """The trace recomputes the uncapped coinsurance itself: 2.525 reads 2.53, the cap 1.00 is applied."""
    t = terms(deductible_individual=ZERO, coinsurance=D("0.25"))
    acc = engine.Accumulators(oop_met=D("3999.00"))
    out, text, acc = priced(line("10.10", "10.10", "lab"), plan=t, acc=acc)
    assert (out.coinsurance, out.plan_paid) == (D("1.00"), D("9.10"))
    assert text.splitlines()[2] == (
        "coinsurance 25 % of 10.10 = 2.53; out-of-pocket remaining after deductible 1.00; applied 1.00")


# --- Pricing, step by step: the worked example of DOMAIN.md §4 and its variants --------------------

def test_worked_example_figures_and_every_step_of_the_trace():
    t, acc = terms(), engine.Accumulators()
    a, text_a, _ = priced(line(*OFFICE), plan=t, acc=acc)
    assert figures(a) == want(allowed="120.00", copay="30.00", provider_write_off="80.00", plan_paid="90.00")
    assert a.codes == ("3", "45")
    assert text_a == (
        "fee 120.00 × 1 = 120.00; allowed = min(billed 200.00, 120.00) = 120.00\n"
        "in network: provider writes off 80.00 (CARC 45)\n"
        "office_visit copay 30.00: copay = min(30.00, allowed 120.00, out-of-pocket remaining 4,000.00) = 30.00; "
        "no deductible, no coinsurance\n"
        "plan pays 90.00\n"
        "out-of-pocket met now 30.00 of 4,000.00")
    assert met(acc) == (ZERO, D("30.00"), ZERO, ZERO)

    b, text_b, _ = priced(line(*MRI), plan=t, acc=acc)
    assert figures(b) == want(allowed="1500.00", deductible="1000.00", coinsurance="100.00",
                              provider_write_off="1000.00", plan_paid="400.00")
    assert b.codes == ("1", "2", "45")
    assert text_b == (
        "fee 1,500.00 × 1 = 1,500.00; allowed = min(billed 2,500.00, 1,500.00) = 1,500.00\n"
        "in network: provider writes off 1,000.00 (CARC 45)\n"
        "deductible remaining 1,000.00 of 1,000.00; applied 1,000.00\n"
        "coinsurance 20 % of 500.00 = 100.00; out-of-pocket remaining after deductible 2,970.00; applied 100.00\n"
        "plan pays 400.00\n"
        "out-of-pocket met now 1,130.00 of 4,000.00")
    assert met(acc) == (D("1000.00"), D("1130.00"), ZERO, ZERO)

    c, text_c, _ = priced(line(*SURGERY), plan=t, acc=acc)
    assert figures(c) == want(allowed="20000.00", coinsurance="2870.00", provider_write_off="10000.00",
                              plan_paid="17130.00")
    assert c.codes == ("2", "45")
    assert text_c == (
        "fee 20,000.00 × 1 = 20,000.00; allowed = min(billed 30,000.00, 20,000.00) = 20,000.00\n"
        "in network: provider writes off 10,000.00 (CARC 45)\n"
        "deductible remaining 0.00 of 1,000.00; applied 0.00\n"
        "coinsurance 20 % of 20,000.00 = 4,000.00; out-of-pocket remaining after deductible 2,870.00; "
        "applied 2,870.00\n"
        "plan pays 17,130.00\n"
        "out-of-pocket met now 4,000.00 of 4,000.00")
    assert met(acc) == (D("1000.00"), D("4000.00"), ZERO, ZERO)

    d, text_d, _ = priced(line(*OFFICE), plan=t, acc=acc)
    assert figures(d) == want(allowed="120.00", provider_write_off="80.00", plan_paid="120.00")
    assert d.codes == ("45",)
    assert text_d == (
        "fee 120.00 × 1 = 120.00; allowed = min(billed 200.00, 120.00) = 120.00\n"
        "in network: provider writes off 80.00 (CARC 45)\n"
        "office_visit copay 30.00: copay = min(30.00, allowed 120.00, out-of-pocket remaining 0.00) = 0.00; "
        "no deductible, no coinsurance\n"
        "plan pays 120.00")
    assert met(acc) == (D("1000.00"), D("4000.00"), ZERO, ZERO)


def test_family_deductible_note_and_both_accumulators_move():
    acc = engine.Accumulators(deductible_met=D("200.00"), oop_met=D("300.00"), family_deductible_met=D("1500.00"),
                              family_oop_met=D("2000.00"), family=True)
    out, text, acc = priced(line(*MRI), acc=acc)
    # D = min(1000 - 200, 2000 - 1500) = 500; R = min(4000 - 300, 8000 - 2000) = 3700.
    assert figures(out) == want(allowed="1500.00", deductible="500.00", coinsurance="200.00",
                                provider_write_off="1000.00", plan_paid="800.00")
    assert met(acc) == (D("700.00"), D("1000.00"), D("2000.00"), D("2700.00"))
    assert text == (
        "fee 1,500.00 × 1 = 1,500.00; allowed = min(billed 2,500.00, 1,500.00) = 1,500.00\n"
        "in network: provider writes off 1,000.00 (CARC 45)\n"
        "deductible remaining 500.00 of 1,000.00 (family 2,000.00); applied 500.00\n"
        "coinsurance 20 % of 1,000.00 = 200.00; out-of-pocket remaining after deductible 3,200.00; applied 200.00\n"
        "plan pays 800.00\n"
        "out-of-pocket met now 1,000.00 of 4,000.00")


def test_family_copay_moves_both_oop_accumulators_and_not_the_deductibles():
    acc = engine.Accumulators(deductible_met=D("10.00"), oop_met=D("20.00"), family_deductible_met=D("30.00"),
                              family_oop_met=D("40.00"), family=True)
    out, text, acc = priced(line(*OFFICE), acc=acc)
    assert out.copay == D("30.00")
    assert met(acc) == (D("10.00"), D("50.00"), D("30.00"), D("70.00"))
    assert "(family" not in text  # the family note belongs to the deductible step


def test_single_coverage_has_no_family_note_and_leaves_the_family_accumulators():
    acc = engine.Accumulators(family_deductible_met=D("5.00"), family_oop_met=D("6.00"))
    out, text, acc = priced(line(*MRI), acc=acc)
    assert text.splitlines()[2] == "deductible remaining 1,000.00 of 1,000.00; applied 1,000.00"
    assert met(acc) == (D("1000.00"), D("1100.00"), D("5.00"), D("6.00"))


def test_covered_in_full_in_network_no_cost_sharing_and_no_accumulator():
    acc = engine.Accumulators(deductible_met=D("1.00"), oop_met=D("2.00"))
    out, text, acc = priced(line("250.00", "210.00", "preventive"), acc=acc)
    assert figures(out) == want(allowed="210.00", provider_write_off="40.00", plan_paid="210.00")
    assert out.codes == ("45",)
    assert met(acc) == (D("1.00"), D("2.00"), ZERO, ZERO)
    assert out.trace == "~F"
    assert text == (
        "fee 210.00 × 1 = 210.00; allowed = min(billed 250.00, 210.00) = 210.00\n"
        "in network: provider writes off 40.00 (CARC 45)\n"
        "preventive is covered in full in network: no cost sharing\n"
        "plan pays 210.00")


def test_out_of_network_with_cover_balance_bills_and_neither_copay_nor_full_cover_applies():
    t = terms(oon_covered=True, oon_coinsurance=D("0.40"))
    acc = engine.Accumulators()
    out, text, acc = priced(line(*MRI), plan=t, acc=acc, in_network=False)
    assert figures(out) == want(allowed="1500.00", deductible="1000.00", coinsurance="200.00",
                                balance_billed="1000.00", plan_paid="300.00")
    assert out.codes == ("1", "2")
    assert text == (
        "fee 1,500.00 × 1 = 1,500.00; allowed = min(billed 2,500.00, 1,500.00) = 1,500.00\n"
        "out of network: 1,000.00 balance-billed to the member, counts toward no accumulator\n"
        "deductible remaining 1,000.00 of 1,000.00; applied 1,000.00\n"
        "coinsurance 40 % of 500.00 = 200.00; out-of-pocket remaining after deductible 3,000.00; applied 200.00\n"
        "plan pays 300.00\n"
        "out-of-pocket met now 1,200.00 of 4,000.00")
    # A copay category out of network: deductible and coinsurance, no copay.
    office, _, acc = priced(line(*OFFICE), plan=t, acc=acc, in_network=False)
    assert figures(office) == want(allowed="120.00", coinsurance="48.00", balance_billed="80.00", plan_paid="72.00")
    # Covered in full only in network.
    prev, _, acc = priced(line("210.00", "210.00", "preventive"), plan=t, acc=acc, in_network=False)
    assert figures(prev) == want(allowed="210.00", coinsurance="84.00", plan_paid="126.00")
    assert met(acc) == (D("1000.00"), D("1332.00"), ZERO, ZERO)


def test_units_multiply_the_fee_and_a_charge_under_the_schedule_is_allowed_whole():
    out, text, _ = priced(line("120.00", "33.30", "lab", units=3))
    # fee × units = 99.90 < billed 120.00.
    assert figures(out) == want(allowed="99.90", deductible="99.90", provider_write_off="20.10")
    assert out.codes == ("1", "45")
    assert text.splitlines()[0] == "fee 33.30 × 3 = 99.90; allowed = min(billed 120.00, 99.90) = 99.90"
    under, text, _ = priced(line("80.00", "33.30", "lab", units=3))
    assert figures(under) == want(allowed="80.00", deductible="80.00")
    assert under.codes == ("1",)
    assert text.splitlines()[:2] == ["fee 33.30 × 3 = 99.90; allowed = min(billed 80.00, 99.90) = 80.00",
                                     "deductible remaining 1,000.00 of 1,000.00; applied 80.00"]


@pytest.mark.parametrize(("fee", "oop_met", "copay"), [
    ("120.00", "0.00", "30.00"),     # the copay
    ("25.00", "0.00", "25.00"),      # the allowed
    ("120.00", "3990.00", "10.00"),  # the room left
])
def test_copay_is_the_smallest_of_copay_allowed_and_room(fee, oop_met, copay):
    out, _, acc = priced(line("200.00", fee, "office_visit"), acc=engine.Accumulators(oop_met=D(oop_met)))
    assert out.copay == D(copay)
    assert out.plan_paid == D(fee) - D(copay)
    assert (out.deductible, out.coinsurance) == (ZERO, ZERO)
    assert acc.oop_met == D(oop_met) + D(copay)


@pytest.mark.parametrize(("acc", "deductible", "coinsurance"), [
    (engine.Accumulators(), "1000.00", "100.00"),                                         # D binds
    (engine.Accumulators(deductible_met=D("700.00"), oop_met=D("700.00")), "300.00", "240.00"),
    (engine.Accumulators(oop_met=D("3400.00")), "600.00", "0.00"),                       # R binds the deductible
    (engine.Accumulators(oop_met=D("3000.00")), "1000.00", "0.00"),                      # R - deductible = 0
    (engine.Accumulators(oop_met=D("2950.00")), "1000.00", "50.00"),                     # R - deductible caps
])
def test_deductible_and_coinsurance_are_capped_by_what_is_left(acc, deductible, coinsurance):
    out, _, after = priced(line(*MRI), acc=replace(acc))
    assert (out.deductible, out.coinsurance) == (D(deductible), D(coinsurance))
    assert out.plan_paid == D("1500.00") - D(deductible) - D(coinsurance)
    assert after.oop_met == acc.oop_met + D(deductible) + D(coinsurance)
    assert after.deductible_met == acc.deductible_met + D(deductible)


def test_deductible_no_larger_than_the_allowed():
    out, _, acc = priced(line("33.30", "33.30", "lab"))
    assert figures(out) == want(allowed="33.30", deductible="33.30")
    assert out.codes == ("1",)
    assert met(acc) == (D("33.30"), D("33.30"), ZERO, ZERO)


def test_a_line_with_no_cost_sharing_and_no_write_off_has_no_codes_and_no_met_step():
    out, text, acc = priced(line("210.00", "210.00", "preventive"))
    assert out.codes == ()
    assert text == ("fee 210.00 × 1 = 210.00; allowed = min(billed 210.00, 210.00) = 210.00\n"
                    "preventive is covered in full in network: no cost sharing\nplan pays 210.00")


def test_plan_year_start_follows_the_plans_anchor():
    t = terms(year_start_month=7, year_start_day=1)
    assert t.plan_year_start(datetime.date(2026, 3, 15)) == datetime.date(2025, 7, 1)
    assert t.plan_year_start(datetime.date(2026, 7, 1)) == datetime.date(2026, 7, 1)
    assert terms(year_start_month=3, year_start_day=9).plan_year_start(datetime.date(2026, 3, 8)) == \
        datetime.date(2025, 3, 9)


@pytest.mark.parametrize(("rate", "text"), [("0.20", "20"), ("0.2000", "20"), ("0.125", "12.5"), ("0.05", "5"),
                                            ("1.00", "100"), ("0.00", "0")])
def test_percent_text(rate, text, monkeypatch):
    # A fresh process: nothing remembered yet (another test, or the run that collected these, may have
    # rendered this rate before).
    monkeypatch.setattr(engine, "_PERCENT_TEXT", {})
    assert engine.percent_text(D(rate)) == text
    assert engine.percent_text(D(rate)) == text  # remembered: the same the second time


# --- Denied lines: who owes them, and why, as a person reads it -------------------------------------

def test_excluded_category_reason_and_the_member_owes_it():
    out, text, acc = priced(line("800.00", "800.00", "cosmetic"))
    assert figures(out) == want(not_covered="800.00")
    assert (out.codes, out.denial_code) == (("96",), "96")
    assert met(acc) == (ZERO, ZERO, ZERO, ZERO)
    assert text == "denied, CARC 96: category cosmetic is excluded by the plan\nmember owes 800.00 (not covered)"


def test_excluded_comes_before_out_of_network_and_out_of_network_without_cover_is_242():
    _, text, _ = priced(line("800.00", "800.00", "cosmetic"), in_network=False)
    assert text.splitlines()[0] == "denied, CARC 96: category cosmetic is excluded by the plan"
    out, text, acc = priced(line(*MRI), in_network=False)
    assert figures(out) == want(not_covered="2500.00")
    assert (out.codes, out.denial_code, out.trace) == (("242",), "242", "~X")
    assert met(acc) == (ZERO, ZERO, ZERO, ZERO)
    assert text == "denied, CARC 242: out of network, not covered by the plan\nmember owes 2,500.00 (not covered)"


@pytest.mark.parametrize(("code", "owed", "who"), [
    ("26", {"not_covered": "1234.50"}, "member owes 1,234.50 (not covered)"),
    ("27", {"not_covered": "1234.50"}, "member owes 1,234.50 (not covered)"),
    ("96", {"not_covered": "1234.50"}, "member owes 1,234.50 (not covered)"),
    ("242", {"not_covered": "1234.50"}, "member owes 1,234.50 (not covered)"),
    ("29", {"provider_write_off": "1234.50"}, "provider writes off 1,234.50"),
    ("50", {"provider_write_off": "1234.50"}, "provider writes off 1,234.50"),
    ("18", {}, "nothing is owed"),
])
def test_who_owes_a_denied_line(code, owed, who):
    ln = line("1234.50", "100.00", "surgery")
    out = engine.deny_line(ln, code)
    assert figures(out) == want(**owed)
    assert (out.codes, out.denial_code, out.trace) == ((code,), code, "~X")
    assert engine.trace_render(out.trace, line=ln, out=out) == \
        f"denied, CARC {code}: {engine.DENIAL_MEANING[code]}\n{who}"
    assert engine.member_owes(out) == D(owed.get("not_covered", "0.00"))


def test_a_denied_lines_reason_is_kept_whole_and_its_meaning_is_not_stored_twice():
    ln = line("300.00", "100.00", "surgery")
    out = engine.deny_line(ln, "50", "see note A|B|C from the file")
    assert out.trace == "~X|see note A|B|C from the file"
    assert engine.trace_render(out.trace, line=ln, out=out) == \
        "denied, CARC 50: see note A|B|C from the file\nprovider writes off 300.00"
    # The code's own meaning as the reason is the short record; so is no reason.
    for why in (engine.DENIAL_MEANING["50"], "", None):
        assert engine.deny_line(ln, "50", why).trace == "~X"


def test_a_trace_stored_as_text_is_returned_as_it_is():
    ln = line("10.00", "5.00", "lab")
    assert engine.trace_render("X|old text", line=ln, out=engine.LineOut()) == "X|old text"


# --- A claim: its lines, its reason codes, its totals, its outcome ------------------------------

def test_claim_outcome_description_and_reason_codes_in_numeric_order():
    out = engine.price_claim_lines([line(*OFFICE), line(*MRI), line("800.00", "800.00", "cosmetic")],
                                   terms=terms(), in_network=True, acc=engine.Accumulators())
    assert (out.transition, out.reason_codes, out.duplicate) == ("approve", "1,2,3,45,96", False)
    assert out.description == "approved; CARC 1,2,3,45,96"
    assert [o.codes for o in out.lines] == [("3", "45"), ("1", "2", "45"), ("96",)]

    # 96 before 242: numeric order, not the text's.
    denied = engine.price_claim_lines([line(*MRI), line("800.00", "800.00", "cosmetic")], terms=terms(),
                                      in_network=False, acc=engine.Accumulators())
    assert (denied.transition, denied.reason_codes) == ("deny", "96,242")
    assert denied.description == "every line denied; CARC 96,242"

    plain = engine.price_claim_lines([line("210.00", "210.00", "preventive")], terms=terms(), in_network=True,
                                     acc=engine.Accumulators())
    assert (plain.transition, plain.reason_codes, plain.description) == ("approve", "", "approved")


def test_claim_totals_sum_the_lines_and_the_member_owes_its_five_buckets():
    outs = engine.price_claim_lines(
        [line("800.00", "800.00", "cosmetic"), line(*OFFICE), line(*MRI), line("150.00", "800.00", "cosmetic")],
        terms=terms(oon_covered=True, oon_coinsurance=D("0.40")), in_network=False, acc=engine.Accumulators()).lines
    # Out of network: two excluded lines (800 + 150 not covered); the office visit takes 120 of the
    # deductible (balance 80), the MRI the other 880 and 40 % of 620 (balance 1,000).
    totals = engine.claim_totals(outs)
    assert totals == {
        "allowed": D("1620.00"), "deductible": D("1000.00"), "copay": ZERO, "coinsurance": D("248.00"),
        "not_covered": D("950.00"), "balance_billed": D("1080.00"), "provider_write_off": ZERO,
        "plan_paid": D("372.00"), "member_responsibility": D("3278.00"),
    }
    assert totals["plan_paid"] + totals["member_responsibility"] + totals["provider_write_off"] == D("3650.00")

    in_net = engine.claim_totals(engine.price_claim_lines([line(*OFFICE), line(*OFFICE)], terms=terms(),
                                                          in_network=True, acc=engine.Accumulators()).lines)
    assert in_net == {
        "allowed": D("240.00"), "deductible": ZERO, "copay": D("60.00"), "coinsurance": ZERO, "not_covered": ZERO,
        "balance_billed": ZERO, "provider_write_off": D("160.00"), "plan_paid": D("180.00"),
        "member_responsibility": D("60.00"),
    }


def test_member_owes_each_of_its_five_buckets_and_nothing_else():
    figures_ = engine.LineOut(allowed=D("1000.00"), deductible=D("1.00"), copay=D("2.00"), coinsurance=D("4.00"),
                              not_covered=D("8.00"), balance_billed=D("16.00"), provider_write_off=D("32.00"),
                              plan_paid=D("64.00"))
    assert engine.member_owes(figures_) == D("31.00")


def test_deny_claim_denies_every_line_with_the_reason_recorded():
    lines = [line("200.00", "120.00", "office_visit"), line("50.00", "40.00", "lab")]
    out = engine.deny_claim(lines, "29", "received 400 days after service; the plan allows 365")
    assert (out.transition, out.reason_codes, out.duplicate) == ("deny", "29", False)
    assert out.description == "denied, CARC 29: received 400 days after service; the plan allows 365"
    assert [figures(o) for o in out.lines] == [want(provider_write_off="200.00"), want(provider_write_off="50.00")]
    assert engine.trace_render(out.lines[1].trace, line=lines[1], out=out.lines[1]) == (
        "denied, CARC 29: received 400 days after service; the plan allows 365\nprovider writes off 50.00")
    dup = engine.deny_claim(lines, "18", engine.DENIAL_MEANING["18"])
    assert (dup.transition, dup.reason_codes, dup.duplicate) == ("deny", "18", True)
    assert dup.description == "denied, CARC 18: exact duplicate of an earlier claim"
    assert [figures(o) for o in dup.lines] == [want(), want()]


# --- Steps 1–4: the claim-level screen and the reason it gives ---------------------------------------

def screen(*, service="2026-01-10", received="2026-01-20", coverage="ok", duplicate=False, billed="100.00", **kw):
    return engine.screen_claim(service_date=day(service), received_date=day(received), coverage=coverage,
                               terms=terms(**kw), duplicate=duplicate, billed_total=D(billed))


def test_screen_reasons_for_each_claim_level_decision():
    assert screen(coverage="before") == ("26", "service date before the coverage start")
    assert screen(coverage="after") == ("27", "service date after the coverage end")
    assert screen(service="2026-01-10", received="2027-01-11") == (
        "29", "received 366 days after service; the plan allows 365")
    assert screen(service="2026-01-10", received="2026-03-01", timely_filing_days=30) == (
        "29", "received 50 days after service; the plan allows 30")
    assert screen(duplicate=True) == ("18", "exact duplicate of an earlier claim")
    assert screen(billed="25000.00") == (
        "pend", "billed 25,000.00 is at least the review threshold 25,000.00")
    assert screen(billed="30000.00", review_threshold=D("1000.00")) == (
        "pend", "billed 30,000.00 is at least the review threshold 1,000.00")
    assert screen() == (None, "")


def test_screen_limits_are_inclusive_where_domain_says_so():
    # Timely filing: more than the limit is late; exactly the limit is not.
    assert screen(service="2026-01-10", received="2027-01-10") == (None, "")
    assert screen(service="2026-01-10", received="2026-02-09", timely_filing_days=30) == (None, "")
    # Review: at least the threshold pends; a cent below does not.
    assert screen(billed="24999.99") == (None, "")


def test_screen_order_eligibility_then_timely_filing_then_duplicate_then_review():
    late = {"service": "2025-01-10", "received": "2026-01-20"}
    assert screen(coverage="before", duplicate=True, billed="30000.00", **late)[0] == "26"
    assert screen(coverage="after", duplicate=True, billed="30000.00", **late)[0] == "27"
    assert screen(duplicate=True, billed="30000.00", **late)[0] == "29"
    assert screen(duplicate=True, billed="30000.00")[0] == "18"
    # Coverage is screened before the plan's terms are needed (no plan: no terms).
    assert engine.screen_claim(service_date=day("2026-01-10"), received_date=day("2026-01-20"), coverage="before",
                               terms=None, duplicate=False, billed_total=D("1.00"))[0] == "26"


# --- Through the services: the transition log says why, for every claim-level decision ---------------

@pytest.mark.django_db
def test_the_transition_log_records_the_reason_of_every_claim_level_decision(make_world, examiner):
    w = make_world(coverage_start=datetime.date(2026, 1, 1))
    bob = w.add_member("bob", start=datetime.date(2026, 1, 1), end=datetime.date(2026, 3, 31))

    before = w.submit(on="2026-02-01", service="2025-12-20", lines=[("99213", 200)])
    after = w.submit(on="2026-04-10", service="2026-04-05", lines=[("99213", 200)], member=bob)
    late = w.submit(on="2027-01-06", service="2026-01-05", lines=[("99213", 200)])
    original = w.submit(on="2026-02-02", service="2026-01-20", lines=[("99213", 200), ("70551", 2500)])
    copy = w.submit(on="2026-02-02", service="2026-01-20", lines=[("70551", 2500), ("99213", 200)])
    big = w.submit(on="2026-02-03", service="2026-01-21", lines=[("27447", 30000)])
    big_no_note = w.submit(on="2026-02-03", service="2026-01-22", lines=[("27447", 30000)])
    run("2027-01-06")

    def last(claim):
        return transitions(claim)[-1]

    assert last(before) == ("submitted", "denied", "deny", None,
                            "denied, CARC 26: service date before the coverage start")
    assert last(after) == ("submitted", "denied", "deny", None, "denied, CARC 27: service date after the coverage end")
    assert last(late) == ("submitted", "denied", "deny", None,
                          "denied, CARC 29: received 366 days after service; the plan allows 365")
    assert last(original) == ("submitted", "approved", "approve", None, "approved; CARC 1,2,3,45")
    assert last(copy) == ("submitted", "denied", "deny", None,
                          f"denied, CARC 18: exact duplicate of an earlier claim (claim C{original.pk:09d})")
    assert last(big) == ("submitted", "pended", "pend", None,
                         "pended for review: billed 30,000.00 is at least the review threshold 25,000.00")

    clock.clock_set(day=day("2027-01-07"))
    services.claim_review(claim_id=big.pk, decision="deny", user=examiner, reason_code="96",
                          note="cosmetic per the records")
    assert last(big) == ("pended", "denied", "review_deny", examiner.pk,
                         "examiner denied, CARC 96: cosmetic per the records")
    review(big_no_note, "deny", examiner, on="2027-01-07")
    assert last(big_no_note) == ("pended", "denied", "review_deny", examiner.pk, "examiner denied, CARC 50")

    # The reason reaches the lines' trace as a person reads it (the stored record, rendered by the model).
    (lr,) = line_results(late)
    assert lr.trace_text == "denied, CARC 29: received 366 days after service; the plan allows 365\n" \
                            "provider writes off 200.00"
    (lr,) = line_results(big)
    assert lr.trace_text == "denied, CARC 96: cosmetic per the records\nmember owes 30,000.00 (not covered)"
    (lr,) = line_results(big_no_note)
    assert lr.trace_text == "denied, CARC 50: not medically necessary (examiner)\nprovider writes off 30,000.00"
    dup_lines = line_results(copy)
    assert [x.trace_text for x in dup_lines] == [
        f"denied, CARC 18: exact duplicate of an earlier claim (claim C{original.pk:09d})\nnothing is owed"] * 2
    assert fresh(copy).duplicate_of_id == original.pk
