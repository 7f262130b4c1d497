"""Admin for the money. The ledger is read-only here (as in the database); money moves only through
the services, which the admin calls: run a payment cycle, record a deposit, deposit what open
funding requests ask, record a sponsor's reimbursement of open invoices.

Every changelist selects its related rows in the same query (list_select_related).
"""
import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, Sum
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django_celery_beat import admin as beat_admin
from django_celery_beat import models as beat_models

from claims.selectors import CLAIM_NUMBER
from core.admin_base import LargeTableAdmin, ReadOnlyAdmin
from core.http import refusals_as_http
from parties.models import Employer, Provider
from parties.roles import Action, action_check, user_is_tpa_staff, user_may
from parties.selectors import employer_access_by_id, employer_list_visible_to
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
    return exc.text()


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
class LedgerTransactionAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ("id", "date", "kind", "employer", "memo", "moved")
    list_filter = ("kind", "date")
    search_fields = ("idempotency_key", "memo", "employer__name")
    list_select_related = ("employer",)
    inlines = [LedgerEntryInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_moved=Sum("entries__amount", filter=Q(entries__amount__gt=0)))

    @admin.display(description="amount moved", ordering="_moved")
    def moved(self, obj):
        return obj._moved


@admin.register(LedgerEntry)
class LedgerEntryAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount")
    list_filter = ("account__kind", "transaction__kind")
    search_fields = ("account__key", "transaction__idempotency_key", "transaction__memo")
    list_select_related = ("transaction", *ACCOUNT_PARTIES)


@admin.register(Payment)
class PaymentAdmin(LargeTableAdmin, ReadOnlyAdmin):
    list_display = ("claim", "amount", "paid_on", "payer_account", "provider", "remittance")
    list_filter = ("paid_on", "remittance__payer_account__kind")
    search_fields = ("remittance__provider__npi",)  # the search itself is get_search_results
    search_help_text = "Claim number (C000000123 or 123), provider NPI or name."
    list_select_related = ("claim", "remittance", "remittance__provider", "remittance__payer_account",
                           "remittance__payer_account__employer", "remittance__payer_account__carrier",
                           "remittance__payer_account__provider")

    def get_search_results(self, request, queryset, search_term):
        """Providers are looked up first, and a claim number is an id: every arm is an index lookup
        (a LIKE over a million payments' claim ids would read them all)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        providers = list(Provider.objects.filter(Q(npi=term) | Q(name__icontains=term)).order_by().values_list("pk", flat=True))
        condition = Q(pk__in=[])
        if providers:  # their remittances first: an OR across the join would read every payment
            condition |= Q(remittance_id__in=RemittanceAdvice.objects.filter(provider_id__any=providers).values("pk"))
        found = CLAIM_NUMBER.match(term)
        if found is not None:
            condition |= Q(claim_id=int(found.group(1)))
        return queryset.filter(condition), False


@admin.register(PaymentCycle)
class PaymentCycleAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "run_date", "claims_paid", "amount_paid", "claims_awaiting_funds", "started_at",
                    "finished_at")
    list_filter = ("kind", "run_date")
    change_list_template = "admin/funding/paymentcycle/change_list.html"

    def get_urls(self):
        return [path("run/", self.admin_site.admin_view(self.run_view), name="funding_paymentcycle_run"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {"may_run_cycle": user_may(user=request.user, action=Action.PAYMENT_CYCLE_RUN), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def run_view(self, request):
        """POST: run the payment cycle now (the same service the daily job runs; the role policy decides who)."""
        if request.method != "POST":
            return redirect("admin:funding_paymentcycle_changelist")
        with refusals_as_http():
            cycle = services.payment_cycle_run(by=request.user)
        if cycle is None:
            self.message_user(request, "Nothing waits for payment.", messages.INFO)
        else:
            self.message_user(request, f"Payment cycle {cycle.pk}: {cycle.claims_paid} claims paid "
                                       f"({cycle.amount_paid}), {cycle.claims_awaiting_funds} awaiting funds.")
        return redirect("admin:funding_paymentcycle_changelist")


@admin.register(RemittanceAdvice)
class RemittanceAdviceAdmin(LargeTableAdmin, ReadOnlyAdmin):
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
    employer = forms.ModelChoiceField(queryset=Employer.objects.none())
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    reference = forms.CharField(max_length=60, required=False, help_text="The bank's reference, if any.")
    # One per rendering of the form: posting it twice (a double click, a resubmit) is one deposit.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].queryset = (employer_list_visible_to(user=user)
                                            .filter(plans__funding=FundingArrangement.ASO).distinct())


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

    def changelist_view(self, request, extra_context=None):
        extra = {"may_record_deposit": user_may(user=request.user, action=Action.DEPOSIT_RECORD), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def record_view(self, request):
        """Record a deposit through the service (settles funding requests, releases waiting claims).

        A sponsor posted by a login that does not see every sponsor is checked first, by the check the
        service makes (`employer_access_by_id`): one it may not see, or no such sponsor, is 404 (the
        same answer for both); then a role that may not record deposits, 403. For TPA staff, who see
        every sponsor, and for the form's first rendering, the role alone decides here, and an id that
        names no sponsor is the form's error."""
        with refusals_as_http():
            employer_id = request.POST.get("employer", "").strip() if request.method == "POST" else ""
            if employer_id and not user_is_tpa_staff(user=request.user):
                employer_access_by_id(user=request.user, employer_id=employer_id, action=Action.DEPOSIT_RECORD)
            else:
                action_check(user=request.user, action=Action.DEPOSIT_RECORD)
        form = DepositForm(request.POST or None, user=request.user,
                           initial={"employer": request.GET.get("employer"), "idempotency_key": uuid.uuid4().hex})
        if request.method == "POST" and form.is_valid():
            try:
                with refusals_as_http():
                    deposit = services.sponsor_deposit(
                        employer=form.cleaned_data["employer"], amount=form.cleaned_data["amount"],
                        reference=form.cleaned_data["reference"], idempotency_key=form.cleaned_data["idempotency_key"],
                        by=request.user)
            except services.FundingError as exc:
                for field, msgs in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, msgs)
            else:
                released = deposit.release.claims_paid if deposit.release_id else 0
                self.message_user(request, f"Deposit {deposit.pk} of {deposit.amount} recorded for "
                                           f"{deposit.employer}; {released} waiting claims released.")
                # A sponsor's own login may record its deposits but not open the TPA's list of them.
                return redirect("admin:funding_deposit_changelist" if self.has_view_permission(request)
                                else "admin:funding_deposit_record")
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
        # What is requested is read by the service under the funding lock: a second click (or two at
        # once) finds nothing open and records nothing.
        for employer in Employer.objects.filter(pk__in=queryset.values("employer_id")).order_by("pk"):
            try:
                with refusals_as_http():
                    deposit = services.sponsor_deposit(employer=employer, amount=services.REQUESTED, by=request.user)
            except services.FundingError as exc:
                self.message_user(request, f"{employer}: {_error_text(exc)}", messages.ERROR)
            else:
                if deposit is None:
                    self.message_user(request, f"{employer}: nothing is requested.", messages.INFO)
                else:
                    self.message_user(request, f"{employer}: deposit {deposit.pk} of {deposit.amount} recorded.")

    def has_deposit_permission(self, request):
        return user_may(user=request.user, action=Action.DEPOSIT_RECORD)


