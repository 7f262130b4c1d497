"""Employer (plan sponsor) pages: claims spend by month, funding requests with "fund" (ASO),
reimbursement invoices with "pay" (ASC), fees or premiums billed, the stop-loss position, the plan
year's net cost, and a CSV of each table.

The sponsor is the login's (`party_link.employer`); its lists come from the funding app's
`*_visible_to(user)` selectors and its money moves only through the funding services, which check
the login's role and sponsor themselves. A fund or pay form carries a token made when the page is
shown: the service records one deposit (or payment) per token, so a double click records one.
"""
import datetime
import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_POST

from core import clock
from funding.errors import FundingError
from funding.models import FeeBilling
from funding.reports import STOP_LOSS_MEMBERS, sponsor_fundings, sponsor_open_amounts
from funding.selectors import (
    fee_billing_list_visible_to,
    funding_request_list_visible_to,
    reimbursement_invoice_list_visible_to,
)
from funding.services import REQUESTED, sponsor_deposit, sponsor_reimbursement_pay
from parties.roles import Action, user_may
from plans.models import FundingArrangement
from portal.access import R, role_page
from portal.figures import figures_get
from portal.lists import csv_response, list_page

from .figures import employer_figures_key
from .tables import (
    MEMBER_CSV_HEADER,
    MEMBER_SORTS,
    as_decimal,
    member_csv_row,
    positions_shown,
    queryset_sorted,
    rows_page,
    rows_sorted,
)

ROLES = (R.EMPLOYER_ADMIN,)
F = FundingArrangement

REQUEST_SORTS = {"requested": "requested_on", "amount": "amount", "open": "open_amount"}
INVOICE_SORTS = {"issued": "issued_on", "amount": "amount", "open": "open_amount"}
FEE_SORTS = {"month": "month", "amount": "amount", "kind": "kind"}


# --- Forms ---------------------------------------------------------------------------------------

class StatusFilter(forms.Form):
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "All"), ("open", "Open"), ("settled", "Settled")])


class FeeFilter(forms.Form):
    kind = forms.ChoiceField(label="Kind", required=False, choices=[("", "All"), *FeeBilling.Kind.choices])


class MemberFilter(forms.Form):
    flagged = forms.BooleanField(label="Only members past 50 % of their attachment", required=False)


class OnceForm(forms.Form):
    """A money action's form: only the token that makes a double click one action."""

    token = forms.CharField(max_length=64, widget=forms.HiddenInput,
                            error_messages={"required": "missing: reload the page and try again."})

    @classmethod
    def fresh(cls) -> "OnceForm":
        return cls(initial={"token": uuid.uuid4().hex})


def _filtered(form: forms.Form) -> dict:
    """The filter's values, or its defaults when a value is bad (the form then shows why, by field)."""
    form.is_valid()
    return {name: form.cleaned_data.get(name, False if isinstance(field, forms.BooleanField) else "")
            for name, field in form.fields.items()}


def _by_status(qs, status: str):
    if status == "open":
        return qs.filter(open_amount__gt=0)
    if status == "settled":
        return qs.filter(open_amount=0)
    return qs


# --- Shared parts --------------------------------------------------------------------------------

def _sponsor(request):
    return request.user.party_link.employer


def _context(employer, active: str, **extra) -> dict:
    fundings = sponsor_fundings(employer=employer)
    return {"employer": employer, "active": active, "is_aso": F.ASO in fundings, "is_asc": F.ASC in fundings,
            "is_insured": F.FULLY_INSURED in fundings, "fundings": sorted(fundings), **extra}


def _figures(employer):
    row = figures_get(key=employer_figures_key(employer=employer))
    return row, (row.data or {})


def _plan_year(data: dict) -> dict | None:
    year = data.get("plan_year")
    if not year:
        return None
    return {"start": datetime.date.fromisoformat(year["start"]),
            "last": datetime.date.fromisoformat(year["end"]) - datetime.timedelta(days=1)}


def _month_label(iso: str) -> str:
    return datetime.date.fromisoformat(iso).strftime("%b %Y")


def net_cost_rows(net: dict | None) -> list[tuple[str, str]]:
    """The plan year's net cost as DOMAIN.md and docs/scenarios.md define it, item by item."""
    if not net:
        return []
    return [
        ("Claims paid, self-funded (plan paid)", net["claims_paid"]),
        ("Admin fees billed", net["admin_fees"]),
        ("Premiums billed", net["premiums"]),
        ("Less stop-loss reimbursements received", str(as_decimal("0.00") - as_decimal(net["stop_loss_received"]))),
        ("Net cost", net["net_cost"]),
    ]


def _csv_name(employer, what: str) -> str:
    return f"{what}-sponsor-{employer.pk}.csv"


# --- Home: spend by month and the net cost -------------------------------------------------------

