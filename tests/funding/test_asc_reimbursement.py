"""DOMAIN.md §5, ASC: the carrier's receivable, reimbursement invoices, the sponsor's payments."""
import pytest

from funding import services
from funding.models import Account, ReimbursementInvoice, ReimbursementInvoiceClaim, SponsorPayment
from tests.funding.helpers import D, F, approved_claim, balance, day, make_provider, make_sponsor, snapshot

pytestmark = pytest.mark.django_db
K = Account.Kind


def paid_asc(s, provider, *amounts, on="2026-03-03"):
    claims = [approved_claim(plan=s.plan, member=s.member(), provider=provider, plan_paid=a, received="2026-03-02")
              for a in amounts]
    services.payment_cycle_run(today=day(on))
    return claims


def receivable(s):
    return balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier)


def test_billing_makes_one_invoice_per_sponsor_for_every_paid_claim_not_yet_invoiced():
    s, t = make_sponsor(F.ASC), make_sponsor(F.ASC)
    mercy = make_provider()
    c1, c2 = paid_asc(s, mercy, "95.00", "900.00")
    (d1,) = paid_asc(t, mercy, "40.00")

    invoices = services.reimbursement_billing_run(today=day("2026-03-09"))

    by_employer = {i.employer_id: i for i in invoices}
    assert set(by_employer) == {s.employer.pk, t.employer.pk}
    inv = by_employer[s.employer.pk]
    assert (inv.carrier_id, inv.amount, inv.open_amount, inv.issued_on) == (
        s.carrier.pk, D("995.00"), D("995.00"), day("2026-03-09"))
    assert dict(inv.items.values_list("claim_id", "amount")) == {c1.pk: D("95.00"), c2.pk: D("900.00")}
    assert services.reimbursement_open_amount(employer=s.employer) == D("995.00")
    # Invoicing bills what is owed; it moves no money.
    assert receivable(s) == D("995.00")


def test_billing_twice_invoices_nothing_new_and_later_claims_get_their_own_invoice():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    paid_asc(s, mercy, "100.00")
    services.reimbursement_billing_run(today=day("2026-03-09"))
    before = snapshot()

    assert services.reimbursement_billing_run(today=day("2026-03-09")) == []
    assert snapshot() == before

    (later,) = paid_asc(s, mercy, "200.00", on="2026-03-10")
    (second,) = services.reimbursement_billing_run(today=day("2026-03-16"))
    assert (second.amount, list(second.items.values_list("claim_id", flat=True))) == (D("200.00"), [later.pk])
    assert ReimbursementInvoiceClaim.objects.count() == 2


def test_sponsor_payment_settles_the_oldest_invoice_first_partial_payments_allowed():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    paid_asc(s, mercy, "100.00")
    services.reimbursement_billing_run(today=day("2026-03-09"))
    paid_asc(s, mercy, "200.00", on="2026-03-10")
    services.reimbursement_billing_run(today=day("2026-03-16"))
    old, new = ReimbursementInvoice.objects.order_by("pk")

    payment = services.sponsor_reimbursement_pay(employer=s.employer, amount="150.00", today=day("2026-03-20"))

    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.open_amount, new.open_amount) == (D("0.00"), D("150.00"))
    assert list(payment.allocations.order_by("invoice_id").values_list("invoice_id", "amount")) == [
        (old.pk, D("100.00")), (new.pk, D("50.00"))]
    assert receivable(s) == D("150.00")
    assert balance(K.CARRIER, carrier=s.carrier) == D("-150.00")
    assert services.reimbursement_open_amount(employer=s.employer) == D("150.00")

    services.sponsor_reimbursement_pay(employer=s.employer, amount="150.00", today=day("2026-03-21"))
    new.refresh_from_db()
    assert new.open_amount == D("0.00")
    assert receivable(s) == D("0.00")
    assert balance(K.CARRIER, carrier=s.carrier) == D("0.00")


def test_paying_more_than_is_open_is_refused_naming_the_amount():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    paid_asc(s, mercy, "995.00")
    services.reimbursement_billing_run(today=day("2026-03-09"))

    with pytest.raises(services.FundingError) as exc:
        services.sponsor_reimbursement_pay(employer=s.employer, amount="995.01")
    assert list(exc.value.message_dict) == ["amount"]
    assert SponsorPayment.objects.count() == 0
    assert receivable(s) == D("995.00")


def test_receivable_is_reduced_by_payments_not_yet_invoiced_and_the_credit_goes_to_the_next_invoice():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    paid_asc(s, mercy, "300.00")
    assert services.reimbursement_open_amount(employer=s.employer) == D("0.00")

    payment = services.sponsor_reimbursement_pay(employer=s.employer, amount="120.00", today=day("2026-03-05"))

    assert receivable(s) == D("180.00")
    assert payment.unapplied_amount == D("120.00")
    (invoice,) = services.reimbursement_billing_run(today=day("2026-03-09"))
    assert (invoice.amount, invoice.open_amount) == (D("300.00"), D("180.00"))
    payment.refresh_from_db()
    assert payment.unapplied_amount == D("0.00")
    assert services.reimbursement_open_amount(employer=s.employer) == receivable(s) == D("180.00")


def test_zero_claims_are_not_invoiced():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    paid_asc(s, mercy, "0.00")
    assert services.reimbursement_billing_run(today=day("2026-03-09")) == []


@pytest.mark.parametrize("funding", [F.ASO, F.FULLY_INSURED])
def test_reimbursement_is_refused_for_a_sponsor_that_is_not_asc(funding):
    s = make_sponsor(funding)
    with pytest.raises(services.FundingError) as exc:
        services.sponsor_reimbursement_pay(employer=s.employer, amount="10.00")
    assert list(exc.value.message_dict) == ["employer"]


def test_sponsor_payment_with_a_recorded_reference_is_the_same_payment():
    s = make_sponsor(F.ASC)
    paid_asc(s, make_provider(), "50.00")
    first = services.sponsor_reimbursement_pay(employer=s.employer, amount="20.00", reference="CHK-7")
    before = snapshot()
    assert services.sponsor_reimbursement_pay(employer=s.employer, amount="20.00", reference="CHK-7").pk == first.pk
    assert snapshot() == before
