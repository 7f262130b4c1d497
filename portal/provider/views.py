"""Provider staff's pages: submit a claim, check a member's eligibility, the office's claims (a claim's
outcome, its timeline, an appeal), remittance advices and the payments they carried.

Every claim and remittance is read through the access layer (`claim_list_visible_to`,
`claim_access_by_id`, `remittance_list_visible_to`): another provider's is a 404.
"""
import uuid

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from claims.errors import ClaimConflict, ClaimError
from claims.models import Claim, ClaimState
from claims.selectors import (
    claim_access_by_id,
    claim_list_visible_to,
    claim_search_condition,
    member_eligibility_on,
)
from claims.services import claim_appeal
from core import clock
from core.errors import NotFound
from funding.selectors import (
    claim_payment_for,
    remittance_claims_for,
    remittance_list_visible_to,
    remittance_payment_list,
)
from parties.roles import Action, user_may
from portal.access import R, role_page
from portal.claim_pages import claim_outcome
from portal.lists import list_page

from .forms import (
    FORM_MAX_ROWS,
    AppealForm,
    ClaimFilterForm,
    ClaimHeaderForm,
    ClaimSearchForm,
    EligibilityForm,
    LineRow,
    RemittanceFilterForm,
    form_error_summary,
    line_rows_blank,
    line_rows_read,
    lines_for_service,
    refusal_place,
    token_parse,
)
from .submission import claim_submit_once

ROLES = (R.PROVIDER_STAFF,)
S = ClaimState
HOME_ROWS = 5
CLAIM_SORTS = {"received": "received_date", "service": "service_date", "number": "pk"}
REMITTANCE_SORTS = {"issued": "issued_on", "amount": "amount"}
PAYMENT_SORTS = {"claim": "claim_id", "paid": "amount"}


def _provider(request):
    return request.user.party_link.provider


# --- Home -------------------------------------------------------------------------------------------

@role_page(*ROLES)
def home(request):
    """The newest claims, the ones that need a look (denied: appeal?; pended: with an examiner), the
    latest remittances: a few rows each, never a count over all the office's claims."""
    newest = claim_list_visible_to(user=request.user).order_by("-received_date", "-pk")
    return render(request, "portal/provider/home.html", {
        "active": "home",
        "newest": list(newest[:HOME_ROWS]),
        "denied": list(newest.filter(state=S.DENIED)[:HOME_ROWS]),
        "pended": list(newest.filter(state=S.PENDED)[:HOME_ROWS]),
        "remittances": list(remittance_list_visible_to(user=request.user).order_by("-issued_on", "-pk")[:3]),
    })


# --- Submit a claim ---------------------------------------------------------------------------------

def _submit_page(request, *, form, rows, token, summary=(), status=200, too_big=False):
    return render(request, "portal/provider/submit.html", {
        "active": "submit", "form": form, "rows": rows, "token": token, "too_big": too_big,
        "summary": [*form_error_summary(form), *summary] if form.is_bound else list(summary),
        "next_row": len(rows) if len(rows) < FORM_MAX_ROWS else None, "max_rows": FORM_MAX_ROWS,
        "provider": _provider(request),
    }, status=status)


