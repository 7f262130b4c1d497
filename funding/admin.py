"""Admin for the money. The ledger is read-only here (as in the database); money moves only through
the services, which the admin calls: run a payment cycle, record a deposit, deposit what open
funding requests ask, record a sponsor's reimbursement of open invoices.

Every changelist selects its related rows in the same query (list_select_related).
"""
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, Sum
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from claims.admin import ReadOnlyAdmin
from parties.models import Employer
from plans.models import FundingArrangement

from . import services
from .models import (
    Account,
    Deposit,
    FeeBilling,
    FundingRequest,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentCycle,
    ReimbursementInvoice,
    RemittanceAdvice,
    SponsorPayment,
    StopLossFiling,
)
from .selectors import remittance_advice_for

ACCOUNT_PARTIES = ("account", "account__employer", "account__carrier", "account__provider")


def _error_text(exc: services.FundingError) -> str:
    return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "employer", "carrier", "provider", "balance")
    list_filter = ("kind",)
    search_fields = ("key", "employer__name", "carrier__name", "provider__name", "provider__npi")
    list_select_related = ("employer", "carrier", "provider")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_balance=Sum("entries__amount"))

    @admin.display(description="balance", ordering="_balance")
    def balance(self, obj):
        return obj._balance or Decimal("0.00")


class LedgerEntryInline(admin.TabularInline):
    model = LedgerEntry
    fields = ("account", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*ACCOUNT_PARTIES)


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "date", "kind", "employer", "memo", "moved")
    list_filter = ("kind", "date")
    search_fields = ("idempotency_key", "memo", "employer__name")
    list_select_related = ("employer",)
    date_hierarchy = "date"
    inlines = [LedgerEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_moved=Sum("entries__amount", filter=Q(entries__amount__gt=0)))

    @admin.display(description="amount moved", ordering="_moved")
    def moved(self, obj):
        return obj._moved


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount")
    list_filter = ("account__kind", "transaction__kind")
    search_fields = ("account__key", "transaction__idempotency_key", "transaction__memo")
    list_select_related = ("transaction", *ACCOUNT_PARTIES)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ("claim", "amount", "paid_on", "payer_account", "provider", "remittance")
    list_filter = ("paid_on", "remittance__payer_account__kind")
    search_fields = ("claim__id", "remittance__provider__name", "remittance__provider__npi",
                     "remittance__payer_account__key")
    list_select_related = ("claim", "remittance", "remittance__provider", "remittance__payer_account",
                           "remittance__payer_account__employer", "remittance__payer_account__carrier",
                           "remittance__payer_account__provider")
    date_hierarchy = "paid_on"


@admin.register(PaymentCycle)
class PaymentCycleAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "run_date", "claims_paid", "amount_paid", "claims_awaiting_funds", "started_at",
                    "finished_at")
    list_filter = ("kind", "run_date")
    change_list_template = "admin/funding/paymentcycle/change_list.html"

    def get_urls(self):
        return [path("run/", self.admin_site.admin_view(self.run_view), name="funding_paymentcycle_run"),
                *super().get_urls()]

    def run_view(self, request):
        """POST: run the payment cycle now (the same service the daily job runs)."""
        if request.method != "POST":
            return redirect("admin:funding_paymentcycle_changelist")
        if not request.user.has_perm("funding.add_paymentcycle"):
            raise PermissionDenied
        cycle = services.payment_cycle_run(by=request.user)
        if cycle is None:
            self.message_user(request, "Nothing waits for payment.", messages.INFO)
        else:
            self.message_user(request, f"Payment cycle {cycle.pk}: {cycle.claims_paid} claims paid "
                                       f"({cycle.amount_paid}), {cycle.claims_awaiting_funds} awaiting funds.")
        return redirect("admin:funding_paymentcycle_changelist")


@admin.register(RemittanceAdvice)
class RemittanceAdviceAdmin(ReadOnlyAdmin):
    list_display = ("id", "provider", "payer_account", "employer", "issued_on", "amount", "claim_count", "cycle")
    list_filter = ("issued_on", "payer_account__kind")
    search_fields = ("provider__name", "provider__npi", "employer__name", "payer_account__key")
    list_select_related = ("provider", "cycle", "employer", "payer_account", "payer_account__employer",
                           "payer_account__carrier", "payer_account__provider")
    readonly_fields = ("advice",)
    fields = ("cycle", "payer_account", "provider", "employer", "issued_on", "amount", "claim_count", "transaction",
              "advice")

    @admin.display(description="835-like advice")
    def advice(self, obj):
        data = remittance_advice_for(remittance=obj)
        rows = mark_safe("<tr><th>claim</th><th>patient</th><th>service</th><th>billed</th><th>paid</th>"
                         "<th>patient owes</th><th>adjustments</th></tr>")
        for c in data["claims"]:
            adjustments = ", ".join(f"{a['group']}-{a['carc']} {a['amount']}" for ln in c["lines"]
                                    for a in ln["adjustments"])
            rows += format_html("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                                c["claim_number"], c["patient_member_id"], c["service_date"], c["billed"], c["paid"],
                                c["patient_responsibility"], adjustments)
        return format_html("<table>{}</table>", rows)


