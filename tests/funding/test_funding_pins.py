"""Pins on funding/services/ for what mutation sampling showed the other funding tests leave free
(DOMAIN.md §5): a deposit smaller than the oldest of two open funding requests, back-dated
reimbursement billing, and a sponsor's first ASC remittance of a dollar or less."""
import pytest

from funding import services
from funding.models import Account, FundingSettlement, LedgerTransaction, Payment, PaymentCycle
from tests.funding.helpers import (
    D,
    F,
    approved_claim,
    assert_ledger_balanced,
    balance,
    day,
    make_provider,
    make_sponsor,
    state_of,
)

pytestmark = pytest.mark.django_db
K = Account.Kind


# --- (a) ASO: a deposit smaller than the oldest open funding request ----------------------------------

def two_open_requests():
    """Claims 30.00 and 70.00 wait from the cycle of Jan 12 (request 1: 100.00), claim 20.00 from the
    cycle of Jan 20 (request 2: 20.00); the sponsor has deposited nothing."""
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    c1 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="30.00", received="2026-01-10")
    c2 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="70.00", received="2026-01-11")
    services.payment_cycle_run(today=day("2026-01-12"))
    c3 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="20.00", received="2026-01-15")
    services.payment_cycle_run(today=day("2026-01-20"))
    first, second = s.employer.funding_requests.order_by("requested_on", "pk")
    assert (first.amount, first.open_amount, second.amount, second.open_amount) == (
        D("100.00"), D("100.00"), D("20.00"), D("20.00"))
    assert state_of(c1, c2, c3) == ["awaiting_funds"] * 3
    return s, mercy, (c1, c2, c3), (first, second)


def open_amounts(*requests):
    for r in requests:
        r.refresh_from_db()
    return [r.open_amount for r in requests]


def settlements(deposit):
    return list(FundingSettlement.objects.filter(deposit=deposit).order_by("pk")
                .values_list("funding_request_id", "amount"))


def test_a_deposit_smaller_than_the_oldest_request_settles_part_of_it_and_releases_what_it_covers():
    s, mercy, (c1, c2, c3), (first, second) = two_open_requests()

    # 30.00 < the oldest request's 100.00: it settles 30.00 of that one only ...
    deposit = services.sponsor_deposit(employer=s.employer, amount="30.00", today=day("2026-01-22"))

    assert settlements(deposit) == [(first.pk, D("30.00"))]
    assert open_amounts(first, second) == [D("70.00"), D("20.00")]
    assert services.funding_request_open_amount(employer=s.employer) == D("90.00")
    # ... and still releases the oldest waiting claim, which it covers exactly.
    assert state_of(c1, c2, c3) == ["paid", "awaiting_funds", "awaiting_funds"]
    c1.refresh_from_db()
    assert c1.paid_on == day("2026-01-22")
    assert deposit.release is not None
    assert (deposit.release.kind, deposit.release.claims_paid, deposit.release.amount_paid) == (
        PaymentCycle.Kind.RELEASE, 1, D("30.00"))
    assert list(Payment.objects.filter(claim=c1).values_list("amount", "paid_on")) == [
        (D("30.00"), day("2026-01-22"))]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("0.00")
    assert balance(K.PROVIDER, provider=mercy) == D("30.00")
    assert balance(K.SPONSOR, employer=s.employer) == D("-30.00")
    assert_ledger_balanced()


