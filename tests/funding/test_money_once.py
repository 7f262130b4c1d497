"""Money recorded once: a form posted twice, an admin action clicked twice at once, a bank reference
given again, a task message delivered again: one deposit, one sponsor payment, one ledger transaction.
A bank reference (or a form's key) given again with another amount is refused, naming the field,
never answered with the old record as if it were this one.

The "at once" tests force the interleaving (PostgreSQL, one thread and one connection per click): the
test holds the funding lock, lets both clicks run into it, then lets go; each is tried five times."""
import threading
import time
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from funding import services
from funding import tasks as funding_tasks
from funding.models import Deposit, FundingRequest, LedgerTransaction, ReimbursementInvoice, SponsorPayment
from tests.factories import careless_login
from tests.funding.helpers import D, F, approved_claim, day, make_provider, make_sponsor, snapshot, state_of

WAIT = 20  # seconds: only reached when something hangs
T = LedgerTransaction.Kind


# --- Worlds -------------------------------------------------------------------------------------------

def aso_waiting(*amounts):
    """An ASO sponsor whose claims of `amounts` wait for funds, with one open funding request for them."""
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    claims = [approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=a,
                             received=day(f"2026-01-{10 + i:02d}")) for i, a in enumerate(amounts)]
    services.payment_cycle_run(today=day("2026-01-20"))
    assert set(state_of(*claims)) == {"awaiting_funds"}
    return s, claims


def asc_invoiced(*amounts, not_invoiced=None):
    """An ASC sponsor whose carrier paid claims of `amounts`, invoiced to it; and, when given, one more
    claim of `not_invoiced` paid since (the sponsor owes the carrier more than its open invoices ask:
    a second payment of what they ask would not be refused as too much)."""
    s = make_sponsor(F.ASC)
    mercy = make_provider()
    for a in amounts:
        approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=a, received="2026-03-02")
    services.payment_cycle_run(today=day("2026-03-03"))
    services.reimbursement_billing_run(today=day("2026-03-04"))
    if not_invoiced is not None:
        approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=not_invoiced, received="2026-03-04")
        services.payment_cycle_run(today=day("2026-03-05"))
    assert services.reimbursement_open_amount(employer=s.employer) == sum(D(a) for a in amounts)
    return s


def supervisor_client() -> Client:
    client = Client()
    client.force_login(careless_login("supervisor"))
    return client


def deposits_of(s):
    return list(Deposit.objects.filter(employer=s.employer).values_list("amount", "reference"))


def deposit_txns_of(s):
    return LedgerTransaction.objects.filter(employer=s.employer, kind=T.DEPOSIT).count()


RECORD = "admin:funding_deposit_record"


def record_form(client, s, **fields):
    """The deposit form as the browser posts it: the hidden key of one rendering of the page."""
    page = client.get(reverse(RECORD))
    assert page.status_code == 200
    return {"employer": s.employer.pk, "amount": "100.00", "reference": "",
            "idempotency_key": page.context["form"].initial["idempotency_key"], **fields}


# --- The admin's deposit form posted twice ---------------------------------------------------------------

@pytest.mark.django_db
def test_the_deposit_form_posted_twice_records_one_deposit():
    s, (claim,) = aso_waiting("60.00")
    client = supervisor_client()
    form = record_form(client, s)

    first = client.post(reverse(RECORD), form)
    assert first.status_code == 302
    after_first = snapshot()
    second = client.post(reverse(RECORD), form)  # a double click, a resubmit

    assert second.status_code == 302
    assert snapshot() == after_first
    assert deposits_of(s) == [(D("100.00"), "")]
    assert deposit_txns_of(s) == 1
    assert state_of(claim) == ["paid"]


@pytest.mark.django_db
def test_the_same_form_posted_again_with_the_bank_reference_added_is_still_one_deposit():
    s, _ = aso_waiting("60.00")
    client = supervisor_client()
    form = record_form(client, s)
    assert client.post(reverse(RECORD), form).status_code == 302
    after_first = snapshot()

    again = client.post(reverse(RECORD), {**form, "reference": "EFT-77"})  # back, add the reference, post

    assert again.status_code == 302
    assert snapshot() == after_first
    assert deposits_of(s) == [(D("100.00"), "")]


