"""Admin for the money: every page renders without a query per row, the ledger cannot be edited, and the
admin's actions call the services (run a payment cycle, record a deposit, deposit or pay what is asked)."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from funding import services
from funding.models import (
    Account,
    Deposit,
    FundingRequest,
    LedgerEntry,
    PaymentCycle,
    ReimbursementInvoice,
    RemittanceAdvice,
    SponsorPayment,
)
from tests.funding.helpers import D, F, approved_claim, balance, day, make_provider, make_sponsor, state_of

pytestmark = pytest.mark.django_db
K = Account.Kind
MODELS = ("account", "ledgertransaction", "ledgerentry", "payment", "paymentcycle", "remittanceadvice", "deposit",
          "fundingrequest", "reimbursementinvoice", "sponsorpayment", "feebilling", "stoplossfiling")


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser(username="boss", password="x", email="boss@example.com")
    client.force_login(user)
    return client


def busy_world(n: int):
    aso, asc = make_sponsor(F.ASO, admin_fee_pepm=D("10.00")), make_sponsor(F.ASC, admin_fee_pepm=D("10.00"))
    for _ in range(n):
        p = make_provider()
        approved_claim(plan=aso.plan, member=aso.member(), provider=p, plan_paid="10.00")
        approved_claim(plan=asc.plan, member=asc.member(), provider=p, plan_paid="20.00")
    services.sponsor_deposit(employer=aso.employer, amount="5.00", today=day("2026-01-02"))
    services.payment_cycle_run(today=day("2026-01-20"))
    services.reimbursement_billing_run(today=day("2026-01-21"))
    services.sponsor_reimbursement_pay(employer=asc.employer, amount="5.00", today=day("2026-01-22"))
    services.fee_billing_run(today=day("2026-01-23"))
    return aso, asc


def page_queries(client, model):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(f"admin:funding_{model}_changelist"))
    assert response.status_code == 200, (model, response.status_code)
    return len(ctx.captured_queries)


def test_every_changelist_renders_in_the_same_number_of_queries_whatever_its_size(admin_client):
    busy_world(1)
    small = {m: page_queries(admin_client, m) for m in MODELS}
    busy_world(4)
    large = {m: page_queries(admin_client, m) for m in MODELS}
    assert large == small


def test_the_ledger_cannot_be_added_changed_or_deleted_in_the_admin(admin_client):
    busy_world(1)
    entry = LedgerEntry.objects.first()
    assert admin_client.get(reverse("admin:funding_ledgerentry_add")).status_code == 403
    response = admin_client.post(reverse("admin:funding_ledgerentry_change", args=[entry.pk]), {"amount": "1.00"})
    assert response.status_code == 403
    assert admin_client.post(reverse("admin:funding_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.get(pk=entry.pk).amount == entry.amount
    page = admin_client.get(reverse("admin:funding_ledgertransaction_change", args=[entry.transaction_id]))
    assert page.status_code == 200
    assert str(entry.amount) in page.content.decode()


def test_run_payment_cycle_from_the_admin(admin_client):
    s = make_sponsor(F.FULLY_INSURED)
    claim = approved_claim(plan=s.plan, member=s.member(), provider=make_provider(), plan_paid="42.00")
    changelist = admin_client.get(reverse("admin:funding_paymentcycle_changelist")).content.decode()
    assert "Run payment cycle now" in changelist

    response = admin_client.post(reverse("admin:funding_paymentcycle_run"), follow=True)

    assert state_of(claim) == ["paid"]
    cycle = PaymentCycle.objects.get()
    assert cycle.claims_paid == 1
    assert "1 claims paid (42.00)" in response.content.decode()
    from django_fsm_log.models import StateLog
    assert StateLog.objects.get(object_id=claim.pk, state="paid").by.username == "boss"


def test_record_a_deposit_from_the_admin(admin_client):
    s = make_sponsor(F.ASO)
    waiting = approved_claim(plan=s.plan, member=s.member(), provider=make_provider(), plan_paid="30.00")
    services.payment_cycle_run(today=day("2026-01-20"))
    url = reverse("admin:funding_deposit_record")
    assert admin_client.get(url).status_code == 200

    key = admin_client.get(url).context["form"].initial["idempotency_key"]
    bad = admin_client.post(url, {"employer": s.employer.pk, "amount": "0", "idempotency_key": key})
    assert bad.status_code == 200 and Deposit.objects.count() == 0
    response = admin_client.post(url, {"employer": s.employer.pk, "amount": "30.00", "reference": "ADM-1",
                                       "idempotency_key": key}, follow=True)

    assert Deposit.objects.get().reference == "ADM-1"
    assert state_of(waiting) == ["paid"]
    assert "1 waiting claims released" in response.content.decode()


def test_admin_actions_deposit_what_is_requested_and_pay_open_invoices(admin_client):
    aso, asc = busy_world(2)
    asked = services.funding_request_open_amount(employer=aso.employer)
    owed = services.reimbursement_open_amount(employer=asc.employer)
    assert asked > 0 and owed > 0

    admin_client.post(reverse("admin:funding_fundingrequest_changelist"),
                      {"action": "deposit_requested", "_selected_action": list(
                          FundingRequest.objects.values_list("pk", flat=True))})
    admin_client.post(reverse("admin:funding_reimbursementinvoice_changelist"),
                      {"action": "pay_open", "_selected_action": list(
                          ReimbursementInvoice.objects.values_list("pk", flat=True))})

    assert services.funding_request_open_amount(employer=aso.employer) == D("0.00")
    assert services.reimbursement_open_amount(employer=asc.employer) == D("0.00")
    assert SponsorPayment.objects.filter(amount=owed).count() == 1
    assert balance(K.ASC_RECEIVABLE, employer=asc.employer, carrier=asc.carrier) == D("0.00")


def test_remittance_page_shows_the_835_like_advice(admin_client):
    busy_world(1)
    remittance = RemittanceAdvice.objects.filter(amount__gt=0).first()
    page = admin_client.get(reverse("admin:funding_remittanceadvice_change", args=[remittance.pk])).content.decode()
    assert "835-like advice" in page
    assert remittance.payments.first().claim.claim_number in page
