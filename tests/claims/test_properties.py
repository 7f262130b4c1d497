"""Money properties of the pure pricing engine (claims.engine), over random plans and claim sequences.

No database: a family's accumulators are carried from claim to claim here as the services carry them.
"""
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from claims import engine

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CATEGORIES = ("office_visit", "imaging", "surgery", "preventive", "cosmetic", "lab")
LINE_MONEY = ("allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
              "provider_write_off", "plan_paid")


def money(low: int, high: int):
    """Dollars and cents between low and high dollars."""
    return st.integers(low * 100, high * 100).map(lambda cents: (Decimal(cents) / 100).quantize(CENT))


rates = st.integers(0, 100).map(lambda n: (Decimal(n) / 100).quantize(CENT))


@st.composite
def plans(draw):
    oop_individual = draw(money(0, 8000))
    treatments = {}
    for category in CATEGORIES:
        treatments[category] = draw(st.sampled_from(["plain", "plain", "excluded", "covered_in_full", "copay"]))
    oon_covered = draw(st.booleans())
    return engine.PlanTerms(
        id=1, year_start_month=1, year_start_day=1,
        deductible_individual=draw(money(0, 3000)), deductible_family=draw(money(0, 6000)),
        oop_max_individual=oop_individual, oop_max_family=oop_individual + draw(money(0, 8000)),
        coinsurance=draw(rates), oon_covered=oon_covered, oon_coinsurance=draw(rates) if oon_covered else None,
        timely_filing_days=365, review_threshold=Decimal("25000.00"), fee_schedule_id=1,
        excluded=frozenset(c for c, t in treatments.items() if t == "excluded"),
        covered_in_full=frozenset(c for c, t in treatments.items() if t == "covered_in_full"),
        copays={c: draw(money(0, 200)) for c, t in treatments.items() if t == "copay"},
    )


lines = st.builds(
    lambda billed, units, category, fee: engine.LineIn(billed=billed, units=units, code="X", category=category, fee=fee),
    billed=money(0, 30000).filter(lambda d: d > 0), units=st.integers(1, 5), category=st.sampled_from(CATEGORIES),
    fee=money(0, 5000),
)


@st.composite
def families(draw):
    size = draw(st.integers(1, 4))  # the subscriber and 0-3 dependents
    claims = draw(st.lists(
        st.tuples(st.integers(0, size - 1), st.booleans(), st.lists(lines, min_size=1, max_size=4)),
        min_size=1, max_size=12,
    ))
    return size, claims


