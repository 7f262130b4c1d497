"""Admin for the parties: TPA, carriers, sponsors, providers, logins, and the business clock. (Members, with their coverage
and ID card, are in plans/admin.py: their page shows their plans.)

Every changelist selects its related rows in the same query, and related pickers on big tables
are autocompletes, so a page costs the same number of queries whatever its size. Validation is
the models' (field validators and clean()); the admin only shows it on the field it names.
"""
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, Q

from core.clock import clock_set, today
from core.models import BusinessClock

from .models import Carrier, Employer, PartyLink, Provider, Tpa
from .roles import Action, user_may


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

    # Who may move the business date is the role policy's (parties.roles), not a model permission.
    def has_add_permission(self, request):
        return user_may(user=request.user, action=Action.CLOCK_SET) and not BusinessClock.objects.exists()

    def has_change_permission(self, request, obj=None):
        return user_may(user=request.user, action=Action.CLOCK_SET)

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
    """Logins: a supervisor's (login.manage). Only a superuser grants superuser status, model
    permissions or groups, and only a superuser changes a superuser's login: nobody raises their own."""

    inlines = (*DjangoUserAdmin.inlines, PartyLinkInline)
    list_display = ("username", "email", "first_name", "last_name", "is_staff", "role")
    list_select_related = ("party_link",)
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return fields if request.user.is_superuser else (*fields, *self.SUPERUSER_ONLY_FIELDS)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="role", ordering="party_link__role")
    def role(self, obj):
        try:
            return obj.party_link.get_role_display()
        except PartyLink.DoesNotExist:
            return "—"
