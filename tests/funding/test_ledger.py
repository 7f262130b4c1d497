"""The double-entry ledger: postings balance (checked in Python, and by PostgreSQL at commit), entries
are never edited or deleted, and whatever the jobs do in whatever order, the ledger sums to zero."""
import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim
from funding import services
from funding.models import Account, LedgerEntry, LedgerTransaction, Payment
from funding.selectors import ledger_is_balanced
from tests.funding.helpers import (
    D,
    F,
    approved_claim,
    assert_ledger_balanced,
    balance,
    day,
    make_provider,
    make_sponsor,
)

K = Account.Kind


def two_accounts():
    s = make_sponsor(F.ASO)
    acct = services.accounts_ensure(specs=[services.sponsor_spec(s.employer.pk),
                                           services.sponsor_claims_spec(s.employer.pk)])
    return s, acct[services.sponsor_spec(s.employer.pk)], acct[services.sponsor_claims_spec(s.employer.pk)]


@pytest.mark.django_db
def test_a_posting_whose_legs_do_not_sum_to_zero_is_refused():
    s, a, b = two_accounts()
    p = services.Posting(kind="deposit", date=day("2026-01-02"), key="unbalanced")
    p.legs[a] -= D("10.00")
    p.legs[b] += D("9.99")
    with pytest.raises(services.FundingError) as exc:
        services._post([p])
    assert "does not balance" in str(exc.value.message_dict["amount"])
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db
def test_a_posting_that_moves_nothing_is_refused():
    s, a, b = two_accounts()
    p = services.Posting(kind="deposit", date=day("2026-01-02"), key="nothing")
    p.move(source=a, target=a, amount=D("5.00"))
    with pytest.raises(services.FundingError):
        services._post([p])
    assert LedgerEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_posting_outside_a_transaction_is_a_programming_error():
    s, a, b = two_accounts()
    p = services.Posting(kind="deposit", date=day("2026-01-02"), key="autocommit")
    p.move(source=a, target=b, amount=D("5.00"))
    with pytest.raises(RuntimeError, match="inside a transaction"):
        services._post([p])
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db
def test_an_idempotency_key_is_posted_once():
    s, a, b = two_accounts()
    first = services.Posting(kind="deposit", date=day("2026-01-02"), key="deposit:once")
    first.move(source=a, target=b, amount=D("5.00"))
    services._post([first])
    again = services.Posting(kind="deposit", date=day("2026-01-02"), key="deposit:once")
    again.move(source=a, target=b, amount=D("5.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        services._post([again])
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("5.00")


# --- PostgreSQL holds the rules itself (migration 0002) -------------------------------------

def _posted():
    s, a, b = two_accounts()
    p = services.Posting(kind="deposit", date=day("2026-01-02"), key="pg-rule")
    p.move(source=a, target=b, amount=D("25.00"))
    with transaction.atomic():
        (txn_id,) = services._post([p])
    return s, a, b, txn_id


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("statement", [
    "UPDATE funding_ledgerentry SET amount = amount * 2",
    "DELETE FROM funding_ledgerentry",
    "UPDATE funding_ledgertransaction SET memo = 'edited'",
    "DELETE FROM funding_ledgertransaction",
])
def test_postgres_refuses_to_edit_or_delete_the_ledger(statement):
    _posted()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert sorted(LedgerEntry.objects.values_list("amount", flat=True)) == [D("-25.00"), D("25.00")]
    assert LedgerEntry.objects.first().transaction.memo == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_at_commit_a_transaction_whose_entries_do_not_balance():
    s, a, b, _ = _posted()
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            txn = LedgerTransaction.objects.create(kind="deposit", date=day("2026-01-03"), idempotency_key="bad")
            LedgerEntry.objects.create(transaction=txn, account_id=a, amount=D("-10.00"))
            LedgerEntry.objects.create(transaction=txn, account_id=b, amount=D("9.00"))
    assert not LedgerTransaction.objects.filter(idempotency_key="bad").exists()
    assert ledger_is_balanced()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_refuses_at_commit_a_transaction_that_moves_nothing():
    _posted()
    with pytest.raises(IntegrityError, match="0 entries"):
        with transaction.atomic():
            LedgerTransaction.objects.create(kind="deposit", date=day("2026-01-03"), idempotency_key="empty")
    assert not LedgerTransaction.objects.filter(idempotency_key="empty").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_accepts_the_services_postings_at_commit():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    services.sponsor_deposit(employer=s.employer, amount="100.00", today=day("2026-01-02"))
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="60.00")
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="70.00")
    services.payment_cycle_run(today=day("2026-01-20"))
    assert balance(K.PROVIDER, provider=mercy) == D("60.00")
    assert_ledger_balanced()


