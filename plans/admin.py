"""Admin for plans, benefits, coverage, fee schedules and stop-loss.

Changelists select their related rows in one query; inline rows share one evaluated list of
choices or show the related row read-only, so a change form costs the same whatever its rows.
"""
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from parties.models import Member
from parties.services import member_create

from .models import (
    CategoryBenefit,
    Coverage,
    FeeSchedule,
    FeeScheduleEntry,
    Plan,
    StopLossLaser,
    StopLossPolicy,
)
from .periods import effective_period, periods_overlap
from .selectors import member_id_card_for, subscriber_current_period

# A fee schedule with more entries than this is edited on the (paginated) entry changelist.
FEE_SCHEDULE_INLINE_LIMIT = 300


class FeeScheduleEntryInline(admin.TabularInline):
    model = FeeScheduleEntry
    fields = ("code", "description", "category", "fee")
    extra = 1


@admin.register(FeeSchedule)
class FeeScheduleAdmin(admin.ModelAdmin):
    list_display = ("name", "entry_count", "plan_count", "entries_link")
    search_fields = ("name",)
    readonly_fields = ("entries_link",)
    inlines = (FeeScheduleEntryInline,)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _entries=Count("entries", distinct=True), _plans=Count("plans", distinct=True),
        )

    def get_inlines(self, request, obj):
        if obj is not None and obj.entries.count() > FEE_SCHEDULE_INLINE_LIMIT:
            return ()  # too many rows for one form: use the entry changelist (entries_link)
        return self.inlines

    @admin.display(description="entries", ordering="_entries")
    def entry_count(self, obj):
        return getattr(obj, "_entries", None)

    @admin.display(description="plans", ordering="_plans")
    def plan_count(self, obj):
        return getattr(obj, "_plans", None)

    @admin.display(description="browse entries")
    def entries_link(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:plans_feescheduleentry_changelist") + f"?schedule__id__exact={obj.pk}"
        return format_html('<a href="{}">Browse and edit the entries page by page</a>', url)


@admin.register(FeeScheduleEntry)
class FeeScheduleEntryAdmin(admin.ModelAdmin):
    list_display = ("code", "description", "category", "fee", "schedule")
    list_editable = ("fee",)
    list_filter = ("schedule", "category")
    search_fields = ("code", "description", "category")
    list_select_related = ("schedule",)
    raw_id_fields = ("schedule",)
    list_per_page = 100


class CategoryBenefitInline(admin.TabularInline):
    model = CategoryBenefit
    fields = ("category", "treatment", "copay")
    extra = 1


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name", "sponsor", "funding", "carrier", "deductible_individual", "oop_max_individual", "coinsurance",
        "oon_covered", "admin_fee_pepm", "premium_pepm",
    )
    list_filter = ("funding", "oon_covered", "carrier")
    search_fields = ("name", "sponsor__name", "carrier__name")
    list_select_related = ("sponsor", "carrier")
    autocomplete_fields = ("sponsor",)
    inlines = (CategoryBenefitInline,)
    fieldsets = (
        (None, {"fields": ("sponsor", "name", "funding", "carrier", "fee_schedule", "year_start")}),
        ("Cost sharing", {"fields": (
            ("deductible_individual", "deductible_family"), ("oop_max_individual", "oop_max_family"), "coinsurance",
            ("oon_covered", "oon_coinsurance"),
        )}),
        ("Claims rules", {"fields": ("timely_filing_days", "review_threshold")}),
        ("Fees", {"fields": ("admin_fee_pepm", "premium_pepm")}),
    )


@admin.register(CategoryBenefit)
class CategoryBenefitAdmin(admin.ModelAdmin):
    list_display = ("plan", "category", "treatment", "copay")
    list_filter = ("treatment", "category")
    search_fields = ("category", "plan__name", "plan__sponsor__name")
    list_select_related = ("plan__sponsor",)
    autocomplete_fields = ("plan",)


