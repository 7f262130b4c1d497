"""Carrier analyst pages: what each ASC sponsor owes for the claims the carrier paid, aged (0–30,
31–60, 61–90, over 90 days by invoice date against the business date); its reimbursement invoices;
its fully insured claims and premiums; the stop-loss reimbursements it paid and the members nearest
their attachment (member ID and initials only). A CSV of each table.

The carrier is the login's (`party_link.carrier`). Its lists come from the funding app's
`*_visible_to(user)` selectors: another carrier's business, or an ASO sponsor's money, which no
carrier holds, is never there. The summary tables are `portal.figures` (key "carrier:<id>").
"""
import datetime

from django import forms
from django.shortcuts import render

from core import clock
from funding.models import StopLossFiling
from funding.reports import AGING_BUCKETS, STOP_LOSS_MEMBERS, aging_bucket, carrier_sponsors, member_initials
from funding.selectors import (
    fee_billing_list_visible_to,
    reimbursement_invoice_list_visible_to,
    stop_loss_filing_list_visible_to,
)
from plans.models import FundingArrangement
from portal.access import R, role_page
from portal.employer.tables import (
    MEMBER_CSV_HEADER,
    MEMBER_SORTS,
    as_decimal,
    member_csv_row,
    positions_shown,
    queryset_sorted,
    rows_page,
    rows_sorted,
)
from portal.figures import figures_get
from portal.lists import csv_response, list_page

from .figures import carrier_figures_key

ROLES = (R.CARRIER_ANALYST,)
F = FundingArrangement
BUCKET_LABEL = {key: label for key, label, *_ in AGING_BUCKETS}

RECEIVABLE_SORTS = {
    "sponsor": lambda r: r["sponsor"].lower(),
    "claims_paid": lambda r: as_decimal(r["claims_paid"]),
    "owed": lambda r: as_decimal(r["owed"]),
    "over_90": lambda r: as_decimal(r["days_over_90"]),
    "oldest": lambda r: r["oldest_open_invoice"] or "9999-12-31",
}
INSURED_SORTS = {
    "sponsor": lambda r: r["sponsor"].lower(),
    "claims_paid": lambda r: as_decimal(r["claims_paid"]),
    "premiums": lambda r: as_decimal(r["premiums"]),
    "loss_ratio": lambda r: as_decimal(r["loss_ratio"]),
}
INVOICE_SORTS = {"issued": "issued_on", "amount": "amount", "open": "open_amount"}
PREMIUM_SORTS = {"month": "month", "amount": "amount"}
FILING_SORTS = {"filed": "filed_on", "amount": "amount"}


# --- Forms ---------------------------------------------------------------------------------------

class OwingFilter(forms.Form):
    owing = forms.BooleanField(label="Only sponsors that owe something", required=False)


class InvoiceFilter(forms.Form):
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "All"), ("open", "Open"), ("settled", "Paid")])
    sponsor = forms.ChoiceField(label="Sponsor", required=False)

    def __init__(self, *args, sponsors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].choices = [("", "All"), *((str(pk), name) for pk, name in sponsors)]


class PremiumFilter(forms.Form):
    sponsor = forms.ChoiceField(label="Sponsor", required=False)

    def __init__(self, *args, sponsors=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].choices = [("", "All"), *((str(pk), name) for pk, name in sponsors)]


class FilingFilter(forms.Form):
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "All"), *StopLossFiling.Kind.choices])


class MemberFilter(forms.Form):
    flagged = forms.BooleanField(label="Only members past 50 % of their attachment", required=False)


def _filtered(form: forms.Form) -> dict:
    """The filter's values; a bad one falls back to its default (the form then shows why, by field)."""
    form.is_valid()
    return {name: form.cleaned_data.get(name, False if isinstance(field, forms.BooleanField) else "")
            for name, field in form.fields.items()}


# --- Shared parts --------------------------------------------------------------------------------

def _carrier(request):
    return request.user.party_link.carrier


def _figures(carrier):
    row = figures_get(key=carrier_figures_key(carrier=carrier))
    return row, (row.data or {})


def _context(carrier, active: str, **extra) -> dict:
    return {"carrier": carrier, "active": active, **extra}


def _csv_name(carrier, what: str) -> str:
    return f"{what}-carrier-{carrier.pk}.csv"


def _total(rows: list[dict], key: str):
    return sum((as_decimal(r[key]) for r in rows), as_decimal("0.00"))


# --- Home: ASC receivables, aged -----------------------------------------------------------------

def _receivables(request, data: dict):
    form = OwingFilter(request.GET)
    rows = data.get("receivables", [])
    if _filtered(form)["owing"]:
        rows = [r for r in rows if as_decimal(r["owed"]) > 0]
    return form, rows


