"""ASC reimbursement (DOMAIN.md §5): the carrier bills the sponsor for the claims it paid; the
sponsor's payments settle its oldest open invoices first. Payments are recorded once, as deposits are
(a reference or an idempotency key names one payment)."""
import datetime
import uuid
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from core import clock
from core.bulk import bulk_insert
from parties.models import Carrier, Employer
from parties.roles import Action, action_check
from plans.models import Plan

from ..errors import FundingError
from ..models import (
    Payment,
    ReimbursementInvoice,
    ReimbursementInvoiceClaim,
    SponsorPayment,
    SponsorPaymentAllocation,
)
from .deposits import REQUESTED
from .ledger import (
    ZERO,
    F,
    K,
    Posting,
    T,
    _amount,
    _balances,
    _funding_lock,
    _idempotency_key,
    _ledger_key,
    _lock_accounts,
    _money_recorded_before,
    _post,
    _reference,
    _sponsor_access,
    accounts_ensure,
    carrier_spec,
    receivable_spec,
)


def _apply_credit_to_invoices(*, employer_id: int, carrier_id: int) -> None:
    """Apply the sponsor's unapplied payments to its open invoices with that carrier, oldest first."""
    payments = list(SponsorPayment.objects.filter(employer_id=employer_id, carrier_id=carrier_id,
                                                  unapplied_amount__gt=0).order_by("paid_on", "id").select_for_update())
    if not payments:
        return
    invoices = list(ReimbursementInvoice.objects.filter(employer_id=employer_id, carrier_id=carrier_id,
                                                        open_amount__gt=0).order_by("issued_on", "id").select_for_update())
    allocations: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for payment in payments:
        for invoice in invoices:
            if payment.unapplied_amount <= 0:
                break
            take = min(payment.unapplied_amount, invoice.open_amount)
            if take <= 0:
                continue
            payment.unapplied_amount -= take
            invoice.open_amount -= take
            allocations[(payment.pk, invoice.pk)] += take
    for (payment_id, invoice_id), amount in allocations.items():
        allocation, created = SponsorPaymentAllocation.objects.get_or_create(
            payment_id=payment_id, invoice_id=invoice_id, defaults={"amount": amount})
        if not created:
            allocation.amount += amount
            allocation.save(update_fields=["amount"])
    SponsorPayment.objects.bulk_update(payments, ["unapplied_amount"])
    ReimbursementInvoice.objects.bulk_update(invoices, ["open_amount"])


def reimbursement_billing_run(*, today: datetime.date | None = None, by=None) -> list[ReimbursementInvoice]:
    """ASC: one invoice per sponsor (and carrier) for every claim the carrier paid for it up to `today`
    and has not yet invoiced. What the sponsor paid ahead of the invoice is applied to it at once."""
    if by is not None:
        action_check(user=by, action=Action.BILLING_RUN)
    today = today or clock.today()
    with transaction.atomic():
        _funding_lock()
        rows = list(
            Payment.objects.filter(amount__gt=0, paid_on__lte=today, remittance__payer_account__kind=K.CARRIER,
                                   claim__plan__funding=F.ASC, claim__reimbursement_item__isnull=True)
            .order_by("paid_on", "claim_id")
            .values_list("claim_id", "amount", "remittance__employer_id", "remittance__payer_account__carrier_id")
        )
        if not rows:
            return []
        by_bill: dict[tuple, list] = defaultdict(list)
        for claim_id, amount, sponsor_id, carrier_id in rows:
            by_bill[(sponsor_id, carrier_id)].append((claim_id, amount))
        keys = sorted(by_bill)
        invoices = ReimbursementInvoice.objects.bulk_create([
            ReimbursementInvoice(employer_id=s, carrier_id=c, issued_on=today, amount=sum(a for _, a in by_bill[(s, c)]),
                                 open_amount=sum(a for _, a in by_bill[(s, c)]))
            for s, c in keys
        ])
        bulk_insert(ReimbursementInvoiceClaim, ("invoice_id", "claim_id", "amount"),
                    [(inv.pk, claim_id, amount) for inv, k in zip(invoices, keys) for claim_id, amount in by_bill[k]])
        for sponsor_id, carrier_id in keys:
            _apply_credit_to_invoices(employer_id=sponsor_id, carrier_id=carrier_id)
        return list(ReimbursementInvoice.objects.filter(pk__in=[i.pk for i in invoices]).order_by("pk"))


