"""The money: a double-entry ledger, claim payments, funding requests and deposits (ASO),
reimbursement invoices and sponsor payments (ASC), fee and premium billing, stop-loss filings.

DOMAIN.md §5–6. Money moves only as balanced `LedgerTransaction`s; an entry is never edited or
deleted (PostgreSQL triggers in migration 0002 hold both rules in the database).
"""
from decimal import Decimal

from django.db import models
from django.db.models import F, Q

from parties.models import Carrier, Employer, Member, Provider
from plans.models import Plan, StopLossPolicy

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class Account(models.Model):
    """A pot of money. An entry's amount is what flows into the account (negative: out of it);
    an account's balance is the sum of its entries."""

    class Kind(models.TextChoices):
        SPONSOR = "sponsor", "Sponsor's own funds (external: deposits, fees and reimbursements come from here)"
        SPONSOR_CLAIMS = "sponsor_claims", "Sponsor claims account (held by the TPA)"
        ASC_RECEIVABLE = "asc_receivable", "Carrier's receivable from a sponsor (ASC)"
        CARRIER = "carrier", "Carrier claims account (ASC, fully insured)"
        PROVIDER = "provider", "Provider (payments received)"
        ADMIN_FEES = "admin_fees", "TPA admin fee income"
        PREMIUMS = "premiums", "Carrier premium income (fully insured)"
        STOP_LOSS = "stop_loss", "Stop-loss carrier"

    key = models.CharField(max_length=60, unique=True, help_text="kind:party ids, e.g. sponsor_claims:12")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    carrier = models.ForeignKey(Carrier, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")

    class Meta:
        ordering = ["kind", "key"]
        constraints = [
            # Each kind names exactly the parties it belongs to.
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["sponsor", "sponsor_claims"], employer__isnull=False, carrier__isnull=True, provider__isnull=True)
                    | Q(kind="asc_receivable", employer__isnull=False, carrier__isnull=False, provider__isnull=True)
                    | Q(kind__in=["carrier", "premiums", "stop_loss"], employer__isnull=True, carrier__isnull=False, provider__isnull=True)
                    | Q(kind="provider", employer__isnull=True, carrier__isnull=True, provider__isnull=False)
                    | Q(kind="admin_fees", employer__isnull=True, carrier__isnull=True, provider__isnull=True)
                ),
                name="account_parties_match_kind",
            ),
        ]

    def __str__(self) -> str:
        party = self.employer or self.carrier or self.provider
        label = self.get_kind_display().split(" (")[0]
        if self.kind == self.Kind.ASC_RECEIVABLE:
            return f"{label}: {self.carrier} from {self.employer}"
        return f"{label}: {party}" if party else label


class LedgerTransaction(models.Model):
    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Sponsor deposit (ASO)"
        CLAIM_PAYMENT = "claim_payment", "Claim payment"
        REIMBURSEMENT = "reimbursement", "Sponsor reimbursement payment (ASC)"
        ADMIN_FEE = "admin_fee", "Admin fee billed"
        PREMIUM = "premium", "Premium billed"
        STOP_LOSS = "stop_loss", "Stop-loss reimbursement"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    date = models.DateField(db_index=True)
    memo = models.CharField(max_length=300, blank=True)
    idempotency_key = models.CharField(max_length=100, unique=True)
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                 help_text="The sponsor whose plan the money concerns.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["employer", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date} #{self.pk}"


class LedgerEntry(models.Model):
    """One leg of a transaction. Never edited, never deleted."""

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**MONEY, help_text="Into the account; negative: out of it.")

    class Meta:
        ordering = ["transaction", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="ledger_entry_amount_not_zero")]
        indexes = [models.Index(fields=["account", "transaction"])]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount}"