@role_page(*ROLES)
def home(request):
    carrier = _carrier(request)
    row, data = _figures(carrier)
    form, rows = _receivables(request, data)
    page = rows_page(request, rows, sorts=RECEIVABLE_SORTS, default="-owed")
    everyone = data.get("receivables", [])
    insured = data.get("fully_insured", [])
    totals = {"asc_paid": _total(everyone, "claims_paid"), "owed": _total(everyone, "owed"),
              **{key: _total(everyone, key) for key, *_ in AGING_BUCKETS},
              "not_invoiced": _total(everyone, "not_invoiced"),
              "insured_paid": _total(insured, "claims_paid"), "premiums": _total(insured, "premiums"),
              "stop_loss_paid": data.get("stop_loss_paid", "0.00")}
    return render(request, "portal/carrier/home.html", _context(
        carrier, "home", figures=row, page=page, filter=form, totals=totals, buckets=AGING_BUCKETS))


@role_page(*ROLES)
def aging_csv(request):
    carrier = _carrier(request)
    _, data = _figures(carrier)
    _, rows = _receivables(request, data)
    header = ["Sponsor", "Claims paid", "Reimbursed", "Owed", *(label for _, label, *_ in AGING_BUCKETS),
              "Not yet invoiced", "Oldest open invoice"]
    return csv_response(filename=_csv_name(carrier, "asc-receivables-aged"), header=header, rows=[
        [r["sponsor"], r["claims_paid"], r["reimbursed"], r["owed"], *(r[key] for key, *_ in AGING_BUCKETS),
         r["not_invoiced"], r["oldest_open_invoice"] or ""]
        for r in rows_sorted(request, rows, sorts=RECEIVABLE_SORTS, default="-owed")])


# --- Reimbursement invoices ----------------------------------------------------------------------

def _invoices(request, carrier):
    form = InvoiceFilter(request.GET, sponsors=carrier_sponsors(carrier=carrier, funding=F.ASC).values_list("pk", "name"))
    values = _filtered(form)
    qs = reimbursement_invoice_list_visible_to(user=request.user)
    if values["status"] == "open":
        qs = qs.filter(open_amount__gt=0)
    elif values["status"] == "settled":
        qs = qs.filter(open_amount=0)
    if values["sponsor"]:
        qs = qs.filter(employer_id=int(values["sponsor"]))
    return form, qs


def _aged(invoice, today: datetime.date) -> None:
    invoice.paid = invoice.amount - invoice.open_amount
    invoice.age_days = max((today - invoice.issued_on).days, 0) if invoice.open_amount > 0 else None
    invoice.bucket = BUCKET_LABEL[aging_bucket(days=invoice.age_days)] if invoice.age_days is not None else ""


@role_page(*ROLES)
def invoices(request):
    carrier = _carrier(request)
    form, qs = _invoices(request, carrier)
    page = list_page(request, qs, sorts=INVOICE_SORTS, default="-issued")
    today = clock.today()
    for invoice in page.rows:
        _aged(invoice, today)
    return render(request, "portal/carrier/invoices.html", _context(carrier, "invoices", page=page, filter=form))


@role_page(*ROLES)
def invoices_csv(request):
    carrier = _carrier(request)
    _, qs = _invoices(request, carrier)
    today = clock.today()

    def rows():
        for invoice in queryset_sorted(request, qs, sorts=INVOICE_SORTS, default="-issued").iterator():
            _aged(invoice, today)
            yield [invoice.pk, invoice.issued_on.isoformat(), invoice.employer.name, invoice.amount, invoice.paid,
                   invoice.open_amount, "" if invoice.age_days is None else invoice.age_days, invoice.bucket]
    return csv_response(filename=_csv_name(carrier, "reimbursement-invoices"),
                        header=["Invoice", "Issued on", "Sponsor", "Amount", "Paid", "Open", "Age (days)", "Aging"],
                        rows=rows())


# --- Fully insured: claims and premiums ----------------------------------------------------------

@role_page(*ROLES)
def fully_insured(request):
    carrier = _carrier(request)
    row, data = _figures(carrier)
    rows = data.get("fully_insured", [])
    page = rows_page(request, rows, sorts=INSURED_SORTS, default="sponsor")
    return render(request, "portal/carrier/fully_insured.html", _context(
        carrier, "fully-insured", figures=row, page=page,
        totals={"claims_paid": _total(rows, "claims_paid"), "premiums": _total(rows, "premiums")}))


@role_page(*ROLES)
def fully_insured_csv(request):
    carrier = _carrier(request)
    _, data = _figures(carrier)
    rows = rows_sorted(request, data.get("fully_insured", []), sorts=INSURED_SORTS, default="sponsor")
    return csv_response(filename=_csv_name(carrier, "fully-insured"),
                        header=["Sponsor", "Claims paid", "Premiums billed", "Loss ratio (%)"],
                        rows=[[r["sponsor"], r["claims_paid"], r["premiums"], r["loss_ratio"] or ""] for r in rows])


