"""A line's trace is stored as a short record and written out by `claims.engine.trace_render`: the
words a person reads are exactly those the engine wrote when it stored text (tests/claims/trace_oracle.py),
and the figures are the same, over random plans, accumulators (above a lowered maximum too), lines and
networks, on single and family coverage."""
import copy
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from claims import engine
from tests.claims import trace_oracle
from tests.claims.test_properties import lines, money, plans

FIGURES = ("allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed", "provider_write_off",
           "plan_paid", "codes", "denial_code")


@st.composite
def accumulators(draw):
    # Met figures above a maximum as well: an administrator may lower one mid-year.
    return engine.Accumulators(deductible_met=draw(money(0, 5000)), oop_met=draw(money(0, 10000)),
                               family_deductible_met=draw(money(0, 9000)), family_oop_met=draw(money(0, 18000)),
                               family=draw(st.booleans()))


@settings(max_examples=600)
@given(terms=plans(), acc=accumulators(), line=lines, in_network=st.booleans())
def test_a_rendered_record_reads_as_the_text_the_engine_wrote(terms, acc, line, in_network):
    before = copy.copy(acc)
    new = engine.price_line(line, terms=terms, in_network=in_network, acc=acc)
    old = trace_oracle.price_line(line, terms=terms, in_network=in_network, acc=before)
    assert [getattr(new, f) for f in FIGURES] == [getattr(old, f) for f in FIGURES]
    assert (acc.deductible_met, acc.oop_met, acc.family_deductible_met, acc.family_oop_met) == (
        before.deductible_met, before.oop_met, before.family_deductible_met, before.family_oop_met)
    assert new.trace.startswith(engine.TRACE_MARK)
    assert engine.trace_render(new.trace, line=line, out=new) == old.trace


@given(line=lines, code=st.sampled_from(sorted(engine.DENIAL_OWED_BY)),
       why=st.one_of(st.none(), st.just(""), st.text(min_size=1, max_size=60)))
def test_a_denied_lines_record_reads_as_before_whatever_the_reason(line, code, why):
    new, old = engine.deny_line(line, code, why), trace_oracle.deny_line(line, code, why)
    assert [getattr(new, f) for f in FIGURES] == [getattr(old, f) for f in FIGURES]
    assert engine.trace_render(new.trace, line=line, out=new) == old.trace


def test_a_trace_stored_as_text_is_shown_as_it_is():
    line = engine.LineIn(billed=Decimal("10.00"), units=1, code="99213", category="office_visit", fee=Decimal("5.00"))
    assert engine.trace_render("fee 5.00 × 1 = 5.00\nplan pays 5.00", line=line, out=engine.LineOut()) == \
        "fee 5.00 × 1 = 5.00\nplan pays 5.00"


def test_records_are_short():
    """What a line stores is a few figures, not a paragraph (the point of records)."""
    terms = engine.PlanTerms(
        id=1, year_start_month=1, year_start_day=1, deductible_individual=Decimal("1000.00"),
        deductible_family=Decimal("2000.00"), oop_max_individual=Decimal("4000.00"), oop_max_family=Decimal("8000.00"),
        coinsurance=Decimal("0.2000"), oon_covered=False, oon_coinsurance=None, timely_filing_days=365,
        review_threshold=Decimal("25000.00"), fee_schedule_id=1)
    line = engine.LineIn(billed=Decimal("2500.00"), units=1, code="70551", category="imaging", fee=Decimal("1500.00"))
    out = engine.price_line(line, terms=terms, in_network=True, acc=engine.Accumulators(family=True))
    assert len(out.trace) < 80, out.trace