@pytest.mark.django_db
def test_the_same_form_posted_again_with_another_amount_is_refused_naming_the_form():
    s, _ = aso_waiting("60.00")
    client = supervisor_client()
    form = record_form(client, s)
    assert client.post(reverse(RECORD), form).status_code == 302
    after_first = snapshot()

    again = client.post(reverse(RECORD), {**form, "amount": "250.00"})

    assert again.status_code == 200
    assert list(again.context["form"].errors) == ["idempotency_key"]
    assert "another amount" in str(again.context["form"].errors["idempotency_key"])
    assert snapshot() == after_first


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_the_deposit_form_posted_twice_at_once_records_one_deposit(attempt):
    s, (claim,) = aso_waiting("60.00")
    user = careless_login("supervisor")
    tab, other_tab = Client(), Client()  # one client per thread (a client is no thread-safe object)
    tab.force_login(user)
    other_tab.force_login(user)
    form = record_form(tab, s)

    responses = both_at_once(lambda: tab.post(reverse(RECORD), form), lambda: other_tab.post(reverse(RECORD), form))

    assert [r.status_code for r in responses] == [302, 302]
    assert deposits_of(s) == [(D("100.00"), "")]
    assert deposit_txns_of(s) == 1
    assert state_of(claim) == ["paid"]


# --- "Record a deposit of what the open requests ask", "pay open invoices": twice at once -----------------

def funding_request_action(client, s):
    return client.post(reverse("admin:funding_fundingrequest_changelist"), {
        "action": "deposit_requested", "index": "0",
        "_selected_action": list(FundingRequest.objects.filter(employer=s.employer).values_list("pk", flat=True))})


def pay_open_action(client, s):
    return client.post(reverse("admin:funding_reimbursementinvoice_changelist"), {
        "action": "pay_open", "index": "0",
        "_selected_action": list(ReimbursementInvoice.objects.filter(employer=s.employer).values_list("pk", flat=True))})


@pytest.mark.django_db
def test_deposit_what_is_requested_clicked_twice_records_one_deposit():
    s, claims = aso_waiting("60.00", "40.00")
    client = supervisor_client()
    assert funding_request_action(client, s).status_code == 302
    assert funding_request_action(client, s).status_code == 302
    assert deposits_of(s) == [(D("100.00"), "")]
    assert set(state_of(*claims)) == {"paid"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_deposit_what_is_requested_clicked_twice_at_once_records_one_deposit(attempt):
    s, claims = aso_waiting("60.00", "40.00")
    first, second = supervisor_client(), supervisor_client()

    responses = both_at_once(lambda: funding_request_action(first, s), lambda: funding_request_action(second, s))

    assert [r.status_code for r in responses] == [302, 302]
    assert deposits_of(s) == [(D("100.00"), "")]
    assert deposit_txns_of(s) == 1
    assert services.funding_request_open_amount(employer=s.employer) == D("0.00")
    assert set(state_of(*claims)) == {"paid"}


@pytest.mark.django_db
def test_pay_open_invoices_clicked_twice_records_one_payment():
    s = asc_invoiced("70.00", "30.00", not_invoiced="150.00")
    client = supervisor_client()
    assert pay_open_action(client, s).status_code == 302
    assert pay_open_action(client, s).status_code == 302
    assert list(SponsorPayment.objects.filter(employer=s.employer).values_list("amount", flat=True)) == [D("100.00")]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(5))
def test_pay_open_invoices_clicked_twice_at_once_records_one_payment(attempt):
    s = asc_invoiced("70.00", "30.00", not_invoiced="150.00")
    first, second = supervisor_client(), supervisor_client()

    responses = both_at_once(lambda: pay_open_action(first, s), lambda: pay_open_action(second, s))

    assert [r.status_code for r in responses] == [302, 302]
    assert list(SponsorPayment.objects.filter(employer=s.employer).values_list("amount", flat=True)) == [D("100.00")]
    assert LedgerTransaction.objects.filter(employer=s.employer, kind=T.REIMBURSEMENT).count() == 1
    assert services.reimbursement_open_amount(employer=s.employer) == D("0.00")


# --- A bank reference given again ---------------------------------------------------------------------------

def run_task(task, *args):
    """The task's body as a worker runs it, here (eager), with a message id of its own."""
    return task.apply(args=args, task_id=str(uuid.uuid4()), throw=True).get()


@pytest.mark.django_db
def test_a_deposit_reference_given_again_with_another_amount_is_refused_by_service_form_and_task():
    s, _ = aso_waiting("60.00")
    first = services.sponsor_deposit(employer=s.employer, amount="100.00", reference="EFT-1", today=day("2026-01-22"))
    before = snapshot()

    with pytest.raises(services.FundingError) as refused:
        services.sponsor_deposit(employer=s.employer, amount="120.00", reference="EFT-1", today=day("2026-01-23"))
    assert list(refused.value.message_dict) == ["reference"]
    assert str(first.pk) in refused.value.message_dict["reference"][0]

    with pytest.raises(services.FundingError) as refused_task:
        run_task(funding_tasks.sponsor_deposit_record, s.employer.pk, "120.00", "EFT-1")
    assert list(refused_task.value.message_dict) == ["reference"]

    client = supervisor_client()
    page = client.post(reverse(RECORD), record_form(client, s, amount="120.00", reference="EFT-1"))
    assert page.status_code == 200
    assert list(page.context["form"].errors) == ["reference"]
    assert "another amount" in str(page.context["form"].errors["reference"])
    assert snapshot() == before