@role_page(*ROLES)
def home(request):
    employer = _sponsor(request)
    row, data = _figures(employer)
    spend = [{**r, "label": _month_label(r["month"])} for r in data.get("spend", [])]
    chart = {"type": "bar", "labels": [r["label"] for r in spend],
             "datasets": [{"label": "Plan paid ($)", "data": [r["plan_paid"] for r in spend]}]}
    total_paid = sum((as_decimal(r["plan_paid"]) for r in spend), as_decimal("0.00"))
    total_claims = sum(r["claims"] for r in spend)
    stop_loss = data.get("stop_loss", [])
    return render(request, "portal/employer/home.html", _context(
        employer, "home", figures=row, plan_year=_plan_year(data), spend=spend, chart=chart,
        total_paid=total_paid, total_claims=total_claims, net=data.get("net_cost"),
        net_rows=net_cost_rows(data.get("net_cost")), open_amounts=sponsor_open_amounts(employer=employer),
        stop_loss=stop_loss,
    ))


@role_page(*ROLES)
def spend_csv(request):
    employer = _sponsor(request)
    _, data = _figures(employer)
    return csv_response(filename=_csv_name(employer, "claims-spend-by-month"),
                        header=["Month", "Claims paid", "Plan paid"],
                        rows=[[r["month"][:7], r["claims"], r["plan_paid"]] for r in data.get("spend", [])])


@role_page(*ROLES)
def net_cost_csv(request):
    employer = _sponsor(request)
    _, data = _figures(employer)
    year = data.get("plan_year") or {}
    return csv_response(filename=_csv_name(employer, "net-cost"), header=["Plan year start", "Item", "Amount"],
                        rows=[[year.get("start", ""), label, amount] for label, amount in
                              net_cost_rows(data.get("net_cost"))])


# --- Funding requests (ASO) and the fund action -------------------------------------------------

def _requests(request):
    form = StatusFilter(request.GET)
    qs = _by_status(funding_request_list_visible_to(user=request.user), _filtered(form)["status"])
    return form, qs


def _funding_page(request, employer, *, fund_form=None, error: str = ""):
    form, qs = _requests(request)
    page = list_page(request, qs, sorts=REQUEST_SORTS, default="-requested")
    for r in page.rows:
        r.settled = r.amount - r.open_amount
    context = _context(employer, "funding", page=page, filter=form, error=error,
                       open_amounts=sponsor_open_amounts(employer=employer),
                       fund_form=fund_form or OnceForm.fresh(),
                       may_fund=user_may(user=request.user, action=Action.DEPOSIT_RECORD))
    return render(request, "portal/employer/funding.html", context)


@role_page(*ROLES)
def funding(request):
    return _funding_page(request, _sponsor(request))


@role_page(*ROLES)
@require_POST
def fund(request):
    """Deposit what the open funding requests ask (read by the service under its lock), once per form."""
    employer = _sponsor(request)
    form = OnceForm(request.POST)
    if not form.is_valid():
        return _funding_page(request, employer, error="; ".join(f"{name}: {' '.join(errs)}"
                                                                for name, errs in form.errors.items()))
    try:
        deposit = sponsor_deposit(employer=employer, amount=REQUESTED, idempotency_key=form.cleaned_data["token"],
                                  by=request.user)
    except FundingError as exc:
        return _funding_page(request, employer, fund_form=form, error=exc.text())  # shown on the page, 200
    if deposit is None:
        messages.info(request, "Nothing open: no funding request waits for a deposit, so none was recorded.")
    else:
        released = deposit.release.claims_paid if deposit.release_id else 0
        messages.success(request, f"Deposit {deposit.pk} of ${deposit.amount:,.2f} recorded on "
                                  f"{date_format(deposit.received_on, 'M j, Y')}; {released} waiting claim"
                                  f"{'' if released == 1 else 's'} paid from it.")
    return redirect("portal:employer-funding")


@role_page(*ROLES)
def funding_csv(request):
    employer = _sponsor(request)
    _, qs = _requests(request)
    rows = queryset_sorted(request, qs, sorts=REQUEST_SORTS, default="-requested")
    return csv_response(filename=_csv_name(employer, "funding-requests"),
                        header=["Request", "Requested on", "Amount", "Settled", "Open", "Payment cycle"],
                        rows=([r.pk, r.requested_on.isoformat(), r.amount, r.amount - r.open_amount, r.open_amount,
                               r.cycle_id] for r in rows.iterator()))


# --- Reimbursement invoices (ASC) and the pay action --------------------------------------------

def _invoices(request):
    form = StatusFilter(request.GET)
    qs = _by_status(reimbursement_invoice_list_visible_to(user=request.user), _filtered(form)["status"])
    return form, qs