@role_page(*ROLES)
def claim_new(request):
    """Submit a claim under the office's NPI through the intake service (`claim_submit`): its refusals
    are shown next to the fields they name and nothing is written; a claim that fails an intake edit is
    stored rejected and its page says why. A second POST of the same form goes to the claim it made."""
    today = clock.today()
    if request.method != "POST":
        return _submit_page(request, form=ClaimHeaderForm(business_date=today), rows=line_rows_blank(),
                            token=uuid.uuid4())
    try:
        data = request.POST
    except (RequestDataTooBig, TooManyFieldsSent):  # more than the server reads of one form (2.5 MB, 1,000 fields)
        return _submit_page(request, form=ClaimHeaderForm(business_date=today), rows=line_rows_blank(),
                            token=uuid.uuid4(), too_big=True, status=413)
    rows = line_rows_read(data)
    token = token_parse(data.get("token"))
    if "add_line" in data:  # "Add a line" without JavaScript: the same form with one row more
        if len(rows) < FORM_MAX_ROWS:
            rows.append(LineRow(index=len(rows)))
        form = ClaimHeaderForm(initial={"member_id": data.get("member_id", ""),
                                        "service_date": data.get("service_date", "")}, business_date=today)
        return _submit_page(request, form=form, rows=rows, token=token or uuid.uuid4())
    form = ClaimHeaderForm(data, business_date=today)
    if token is None:
        form.is_valid()
        form.add_error(None, "This form has no valid submission token (it may come from an old page): "
                             "check it and submit it again.")
        return _submit_page(request, form=form, rows=rows, token=uuid.uuid4())
    if not form.is_valid():
        return _submit_page(request, form=form, rows=rows, token=token)
    lines, filled = lines_for_service(rows)
    try:
        claim, repeated = claim_submit_once(
            user=request.user, token=token, member_id=form.cleaned_data["member_id"], npi=_provider(request).npi,
            service_date=form.cleaned_data["service_date"], lines=lines)
    except ClaimError as exc:
        summary = refusal_place(message_dict=exc.message_dict, form=form, filled=filled)
        return _submit_page(request, form=form, rows=rows, token=token, summary=summary)
    if repeated:
        messages.info(request, f"This form was already sent: it made claim {claim.claim_number}.")
    elif claim.state == S.REJECTED:
        messages.warning(request, f"Claim {claim.claim_number} was received and rejected at intake "
                                  f"({claim.rejection_field}: {claim.rejection_message}). Correct it in a new claim.")
    else:
        messages.success(request, f"Claim {claim.claim_number} was received; the next adjudication run prices it.")
    return redirect("portal:provider-claim", claim_id=claim.pk)


@role_page(*ROLES)
def claim_new_line(request):
    """One more empty line row for the claim form (htmx), and the "add a line" button for the row after it."""
    text = request.GET.get("row", "")
    index = min(int(text), FORM_MAX_ROWS - 1) if text.isdecimal() and len(text) <= 4 else 0
    return render(request, "portal/provider/_line_row_added.html", {
        "row": LineRow(index=index), "next_row": index + 1 if index + 1 < FORM_MAX_ROWS else None,
        "autofocus": True, "max_rows": FORM_MAX_ROWS})


# --- Eligibility ------------------------------------------------------------------------------------

@role_page(*ROLES)
def eligibility(request):
    """A member ID on a date (the business date unless given): in force or not, the plan, its copays,
    the deductible and out-of-pocket remaining, as a 271 answers a 270."""
    today = clock.today()
    answer = None
    if "member_id" in request.GET:
        data = request.GET.copy()
        if not data.get("on"):
            data["on"] = today.isoformat()
        form = EligibilityForm(data)
        if form.is_valid():
            answer = member_eligibility_on(member_id=form.cleaned_data["member_id"], on=form.cleaned_data["on"],
                                           user=request.user)
    else:
        form = EligibilityForm(initial={"on": today})
    return render(request, "portal/provider/eligibility.html", {
        "active": "eligibility", "form": form, "answer": answer, "provider": _provider(request)})


# --- Claims -----------------------------------------------------------------------------------------

@role_page(*ROLES)
def claim_list(request):
    """The office's claims, newest received first; filtered by state, searched by claim number or member ID."""
    qs = claim_list_visible_to(user=request.user)
    filters = ClaimFilterForm(request.GET)
    filters.is_valid()  # a bad value is named on the form and ignored; the other filters apply
    chosen = filters.cleaned_data
    if chosen.get("state"):
        qs = qs.filter(state=chosen["state"])
    condition = claim_search_condition(term=chosen.get("q") or "")
    if condition is not None:
        qs = qs.filter(condition)
    page = list_page(request, qs, sorts=CLAIM_SORTS, default="-received")
    return render(request, "portal/provider/claims.html", {"active": "claims", "filters": filters, "page": page})