@settings(max_examples=300)
@given(terms=plans(), family=families())
def test_pricing_invariants_over_a_familys_claims(terms, family):
    size, claims = family
    on_family = size > 1
    individual = [[ZERO, ZERO] for _ in range(size)]  # [deductible met, OOP met] per member
    family_met = [ZERO, ZERO]
    for member, in_network, claim_lines in claims:
        acc = engine.Accumulators(deductible_met=individual[member][0], oop_met=individual[member][1],
                                  family_deductible_met=family_met[0], family_oop_met=family_met[1], family=on_family)
        before = (acc.deductible_met, acc.oop_met, acc.family_deductible_met, acc.family_oop_met)
        outcome = engine.price_claim_lines(claim_lines, terms=terms, in_network=in_network, acc=acc)
        assert len(outcome.lines) == len(claim_lines)

        for line, out in zip(claim_lines, outcome.lines):
            for f in LINE_MONEY:
                value = getattr(out, f)
                assert value >= 0, (f, value)
                assert value == value.quantize(CENT), (f, value)
            owed = out.deductible + out.copay + out.coinsurance + out.not_covered + out.balance_billed
            assert line.billed == out.plan_paid + owed + out.provider_write_off  # the balancing identity, per line
            assert out.plan_paid <= out.allowed <= line.billed
            if out.denial_code:
                assert out.denial_code in ("96", "242")
                assert out.allowed == out.deductible == out.copay == out.coinsurance == out.plan_paid == ZERO
                assert out.not_covered == line.billed
                assert out.codes == (out.denial_code,)
            else:
                assert out.allowed == min(line.billed, line.fee * line.units)
                assert out.not_covered == ZERO
                assert out.plan_paid == out.allowed - out.deductible - out.copay - out.coinsurance
                if in_network:
                    assert out.balance_billed == ZERO
                    assert out.provider_write_off == line.billed - out.allowed
                else:
                    assert out.provider_write_off == ZERO
                    assert out.copay == ZERO
                rate = terms.coinsurance if in_network else terms.oon_coinsurance
                assert out.coinsurance <= (rate * (out.allowed - out.deductible)).quantize(CENT, ROUND_HALF_UP)
                if line.category in terms.copays and in_network:
                    assert out.copay <= terms.copays[line.category]
                    assert out.deductible == out.coinsurance == ZERO
                assert ("1" in out.codes) == (out.deductible > 0)
                assert ("2" in out.codes) == (out.coinsurance > 0)
                assert ("3" in out.codes) == (out.copay > 0)
                assert ("45" in out.codes) == (out.provider_write_off > 0)

        # Per claim: the identity on the totals, and the claim's state.
        totals = engine.claim_totals(outcome.lines)
        billed = sum((ln.billed for ln in claim_lines), ZERO)
        assert billed == totals["plan_paid"] + totals["member_responsibility"] + totals["provider_write_off"]
        assert outcome.transition == ("deny" if all(o.denial_code for o in outcome.lines) else "approve")
        codes = outcome.reason_codes.split(",") if outcome.reason_codes else []
        assert codes == sorted(set(codes), key=int)

        # Accumulators move by exactly the cost sharing, and never pass the limits.
        shared = totals["deductible"] + totals["copay"] + totals["coinsurance"]
        assert acc.deductible_met - before[0] == totals["deductible"]
        assert acc.oop_met - before[1] == shared
        assert acc.deductible_met <= terms.deductible_individual
        assert acc.oop_met <= terms.oop_max_individual
        assert acc.deductible_met <= acc.oop_met
        if on_family:
            assert acc.family_deductible_met - before[2] == totals["deductible"]
            assert acc.family_oop_met - before[3] == shared
            assert acc.family_deductible_met <= terms.deductible_family
            assert acc.family_oop_met <= terms.oop_max_family
            assert acc.deductible_met <= terms.deductible_family
        else:
            assert (acc.family_deductible_met, acc.family_oop_met) == (before[2], before[3])
        individual[member] = [acc.deductible_met, acc.oop_met]
        if on_family:
            family_met = [acc.family_deductible_met, acc.family_oop_met]

    for ded, oop in individual:
        assert ded <= terms.deductible_individual
        assert oop <= terms.oop_max_individual
    if on_family:
        assert family_met[0] == sum((ind[0] for ind in individual), ZERO)
        assert family_met[1] == sum((ind[1] for ind in individual), ZERO)


@settings(max_examples=200)
@given(allowed=money(0, 5000), rate=rates)
def test_uncapped_coinsurance_is_the_rate_rounded_half_up(allowed, rate):
    terms = engine.PlanTerms(
        id=1, year_start_month=1, year_start_day=1, deductible_individual=ZERO, deductible_family=ZERO,
        oop_max_individual=Decimal("1000000.00"), oop_max_family=Decimal("1000000.00"), coinsurance=rate,
        oon_covered=False, oon_coinsurance=None, timely_filing_days=365, review_threshold=Decimal("25000.00"),
        fee_schedule_id=1,
    )
    line = engine.LineIn(billed=allowed + 1, units=1, code="X", category="lab", fee=allowed)
    out = engine.price_line(line, terms=terms, in_network=True, acc=engine.Accumulators())
    assert out.coinsurance == (rate * allowed).quantize(CENT, rounding=ROUND_HALF_UP)
    assert out.plan_paid == allowed - out.coinsurance


def test_half_cent_rounds_up():
    terms = engine.PlanTerms(
        id=1, year_start_month=1, year_start_day=1, deductible_individual=ZERO, deductible_family=ZERO,
        oop_max_individual=Decimal("9999.00"), oop_max_family=Decimal("9999.00"), coinsurance=Decimal("0.15"),
        oon_covered=False, oon_coinsurance=None, timely_filing_days=365, review_threshold=Decimal("25000.00"),
        fee_schedule_id=1,
    )
    line = engine.LineIn(billed=Decimal("33.30"), units=1, code="80053", category="lab", fee=Decimal("33.30"))
    out = engine.price_line(line, terms=terms, in_network=True, acc=engine.Accumulators())
    assert (out.coinsurance, out.plan_paid, out.codes) == (Decimal("5.00"), Decimal("28.30"), ("2",))


@given(st.integers(-10**12, 10**12), st.sampled_from([0, 1, 2, 3]))
def test_trace_amounts_read_as_grouped_two_place_figures(units, places):
    """The trace's fast formatting of amounts agrees with `{:,.2f}` for every amount, any scale."""
    amount = Decimal(units).scaleb(-places)
    assert engine.fmt(amount) == f"{amount:,.2f}"


@given(st.integers(0, 1000).map(lambda n: Decimal(n).scaleb(-3)))
def test_coinsurance_rates_read_as_percentages(rate):
    assert engine.percent_text(rate) == f"{rate * 100:.2f}".rstrip("0").rstrip(".")
