"""Remittance advice: one per payer account, provider and sponsor per run, rendered 835-like from the
line results of each claim's current adjudication round."""
import pytest

from claims.models import Claim, LineResult
from funding import services
from funding.models import RemittanceAdvice
from funding.selectors import remittance_advice_for
from tests.funding.helpers import D, F, approved_claim, day, make_provider, make_sponsor

pytestmark = pytest.mark.django_db


def test_remittance_advice_carries_each_claim_and_line_with_its_adjustments():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    priced = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="380.00", deductible="100.00",
                            coinsurance="20.00", write_off="80.00", received="2026-03-01", service="2026-02-27")
    zero = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="0.00", copay="30.00",
                          received="2026-03-02")
    services.payment_cycle_run(today=day("2026-03-03"))
    remittance = RemittanceAdvice.objects.get()

    advice = remittance_advice_for(remittance=remittance)

    assert (advice["issued_on"], advice["total_paid"], advice["claim_count"]) == ("2026-03-03", "380.00", 2)
    assert advice["payee"] == {"name": mercy.name, "npi": mercy.npi, "tin": mercy.tin}
    assert advice["payer"]["account"] == f"carrier:{s.carrier.pk}"
    assert advice["ledger_transaction"] == remittance.transaction_id
    first, second = advice["claims"]
    assert (first["claim_number"], first["billed"], first["paid"], first["patient_responsibility"]) == (
        priced.claim_number, "580.00", "380.00", "120.00")
    assert first["service_date"] == "2026-02-27"
    assert first["reason_codes"] == ["1", "2", "45"]
    (line,) = first["lines"]
    assert (line["procedure_code"], line["billed"], line["allowed"], line["paid"]) == ("99213", "580.00", "500.00",
                                                                                        "380.00")
    assert line["adjustments"] == [{"group": "PR", "carc": "1", "amount": "100.00"},
                                   {"group": "PR", "carc": "2", "amount": "20.00"},
                                   {"group": "CO", "carc": "45", "amount": "80.00"}]
    assert (second["claim_number"], second["paid"]) == (zero.claim_number, "0.00")
    assert second["lines"][0]["adjustments"] == [{"group": "PR", "carc": "3", "amount": "30.00"}]


def test_remittance_advice_shows_the_current_round_only():
    s = make_sponsor(F.FULLY_INSURED)
    mercy = make_provider()
    claim = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="50.00")
    line = claim.lines.get()
    # An earlier round denied the line (CARC 50); the claim's current round (2) priced it.
    LineResult.objects.filter(claim=claim).update(round=2)
    LineResult.objects.create(claim=claim, line=line, round=1, allowed=D("0"), deductible=D("0"), copay=D("0"),
                              coinsurance=D("0"), not_covered=D("0"), balance_billed=D("0"),
                              provider_write_off=D("50.00"), plan_paid=D("0"), reason_codes="50", denial_code="50")
    Claim.objects.filter(pk=claim.pk).update(adjudication_round=2)
    services.payment_cycle_run(today=day("2026-01-20"))

    advice = remittance_advice_for(remittance=RemittanceAdvice.objects.get())

    (line_out,) = advice["claims"][0]["lines"]
    assert (line_out["paid"], line_out["adjustments"]) == ("50.00", [])


def test_a_run_issues_one_remittance_per_payer_provider_and_sponsor():
    a, b = make_sponsor(F.ASC), make_sponsor(F.ASC)
    mercy, lakeside = make_provider(), make_provider()
    for s, p, amount in ((a, mercy, "10.00"), (a, mercy, "20.00"), (a, lakeside, "5.00"), (b, mercy, "7.00")):
        approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid=amount)

    cycle = services.payment_cycle_run(today=day("2026-01-20"))

    got = sorted((r.employer_id, r.provider_id, r.amount, r.claim_count) for r in cycle.remittances.all())
    assert got == sorted([(a.employer.pk, mercy.pk, D("30.00"), 2), (a.employer.pk, lakeside.pk, D("5.00"), 1),
                          (b.employer.pk, mercy.pk, D("7.00"), 1)])
