"""Admin for the parties: TPA, carriers, sponsors, providers, members (with an ID card), logins, clock.

Every changelist selects its related rows in the same query, and related pickers on big tables
are autocompletes, so a page costs the same number of queries whatever its size. Validation is
the models' (field validators and clean()); the admin only shows it on the field it names.
"""
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from config.clock import clock_set, today
from plans.models import Coverage, FundingArrangement, Plan
from plans.selectors import (
    coverage_on,
    coverage_periods_for_members,
    effective_period,
    periods_overlap,
    subscriber_current_period,
)

from .models import BusinessClock, Carrier, Employer, Member, PartyLink, Provider, Tpa
from .services import member_create


@admin.register(BusinessClock)
class BusinessClockAdmin(admin.ModelAdmin):
    """The simulated business date: set it here (blank = the real date)."""

    list_display = ("__str__", "simulated_date", "business_today")
    list_display_links = ("__str__",)
    list_editable = ("simulated_date",)
    fields = ("simulated_date", "business_today")
    readonly_fields = ("business_today",)

    @admin.display(description="business date now in force")
    def business_today(self, obj=None):
        return today()

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not BusinessClock.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # The one clock's own setter; the row is always pk 1.
        clock_set(day=obj.simulated_date)
        obj.pk = 1
        obj._state.adding = False
        obj._state.db = "default"


@admin.register(Tpa)
class TpaAdmin(admin.ModelAdmin):
    list_display = ("name", "ein")
    search_fields = ("name", "ein")


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ("name", "naic_code", "plan_count", "stop_loss_count")
    search_fields = ("name", "naic_code")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _plans=Count("plans", distinct=True), _stop_loss=Count("stop_loss_policies", distinct=True),
        )

    @admin.display(description="plans paid from its account", ordering="_plans")
    def plan_count(self, obj):
        return obj._plans

    @admin.display(description="stop-loss policies", ordering="_stop_loss")
    def stop_loss_count(self, obj):
        return obj._stop_loss


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ("name", "ein", "subscriber_count", "member_count")
    search_fields = ("name", "ein")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _members=Count("members", distinct=True),
            _subscribers=Count("members", filter=Q(members__relationship="subscriber"), distinct=True),
        )

    @admin.display(description="subscribers", ordering="_subscribers")
    def subscriber_count(self, obj):
        return obj._subscribers

    @admin.display(description="members", ordering="_members")
    def member_count(self, obj):
        return obj._members


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ("name", "npi", "tin", "network")
    list_filter = ("network",)
    search_fields = ("name", "npi", "tin")


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
        card = render_to_string("parties/member_id_card.html", member_id_card_context(member=obj))
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
            **member_id_card_context(member=member),
        }
        return TemplateResponse(request, "parties/member_id_card_page.html", context)


def member_id_card_context(*, member: Member) -> dict:
    """What the member's ID card shows, in a fixed number of queries."""
    subscriber = member.subscriber if member.subscriber_id else member
    family = list(Member.objects.filter(Q(pk=subscriber.pk) | Q(subscriber_id=subscriber.pk))
                  .order_by("subscriber_id", "date_of_birth", "pk"))
    periods = coverage_periods_for_members(member_ids=[member.pk]).get(member.pk, [])
    state, period = coverage_on(periods=periods, day=today())
    if period is None and periods:
        period = periods[-1]
    plan = None
    if period is not None:
        plan = Plan.objects.select_related("sponsor", "carrier").filter(pk=period[0]).first()
    tpa = Tpa.objects.order_by("pk").first()
    if plan is None:
        payer = ""
    elif plan.funding == FundingArrangement.ASO:
        payer = f"Self-funded by {plan.sponsor}, administered by {tpa or 'the TPA'}"
    elif plan.funding == FundingArrangement.ASC:
        payer = f"Self-funded by {plan.sponsor}; claims paid by {plan.carrier}, administered by {tpa or 'the TPA'}"
    else:
        payer = f"Insured by {plan.carrier}, administered by {tpa or 'the TPA'}"
    return {
        "member": member,
        "subscriber": subscriber,
        "employer": member.employer,
        "group_number": f"GRP-{member.employer_id:06d}",
        "plan": plan,
        "payer": payer,
        "tpa": tpa,
        "coverage_start": period[1] if period else None,
        "coverage_end": period[2] if period else None,
        "covered_today": state == "ok",
        "dependents": [m for m in family if m.subscriber_id is not None],
    }


@admin.register(PartyLink)
class PartyLinkAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "party_display")
    list_filter = ("role",)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    list_select_related = ("user", "tpa", "provider", "employer", "carrier", "member")
    autocomplete_fields = ("user", "provider", "employer", "carrier", "member")
    fields = ("user", "role", "tpa", "provider", "employer", "carrier", "member")

    @admin.display(description="party")
    def party_display(self, obj):
        return obj.party


class PartyLinkInline(admin.StackedInline):
    model = PartyLink
    can_delete = True
    max_num = 1
    extra = 0
    fields = ("role", "tpa", "provider", "employer", "carrier", "member")
    autocomplete_fields = ("provider", "employer", "carrier", "member")
    verbose_name = "party link (the one party and role this login acts for)"


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = (*DjangoUserAdmin.inlines, PartyLinkInline)
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "role")
    list_select_related = ("party_link",)

    @admin.display(description="role", ordering="party_link__role")
    def role(self, obj):
        try:
            return obj.party_link.get_role_display()
        except PartyLink.DoesNotExist:
            return "—"
