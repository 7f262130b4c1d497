"""The admin base every app's admin builds on (registrations live in each app's admin.py).

`SafeLookupsAdmin` is mixed into every admin registered on the project's site (the libraries' too,
`parties.admin_scope.TpaAdminSite`): bad input in a changelist's query string or an autocomplete term
is refused (the admin's "incorrect lookup" page, or no results), never a server error.
"""
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.http import HttpResponseBadRequest

# Lookups the code uses in sets (`core.bulk.AnyLookup`), never offered to a query string.
REFUSED_LOOKUPS = ("__any",)


def _has_nul(request) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists())


class SafeChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        qs = super().get_queryset(request, exclude_parameters)
        try:  # compile now: a value the database cannot take (a year 99999) is a bad lookup, not a 500
            qs.query.get_compiler(qs.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        return qs


class SafeLookupsAdmin:
    """Mixed into every registered ModelAdmin (see the module's docstring)."""

    def lookup_allowed(self, lookup, value, request=None):
        if any(lookup.endswith(r) or f"{r}__" in lookup for r in REFUSED_LOOKUPS):
            return False
        return super().lookup_allowed(lookup, value, request)

    def get_changelist(self, request, **kwargs):
        base = super().get_changelist(request, **kwargs)
        if issubclass(base, SafeChangeList):
            return base
        return type(f"Safe{base.__name__}", (SafeChangeList, base), {})

    def get_search_results(self, request, queryset, search_term):
        if "\x00" in search_term:  # PostgreSQL cannot compare text holding NUL: nothing matches it
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request, extra_context=None):
        if _has_nul(request):
            return HttpResponseBadRequest("A filter or search term holds a NUL character.")
        return super().changelist_view(request, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the services write: shown, never added, changed or deleted here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
