"""DOMAIN.md §5, the payment cycle: who pays, in what order, when an ASO cycle stops, funding requests."""
import pytest

from funding import services
from funding.models import (
    Account,
    FundingRequest,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentCycle,
    RemittanceAdvice,
)
from tests.factories import login
from tests.funding.helpers import (
    D,
    F,
    approved_claim,
    balance,
    day,
    make_provider,
    make_sponsor,
    snapshot,
    state_of,
    transitions_of,
)

pytestmark = pytest.mark.django_db
K = Account.Kind
TODAY = day("2026-01-20")


def fund(sponsor, amount):
    return services.sponsor_deposit(employer=sponsor.employer, amount=amount, today=day("2026-01-02"))


def test_fully_insured_claim_is_paid_at_once_from_the_carriers_account():
    s = make_sponsor(F.FULLY_INSURED)
    mercy = make_provider()
    c = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="310.00")

    cycle = services.payment_cycle_run(today=TODAY)

    c.refresh_from_db()
    assert (c.state, c.paid_on) == ("paid", TODAY)
    payment = Payment.objects.get(claim=c)
    assert (payment.amount, payment.payer_account.key, payment.paid_on) == (D("310.00"), f"carrier:{s.carrier.pk}", TODAY)
    assert balance(K.CARRIER, carrier=s.carrier) == D("-310.00")
    assert balance(K.PROVIDER, provider=mercy) == D("310.00")
    assert not Account.objects.filter(kind=K.ASC_RECEIVABLE).exists()
    assert (cycle.claims_paid, cycle.amount_paid, cycle.claims_awaiting_funds) == (1, D("310.00"), 0)
    assert transitions_of(c)[-1] == ("approved", "paid")


def test_asc_claim_is_paid_by_the_carrier_which_gains_a_receivable_from_the_sponsor():
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="95.00")
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="900.00")

    services.payment_cycle_run(today=TODAY)

    assert balance(K.CARRIER, carrier=s.carrier) == D("-995.00")
    assert balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier) == D("995.00")
    assert balance(K.SPONSOR, employer=s.employer) == D("-995.00")
    assert balance(K.PROVIDER, provider=mercy) == D("995.00")
    txn = LedgerTransaction.objects.get(kind="claim_payment")
    assert txn.employer_id == s.employer.pk
    assert sorted(txn.entries.values_list("amount", flat=True)) == [D("-995.00"), D("-995.00"), D("995.00"), D("995.00")]


def test_aso_pays_while_the_balance_covers_and_stops_at_the_first_claim_it_does_not():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    fund(s, "500.00")
    c1 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="200.00", received="2026-01-10")
    c2 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="250.00", received="2026-01-11")
    c3 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00", received="2026-01-12")
    # 30.00 would fit in the 50.00 left, but the cycle stopped at c3: it waits too.
    c4 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="30.00", received="2026-01-13")

    cycle = services.payment_cycle_run(today=TODAY)

    assert state_of(c1, c2, c3, c4) == ["paid", "paid", "awaiting_funds", "awaiting_funds"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("50.00")
    assert balance(K.PROVIDER, provider=mercy) == D("450.00")
    request = FundingRequest.objects.get()
    assert (request.employer_id, request.cycle_id, request.amount, request.open_amount) == (
        s.employer.pk, cycle.pk, D("130.00"), D("130.00"))
    assert services.funding_request_open_amount(employer=s.employer) == D("130.00")
    assert (cycle.claims_paid, cycle.amount_paid, cycle.claims_awaiting_funds) == (2, D("450.00"), 2)
    assert transitions_of(c3)[-1] == ("approved", "awaiting_funds")


def test_aso_cycle_takes_claims_oldest_first_by_received_date_then_submission_order():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    fund(s, "100.00")
    late = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00", received="2026-01-12")
    early = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00", received="2026-01-11")
    same_day_second = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="1.00",
                                     received="2026-01-11")

    services.payment_cycle_run(today=TODAY)

    assert state_of(early, same_day_second, late) == ["paid", "awaiting_funds", "awaiting_funds"]
    assert FundingRequest.objects.get().amount == D("101.00")


def test_funding_request_asks_only_for_the_claims_that_began_to_wait_in_this_cycle():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    old = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="40.00", received="2026-01-10")
    services.payment_cycle_run(today=day("2026-01-12"))
    new = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="60.00", received="2026-01-15")

    services.payment_cycle_run(today=TODAY)

    assert state_of(old, new) == ["awaiting_funds", "awaiting_funds"]
    assert list(FundingRequest.objects.order_by("pk").values_list("amount", "open_amount")) == [
        (D("40.00"), D("40.00")), (D("60.00"), D("60.00"))]
    assert services.funding_request_open_amount(employer=s.employer) == D("100.00")
    # Nothing new began to wait: a third cycle asks for nothing more.
    services.payment_cycle_run(today=day("2026-01-21"))
    assert FundingRequest.objects.count() == 2