def _claim_page(request, claim: Claim, *, appeal_form=None, status=200):
    may_appeal = claim.state == S.DENIED and user_may(user=request.user, action=Action.CLAIM_APPEAL)
    payment = claim_payment_for(claim=claim) if claim.state == S.PAID else None
    return render(request, "portal/provider/claim.html", {
        "active": "claims", "claim": claim, "payment": payment,
        "appeal_form": (appeal_form or AppealForm()) if may_appeal else None,
        **claim_outcome(claim=claim),
    }, status=status)


@role_page(*ROLES)
def claim_detail(request, claim_id: int):
    """A claim: its facts, the outcome per line (CARCs, the trace), its timeline; an appeal when denied."""
    claim = claim_access_by_id(user=request.user, claim_id=claim_id, action=Action.CLAIM_VIEW)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _claim_page(request, claim)


@role_page(*ROLES)
def claim_appeal_post(request, claim_id: int):
    """Appeal a denied claim with a reason (`claim_appeal`). A second appeal (a double click, another
    tab) is a Conflict shown as a message on the claim's page (409), and changes nothing."""
    claim = claim_access_by_id(user=request.user, claim_id=claim_id, action=Action.CLAIM_APPEAL)
    if request.method != "POST":
        return redirect("portal:provider-claim", claim_id=claim.pk)
    form = AppealForm(request.POST)
    if not form.is_valid():
        return _claim_page(request, claim, appeal_form=form)
    try:
        claim_appeal(claim_id=claim.pk, user=request.user, reason=form.cleaned_data["reason"])
    except ClaimConflict:
        claim = claim_access_by_id(user=request.user, claim_id=claim.pk, action=Action.CLAIM_VIEW)
        if claim.state == S.APPEALED:
            messages.error(request, f"Claim {claim.claim_number} was already appealed: nothing was changed. "
                                    "The next adjudication run decides it again.")
        else:
            messages.error(request, f"Claim {claim.claim_number} is {claim.get_state_display().lower()}, not denied: "
                                    "only a denied claim can be appealed. Nothing was changed.")
        return _claim_page(request, claim, status=409)
    except ClaimError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error("reason" if name == "reason" else None, errors)
        return _claim_page(request, claim, appeal_form=form)
    messages.success(request, f"The appeal of claim {claim.claim_number} was recorded; the next adjudication run "
                              "decides it again.")
    return redirect("portal:provider-claim", claim_id=claim.pk)


# --- Remittances ------------------------------------------------------------------------------------

@role_page(*ROLES)
def remittance_list(request):
    """The remittance advices of the office's payments, newest first, filtered by the date issued."""
    qs = remittance_list_visible_to(user=request.user)
    filters = RemittanceFilterForm(request.GET)
    filters.is_valid()
    chosen = filters.cleaned_data
    if chosen.get("issued_from"):
        qs = qs.filter(issued_on__gte=chosen["issued_from"])
    if chosen.get("issued_to"):
        qs = qs.filter(issued_on__lte=chosen["issued_to"])
    page = list_page(request, qs, sorts=REMITTANCE_SORTS, default="-issued")
    return render(request, "portal/provider/remittances.html", {
        "active": "remittances", "filters": filters, "page": page})


@role_page(*ROLES)
def remittance_detail(request, remittance_id: int):
    """A remittance advice (835-like): the payment's payer and total, and a page of its claims with what
    was paid and each line's adjustments (group, CARC, amount); searched by claim number or member ID."""
    remittance = remittance_list_visible_to(user=request.user).filter(pk=remittance_id).first()
    if remittance is None:
        raise NotFound({"remittance": [f"no remittance {remittance_id}"]})
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    filters = ClaimSearchForm(request.GET)
    filters.is_valid()
    payments = remittance_payment_list(remittance=remittance, term=filters.cleaned_data.get("q") or "")
    page = list_page(request, payments, sorts=PAYMENT_SORTS, default="claim")
    return render(request, "portal/provider/remittance.html", {
        "active": "remittances", "remittance": remittance, "filters": filters, "page": page,
        "sort_links": {name: page.sort_url(name) for name in PAYMENT_SORTS},
        "claims": remittance_claims_for(payments=page.rows)})