# --- Property: any sequence of jobs keeps the ledger balanced -----------------------------------

OPS = st.one_of(
    st.tuples(st.just("claim"), st.integers(0, 2), st.integers(0, 60000).map(lambda c: D(c) / 100)),
    st.tuples(st.just("cycle")),
    st.tuples(st.just("deposit"), st.integers(1, 80000).map(lambda c: D(c) / 100)),
    st.tuples(st.just("deposit_requested")),
    st.tuples(st.just("bill")),
    st.tuples(st.just("reimburse"), st.sampled_from([D("0.25"), D("0.5"), D("1")])),
    st.tuples(st.just("fees")),
    st.tuples(st.just("stop_loss")),
)


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=st.lists(OPS, min_size=1, max_size=14))
def test_any_sequence_of_jobs_keeps_every_transaction_balanced_and_pays_each_claim_once(ops):
    from plans.services import stop_loss_policy_create
    from tests.factories import CarrierFactory

    with transaction.atomic():
        sponsors = [make_sponsor(F.ASO, admin_fee_pepm=D("45.00")), make_sponsor(F.ASC, admin_fee_pepm=D("40.00")),
                    make_sponsor(F.FULLY_INSURED, premium_pepm=D("600.00"))]
        for s in sponsors[:2]:
            stop_loss_policy_create(plan=s.plan, carrier=CarrierFactory(), start=day("2026-01-01"), contract="12/12",
                                    specific_attachment=D("500.00"), aggregate_attachment=D("900.00"))
        provider = make_provider()
        aso, asc = sponsors[0], sponsors[1]
        today = day("2026-01-01")
        for op in ops:
            today += datetime.timedelta(days=17)
            kind = op[0]
            if kind == "claim":
                s = sponsors[op[1]]
                approved_claim(plan=s.plan, member=s.member(), provider=provider, plan_paid=op[2], received=today)
            elif kind == "cycle":
                services.payment_cycle_run(today=today)
            elif kind == "deposit":
                services.sponsor_deposit(employer=aso.employer, amount=op[1], today=today)
            elif kind == "deposit_requested":
                asked = services.funding_request_open_amount(employer=aso.employer)
                if asked > 0:
                    services.sponsor_deposit(employer=aso.employer, amount=asked, today=today)
            elif kind == "bill":
                services.reimbursement_billing_run(today=today)
            elif kind == "reimburse":
                owed = balance(K.ASC_RECEIVABLE, employer=asc.employer, carrier=asc.carrier)
                amount = (owed * op[1]).quantize(D("0.01"))
                if amount > 0:
                    services.sponsor_reimbursement_pay(employer=asc.employer, amount=amount, today=today)
            elif kind == "fees":
                services.fee_billing_run(today=today)
            else:
                services.stop_loss_evaluate(today=today)

            assert_ledger_balanced()
            paid = dict(Claim.objects.filter(state="paid").values_list("pk", "plan_paid"))
            payments = dict(Payment.objects.values_list("claim_id", "amount"))
            assert payments == paid  # each paid claim has exactly one payment, of its plan_paid
            assert balance(K.PROVIDER, provider=provider) == sum(paid.values(), D("0.00"))
            assert balance(K.SPONSOR_CLAIMS, employer=aso.employer) >= 0
            assert balance(K.ASC_RECEIVABLE, employer=asc.employer, carrier=asc.carrier) >= 0
            open_invoices = services.reimbursement_open_amount(employer=asc.employer)
            assert open_invoices <= balance(K.ASC_RECEIVABLE, employer=asc.employer, carrier=asc.carrier)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fire PostgreSQL's deferred balance checks now
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)
