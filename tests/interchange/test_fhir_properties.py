"""A property over claim figures: for generated claims run through the real intake, adjudication and
payment services, the ExplanationOfBenefit's money is the claim's (and the EOB report's) and adds up."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim
from interchange.fhir import eob_bundle, eob_resource
from tests.claims.helpers import build_world, run
from tests.interchange.test_fhir import assert_eob_is_the_claims, pay, totals

pytestmark = pytest.mark.django_db
D = Decimal
CODES = ("99213", "70551", "99395", "80053", "80061", "15780")  # office visit, MRI, preventive, labs, cosmetic

cents = st.integers(1, 400_000).map(lambda c: (D(c) / 100).quantize(D("0.01")))
lines = st.lists(st.tuples(st.sampled_from(CODES), cents, st.integers(1, 3)), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    claims=st.lists(st.tuples(lines, st.booleans()), min_size=1, max_size=3),
    deductible=st.sampled_from([("0", "0"), ("500", "1000"), ("1000", "2000")]),
    excluded=st.booleans(),
    paid=st.booleans(),
)
def test_eob_money_is_the_claims(claims, deductible, excluded, paid):
    w = build_world(deductible=deductible, oon_coinsurance="0.30", excluded=["cosmetic"] if excluded else ())
    made = []
    for i, (claim_lines, in_network) in enumerate(claims):
        made.append(w.submit(on="2026-04-01", service=datetime.date(2026, 3, 1 + i), lines=claim_lines,
                             provider=w.mercy if in_network else w.faraway))
    run("2026-04-01")
    if paid:
        pay(w, on="2026-04-02")
    made = [Claim.objects.get(pk=c.pk) for c in made]
    bundle = eob_bundle(claims=made)
    for entry, claim in zip(bundle["entry"], made):
        eob = entry["resource"]
        assert eob == eob_resource(claim=claim)
        assert_eob_is_the_claims(eob, claim)
        if claim.state != "pended":
            got = totals(eob)
            # billed = plan paid + member + write-off (DOMAIN.md §4), the write-off being the CO adjustments
            write_off = sum((D(str(a["amount"]["value"])) for item in eob["item"] for a in item["adjudication"]
                             if a.get("reason", {}).get("text", "").startswith("CO-")), D("0.00"))
            assert got["submitted"] == got["benefit"] + got["memberliability"] + write_off