class PlanListFilter(admin.RelatedFieldListFilter):
    """Filter by plan; a plan's name shows its sponsor, selected in the same query."""

    def field_choices(self, field, request, model_admin):
        return [(plan.pk, str(plan)) for plan in Plan.objects.select_related("sponsor")]


@admin.register(Coverage)
class CoverageAdmin(admin.ModelAdmin):
    list_display = ("member", "plan", "start_display", "end_display")
    list_filter = (("plan", PlanListFilter),)
    search_fields = ("member__name", "member__member_id", "plan__name")
    list_select_related = ("member", "plan__sponsor")
    autocomplete_fields = ("member", "plan")

    @admin.display(description="start", ordering="start")
    def start_display(self, obj):
        return obj.start or "follows subscriber"

    @admin.display(description="end", ordering="end")
    def end_display(self, obj):
        return obj.end or ("follows subscriber" if obj.member.subscriber_id else "open")


class StopLossLaserInline(admin.TabularInline):
    """The policy's lasers: the member is shown read-only (its row is selected with the laser)."""

    model = StopLossLaser
    fields = ("member", "attachment")
    readonly_fields = ("member",)
    extra = 0
    verbose_name_plural = "lasers (member-specific attachment points)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member")

    def has_add_permission(self, request, obj=None):
        return False


class StopLossLaserAddInline(admin.TabularInline):
    """New lasers, the member picked by autocomplete."""

    model = StopLossLaser
    fields = ("member", "attachment")
    autocomplete_fields = ("member",)
    extra = 1
    can_delete = False
    verbose_name_plural = "add lasers"

    def get_queryset(self, request):
        return super().get_queryset(request).none()


@admin.register(StopLossPolicy)
class StopLossPolicyAdmin(admin.ModelAdmin):
    list_display = (
        "plan", "sponsor", "carrier", "start", "contract", "specific_attachment", "aggregate_display", "laser_count",
    )
    list_filter = ("contract", "carrier")
    search_fields = ("plan__name", "plan__sponsor__name", "carrier__name")
    list_select_related = ("plan__sponsor", "carrier")
    autocomplete_fields = ("plan",)
    ordering = ("plan__sponsor__name", "-start")
    inlines = (StopLossLaserInline, StopLossLaserAddInline)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_lasers=Count("lasers"))

    @admin.display(description="sponsor", ordering="plan__sponsor__name")
    def sponsor(self, obj):
        return obj.plan.sponsor

    @admin.display(description="aggregate attachment")
    def aggregate_display(self, obj):
        if obj.aggregate_attachment is not None:
            return obj.aggregate_attachment
        if obj.expected_claims is not None:
            return f"{obj.expected_claims} × {obj.aggregate_factor} = {obj.expected_claims * obj.aggregate_factor:.2f}"
        return "—"

    @admin.display(description="lasers", ordering="_lasers")
    def laser_count(self, obj):
        return getattr(obj, "_lasers", None)


@admin.register(StopLossLaser)
class StopLossLaserAdmin(admin.ModelAdmin):
    list_display = ("member", "attachment", "policy")
    search_fields = ("member__name", "member__member_id", "policy__plan__sponsor__name")
    list_select_related = ("member", "policy__plan__sponsor")
    autocomplete_fields = ("member", "policy")


# --- Members: their page shows their coverage periods and ID card -------------------------------