@admin.register(ReimbursementInvoice)
class ReimbursementInvoiceAdmin(ReadOnlyAdmin):
    list_display = ("id", "employer", "carrier", "issued_on", "amount", "open_amount")
    list_filter = ("issued_on", "carrier")
    search_fields = ("employer__name", "carrier__name")
    list_select_related = ("employer", "carrier")
    actions = ["pay_open"]

    @admin.action(description="Record the sponsors' payment of their open invoices", permissions=["pay"])
    def pay_open(self, request, queryset):
        for employer in Employer.objects.filter(pk__in=queryset.values("employer_id")).order_by("pk"):
            try:
                with refusals_as_http():
                    payment = services.sponsor_reimbursement_pay(employer=employer, amount=services.REQUESTED,
                                                                 by=request.user)
            except services.FundingError as exc:
                self.message_user(request, f"{employer}: {_error_text(exc)}", messages.ERROR)
            else:
                if payment is None:
                    self.message_user(request, f"{employer}: no open invoice.", messages.INFO)
                else:
                    self.message_user(request, f"{employer}: payment {payment.pk} of {payment.amount} recorded.")

    def has_pay_permission(self, request):
        return user_may(user=request.user, action=Action.REIMBURSEMENT_PAY)


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


# --- The scheduled jobs (django-celery-beat): only a role that may manage jobs changes or runs them --

class JobsManagedByRole:
    """Viewing the schedule follows the model permissions; adding, changing, deleting, and the list
    actions (enable, disable, toggle, run now) need the role policy's job.manage (supervisors)."""

    def _may_manage(self, request) -> bool:
        return user_may(user=request.user, action=Action.JOB_MANAGE)

    def has_add_permission(self, request, *args):
        return self._may_manage(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._may_manage(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._may_manage(request) and super().has_delete_permission(request, obj)

    def get_actions(self, request):
        return super().get_actions(request) if self._may_manage(request) else {}


def _jobs_admin(model, base):
    admin.site.unregister(model)
    admin.site.register(model, type(base.__name__, (JobsManagedByRole, base), {"__module__": __name__}))


for _model, _base in ((beat_models.PeriodicTask, beat_admin.PeriodicTaskAdmin),
                      (beat_models.ClockedSchedule, beat_admin.ClockedScheduleAdmin),
                      (beat_models.CrontabSchedule, beat_admin.CrontabScheduleAdmin),
                      (beat_models.SolarSchedule, beat_admin.SolarScheduleAdmin),
                      (beat_models.IntervalSchedule, beat_admin.IntervalScheduleAdmin)):
    _jobs_admin(_model, _base)