class PaymentCycle(models.Model):
    """A run that paid claims: the daily payment cycle, or the release of waiting claims by a deposit."""

    class Kind(models.TextChoices):
        CYCLE = "cycle", "Payment cycle"
        RELEASE = "release", "Release by a deposit"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CYCLE)
    run_date = models.DateField(db_index=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    claims_paid = models.PositiveIntegerField(default=0)
    amount_paid = models.DecimalField(default=ZERO, **MONEY)
    claims_awaiting_funds = models.PositiveIntegerField(default=0, help_text="Claims that became awaiting_funds.")

    class Meta:
        ordering = ["-run_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="payment_cycle_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.run_date} #{self.pk}"


class RemittanceAdvice(models.Model):
    """One payment to one provider from one payer account in one run, for one sponsor's claims: what an
    835 carries (its claims and their lines, rendered by `selectors.remittance_advice_for`), and the
    one ledger transaction that moved its money (none when every claim on it was paid 0.00)."""

    cycle = models.ForeignKey(PaymentCycle, on_delete=models.PROTECT, related_name="remittances")
    payer_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="remittances")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="remittances")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="remittances",
                                 help_text="The sponsor whose plan's claims it pays.")
    issued_on = models.DateField()
    amount = models.DecimalField(default=ZERO, **MONEY)
    claim_count = models.PositiveIntegerField(default=0)
    transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="remittance")

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = "remittance advice"
        verbose_name_plural = "remittance advices"
        constraints = [
            models.UniqueConstraint(fields=["cycle", "payer_account", "provider", "employer"],
                                    name="remittance_once_per_cycle_payer_provider"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="remittance_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(amount=0, transaction__isnull=True) | Q(amount__gt=0, transaction__isnull=False),
                name="remittance_transaction_iff_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"Remittance {self.pk} to {self.provider.name} on {self.issued_on}"


class Payment(models.Model):
    """The one payment of one claim (0.00 for a claim whose plan_paid is 0.00).

    Who paid, whom, in which run and with which ledger transaction is its remittance's: one row per
    claim carries only the two links the database must check (the claim, the remittance), which keeps
    a payment cycle of 100,000 claims fast.
    """

    claim = models.OneToOneField("claims.Claim", on_delete=models.PROTECT, related_name="payment")
    # Indexed with the claim below: a remittance's payments are read a page at a time in claim order.
    remittance = models.ForeignKey(RemittanceAdvice, on_delete=models.PROTECT, related_name="payments",
                                   db_index=False)
    amount = models.DecimalField(**MONEY)
    paid_on = models.DateField()

    class Meta:
        ordering = ["-paid_on", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative")]
        indexes = [
            models.Index(fields=["paid_on", "id"], name="payment_paid_order"),  # the newest first, paged
            # Replaces the plain foreign-key index (same count of indexes for a payment cycle to keep).
            models.Index(fields=["remittance", "claim"], name="payment_remittance_claims"),
        ]

    def __str__(self) -> str:
        return f"Payment of {self.amount} for claim {self.claim_id} on {self.paid_on}"

    @property
    def payer_account(self) -> Account:
        return self.remittance.payer_account

    @property
    def provider(self) -> Provider:
        return self.remittance.provider

    @property
    def transaction(self) -> LedgerTransaction | None:
        return self.remittance.transaction if self.amount > 0 else None


class FundingRequest(models.Model):
    """ASO: what a payment cycle asked the sponsor to deposit for the claims it could not pay."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="funding_requests")
    cycle = models.ForeignKey(PaymentCycle, on_delete=models.PROTECT, related_name="funding_requests")
    requested_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    open_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["requested_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["employer", "cycle"], name="funding_request_once_per_cycle"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_request_amount_positive"),
            models.CheckConstraint(condition=Q(open_amount__gte=0, open_amount__lte=F("amount")),
                                   name="funding_request_open_within_amount"),
        ]
        indexes = [models.Index(fields=["employer", "open_amount"])]

    def __str__(self) -> str:
        return f"Funding request {self.pk}: {self.employer} {self.amount} (open {self.open_amount})"


class Deposit(models.Model):
    """ASO: money the sponsor put into its claims account."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="deposits")
    amount = models.DecimalField(**MONEY)
    received_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True, help_text="The bank's reference; a second deposit "
                                                                       "with the same reference is the same deposit.")
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="deposit")
    release = models.ForeignKey(PaymentCycle, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                help_text="The release of waiting claims this deposit paid for.")

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="deposit_amount_positive"),
            models.UniqueConstraint(fields=["employer", "reference"], condition=~Q(reference=""),
                                    name="deposit_reference_unique"),
        ]

    def __str__(self) -> str:
        return f"Deposit {self.pk}: {self.employer} {self.amount} on {self.received_on}"


class FundingSettlement(models.Model):
    """How much of a deposit went to settle which funding request (oldest first)."""

    deposit = models.ForeignKey(Deposit, on_delete=models.PROTECT, related_name="settlements")
    funding_request = models.ForeignKey(FundingRequest, on_delete=models.PROTECT, related_name="settlements")
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deposit", "funding_request"], name="funding_settlement_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="funding_settlement_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of deposit {self.deposit_id} to request {self.funding_request_id}"


