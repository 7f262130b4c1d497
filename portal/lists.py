"""Lists on every dashboard: sorted by a column the page allows, filtered, a page at a time.

A page reads one row more than it shows to know whether there is a next one, and never counts the
whole table: the queries per page do not grow with the data (a provider's million claims included).
Sorting is on a whitelisted column, with the primary key as tie-breaker, so the order is total and
every sort is served by an index the page chooses to offer.
"""
import csv
from dataclasses import dataclass

from django.http import QueryDict, StreamingHttpResponse

PER_PAGE = 25
MAX_PAGE = 10_000  # a deeper page is refused as page 1 (no offset scan of millions)


@dataclass
class ListPage:
    rows: list
    number: int
    has_next: bool
    sort: str
    query: QueryDict  # the request's filters, without `page`

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    def _with(self, **changes) -> str:
        q = self.query.copy()
        for key, value in changes.items():
            q[key] = value
        return "?" + q.urlencode()

    @property
    def next_url(self) -> str:
        return self._with(page=self.number + 1)

    @property
    def previous_url(self) -> str:
        return self._with(page=self.number - 1)

    def sort_url(self, column: str) -> str:
        """The link of a column header: sort by it, or reverse it when it is the current sort."""
        return self._with(sort=("-" + column) if self.sort == column else column, page=1)


def page_number(request) -> int:
    text = request.GET.get("page", "1")
    if not text.isdecimal() or len(text) > 6:  # no page at all, or beyond any list (int() of 5,000 digits fails)
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def list_page(request, queryset, *, sorts: dict[str, str], default: str, per_page: int = PER_PAGE,
              ids_first: bool = False) -> ListPage:
    """One page of `queryset`, sorted by `?sort=` when it is one of `sorts` (shown name -> field;
    a leading '-' reverses), else by `default`. `ids_first`: find the page's primary keys first, then
    read those rows with their joins: a sort no index serves, or a deep page, then orders and skips
    bare ids instead of joined rows (one query more)."""
    requested = request.GET.get("sort", default)
    name = requested.lstrip("-")
    if name not in sorts:
        requested, name = default, default.lstrip("-")
    descending = requested.startswith("-")
    field = sorts[name]
    order = [("-" if descending else "") + field, ("-" if descending else "") + "pk"]
    number = page_number(request)
    start = (number - 1) * per_page
    if ids_first:
        ids = list(queryset.order_by(*order).values_list("pk", flat=True)[start:start + per_page + 1])
        found = queryset.order_by().in_bulk(ids)
        rows = [found[pk] for pk in ids if pk in found]
    else:
        rows = list(queryset.order_by(*order)[start:start + per_page + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return ListPage(rows=rows[:per_page], number=number, has_next=len(rows) > per_page, sort=requested, query=query)


class _Line:
    """csv.writer's file: it hands back each row it is given, for the response to stream."""

    def write(self, text: str) -> str:
        return text


def csv_response(*, filename: str, header: list[str], rows) -> StreamingHttpResponse:
    """A table as a CSV download (what an employer's finance team opens in a spreadsheet), streamed a row
    at a time: a carrier's every stop-loss filing never sits in memory whole."""
    writer = csv.writer(_Line())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
