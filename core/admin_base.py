"""The admin base every app's admin builds on (registrations live in each app's admin.py).

`SafeLookupsAdmin` is mixed into every admin registered on the project's site (the libraries' too,
`parties.admin_scope.TpaAdminSite`): bad input in a changelist's query string or an autocomplete term
is refused (the admin's "incorrect lookup" page, or no results), never a server error.
"""
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpResponseBadRequest
from django.utils.functional import cached_property

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


class CappedCountPaginator(Paginator):
    """A changelist's paginator for tables of millions of rows: the count stops at `cap` (COUNT over
    a LIMIT, a few milliseconds), and a list without filters shows PostgreSQL's estimate of the
    table's size. `count_label` says which ("about 1,000,000", "more than 10,000")."""

    cap = 10_000

    def __init__(self, object_list, per_page, *args, table: str = "", filtered: bool = True, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.table, self.filtered, self.count_label = table, filtered, ""

    @cached_property
    def count(self) -> int:
        counted = self.object_list.order_by()[: self.cap + 1].count()
        if counted <= self.cap:
            return counted
        estimate = None if self.filtered else self._estimate()
        if estimate and estimate > self.cap:
            self.count_label = f"about {estimate:,}"
        else:
            self.count_label = f"more than {self.cap:,}"
        return self.cap

    def _estimate(self) -> int | None:
        db = self.object_list.db
        if connections[db].vendor != "postgresql" or not self.table:
            return None
        with connections[db].cursor() as cursor:
            cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [self.table])
            row = cursor.fetchone()
        return row[0] if row and row[0] > 0 else None


class LargeTableAdmin:
    """For admins of tables that grow with the claims (claims, line results, payments, the ledger):
    no full count of the table per page (`CappedCountPaginator`), no count of the unfiltered table
    beside the filtered one."""

    show_full_result_count = False

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        filtered = bool(queryset.query.where)  # a filter, a search, or rows scoped to a party
        return CappedCountPaginator(queryset, per_page, orphans, allow_empty_first_page,
                                    table=self.model._meta.db_table, filtered=filtered)
