"""Admin for claims: the examiner's screen, the member's explanation of benefits, accumulators and
line results.

Nothing here edits a claim: its figures and its state are the services' (the state is a protected
django-fsm field). The change page is read-only and carries the examiner's actions (approve or deny
a pended claim, record an appeal, adjudicate now), each a POST-only admin URL that checks its
permission and calls `claims.services`; someone acting first shows as an error message.
Changelists select their related rows in the same query, so a page costs the same number of
queries whatever its size. What a login may see is `claims.selectors.claim_list_visible_to`.
"""
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core.admin_base import LargeTableAdmin, ReadOnlyAdmin
from core.http import refusals_as_http
from core.money import fmt
from parties.admin_scope import PartyScopedAdmin, VisibleChoicesFilter
from parties.roles import Action, user_may
from plans.models import FeeScheduleEntry

from . import tasks
from .carc import CARC_MEANING, DENIAL_MEANING, EXAMINER_DEFAULT_DENIAL, EXAMINER_DENIAL_CODES, carc_text
from .models import Accumulator, Claim, ClaimLine, ClaimState, LineResult
from .selectors import (
    accumulator_list_visible_to,
    claim_line_results,
    claim_list_visible_to,
    claim_search_condition,
    claim_transitions,
    explanation_of_benefits,
    line_result_list_visible_to,
)
from .services import ClaimConflict, ClaimError, claim_adjudicate, claim_appeal, claim_review

S = ClaimState
MONEY_FIELDS = ("billed", "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                "plan_paid", "member_responsibility", "provider_write_off")


def money(value: Decimal | None) -> str:
    return "—" if value is None else fmt(value)


def carc_badges(codes):
    """CARCs as short badges whose tooltip is the meaning."""
    return format_html_join(" ", '<span class="carc" title="{}">{}</span>',
                            ((CARC_MEANING.get(c, ""), c) for c in codes)) or "—"


def trace_steps(trace: str) -> list[str]:
    """The trace's steps, one per line when the engine writes them so; else the trace as one step
    (its "; " also separates parts of one step, so it is not a step boundary)."""
    return [s.strip() for s in trace.splitlines() if s.strip()]


def error_text(exc: ClaimError) -> str:
    return " ".join(" ".join(msgs) for msgs in exc.message_dict.values())


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=(("approve", "Approve"), ("deny", "Deny")))
    reason_code = forms.ChoiceField(
        label="Reason code (for a denial)", initial=EXAMINER_DEFAULT_DENIAL, required=False,
        choices=[(c, carc_text(c)) for c in EXAMINER_DENIAL_CODES],
    )
    note = forms.CharField(label="Note", required=False, max_length=200,
                           widget=forms.TextInput(attrs={"size": 60, "placeholder": "optional, kept in the history"}))


class AppealForm(forms.Form):
    reason = forms.CharField(label="Reason", required=False, max_length=200,
                             widget=forms.TextInput(attrs={"size": 60, "placeholder": "optional, kept in the history"}))