class DepositForm(forms.Form):
    employer = forms.ModelChoiceField(queryset=Employer.objects.filter(plans__funding=FundingArrangement.ASO).distinct())
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    reference = forms.CharField(max_length=60, required=False, help_text="The bank's reference, if any.")


@admin.register(Deposit)
class DepositAdmin(ReadOnlyAdmin):
    list_display = ("id", "employer", "amount", "received_on", "reference", "release")
    list_filter = ("received_on",)
    search_fields = ("employer__name", "reference")
    list_select_related = ("employer", "release")
    change_list_template = "admin/funding/deposit/change_list.html"

    def get_urls(self):
        return [path("record/", self.admin_site.admin_view(self.record_view), name="funding_deposit_record"),
                *super().get_urls()]

    def record_view(self, request):
        """Record a deposit through the service (settles funding requests, releases waiting claims)."""
        if not request.user.has_perm("funding.add_deposit"):
            raise PermissionDenied
        form = DepositForm(request.POST or None, initial={"employer": request.GET.get("employer")})
        if request.method == "POST" and form.is_valid():
            try:
                deposit = services.sponsor_deposit(employer=form.cleaned_data["employer"],
                                                   amount=form.cleaned_data["amount"],
                                                   reference=form.cleaned_data["reference"], by=request.user)
            except services.FundingError as exc:
                for field, msgs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, msgs)
            else:
                released = deposit.release.claims_paid if deposit.release_id else 0
                self.message_user(request, f"Deposit {deposit.pk} of {deposit.amount} recorded for "
                                           f"{deposit.employer}; {released} waiting claims released.")
                return redirect("admin:funding_deposit_changelist")
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Record a deposit"}
        return TemplateResponse(request, "admin/funding/record_deposit.html", context)


@admin.register(FundingRequest)
class FundingRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "employer", "requested_on", "amount", "open_amount", "cycle")
    list_filter = ("requested_on",)
    search_fields = ("employer__name",)
    list_select_related = ("employer", "cycle")
    actions = ["deposit_requested"]

    @admin.action(description="Record a deposit of what the sponsors' open requests ask", permissions=["deposit"])
    def deposit_requested(self, request, queryset):
        for employer_id in sorted(set(queryset.values_list("employer_id", flat=True))):
            employer = Employer.objects.get(pk=employer_id)
            amount = services.funding_request_open_amount(employer=employer)
            if amount <= 0:
                self.message_user(request, f"{employer}: nothing is requested.", messages.INFO)
                continue
            try:
                deposit = services.sponsor_deposit(employer=employer, amount=amount, by=request.user)
            except services.FundingError as exc:
                self.message_user(request, f"{employer}: {_error_text(exc)}", messages.ERROR)
            else:
                self.message_user(request, f"{employer}: deposit {deposit.pk} of {deposit.amount} recorded.")

    def has_deposit_permission(self, request):
        return request.user.has_perm("funding.add_deposit")


@admin.register(ReimbursementInvoice)
class ReimbursementInvoiceAdmin(ReadOnlyAdmin):
    list_display = ("id", "employer", "carrier", "issued_on", "amount", "open_amount")
    list_filter = ("issued_on", "carrier")
    search_fields = ("employer__name", "carrier__name")
    list_select_related = ("employer", "carrier")
    actions = ["pay_open"]

    @admin.action(description="Record the sponsors' payment of their open invoices", permissions=["pay"])
    def pay_open(self, request, queryset):
        for employer_id in sorted(set(queryset.values_list("employer_id", flat=True))):
            employer = Employer.objects.get(pk=employer_id)
            amount = services.reimbursement_open_amount(employer=employer)
            if amount <= 0:
                self.message_user(request, f"{employer}: no open invoice.", messages.INFO)
                continue
            try:
                payment = services.sponsor_reimbursement_pay(employer=employer, amount=amount)
            except services.FundingError as exc:
                self.message_user(request, f"{employer}: {_error_text(exc)}", messages.ERROR)
            else:
                self.message_user(request, f"{employer}: payment {payment.pk} of {payment.amount} recorded.")

    def has_pay_permission(self, request):
        return request.user.has_perm("funding.add_sponsorpayment")


@admin.register(SponsorPayment)
class SponsorPaymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "employer", "carrier", "paid_on", "amount", "unapplied_amount", "reference")
    list_filter = ("paid_on",)
    search_fields = ("employer__name", "reference")
    list_select_related = ("employer", "carrier")


@admin.register(FeeBilling)
class FeeBillingAdmin(ReadOnlyAdmin):
    list_display = ("plan", "month", "kind", "subscribers", "pepm", "amount", "billed_on")
    list_filter = ("kind", "month")
    search_fields = ("plan__name", "plan__sponsor__name")
    list_select_related = ("plan", "plan__sponsor")


@admin.register(StopLossFiling)
class StopLossFilingAdmin(ReadOnlyAdmin):
    list_display = ("id", "policy", "kind", "member", "filed_on", "counted_claims", "attachment", "amount")
    list_filter = ("kind", "filed_on")
    search_fields = ("policy__plan__sponsor__name", "member__name", "member__member_id")
    list_select_related = ("policy", "policy__plan", "policy__plan__sponsor", "member")
