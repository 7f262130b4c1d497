"""Tables of the money dashboards (the employer's, and the carrier's, which uses these too): rows kept
by the summary-figures job paged and sorted as `portal.lists.list_page` pages a queryset, the sort of a
list for its CSV export, and figures made plain for the JSON they are kept in."""
import datetime
from collections.abc import Callable
from decimal import Decimal

from portal.lists import PER_PAGE, ListPage, page_number


def plain(value):
    """Figures as JSON keeps them: Decimals and dates as strings, the same on the first page that
    computes them and on every page that reads them back."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def as_decimal(text) -> Decimal:
    """A kept money or percentage figure back as a Decimal (a blank one sorts as 0)."""
    return Decimal(text) if text not in (None, "") else Decimal(0)


def _sort_of(request, sorts: dict, default: str) -> tuple[str, str, bool]:
    requested = request.GET.get("sort", default)
    name = requested.lstrip("-")
    if name not in sorts:
        requested, name = default, default.lstrip("-")
    return requested, name, requested.startswith("-")


def rows_page(request, rows: list[dict], *, sorts: dict[str, Callable], default: str,
              per_page: int = PER_PAGE) -> ListPage:
    """One page of kept rows, sorted by `?sort=` when it is one of `sorts` (name -> the row's sort
    key; a leading '-' reverses), else by `default`; ties keep the rows' kept order."""
    requested, name, descending = _sort_of(request, sorts, default)
    ordered = sorted(rows, key=sorts[name], reverse=descending)
    number = page_number(request)
    start = (number - 1) * per_page
    query = request.GET.copy()
    query.pop("page", None)
    return ListPage(rows=ordered[start:start + per_page], number=number, has_next=len(ordered) > start + per_page,
                    sort=requested, query=query)


def rows_sorted(request, rows: list[dict], *, sorts: dict[str, Callable], default: str) -> list[dict]:
    """Every kept row in the order the page shows them (a CSV export)."""
    _, name, descending = _sort_of(request, sorts, default)
    return sorted(rows, key=sorts[name], reverse=descending)


def queryset_sorted(request, queryset, *, sorts: dict[str, str], default: str):
    """A list's whole queryset in the order its page shows it (a CSV export): `list_page`'s sort."""
    _, name, descending = _sort_of(request, sorts, default)
    sign = "-" if descending else ""
    return queryset.order_by(sign + sorts[name], sign + "pk")


# --- Stop-loss members (the employer's and the carrier's tables) ---------------------------------

# A kept member row's sort keys; by "share", an attachment of 0 (reached at once) is the nearest of all.
MEMBER_SORTS = {
    "share": lambda r: (r["percent"] is None, as_decimal(r["percent"]), as_decimal(r["counted"])),
    "counted": lambda r: as_decimal(r["counted"]),
    "attachment": lambda r: as_decimal(r["attachment"]),
    "to_attachment": lambda r: as_decimal(r["to_attachment"]),
    "member": lambda r: r["member_id"],
}


MEMBER_CSV_HEADER = ["Plan", "Member ID", "Initials", "Counted claims", "Attachment", "Laser",
                     "Share of attachment (%)", "To attachment", "Over attachment", "Reimbursed", "Past 50 %"]


def member_csv_row(r: dict) -> list:
    return [r["plan"], r["member_id"], r["initials"], r["counted"], r["attachment"], "yes" if r["lasered"] else "no",
            r["percent"] if r["percent"] is not None else "", r["to_attachment"], r["over_attachment"],
            r["reimbursed"], "yes" if r["flagged"] else "no"]


def positions_shown(positions: list[dict]) -> list[dict]:
    """Kept stop-loss positions as the page shows them: dates as dates, the aggregate bar's width."""
    out = []
    for p in positions:
        dates = {k: datetime.date.fromisoformat(p[k]) for k in ("start", "incurred_end", "paid_through")}
        bar = min(as_decimal(p["aggregate_percent"]), 100) if p["aggregate_percent"] is not None else 0
        out.append({**p, **dates, "bar": bar})
    return out