class ClaimLineInline(admin.TabularInline):
    """The lines as the provider sent them (their figures are in the adjudication table below)."""

    model = ClaimLine
    fields = ("line_number", "procedure_code", "units", "billed_display")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "line as submitted"
    verbose_name_plural = "lines as submitted"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("claim")  # each row shows str(line), which names its claim

    @admin.display(description="billed")
    def billed_display(self, obj):
        return money(obj.billed)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(LargeTableAdmin, PartyScopedAdmin, ReadOnlyAdmin):
    list_display = ("claim_number_display", "member_display", "provider_display", "service_on", "received_on",
                    "state_display", "billed_display", "plan_paid_display", "member_responsibility_display",
                    "reason_codes_display")
    list_filter = ("state", ("plan__sponsor", VisibleChoicesFilter), "received_date", "provider__network")
    # Claim numbers (C000000123 or 123) are matched in get_search_results.
    search_fields = ("=member__member_id", "=submitted_member_id", "member__name", "=provider__npi",
                     "=submitted_npi", "provider__name")
    search_help_text = "Claim number (C000000123 or 123), member ID or name, provider NPI or name."
    list_select_related = ("member", "provider", "plan__sponsor")
    ordering = ("-received_date", "-id")
    list_per_page = 50
    inlines = (ClaimLineInline,)
    actions = ("run_auto_adjudication", "approve_selected", "adjudicate_selected")
    readonly_fields = (
        "claim_number_display", "state_display", "member_link", "provider_link", "plan_link", "service_date",
        "received_date", "adjudicated_on", "adjudication_round", "coverage_display", "plan_year_start",
        "submitted_by", "submitted_member_id", "submitted_npi", "rejection_field", "rejection_message",
        "duplicate_of_link", *(f"{f}_display" for f in MONEY_FIELDS), "reason_codes_meaning", "paid_on",
    )

    # --- pages ---------------------------------------------------------------------------------

    def get_queryset(self, request):
        qs = claim_list_visible_to(user=request.user)
        return qs.order_by(*(self.get_ordering(request) or ()))

    def get_search_results(self, request, queryset, search_term):
        condition = claim_search_condition(term=search_term)
        return (queryset if condition is None else queryset.filter(condition)), False

    def get_fieldsets(self, request, obj=None):
        header = ["claim_number_display", "state_display", "member_link", "provider_link", "plan_link",
                  ("service_date", "received_date"), ("adjudicated_on", "adjudication_round"),
                  ("coverage_display", "plan_year_start"), "submitted_by"]
        fieldsets = [(None, {"fields": header})]
        if obj is not None and obj.state == S.REJECTED:
            fieldsets.append(("Rejected at intake", {
                "fields": ("rejection_field", "rejection_message", "submitted_member_id", "submitted_npi"),
            }))
        if obj is not None and obj.is_duplicate:
            fieldsets.append(("Duplicate", {"fields": ("duplicate_of_link",)}))
        fieldsets.append(("Totals", {"fields": (
            ("billed_display", "allowed_display"),
            ("deductible_display", "copay_display", "coinsurance_display"),
            ("not_covered_display", "balance_billed_display"),
            ("plan_paid_display", "member_responsibility_display", "provider_write_off_display"),
            "reason_codes_meaning", "paid_on",
        )}))
        return fieldsets

    def change_view(self, request, object_id, form_url="", extra_context=None):
        claim = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if claim is not None:
            extra.update(self._claim_context(request, claim))
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _claim_context(self, request, claim: Claim) -> dict:
        lines = []
        for r in claim_line_results(claim=claim):
            lines.append({
                "number": r.line.line_number, "code": r.line.procedure_code, "category": r.category,
                "units": r.line.units, "billed": money(r.line.billed), "fee": money(r.fee),
                **{f: money(getattr(r, f)) for f in ("allowed", "deductible", "copay", "coinsurance", "not_covered",
                                                      "balance_billed", "provider_write_off", "plan_paid")},
                "member_owes": money(r.member_owes),
                "denied": bool(r.denial_code),
                "codes": [(c, CARC_MEANING.get(c, "")) for c in r.reason_code_list],
                "steps": trace_steps(r.trace_text),
            })
        may_review = self.has_review_permission(request)
        return {
            "claim": claim,
            "result_lines": lines,
            "history": claim_transitions(claim=claim),
            "eob_url": reverse("admin:claims_claim_eob", args=[claim.pk]),
            "can_review": may_review and claim.state == S.PENDED,
            "can_appeal": self.has_appeal_permission(request) and claim.state == S.DENIED,
            "can_adjudicate": self.has_operate_permission(request) and claim.state in (S.SUBMITTED, S.APPEALED),
            "review_form": ReviewForm(),
            "appeal_form": AppealForm(),
            "review_url": reverse("admin:claims_claim_review", args=[claim.pk]),
            "appeal_url": reverse("admin:claims_claim_appeal", args=[claim.pk]),
            "adjudicate_url": reverse("admin:claims_claim_adjudicate", args=[claim.pk]),
        }

    # --- permissions ---------------------------------------------------------------------------

    # What a login may do is the role policy's (parties.roles); these only decide which buttons show.
    # The services check again, and a view refused there answers 403 (404 for a claim it may not see).

    def has_review_permission(self, request) -> bool:
        return user_may(user=request.user, action=Action.CLAIM_REVIEW)

    def has_appeal_permission(self, request) -> bool:
        return user_may(user=request.user, action=Action.CLAIM_APPEAL)

    def has_operate_permission(self, request) -> bool:
        """Run the adjudication rules now, on one claim."""
        return user_may(user=request.user, action=Action.CLAIM_ADJUDICATE)

    def has_batch_permission(self, request) -> bool:
        """Queue the batch over every submitted and appealed claim (what the scheduled job does)."""
        return user_may(user=request.user, action=Action.CLAIMS_ADJUDICATE_PENDING)

    # --- examiner actions ----------------------------------------------------------------------

    def get_urls(self):
        def view(fn):
            return self.admin_site.admin_view(fn)

        return [
            path("<int:object_id>/review/", view(self.review_view), name="claims_claim_review"),
            path("<int:object_id>/appeal/", view(self.appeal_view), name="claims_claim_appeal"),
            path("<int:object_id>/adjudicate/", view(self.adjudicate_view), name="claims_claim_adjudicate"),
            path("<int:object_id>/eob/", view(self.eob_view), name="claims_claim_eob"),
            path("adjudicate-pending/", view(self.adjudicate_pending_view), name="claims_claim_adjudicate_pending"),
            *super().get_urls(),
        ]

    def _visible_claim(self, request, object_id: int) -> Claim:
        claim = self.get_queryset(request).filter(pk=object_id).first()
        if claim is None or not self.has_view_permission(request, claim):
            raise Http404("No such claim.")
        return claim

    def _back(self, claim: Claim):
        return redirect("admin:claims_claim_change", claim.pk)

    def _conflict(self, request, claim: Claim, exc: ClaimError) -> None:
        if isinstance(exc, ClaimConflict):
            self.message_user(request, f"Someone acted on {claim.claim_number} first: {error_text(exc)}. "
                                       "Nothing was changed.", messages.ERROR)
        else:
            self.message_user(request, f"{claim.claim_number}: {error_text(exc)}", messages.ERROR)

    @method_decorator(require_POST)
    def review_view(self, request, object_id: int):
        claim = self._visible_claim(request, object_id)
        if not self.has_review_permission(request):
            raise PermissionDenied
        form = ReviewForm(request.POST)
        if not form.is_valid():
            self.message_user(request, f"{claim.claim_number}: the review was not understood: "
                                       f"{form.errors.as_text()}", messages.ERROR)
            return self._back(claim)
        decision = form.cleaned_data["decision"]
        code = (form.cleaned_data["reason_code"] or EXAMINER_DEFAULT_DENIAL) if decision == "deny" else None
        try:
            with refusals_as_http():
                done = claim_review(claim_id=claim.pk, decision=decision, user=request.user, reason_code=code,
                                    note=form.cleaned_data["note"])
        except ClaimError as exc:
            self._conflict(request, claim, exc)
        else:
            self.message_user(request, self._outcome_text(done), messages.SUCCESS)
        return self._back(claim)

    @method_decorator(require_POST)
    def appeal_view(self, request, object_id: int):
        claim = self._visible_claim(request, object_id)
        if not self.has_appeal_permission(request):
            raise PermissionDenied
        form = AppealForm(request.POST)
        if not form.is_valid():  # say what is wrong; record nothing
            self.message_user(request, "Appeal not recorded: " + " ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()), messages.ERROR)
            return self._back(claim)
        reason = form.cleaned_data["reason"]
        try:
            with refusals_as_http():
                claim_appeal(claim_id=claim.pk, user=request.user, reason=reason)
        except ClaimError as exc:
            self._conflict(request, claim, exc)
        else:
            self.message_user(request, f"Appeal of {claim.claim_number} recorded: the next adjudication run "
                                       "re-adjudicates it (or use “Adjudicate now”).", messages.SUCCESS)
        return self._back(claim)

    @method_decorator(require_POST)
    def adjudicate_view(self, request, object_id: int):
        claim = self._visible_claim(request, object_id)
        if not self.has_operate_permission(request):
            raise PermissionDenied
        try:
            with refusals_as_http():
                done = claim_adjudicate(claim_id=claim.pk, by=request.user)
        except ClaimError as exc:
            self._conflict(request, claim, exc)
        else:
            self.message_user(request, self._outcome_text(done), messages.SUCCESS)
        return self._back(claim)

    @staticmethod
    def _outcome_text(claim: Claim) -> str:
        if claim.state == S.PENDED:
            return f"{claim.claim_number} is pended for an examiner's review."
        return (f"{claim.claim_number} is {claim.state}: plan pays {money(claim.plan_paid)}, member owes "
                f"{money(claim.member_responsibility)}, provider writes off {money(claim.provider_write_off)}"
                + (f" (CARC {', '.join(claim.reason_code_list)})" if claim.reason_codes else "") + ".")

    def _enqueue_auto_adjudication(self, request) -> None:
        with refusals_as_http():
            tasks.adjudicate_pending_claims_enqueue(by=request.user)
        self.message_user(request, "Auto-adjudication of every submitted and appealed claim was queued; "
                                   "reload this page in a moment to see the results.", messages.SUCCESS)

    @admin.action(description="Run auto-adjudication now (all submitted and appealed claims)", permissions=["batch"])
    def run_auto_adjudication(self, request, queryset):
        self._enqueue_auto_adjudication(request)

    # The claims' transitions as list actions, applied only where legal now: each selected claim goes
    # through the same service as its page's button; the others are counted and left as they are.
    ACTION_LIMIT = 200  # "select all" over a million claims is not a review; the rest are left for the batch

    def _apply_to_selected(self, request, queryset, *, legal_states, act, verb: str) -> None:
        ids = list(queryset.order_by("received_date", "id").values_list("id", "state")[:self.ACTION_LIMIT + 1])
        over = len(ids) > self.ACTION_LIMIT
        done, skipped, refused = 0, 0, []
        for claim_id, state in ids[:self.ACTION_LIMIT]:
            if state not in legal_states:
                skipped += 1
                continue
            try:
                with refusals_as_http():
                    act(claim_id)
            except ClaimError as exc:
                refused.append(f"C{claim_id:09d}: {error_text(exc)}")
            else:
                done += 1
        parts = [f"{done} claim{'s' if done != 1 else ''} {verb}"]
        if skipped:
            parts.append(f"{skipped} left as they are (not in a state this applies to)")
        if over:
            parts.append(f"only the first {self.ACTION_LIMIT} selected were considered")
        self.message_user(request, "; ".join(parts) + ".", messages.SUCCESS if done else messages.WARNING)
        for text in refused:
            self.message_user(request, text, messages.ERROR)

    @admin.action(description="Approve the selected pended claims", permissions=["review"])
    def approve_selected(self, request, queryset):
        self._apply_to_selected(request, queryset, legal_states={S.PENDED}, verb="approved", act=lambda pk: claim_review(
            claim_id=pk, decision="approve", user=request.user, note="approved from the claim list"))

    @admin.action(description="Adjudicate the selected submitted or appealed claims now", permissions=["operate"])
    def adjudicate_selected(self, request, queryset):
        self._apply_to_selected(request, queryset, legal_states={S.SUBMITTED, S.APPEALED}, verb="adjudicated",
                                act=lambda pk: claim_adjudicate(claim_id=pk, by=request.user))

    @method_decorator(require_POST)
    def adjudicate_pending_view(self, request):
        self._enqueue_auto_adjudication(request)
        return redirect("admin:claims_claim_changelist")

    def changelist_view(self, request, extra_context=None):
        extra = {"can_operate": self.has_batch_permission(request),
                 "adjudicate_pending_url": reverse("admin:claims_claim_adjudicate_pending"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    # --- explanation of benefits ---------------------------------------------------------------

    def eob_view(self, request, object_id: int):
        claim = self._visible_claim(request, object_id)
        eob = explanation_of_benefits(claim=claim)
        if claim.plan_id is not None and eob["lines"]:
            # The services' names, for the member (one query for the claim's codes).
            names = dict(FeeScheduleEntry.objects.filter(
                schedule_id=claim.plan.fee_schedule_id, code__in={ln["code"] for ln in eob["lines"]},
            ).values_list("code", "description"))
            for line in eob["lines"]:
                line["description"] = names.get(line["code"], "")
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "original": claim,
            "title": f"Explanation of benefits: {claim.claim_number}", "eob": eob, "claim": claim,
            "priced": claim.state not in (S.SUBMITTED, S.PENDED, S.REJECTED) and claim.adjudication_round > 0,
        }
        return TemplateResponse(request, "admin/claims/claim/eob.html", context)

    # --- columns and read-only fields ----------------------------------------------------------

    @admin.display(description="claim", ordering="id")
    def claim_number_display(self, obj):
        return obj.claim_number

    @admin.display(description="member", ordering="member__name")
    def member_display(self, obj):
        if obj.member_id is None:
            return format_html('<span class="unknown">{} (unknown)</span>', obj.submitted_member_id or "—")
        return format_html("{}<br><small>{}</small>", obj.member.name, obj.member.member_id)

    @admin.display(description="provider", ordering="provider__name")
    def provider_display(self, obj):
        if obj.provider_id is None:
            return format_html('<span class="unknown">NPI {} (unknown)</span>', obj.submitted_npi or "—")
        network = "" if obj.provider.in_network else " · out of network"
        return format_html("{}<br><small>NPI {}{}</small>", obj.provider.name, obj.provider.npi, network)

    @admin.display(description="service", ordering="service_date")
    def service_on(self, obj):
        return obj.service_date.isoformat()

    @admin.display(description="received", ordering="received_date")
    def received_on(self, obj):
        return obj.received_date.isoformat()

    @admin.display(description="state", ordering="state")
    def state_display(self, obj):
        return format_html('<span class="claim-state state-{}">{}</span>', obj.state, obj.get_state_display())

    @admin.display(description="reason codes")
    def reason_codes_display(self, obj):
        return carc_badges(obj.reason_code_list)

    @admin.display(description="reason codes")
    def reason_codes_meaning(self, obj):
        if not obj.reason_codes:
            return "—"
        return format_html_join(mark_safe("<br>"), '<span class="carc">{}</span> {}',
                                ((c, CARC_MEANING.get(c, "")) for c in obj.reason_code_list))

    @admin.display(description="member")
    def member_link(self, obj):
        if obj.member_id is None:
            return f"unknown member ID {obj.submitted_member_id!r}"
        return format_html('<a href="{}">{} ({})</a>', reverse("admin:parties_member_change", args=[obj.member_id]),
                           obj.member.name, obj.member.member_id)

    @admin.display(description="provider")
    def provider_link(self, obj):
        if obj.provider_id is None:
            return f"unknown provider NPI {obj.submitted_npi!r}"
        return format_html('<a href="{}">{}</a> (NPI {}, {})',
                           reverse("admin:parties_provider_change", args=[obj.provider_id]), obj.provider.name,
                           obj.provider.npi, obj.provider.get_network_display().lower())

    @admin.display(description="plan")
    def plan_link(self, obj):
        if obj.plan_id is None:
            return "—"
        return format_html('<a href="{}">{}</a> of {} ({})', reverse("admin:plans_plan_change", args=[obj.plan_id]),
                           obj.plan.name, obj.plan.sponsor.name, obj.plan.get_funding_display())

    @admin.display(description="coverage")
    def coverage_display(self, obj):
        return "family" if obj.family_coverage else "single"

    @admin.display(description="duplicate of")
    def duplicate_of_link(self, obj):
        if obj.duplicate_of_id is None:
            return "—"
        return format_html('<a href="{}">C{:09d}</a>', reverse("admin:claims_claim_change", args=[obj.duplicate_of_id]),
                           obj.duplicate_of_id)


def _money_column(field: str, label: str):
    @admin.display(description=label, ordering=field)
    def column(self, obj):
        return money(getattr(obj, field))

    column.__name__ = f"{field}_display"
    return column


for _field, _label in (("billed", "billed"), ("allowed", "allowed"), ("deductible", "deductible"),
                       ("copay", "copay"), ("coinsurance", "coinsurance"), ("not_covered", "not covered"),
                       ("balance_billed", "balance billed"), ("plan_paid", "plan paid"),
                       ("member_responsibility", "member owes"), ("provider_write_off", "provider write-off")):
    setattr(ClaimAdmin, f"{_field}_display", _money_column(_field, _label))


# --- Accumulators and line results ----------------------------------------------------------------

@admin.register(Accumulator)
class AccumulatorAdmin(LargeTableAdmin, PartyScopedAdmin, ReadOnlyAdmin):
    list_display = ("member", "scope", "plan", "plan_year_start", "deductible_met_display", "oop_met_display")
    list_filter = ("scope", "plan_year_start", ("plan__sponsor", VisibleChoicesFilter))
    search_fields = ("=member__member_id", "member__name", "plan__name")
    list_select_related = ("member", "plan__sponsor")
    ordering = ("-plan_year_start", "member__name", "scope")
    fields = ("member", "scope", "plan", "plan_year_start", "deductible_met_display", "oop_met_display")
    readonly_fields = fields

    def get_queryset(self, request):
        return accumulator_list_visible_to(user=request.user)

    def _limits(self, obj):
        family = obj.scope == Accumulator.Scope.FAMILY
        plan = obj.plan
        return ((plan.deductible_family, plan.oop_max_family) if family
                else (plan.deductible_individual, plan.oop_max_individual))

    @admin.display(description="deductible met", ordering="deductible_met")
    def deductible_met_display(self, obj):
        return f"{money(obj.deductible_met)} of {money(self._limits(obj)[0])}"

    @admin.display(description="out-of-pocket met", ordering="oop_met")
    def oop_met_display(self, obj):
        return f"{money(obj.oop_met)} of {money(self._limits(obj)[1])}"


class LineCategoryFilter(admin.SimpleListFilter):
    """Categories from the fee schedules (tens of rows), not a DISTINCT over every line result."""

    title = "category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        categories = FeeScheduleEntry.objects.order_by("category").values_list("category", flat=True).distinct()
        return [(c, c) for c in categories]

    def queryset(self, request, queryset):
        return queryset.filter(category=self.value()) if self.value() else queryset


class DenialCodeFilter(admin.SimpleListFilter):
    title = "denial code"
    parameter_name = "denial_code"

    def lookups(self, request, model_admin):
        return [(code, f"{code}: {DENIAL_MEANING[code]}") for code in sorted(DENIAL_MEANING, key=int)]

    def queryset(self, request, queryset):
        return queryset.filter(denial_code=self.value()) if self.value() else queryset


@admin.register(LineResult)
class LineResultAdmin(LargeTableAdmin, PartyScopedAdmin, ReadOnlyAdmin):
    list_display = ("claim_link", "line_number", "round", "procedure_code", "category", "allowed_display",
                    "deductible_display", "copay_display", "coinsurance_display", "plan_paid_display", "member_owes",
                    "codes")
    list_filter = (LineCategoryFilter, DenialCodeFilter)
    search_fields = ("=claim__member__member_id", "=claim__submitted_member_id", "=line__procedure_code")
    search_help_text = "Claim number (C000000123 or 123), member ID or procedure code."
    list_select_related = ("claim", "line")
    ordering = ("-claim_id", "-round", "line__line_number")
    fields = ("claim_link", "line_number", "procedure_code", "round", "category", "fee", "allowed", "deductible",
              "copay", "coinsurance", "not_covered", "balance_billed", "provider_write_off", "plan_paid",
              "member_owes", "codes", "steps")
    readonly_fields = fields

    def get_queryset(self, request):
        return line_result_list_visible_to(user=request.user).order_by(*(self.get_ordering(request) or ()))

    def get_search_results(self, request, queryset, search_term):
        condition = claim_search_condition(term=search_term)
        if condition is None:
            return queryset, False
        named = Q(claim__in=Claim.objects.filter(condition).values("pk"))
        if FeeScheduleEntry.objects.filter(code=search_term.strip()).exists():  # a procedure code too
            named |= Q(line__in=ClaimLine.objects.filter(procedure_code=search_term.strip()).values("pk"))
        return queryset.filter(named), False

    @admin.display(description="claim", ordering="claim_id")
    def claim_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:claims_claim_change", args=[obj.claim_id]),
                           obj.claim.claim_number)

    @admin.display(description="line", ordering="line__line_number")
    def line_number(self, obj):
        return obj.line.line_number

    @admin.display(description="code", ordering="line__procedure_code")
    def procedure_code(self, obj):
        return f"{obj.line.procedure_code} × {obj.line.units}"

    @admin.display(description="member owes")
    def member_owes(self, obj):
        return money(obj.member_owes)

    @admin.display(description="CARCs")
    def codes(self, obj):
        return carc_badges(obj.reason_code_list)

    @admin.display(description="steps")
    def steps(self, obj):
        return format_html("<ol>{}</ol>", format_html_join("", "<li>{}</li>", ((s,) for s in trace_steps(obj.trace_text))))


for _field in ("allowed", "deductible", "copay", "coinsurance", "plan_paid"):
    # Money written by the traces' fast formatter (Django's localized number formatting per cell is a
    # large part of a 50-row page).
    setattr(LineResultAdmin, f"{_field}_display", _money_column(_field, _field.replace("_", " ")))