def test_waiting_claims_are_paid_by_a_later_cycle_in_order_with_the_new_ones():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    waiting = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="70.00", received="2026-01-10")
    services.payment_cycle_run(today=day("2026-01-12"))
    newer = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="50.00", received="2026-01-15")
    # Stop-loss money (or a leftover) sits in the account without releasing anything; the next cycle uses it.
    services._post([_credit(s, "100.00")])

    services.payment_cycle_run(today=TODAY)

    assert state_of(waiting, newer) == ["paid", "awaiting_funds"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("30.00")
    assert FundingRequest.objects.order_by("pk").last().amount == D("50.00")


def _credit(s, amount):
    acct = services.accounts_ensure(specs=[services.sponsor_claims_spec(s.employer.pk),
                                           services.sponsor_spec(s.employer.pk)])
    p = services.Posting(kind="deposit", date=TODAY, key=f"test-credit:{s.employer.pk}", employer_id=s.employer.pk)
    p.move(source=acct[services.sponsor_spec(s.employer.pk)], target=acct[services.sponsor_claims_spec(s.employer.pk)],
           amount=D(amount))
    return p


@pytest.mark.parametrize("funding", [F.ASO, F.ASC, F.FULLY_INSURED])
def test_zero_plan_paid_claim_is_paid_at_once_with_a_zero_payment(funding):
    s = make_sponsor(funding)
    mercy = make_provider()
    zero = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="0.00", deductible="120.00")

    services.payment_cycle_run(today=TODAY)

    zero.refresh_from_db()
    assert (zero.state, zero.paid_on) == ("paid", TODAY)
    payment = Payment.objects.get(claim=zero)
    assert (payment.amount, payment.transaction, payment.remittance.transaction_id) == (D("0.00"), None, None)
    expected_payer = f"sponsor_claims:{s.employer.pk}" if funding == F.ASO else f"carrier:{s.carrier.pk}"
    assert payment.payer_account.key == expected_payer
    assert LedgerEntry.objects.count() == 0
    assert FundingRequest.objects.count() == 0
    assert RemittanceAdvice.objects.get().claim_count == 1


def test_zero_payment_never_stops_the_aso_cycle_nor_waits():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    fund(s, "100.00")
    c1 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="80.00", received="2026-01-10")
    c2 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="50.00", received="2026-01-11")
    z = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="0.00", received="2026-01-12",
                       copay="30.00")
    c3 = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="10.00", received="2026-01-13")

    services.payment_cycle_run(today=TODAY)

    assert state_of(c1, c2, z, c3) == ["paid", "awaiting_funds", "paid", "awaiting_funds"]
    assert FundingRequest.objects.get().amount == D("60.00")
    assert Payment.objects.get(claim=z).amount == D("0.00")


def test_each_arrangement_pays_from_its_own_account_in_one_cycle():
    aso, asc, fi = make_sponsor(F.ASO), make_sponsor(F.ASC), make_sponsor(F.FULLY_INSURED)
    mercy, lakeside = make_provider(), make_provider()
    fund(aso, "1000.00")
    a = approved_claim(plan=aso.plan, member=aso.member(), provider=mercy, plan_paid="100.00")
    b = approved_claim(plan=asc.plan, member=asc.member(), provider=mercy, plan_paid="200.00")
    c = approved_claim(plan=fi.plan, member=fi.member(), provider=lakeside, plan_paid="300.00")

    cycle = services.payment_cycle_run(today=TODAY)

    assert state_of(a, b, c) == ["paid", "paid", "paid"]
    assert dict(Payment.objects.values_list("claim_id", "remittance__payer_account__key")) == {
        a.pk: f"sponsor_claims:{aso.employer.pk}", b.pk: f"carrier:{asc.carrier.pk}", c.pk: f"carrier:{fi.carrier.pk}"}
    assert balance(K.SPONSOR_CLAIMS, employer=aso.employer) == D("900.00")
    assert balance(K.PROVIDER, provider=mercy) == D("300.00")
    assert balance(K.PROVIDER, provider=lakeside) == D("300.00")
    # One remittance (one payment, one ledger transaction) per payer account, provider and sponsor.
    remits = {(r.payer_account.key, r.provider_id): (r.amount, r.claim_count)
              for r in RemittanceAdvice.objects.filter(cycle=cycle)}
    assert remits == {(f"sponsor_claims:{aso.employer.pk}", mercy.pk): (D("100.00"), 1),
                      (f"carrier:{asc.carrier.pk}", mercy.pk): (D("200.00"), 1),
                      (f"carrier:{fi.carrier.pk}", lakeside.pk): (D("300.00"), 1)}
    assert all(r.transaction.entries.count() == (4 if r.payer_account.key.startswith("carrier:" + str(asc.carrier.pk))
                                                 else 2) for r in RemittanceAdvice.objects.all())


def test_payment_cycle_run_twice_changes_nothing_the_second_time():
    s, t = make_sponsor(F.ASO), make_sponsor(F.ASC)
    mercy = make_provider()
    fund(s, "50.00")
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="40.00")
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="40.00")
    approved_claim(plan=t.plan, member=t.member(), provider=mercy, plan_paid="40.00")
    assert services.payment_cycle_run(today=TODAY) is not None
    before = snapshot()

    assert services.payment_cycle_run(today=TODAY) is None

    assert snapshot() == before
    assert PaymentCycle.objects.count() == 1


def test_cycle_works_in_chunks_and_logs_who_ran_it():
    user = login("supervisor", username="payer")
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    claims = [approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=f"{i}.00") for i in range(1, 8)]

    cycle = services.payment_cycle_run(today=TODAY, by=user, chunk_size=3)

    assert set(state_of(*claims)) == {"paid"}
    assert (cycle.claims_paid, cycle.amount_paid) == (7, D("28.00"))
    # Three chunks (3 + 3 + 1 claims), one remittance and one ledger transaction for all of them.
    remittance = RemittanceAdvice.objects.get()
    assert (remittance.amount, remittance.claim_count) == (D("28.00"), 7)
    assert LedgerTransaction.objects.filter(kind="claim_payment").get() == remittance.transaction
    from django_fsm_log.models import StateLog
    log = StateLog.objects.filter(object_id=claims[0].pk, state="paid").get()
    assert (log.by_id, log.transition) == (user.pk, "pay")