def _invoices_page(request, employer, *, pay_form=None, error: str = ""):
    form, qs = _invoices(request)
    page = list_page(request, qs, sorts=INVOICE_SORTS, default="-issued")
    today = clock.today()
    for inv in page.rows:
        inv.paid = inv.amount - inv.open_amount
        inv.age_days = max((today - inv.issued_on).days, 0) if inv.open_amount > 0 else None
    context = _context(employer, "invoices", page=page, filter=form, error=error,
                       open_amounts=sponsor_open_amounts(employer=employer),
                       pay_form=pay_form or OnceForm.fresh(),
                       may_pay=user_may(user=request.user, action=Action.REIMBURSEMENT_PAY))
    return render(request, "portal/employer/invoices.html", context)


@role_page(*ROLES)
def invoices(request):
    return _invoices_page(request, _sponsor(request))


@role_page(*ROLES)
@require_POST
def pay(request):
    """Pay what the open reimbursement invoices ask (read by the service under its lock), once per form."""
    employer = _sponsor(request)
    form = OnceForm(request.POST)
    if not form.is_valid():
        return _invoices_page(request, employer, error="; ".join(f"{name}: {' '.join(errs)}"
                                                                 for name, errs in form.errors.items()))
    try:
        payment = sponsor_reimbursement_pay(employer=employer, amount=REQUESTED,
                                            idempotency_key=form.cleaned_data["token"], by=request.user)
    except FundingError as exc:
        return _invoices_page(request, employer, pay_form=form, error=exc.text())
    if payment is None:
        messages.info(request, "Nothing open: no reimbursement invoice waits for payment, so none was recorded.")
    else:
        messages.success(request, f"Payment {payment.pk} of ${payment.amount:,.2f} to {payment.carrier} recorded on "
                                  f"{date_format(payment.paid_on, 'M j, Y')}, applied to your oldest open invoices first.")
    return redirect("portal:employer-invoices")


@role_page(*ROLES)
def invoices_csv(request):
    employer = _sponsor(request)
    _, qs = _invoices(request)
    today = clock.today()
    rows = queryset_sorted(request, qs, sorts=INVOICE_SORTS, default="-issued")
    return csv_response(filename=_csv_name(employer, "reimbursement-invoices"),
                        header=["Invoice", "Issued on", "Carrier", "Amount", "Paid", "Open", "Age (days)"],
                        rows=([i.pk, i.issued_on.isoformat(), i.carrier.name, i.amount, i.amount - i.open_amount,
                               i.open_amount, max((today - i.issued_on).days, 0) if i.open_amount > 0 else ""]
                              for i in rows.iterator()))


# --- Fees and premiums billed --------------------------------------------------------------------

def _fees(request):
    form = FeeFilter(request.GET)
    qs = fee_billing_list_visible_to(user=request.user)
    kind = _filtered(form)["kind"]
    if kind:
        qs = qs.filter(kind=kind)
    return form, qs


@role_page(*ROLES)
def fees(request):
    employer = _sponsor(request)
    form, qs = _fees(request)
    page = list_page(request, qs, sorts=FEE_SORTS, default="-month")
    return render(request, "portal/employer/fees.html", _context(employer, "fees", page=page, filter=form))


@role_page(*ROLES)
def fees_csv(request):
    employer = _sponsor(request)
    _, qs = _fees(request)
    rows = queryset_sorted(request, qs, sorts=FEE_SORTS, default="-month")
    return csv_response(filename=_csv_name(employer, "fees-billed"),
                        header=["Month", "Kind", "Plan", "Subscribers", "PEPM", "Amount", "Billed on"],
                        rows=([b.month.strftime("%Y-%m"), b.get_kind_display(), b.plan.name, b.subscribers, b.pepm,
                               b.amount, b.billed_on.isoformat()] for b in rows.iterator()))


# --- The stop-loss position ----------------------------------------------------------------------

def _members(request, data: dict):
    form = MemberFilter(request.GET)
    rows = [{**m, "plan": p["plan"]} for p in data.get("stop_loss", []) for m in p["members"]]
    if _filtered(form)["flagged"]:
        rows = [r for r in rows if r["flagged"]]
    return form, rows


@role_page(*ROLES)
def stop_loss(request):
    employer = _sponsor(request)
    row, data = _figures(employer)
    form, rows = _members(request, data)
    page = rows_page(request, rows, sorts=MEMBER_SORTS, default="-share")
    return render(request, "portal/employer/stop_loss.html", _context(
        employer, "stop-loss", figures=row, positions=positions_shown(data.get("stop_loss", [])), page=page, filter=form,
        kept=STOP_LOSS_MEMBERS))


@role_page(*ROLES)
def stop_loss_csv(request):
    employer = _sponsor(request)
    _, data = _figures(employer)
    _, rows = _members(request, data)
    return csv_response(filename=_csv_name(employer, "stop-loss-members"), header=MEMBER_CSV_HEADER,
                        rows=[member_csv_row(r) for r in rows_sorted(request, rows, sorts=MEMBER_SORTS,
                                                                        default="-share")])