def reimbursement_open_amount(*, employer: Employer, carrier_id: int | None = None) -> Decimal:
    """What the sponsor's open reimbursement invoices (those of one carrier, when given) still ask for."""
    invoices = ReimbursementInvoice.objects.filter(employer=employer)
    if carrier_id is not None:
        invoices = invoices.filter(carrier_id=carrier_id)
    return invoices.aggregate(t=Sum("open_amount"))["t"] or ZERO


def _asc_carrier_for(employer: Employer, carrier: Carrier | None) -> int:
    carrier_ids = set(Plan.objects.filter(sponsor=employer, funding=F.ASC).values_list("carrier_id", flat=True))
    if not carrier_ids:
        raise FundingError({"employer": [f"{employer} has no ASC plan: only ASC sponsors reimburse a carrier."]})
    if carrier is not None:
        if carrier.pk not in carrier_ids:
            raise FundingError({"carrier": [f"{carrier} pays no ASC claims for {employer}."]})
        return carrier.pk
    if len(carrier_ids) > 1:
        raise FundingError({"carrier": [f"{employer} has ASC plans with several carriers: say which one is paid."]})
    return carrier_ids.pop()


def sponsor_reimbursement_pay(*, employer: Employer, amount, today: datetime.date | None = None,
                              carrier: Carrier | None = None, reference: str = "", idempotency_key: str = "",
                              by=None) -> SponsorPayment | None:
    """ASC: the sponsor reimburses the carrier. The payment settles its oldest open invoices first
    (partial payments allowed); what exceeds them reduces the receivable for claims not yet invoiced
    and is applied to the next invoice. Paying more than the sponsor owes the carrier is refused.
    `amount` "requested" pays what its open invoices ask, read under the funding lock (None when
    nothing is open). A payment whose `reference` (or `idempotency_key`) was recorded before is that payment."""
    _sponsor_access(by=by, employer=employer, action=Action.REIMBURSEMENT_PAY)
    if amount != REQUESTED:
        amount = _amount(amount)
    today = today or clock.today()
    reference, key = _reference(reference), _idempotency_key(idempotency_key)
    ledger_key = _ledger_key(prefix="reimbursement", employer_id=employer.pk, reference=reference, idempotency_key=key)
    with transaction.atomic():
        _funding_lock()
        existing = _money_recorded_before(model=SponsorPayment, related_name="sponsor_payment", what="payment",
                                          date_field="paid_on", employer=employer, reference=reference,
                                          keyed=ledger_key if key else None, amount=amount)
        if existing is not None:
            return existing
        carrier_id = _asc_carrier_for(employer, carrier)
        if amount == REQUESTED:
            amount = reimbursement_open_amount(employer=employer, carrier_id=carrier_id)
            if amount <= 0:
                return None
        acct = accounts_ensure(specs=[receivable_spec(employer.pk, carrier_id), carrier_spec(carrier_id)])
        receivable = acct[receivable_spec(employer.pk, carrier_id)]
        _lock_accounts([receivable])
        owed = _balances([receivable])[receivable]
        if amount > owed:
            raise FundingError({"amount": [f"{amount} is more than {employer} owes the carrier ({owed}); "
                                           f"open invoices: {reimbursement_open_amount(employer=employer)}"]})
        posting = Posting(kind=T.REIMBURSEMENT, date=today, employer_id=employer.pk,
                          key=ledger_key or f"reimbursement:{employer.pk}:{uuid.uuid4().hex}",
                          memo=f"reimbursement by {employer}" + (f", reference {reference}" if reference else ""))
        posting.move(source=receivable, target=acct[carrier_spec(carrier_id)], amount=amount)
        (txn_id,) = _post([posting])
        payment = SponsorPayment.objects.create(employer=employer, carrier_id=carrier_id, amount=amount,
                                                unapplied_amount=amount, paid_on=today, reference=reference,
                                                transaction_id=txn_id)
        _apply_credit_to_invoices(employer_id=employer.pk, carrier_id=carrier_id)
        payment.refresh_from_db()
        return payment
