"""The admin base every app's admin builds on (registrations live in each app's admin.py).

`SafeLookupsAdmin` is mixed into every admin registered on the project's site (the libraries' too,
`parties.admin_scope.TpaAdminSite`): bad input in a changelist's query string or an autocomplete term
is refused (the admin's "incorrect lookup" page, or no results), never a server error.
"""
from decimal import Decimal

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import (
    EmptyResultSet,
    FieldError,
    FullResultSet,
    SuspiciousOperation,
    ValidationError,
)
from django.core.paginator import Paginator
from django.db import DataError, connections, models, transaction
from django.db.models import Lookup
from django.db.models.sql.where import WhereNode
from django.http import HttpResponseBadRequest
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

# Lookups never offered to a query string: `__any` is the code's set lookup (`core.bulk.AnyLookup`); a
# regular expression from a URL is a database error (or a slow query) waiting to happen; a `__range`
# needs two values, which a query string cannot give (Django does not split it: "1,2" is three).
REFUSED_LOOKUPS = ("__any", "__regex", "__iregex", "__range")

# Fields no query string may filter on, whatever admin lists them: Django allows a lookup on any of
# a model's own fields.
SECRET_FIELDS = {"password"}

# What building or compiling a changelist's query raises for a value the field or the database cannot
# take ("abc" for an id, a year 99999, the date hierarchy's year 9999 + 1): a bad lookup, not a 500.
# RuntimeWarning: a naive datetime typed into the URL, where warnings are errors (the test settings).
BAD_VALUE_ERRORS = (ValueError, TypeError, OverflowError, ArithmeticError, ValidationError, RuntimeWarning)


def _has_nul(request) -> bool:
    return any("\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists())


def _value_field(lookup):
    """The concrete field a lookup compares with (a relation's target column), or None."""
    try:
        field = getattr(lookup.lhs, "output_field", None)
    except FieldError:  # an expression of mixed types: not a column a query string names
        return None
    while field is not None and field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    return field


def _unrepresentable(field, value, connection) -> bool:
    """A value no row of `field` can hold: an int beyond the column's range (SQLite cannot even bind
    one past 64 bits; Django checks `exact` and the comparisons, not `in` or a relation's `exact`), a
    Decimal with more integer digits than the column (PostgreSQL overflows on 1e999999)."""
    if isinstance(field, models.IntegerField) and isinstance(value, int) and not isinstance(value, bool):
        low, high = connection.ops.integer_field_range(field.get_internal_type())
        return (low is not None and value < low) or (high is not None and value > high)
    if isinstance(field, models.DecimalField) and isinstance(value, Decimal) and value.is_finite() and value:
        return value.adjusted() >= (field.max_digits or 0) - (field.decimal_places or 0)
    return False


def _refuse_unrepresentable(where, connection) -> None:
    """Walk a query's WHERE: a lookup on a value its column cannot hold is a bad lookup, found before
    the database sees it (the page's count, its rows and its facet counts all run this query)."""
    for child in getattr(where, "children", ()):
        if isinstance(child, WhereNode):
            _refuse_unrepresentable(child, connection)
        elif isinstance(child, Lookup):
            field, rhs = _value_field(child), child.rhs
            if field is None or hasattr(rhs, "resolve_expression"):
                continue
            values = rhs if isinstance(rhs, (list, tuple, set, frozenset)) else (rhs,)
            for value in values:
                if _unrepresentable(field, value, connection):
                    raise IncorrectLookupParameters(f"a value beyond what {field.name} can hold")


class SafeChangeList(ChangeList):
    def get_filters(self, request):
        try:  # the date hierarchy's bounds: year 9999 ends in year 10000
            return super().get_filters(request)
        except (SuspiciousOperation, IncorrectLookupParameters):
            raise
        except BAD_VALUE_ERRORS as exc:
            raise IncorrectLookupParameters(exc) from exc

    def get_queryset(self, request, exclude_parameters=None):
        try:  # a list filter's own queryset() (a SimpleListFilter) runs outside Django's guard
            qs = super().get_queryset(request, exclude_parameters)
        except (SuspiciousOperation, IncorrectLookupParameters):
            raise
        except BAD_VALUE_ERRORS as exc:
            raise IncorrectLookupParameters(exc) from exc
        _refuse_unrepresentable(qs.query.where, connections[qs.db])
        try:  # compile now: a value the database cannot take (a year 99999) is a bad lookup, not a 500
            qs.query.get_compiler(qs.db).as_sql()
        except (EmptyResultSet, FullResultSet):
            pass
        except BAD_VALUE_ERRORS as exc:
            raise IncorrectLookupParameters(exc) from exc
        return qs

    def get_results(self, request):
        # The first query sent (the page's count), in a savepoint: a value the database still refuses
        # (DataError) is a bad lookup, and the request's transaction, if any, stays usable.
        try:
            with transaction.atomic(using=self.queryset.db):
                return super().get_results(request)
        except (DataError, OverflowError) as exc:
            raise IncorrectLookupParameters(exc) from exc


class SafeLookupsAdmin:
    """Mixed into every registered ModelAdmin (see the module's docstring)."""

    def lookup_allowed(self, lookup, value, request=None):
        if any(lookup.endswith(r) or f"{r}__" in lookup for r in REFUSED_LOOKUPS):
            return False
        if SECRET_FIELDS & set(lookup.split("__")):
            return False  # ?password__startswith=pbkdf2_sha256$... would read a hash out, a character at a time
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
    table's size. `count_label` says which ("about 1,000,000", "more than 2,000")."""

    cap = 2_000  # 40 pages of 50: past that, a filter or a search finds a claim faster than paging

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
    beside the filtered one, and a row's selection checkbox written directly (Django renders a
    widget template for each, a large part of a changelist's time)."""

    show_full_result_count = False
    list_per_page = 50

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        # The same markup as django.contrib.admin's CheckboxInput rendering.
        return format_html('<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
                           ACTION_CHECKBOX_NAME, obj.pk,
                           format_html(_("Select this object for an action - {}"), str(obj)))

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        filtered = bool(queryset.query.where)  # a filter, a search, or rows scoped to a party
        return CappedCountPaginator(queryset, per_page, orphans, allow_empty_first_page,
                                    table=self.model._meta.db_table, filtered=filtered)
