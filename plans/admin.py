"""Admin for plans, benefits, coverage, fee schedules and stop-loss.

Changelists select their related rows in one query; inline rows share one evaluated list of
choices or show the related row read-only, so a change form costs the same whatever its rows.
"""
from django.contrib import admin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from .models import (
    CategoryBenefit,
    Coverage,
    FeeSchedule,
    FeeScheduleEntry,
    Plan,
    StopLossLaser,
    StopLossPolicy,
)

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