@pytest.mark.django_db
def test_a_deposit_reference_given_again_with_the_same_amount_is_the_first_deposit():
    s, _ = aso_waiting("60.00")
    first = services.sponsor_deposit(employer=s.employer, amount="100.00", reference="EFT-1", today=day("2026-01-22"))
    before = snapshot()

    assert services.sponsor_deposit(employer=s.employer, amount="100.00", reference=" EFT-1 ").pk == first.pk
    assert run_task(funding_tasks.sponsor_deposit_record, s.employer.pk, "100.00", "EFT-1") == first.pk
    client = supervisor_client()
    assert client.post(reverse(RECORD), record_form(client, s, reference="EFT-1")).status_code == 302
    assert snapshot() == before


@pytest.mark.django_db
def test_a_deposit_task_delivered_twice_is_one_deposit():
    s, _ = aso_waiting("60.00")
    task_id = str(uuid.uuid4())
    first = funding_tasks.sponsor_deposit_record.apply(args=(s.employer.pk, "100.00"), task_id=task_id, throw=True)
    before = snapshot()
    again = funding_tasks.sponsor_deposit_record.apply(args=(s.employer.pk, "100.00"), task_id=task_id, throw=True)
    assert again.get() == first.get()
    assert snapshot() == before


@pytest.mark.django_db
def test_a_payment_reference_given_again_with_another_amount_is_refused_by_service_and_task():
    s = asc_invoiced("70.00", "30.00")
    first = services.sponsor_reimbursement_pay(employer=s.employer, amount="50.00", reference="CHK-7",
                                               today=day("2026-03-05"))
    before = snapshot()

    with pytest.raises(services.FundingError) as refused:
        services.sponsor_reimbursement_pay(employer=s.employer, amount="20.00", reference="CHK-7")
    assert list(refused.value.message_dict) == ["reference"]
    assert str(first.pk) in refused.value.message_dict["reference"][0]
    with pytest.raises(services.FundingError) as refused_task:
        run_task(funding_tasks.sponsor_reimbursement_record, s.employer.pk, "20.00", "CHK-7")
    assert list(refused_task.value.message_dict) == ["reference"]
    assert snapshot() == before


@pytest.mark.django_db
def test_a_payment_reference_given_again_with_the_same_amount_is_the_first_payment():
    s = asc_invoiced("70.00", "30.00")
    first = services.sponsor_reimbursement_pay(employer=s.employer, amount="50.00", reference="CHK-7",
                                               today=day("2026-03-05"))
    before = snapshot()
    assert services.sponsor_reimbursement_pay(employer=s.employer, amount="50.00", reference="CHK-7").pk == first.pk
    assert run_task(funding_tasks.sponsor_reimbursement_record, s.employer.pk, "50.00", "CHK-7") == first.pk
    assert snapshot() == before


@pytest.mark.django_db
def test_a_payment_key_given_again_is_one_payment_and_with_another_amount_is_refused():
    s = asc_invoiced("70.00", "30.00")
    first = services.sponsor_reimbursement_pay(employer=s.employer, amount="50.00", idempotency_key="form-1")
    before = snapshot()
    assert services.sponsor_reimbursement_pay(employer=s.employer, amount="50.00", idempotency_key="form-1",
                                              reference="CHK-8").pk == first.pk
    with pytest.raises(services.FundingError) as refused:
        services.sponsor_reimbursement_pay(employer=s.employer, amount="60.00", idempotency_key="form-1")
    assert list(refused.value.message_dict) == ["idempotency_key"]
    assert snapshot() == before


# --- Machinery: two clicks at once ----------------------------------------------------------------------

def _lock_waiters() -> int:
    """Backends of this database waiting (not granted) for the funding lock."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       [services.FUNDING_LOCK_ID])
        return cursor.fetchone()[0]


def both_at_once(*calls):
    """Run each call in its own thread (its own connection) while this test holds the funding lock; let go
    once every call waits for it, so that they run one right after the other, each having read what it
    reads before the lock as the other left it (not yet changed). Returns their results in order."""
    results, errors = [None] * len(calls), [None] * len(calls)

    def run(i, call):
        try:
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            errors[i] = exc
        finally:
            connection.close()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [services.FUNDING_LOCK_ID])
    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + WAIT
        while _lock_waiters() < len(calls):
            assert time.monotonic() < deadline, "the calls never reached the funding lock"
            assert all(t.is_alive() for t in threads), f"a call ended before the funding lock: {errors}"
            time.sleep(0.01)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [services.FUNDING_LOCK_ID])
    for t in threads:
        t.join(WAIT)
    assert not any(t.is_alive() for t in threads), "a call hung"
    for error in errors:
        if error is not None:
            raise error
    return results
