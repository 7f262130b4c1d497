"""The admin site, deny-by-default for logins outside the TPA.

A login linked to a provider, sponsor, carrier or member (`parties.selectors.user_is_outside_tpa`)
may use only the admins that declare `party_scoped = True`: those whose `get_queryset` is a
`*_visible_to(user)` selector (claims, their line results, accumulators). Every other admin, the
project's and the libraries' alike, is wrapped at registration so that such a login has no
permission on it, whatever permissions its user row carries. A new admin is therefore closed to
them until it scopes its rows. Scoped admins answer 404 for an object the login may not see, and
their related-field filters offer only the choices on rows it may see.
"""
from django.contrib import admin
from django.http import Http404

from core.admin_base import SafeLookupsAdmin

from .roles import Action, user_is_outside_tpa, user_may

# Who may add, change or delete rows in the admin: a role action (parties.roles), on top of the model
# permissions a login's row carries. An admin may name its own (`manage_action`); else the model's
# entry here, else its app's, else changing it is a supervisor's (reference data).
MANAGE_ACTION_OF_MODEL = {
    "parties.PartyLink": Action.LOGIN_MANAGE,
    "parties.Member": Action.ENROLLMENT_MANAGE,
    "plans.Coverage": Action.ENROLLMENT_MANAGE,
}
MANAGE_ACTION_OF_APP = {
    "auth": Action.LOGIN_MANAGE,
    "axes": Action.LOGIN_MANAGE,
    "django_celery_beat": Action.JOB_MANAGE,
    "core": Action.CLOCK_SET,
}


class TpaStaffOnly:
    """Mixed into every admin that does not scope its rows: no permission for a login outside the TPA,
    and no change without the role action that covers the model (see MANAGE_ACTION_OF_MODEL)."""

    def _manage_action(self) -> Action:
        opts = self.model._meta
        return (getattr(self, "manage_action", None) or MANAGE_ACTION_OF_MODEL.get(opts.label)
                or MANAGE_ACTION_OF_APP.get(opts.app_label, Action.PLAN_MANAGE))

    def _may_manage(self, request) -> bool:
        return user_may(user=request.user, action=self._manage_action())

    def has_module_permission(self, request):
        return not user_is_outside_tpa(user=request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return not user_is_outside_tpa(user=request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return (not user_is_outside_tpa(user=request.user) and self._may_manage(request)
                and super().has_add_permission(request, *args))

    def has_change_permission(self, request, obj=None):
        return (not user_is_outside_tpa(user=request.user) and self._may_manage(request)
                and super().has_change_permission(request, obj))

    def has_delete_permission(self, request, obj=None):
        return (not user_is_outside_tpa(user=request.user) and self._may_manage(request)
                and super().has_delete_permission(request, obj))


class PartyScopedAdmin(admin.ModelAdmin):
    """An admin whose `get_queryset` is the model's `*_visible_to(user)` selector."""

    party_scoped = True

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index when get_queryset hides the row; what a login may not see is 404.
        raise Http404(f"No {opts.verbose_name} {object_id}.")


class VisibleChoicesFilter(admin.RelatedFieldListFilter):
    """A related-field filter that offers a login outside the TPA only the choices on rows it may see
    (the plain filter lists every row of the related table: every sponsor of the TPA, say)."""

    def field_choices(self, field, request, model_admin):
        if not user_is_outside_tpa(user=request.user):
            return super().field_choices(field, request, model_admin)
        on_visible_rows = model_admin.get_queryset(request).order_by().values(f"{self.field_path}__pk")
        return field.get_choices(include_blank=False, limit_choices_to={"pk__in": on_visible_rows},
                                 ordering=self.field_admin_ordering(field, request, model_admin))


class TpaAdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        mixins = (SafeLookupsAdmin,) if getattr(admin_class, "party_scoped", False) else (TpaStaffOnly, SafeLookupsAdmin)
        admin_class = type(admin_class.__name__, (*mixins, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, admin_class, **options)