def test_release_stops_at_the_first_waiting_claim_the_balance_does_not_cover():
    s, mercy, (c1, c2, c3), (first, second) = two_open_requests()
    services.sponsor_deposit(employer=s.employer, amount="30.00", today=day("2026-01-22"))

    # 60.00 < the 70.00 still open on the oldest request: c2 (70.00) is not covered, so c3 (20.00),
    # which the balance would cover, waits too.
    deposit = services.sponsor_deposit(employer=s.employer, amount="60.00", today=day("2026-01-23"))

    assert settlements(deposit) == [(first.pk, D("60.00"))]
    assert open_amounts(first, second) == [D("10.00"), D("20.00")]
    assert state_of(c1, c2, c3) == ["paid", "awaiting_funds", "awaiting_funds"]
    assert deposit.release is None
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("60.00")

    # 10.50 finishes the oldest request and settles 0.50 of the next; 70.50 covers c2, not c3.
    deposit = services.sponsor_deposit(employer=s.employer, amount="10.50", today=day("2026-01-24"))

    assert settlements(deposit) == [(first.pk, D("10.00")), (second.pk, D("0.50"))]
    assert open_amounts(first, second) == [D("0.00"), D("19.50")]
    assert state_of(c1, c2, c3) == ["paid", "paid", "awaiting_funds"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("0.50")

    deposit = services.sponsor_deposit(employer=s.employer, amount="19.50", today=day("2026-01-25"))

    assert settlements(deposit) == [(second.pk, D("19.50"))]
    assert open_amounts(first, second) == [D("0.00"), D("0.00")]
    assert state_of(c1, c2, c3) == ["paid", "paid", "paid"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("0.00")
    assert balance(K.PROVIDER, provider=mercy) == D("120.00")
    assert_ledger_balanced()


# --- (b) ASC: reimbursement billing run on a date before some carrier payments -----------------------

def test_back_dated_billing_invoices_only_the_carrier_payments_up_to_its_date():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    early = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00", received="2026-03-02")
    services.payment_cycle_run(today=day("2026-03-03"))
    on_the_day = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="40.00",
                                received="2026-03-08")
    services.payment_cycle_run(today=day("2026-03-09"))
    later = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="250.00", received="2026-03-10")
    services.payment_cycle_run(today=day("2026-03-12"))
    assert balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier) == D("390.00")

    # Run on Mar 12 for Mar 9: the payments of Mar 3 and Mar 9 are billed, the one of Mar 12 is not.
    (invoice,) = services.reimbursement_billing_run(today=day("2026-03-09"))

    assert (invoice.amount, invoice.open_amount, invoice.issued_on) == (D("140.00"), D("140.00"), day("2026-03-09"))
    assert dict(invoice.items.values_list("claim_id", "amount")) == {early.pk: D("100.00"),
                                                                     on_the_day.pk: D("40.00")}
    assert services.reimbursement_open_amount(employer=s.employer) == D("140.00")
    # Invoicing moves no money: the receivable still holds every claim the carrier paid.
    assert balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier) == D("390.00")

    # The later payment is billed on the next run, on its own.
    (second,) = services.reimbursement_billing_run(today=day("2026-03-16"))
    assert (second.amount, list(second.items.values_list("claim_id", flat=True))) == (D("250.00"), [later.pk])
    assert services.reimbursement_open_amount(employer=s.employer) == D("390.00")
    assert services.reimbursement_billing_run(today=day("2026-03-16")) == []


def test_a_billing_run_before_every_carrier_payment_invoices_nothing():
    s = make_sponsor(F.ASC)
    approved_claim(plan=s.plan, member=s.member(), provider=make_provider(), plan_paid="80.00", received="2026-03-02")
    services.payment_cycle_run(today=day("2026-03-03"))

    assert services.reimbursement_billing_run(today=day("2026-03-02")) == []
    assert services.reimbursement_open_amount(employer=s.employer) == D("0.00")
    (invoice,) = services.reimbursement_billing_run(today=day("2026-03-03"))
    assert invoice.amount == D("80.00")


# --- (c) ASC: a sponsor's first remittance of one dollar or less -----------------------------------

@pytest.mark.parametrize("amount", ["0.01", "0.99", "1.00"])
def test_first_asc_cycle_of_a_dollar_or_less_makes_the_receivable_and_balances(amount):
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    claim = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=amount, received="2026-03-02")
    assert not Account.objects.filter(kind=K.ASC_RECEIVABLE, employer=s.employer).exists()

    cycle = services.payment_cycle_run(today=day("2026-03-03"))

    assert (cycle.claims_paid, cycle.amount_paid) == (1, D(amount))
    assert state_of(claim) == ["paid"]
    receivable = Account.objects.get(kind=K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier)
    assert balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier) == D(amount)
    assert list(receivable.entries.values_list("amount", flat=True)) == [D(amount)]
    assert balance(K.SPONSOR, employer=s.employer) == -D(amount)
    assert balance(K.CARRIER, carrier=s.carrier) == -D(amount)
    assert balance(K.PROVIDER, provider=mercy) == D(amount)
    (txn,) = LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.CLAIM_PAYMENT)
    assert sorted(txn.entries.values_list("amount", flat=True)) == sorted(
        [-D(amount), -D(amount), D(amount), D(amount)])
    assert_ledger_balanced()

    # The sponsor can reimburse it, and is billed for it.
    (invoice,) = services.reimbursement_billing_run(today=day("2026-03-09"))
    assert invoice.amount == D(amount)
    services.sponsor_reimbursement_pay(employer=s.employer, amount=amount, today=day("2026-03-10"))
    assert balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier) == D("0.00")
    invoice.refresh_from_db()
    assert invoice.open_amount == D("0.00")