class CoverageInlineFormSet(BaseInlineFormSet):
    """All of a member's coverage rows are in this formset, so the overlap rule is checked here
    across the rows as submitted (one period ended and the next started in the same save), not row
    by row against the stored rows; Coverage.clean() still checks everything else."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        form.instance.overlap_checked_by_caller = True
        return form

    def clean(self):
        super().clean()
        member = self.instance
        if member is None or member.pk is None:
            return
        current = subscriber_current_period(member=member)
        seen = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or form.errors:
                continue
            period = effective_period(start=data.get("start"), end=data.get("end"), subscriber_current=current)
            for other in seen:
                if periods_overlap(a=period, b=other):
                    form.add_error("start", f"Overlaps another period in this form ({other[0]} – {other[1] or 'open'}).")
                    break
            seen.append(period)


class CoverageInline(admin.TabularInline):
    """A member's coverage periods; a dependent's blank dates follow its subscriber's."""

    model = Coverage
    formset = CoverageInlineFormSet
    fields = ("plan", "start", "end")
    extra = 0
    verbose_name = "coverage period"
    verbose_name_plural = "coverage periods (a dependent's blank dates follow the subscriber's current coverage)"

    def get_formset(self, request, obj=None, **kwargs):
        self._member = obj  # inline instances are made per request
        return super().get_formset(request, obj, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("member", "plan__sponsor")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "plan":
            plans = Plan.objects.select_related("sponsor")
            member = getattr(self, "_member", None)
            if member is not None:
                plans = plans.filter(sponsor_id=member.employer_id)
            kwargs["queryset"] = plans
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name == "plan":
            # Evaluated once and shared by every row's select (no query per row).
            field.choices = list(field.choices)
        return field


class MemberDependentFilter(admin.SimpleListFilter):
    title = "family role"
    parameter_name = "family_role"

    def lookups(self, request, model_admin):
        return (("subscriber", "Subscribers"), ("dependent", "Dependents"))

    def queryset(self, request, queryset):
        if self.value() == "subscriber":
            return queryset.filter(subscriber__isnull=True)
        if self.value() == "dependent":
            return queryset.filter(subscriber__isnull=False)
        return queryset


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("name", "member_id", "relationship", "employer", "subscriber_link", "date_of_birth")
    list_filter = (MemberDependentFilter, "relationship", "employer")
    search_fields = ("name", "member_id", "subscriber__name", "subscriber__member_id")
    list_select_related = ("employer", "subscriber")
    autocomplete_fields = ("subscriber",)
    readonly_fields = ("member_id", "id_card")
    inlines = (CoverageInline,)

    def get_fields(self, request, obj=None):
        fields = ["employer", "subscriber", "relationship", "name", "date_of_birth"]
        if obj is None:
            return fields  # the member ID is generated on save
        return ["member_id", *fields, "id_card"]

    def get_inlines(self, request, obj):
        # Coverage is added once the member exists (its rules need the member's family).
        return self.inlines if obj is not None else ()

    @admin.display(description="subscriber", ordering="subscriber__name")
    def subscriber_link(self, obj):
        if obj.subscriber_id is None:
            return "—"
        url = reverse("admin:parties_member_change", args=[obj.subscriber_id])
        return format_html('<a href="{}">{}</a>', url, obj.subscriber.name)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = member_create(
            employer=obj.employer, name=obj.name, date_of_birth=obj.date_of_birth,
            subscriber=obj.subscriber, relationship=obj.relationship,
        )
        # The admin carries on with `obj` (inlines, the redirect): make it the saved row.
        obj.pk, obj.member_id, obj.employer_id = created.pk, created.member_id, created.employer_id
        obj._state.adding = False
        obj._state.db = created._state.db
        messages.info(request, f"Member ID {created.member_id} was generated for {created.name}.")

    def response_add(self, request, obj, post_url_continue=None):
        # Go on to the new member's page: its generated ID, ID card and coverage periods are there.
        if "_addanother" not in request.POST and IS_POPUP_VAR not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="ID card")
    def id_card(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        url = reverse("admin:parties_member_id_card", args=[obj.pk])
        card = render_to_string("plans/member_id_card.html", member_id_card_for(member=obj))
        return mark_safe(f'{card}<p><a href="{url}">Printable ID card</a></p>')  # the template escapes

    def get_urls(self):
        return [
            path("<int:member_pk>/id-card/", self.admin_site.admin_view(self.id_card_view),
                 name="parties_member_id_card"),
            *super().get_urls(),
        ]

    def id_card_view(self, request, member_pk: int):
        member = get_object_or_404(Member.objects.select_related("employer", "subscriber"), pk=member_pk)
        if not self.has_view_or_change_permission(request, member):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request), "opts": self.opts, "title": f"ID card: {member.name}",
            **member_id_card_for(member=member),
        }
        return TemplateResponse(request, "plans/member_id_card_page.html", context)