def _premiums(request, carrier):
    form = PremiumFilter(request.GET, sponsors=carrier_sponsors(carrier=carrier, funding=F.FULLY_INSURED)
                         .values_list("pk", "name"))
    qs = fee_billing_list_visible_to(user=request.user)
    sponsor = _filtered(form)["sponsor"]
    if sponsor:
        qs = qs.filter(plan__sponsor_id=int(sponsor))
    return form, qs


@role_page(*ROLES)
def premiums(request):
    carrier = _carrier(request)
    form, qs = _premiums(request, carrier)
    page = list_page(request, qs, sorts=PREMIUM_SORTS, default="-month")
    return render(request, "portal/carrier/premiums.html", _context(carrier, "premiums", page=page, filter=form))


@role_page(*ROLES)
def premiums_csv(request):
    carrier = _carrier(request)
    _, qs = _premiums(request, carrier)
    rows = queryset_sorted(request, qs, sorts=PREMIUM_SORTS, default="-month")
    return csv_response(filename=_csv_name(carrier, "premiums-billed"),
                        header=["Month", "Sponsor", "Plan", "Subscribers", "PEPM", "Amount", "Billed on"],
                        rows=([b.month.strftime("%Y-%m"), b.plan.sponsor.name, b.plan.name, b.subscribers, b.pepm,
                               b.amount, b.billed_on.isoformat()] for b in rows.iterator()))


# --- Stop-loss: reimbursements paid and the members nearest attachment ---------------------------

def _filings(request):
    form = FilingFilter(request.GET)
    qs = stop_loss_filing_list_visible_to(user=request.user)
    kind = _filtered(form)["kind"]
    if kind:
        qs = qs.filter(kind=kind)
    return form, qs


def _who(filing) -> tuple[str, str]:
    """A filing's member by ID and initials (never the name); blank for the aggregate."""
    if filing.member_id is None:
        return "", ""
    return filing.member.member_id, member_initials(filing.member.name)


@role_page(*ROLES)
def stop_loss(request):
    carrier = _carrier(request)
    row, data = _figures(carrier)
    form, qs = _filings(request)
    page = list_page(request, qs, sorts=FILING_SORTS, default="-filed", ids_first=True)  # thousands of filings
    for filing in page.rows:
        filing.member_code, filing.initials = _who(filing)
    return render(request, "portal/carrier/stop_loss.html", _context(
        carrier, "stop-loss", figures=row, page=page, filter=form,
        positions=positions_shown(data.get("positions", [])), stop_loss_paid=data.get("stop_loss_paid", "0.00")))


@role_page(*ROLES)
def stop_loss_csv(request):
    carrier = _carrier(request)
    _, qs = _filings(request)

    kinds = dict(StopLossFiling.Kind.choices)

    def rows():
        # Plain tuples, not model rows: a carrier with thousands of filings downloads them in one pass.
        for (pk, filed_on, sponsor, plan, kind, member_code, name, counted, attachment,
             amount) in queryset_sorted(request, qs, sorts=FILING_SORTS, default="-filed").values_list(
                "pk", "filed_on", "policy__plan__sponsor__name", "policy__plan__name", "kind", "member__member_id",
                "member__name", "counted_claims", "attachment", "amount").iterator(chunk_size=5000):
            yield [pk, filed_on.isoformat(), sponsor, plan, kinds.get(kind, kind), member_code or "",
                   member_initials(name) if name else "", counted, attachment, amount]
    return csv_response(filename=_csv_name(carrier, "stop-loss-reimbursements"),
                        header=["Filing", "Filed on", "Sponsor", "Plan", "Kind", "Member ID", "Initials",
                                "Counted claims", "Attachment", "Reimbursed"], rows=rows())


def _members(request, data: dict):
    form = MemberFilter(request.GET)
    rows = data.get("members", [])
    if _filtered(form)["flagged"]:
        rows = [r for r in rows if r["flagged"]]
    return form, rows


@role_page(*ROLES)
def attachment(request):
    carrier = _carrier(request)
    row, data = _figures(carrier)
    form, rows = _members(request, data)
    page = rows_page(request, rows, sorts=MEMBER_SORTS, default="-share")
    return render(request, "portal/carrier/attachment.html", _context(
        carrier, "attachment", figures=row, page=page, filter=form, kept=STOP_LOSS_MEMBERS, show_sponsor=True,
        policies=len(data.get("positions", []))))


@role_page(*ROLES)
def attachment_csv(request):
    carrier = _carrier(request)
    _, data = _figures(carrier)
    _, rows = _members(request, data)
    return csv_response(filename=_csv_name(carrier, "stop-loss-members"), header=["Sponsor", *MEMBER_CSV_HEADER],
                        rows=[[r["sponsor"], *member_csv_row(r)]
                              for r in rows_sorted(request, rows, sorts=MEMBER_SORTS, default="-share")])