class ReimbursementInvoice(models.Model):
    """ASC: the carrier's bill to the sponsor for the claims it paid and had not yet invoiced."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="reimbursement_invoices")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="reimbursement_invoices")
    issued_on = models.DateField()
    amount = models.DecimalField(**MONEY)
    open_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["issued_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_amount_non_negative"),
            models.CheckConstraint(condition=Q(open_amount__gte=0, open_amount__lte=F("amount")),
                                   name="invoice_open_within_amount"),
        ]
        indexes = [models.Index(fields=["employer", "open_amount"])]

    def __str__(self) -> str:
        return f"Invoice {self.pk}: {self.carrier} to {self.employer} {self.amount} (open {self.open_amount})"


class ReimbursementInvoiceClaim(models.Model):
    """A claim on an invoice: each claim is invoiced once."""

    invoice = models.ForeignKey(ReimbursementInvoice, on_delete=models.PROTECT, related_name="items")
    claim = models.OneToOneField("claims.Claim", on_delete=models.PROTECT, related_name="reimbursement_item")
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="invoice_item_amount_non_negative")]

    def __str__(self) -> str:
        return f"Claim {self.claim_id} on invoice {self.invoice_id}: {self.amount}"


class SponsorPayment(models.Model):
    """ASC: the sponsor reimburses the carrier; applied to its oldest open invoices first. What is not
    applied yet (paid ahead of an invoice) is applied to the next invoices."""

    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="sponsor_payments")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="sponsor_payments")
    amount = models.DecimalField(**MONEY)
    unapplied_amount = models.DecimalField(default=ZERO, **MONEY)
    paid_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True)
    transaction = models.OneToOneField(LedgerTransaction, on_delete=models.PROTECT, related_name="sponsor_payment")

    class Meta:
        ordering = ["paid_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="sponsor_payment_amount_positive"),
            models.CheckConstraint(condition=Q(unapplied_amount__gte=0, unapplied_amount__lte=F("amount")),
                                   name="sponsor_payment_unapplied_within_amount"),
            models.UniqueConstraint(fields=["employer", "reference"], condition=~Q(reference=""),
                                    name="sponsor_payment_reference_unique"),
        ]

    def __str__(self) -> str:
        return f"Sponsor payment {self.pk}: {self.employer} {self.amount} on {self.paid_on}"


class SponsorPaymentAllocation(models.Model):
    payment = models.ForeignKey(SponsorPayment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(ReimbursementInvoice, on_delete=models.PROTECT, related_name="allocations")
    amount = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["payment", "invoice"], name="sponsor_payment_allocation_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="sponsor_payment_allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} of payment {self.payment_id} to invoice {self.invoice_id}"


class FeeBilling(models.Model):
    """A plan's admin fees (ASO, ASC) or premiums (fully insured) for one calendar month."""

    class Kind(models.TextChoices):
        ADMIN_FEE = "admin_fee", "Admin fee"
        PREMIUM = "premium", "Premium"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="fee_billings")
    month = models.DateField(help_text="The first day of the billed month.")
    billed_on = models.DateField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    subscribers = models.PositiveIntegerField()
    pepm = models.DecimalField("per employee per month", **MONEY)
    amount = models.DecimalField(**MONEY)
    transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="fee_billing")

    class Meta:
        ordering = ["-month", "plan"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "month"], name="fee_billing_once_per_plan_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="fee_billing_month_first_day"),
            models.CheckConstraint(condition=Q(pepm__gte=0, amount__gte=0), name="fee_billing_non_negative"),
            models.CheckConstraint(
                condition=Q(amount=0, transaction__isnull=True) | Q(amount__gt=0, transaction__isnull=False),
                name="fee_billing_transaction_iff_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.plan.name} {self.month:%Y-%m}: {self.amount}"


class StopLossFiling(models.Model):
    """A stop-loss reimbursement: specific (per member, the increase since the last filing) or aggregate
    (once per policy, at the first evaluation on or after the paid-through date; 0.00 when none is due)."""

    class Kind(models.TextChoices):
        SPECIFIC = "specific", "Specific"
        AGGREGATE = "aggregate", "Aggregate"

    policy = models.ForeignKey(StopLossPolicy, on_delete=models.PROTECT, related_name="filings")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="stop_loss_filings")
    filed_on = models.DateField()
    counted_claims = models.DecimalField(help_text="Counted plan_paid at this evaluation (aggregate: after the caps).",
                                         **MONEY)
    attachment = models.DecimalField(**MONEY)
    amount = models.DecimalField(**MONEY)
    transaction = models.OneToOneField(LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="stop_loss_filing")

    class Meta:
        ordering = ["-filed_on", "-id"]
        # The carrier's and sponsor's lists, newest first (a page of 25 without sorting every filing).
        indexes = [models.Index(fields=["filed_on", "id"], name="stop_loss_filing_filed")]
        constraints = [
            models.UniqueConstraint(fields=["policy"], condition=Q(kind="aggregate"), name="stop_loss_aggregate_once"),
            models.CheckConstraint(
                condition=Q(kind="specific", member__isnull=False, amount__gt=0)
                | Q(kind="aggregate", member__isnull=True, amount__gte=0),
                name="stop_loss_filing_shape",
            ),
            models.CheckConstraint(condition=Q(counted_claims__gte=0, attachment__gte=0),
                                   name="stop_loss_filing_non_negative"),
            models.CheckConstraint(
                condition=Q(amount=0, transaction__isnull=True) | Q(amount__gt=0, transaction__isnull=False),
                name="stop_loss_filing_transaction_iff_amount",
            ),
        ]

    def __str__(self) -> str:
        who = f" for {self.member}" if self.member_id else ""
        return f"{self.get_kind_display()} stop-loss{who}: {self.amount} on {self.filed_on}"
