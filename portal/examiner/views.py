"""The claims examiner's pages: the work queue of pended and appealed claims, and one claim with what
an examiner decides it on (its outcome and trace, the member's accumulators, its possible duplicates)
and the actions legal on it now: take or release it, approve, deny with a reason code, re-adjudicate.

Thin views: the queue is `claims.review_queue`, the actions are `claims.services` (which check the
role, the claim's state and who holds it under the claim's row lock). A refusal is shown on the page:
bad input next to its field (200), someone else acting first as a message (409).
"""
from django import forms
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from claims import services
from claims.carc import DENIAL_MEANING, EXAMINER_DENIAL_CODES
from claims.models import Claim
from claims.review_queue import (
    QUEUE_STATES,
    claim_holder,
    claim_possible_duplicates,
    claim_queue_rows,
    claim_review_queue,
    decision_deadline,
    queue_reason,
)
from claims.selectors import accumulators_report_for, claim_access_by_id
from claims.services.decisions import NOTE_WIDTH
from core import clock
from core.errors import Conflict, DomainError
from parties.roles import Action, user_may
from portal.access import R, role_page
from portal.claim_pages import claim_outcome
from portal.lists import PER_PAGE, list_page, page_number

ROLES = (R.CLAIMS_EXAMINER, R.SUPERVISOR)

# The claim's transitions (django-fsm's names) an examiner takes on this page, and how: a review
# decision on a pended claim, or adjudication (which decides among approve, deny and pend).
REVIEW_TRANSITIONS = {"review_approve": "approve", "review_deny": "deny"}
ADJUDICATION_TRANSITIONS = frozenset({"approve", "deny", "pend"})
FIELD_LABELS = {"decision": "Decision", "reason_code": "Reason code", "note": "Note", "claim": "Claim",
                "__all__": "Claim"}


class QueueFilters(forms.Form):
    holder = forms.ChoiceField(label="Claims", required=False, choices=[
        ("all", "All"), ("mine", "Held by me"), ("unassigned", "Not held by anyone")])
    state = forms.ChoiceField(label="State", required=False, choices=[
        ("", "Pended and appealed"), (QUEUE_STATES[0], "Pended"), (QUEUE_STATES[1], "Appealed")])


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("deny", "Deny")])
    reason_code = forms.ChoiceField(required=False, choices=[("", "")] + [
        (code, f"{code}: {DENIAL_MEANING[code]}") for code in EXAMINER_DENIAL_CODES])
    note = forms.CharField(required=False, max_length=NOTE_WIDTH)


def _filters(request) -> tuple[QueueFilters, dict]:
    """The GET form and the filters to apply: a field with a bad value is shown as an error and not applied."""
    form = QueueFilters(request.GET or None)
    chosen = {"holder": "all", "state": ""}
    if form.is_bound:
        form.is_valid()
        chosen.update({k: v for k, v in form.cleaned_data.items() if v})
    return form, chosen


@require_GET
@role_page(*ROLES)
def home(request):
    """The work queue, oldest first: age, amount, why it is there, the decision deadline, who holds it."""
    form, chosen = _filters(request)
    newest_first = request.GET.get("sort") == "-received"
    queue = claim_review_queue(user=request.user, holder=chosen["holder"], state=chosen["state"],
                               newest_first=newest_first, within=page_number(request) * PER_PAGE + 1)
    page = list_page(request, queue, sorts={"received": "received_date"}, default="received")
    rows = claim_queue_rows(claims=page.rows, today=clock.today())
    return render(request, "portal/examiner/home.html", {
        "active": "mine" if chosen["holder"] == "mine" else "queue", "form": form, "page": page, "rows": rows,
        "holder": chosen["holder"],
    })


def _actions(*, claim: Claim, user, role: str, holder) -> dict:
    """What the page offers now: the transitions django-fsm allows from the claim's state that the
    login's role may take, and the take / release buttons by who holds the claim."""
    legal = {t.name for t in claim.get_available_state_transitions()}
    held_by_other = holder is not None and holder.examiner_id != user.pk
    decisions = [d for name, d in REVIEW_TRANSITIONS.items() if name in legal]
    if not user_may(user=user, action=Action.CLAIM_REVIEW) or held_by_other:
        decisions = []
    adjudicate = (bool(legal & ADJUDICATION_TRANSITIONS) and not held_by_other
                  and user_may(user=user, action=Action.CLAIM_ADJUDICATE))
    in_queue = claim.state in QUEUE_STATES
    supervisor = role == R.SUPERVISOR  # a superuser without a party link works as one (portal.access)
    return {
        "approve": "approve" in decisions, "deny": "deny" in decisions,
        "adjudicate": adjudicate, "adjudicate_label": "Re-adjudicate now" if claim.state == "appealed" else "Adjudicate now",
        "take": in_queue and holder is None, "release": holder is not None and (not held_by_other or supervisor),
        "held_by_me": holder is not None and not held_by_other, "held_by_other": held_by_other,
    }


def _claim_page(request, claim: Claim, *, status: int = 200, review_errors=None, review_posted=None):
    holder = claim_holder(claim=claim)
    accumulators = None
    if claim.member_id is not None and claim.plan_id is not None:
        accumulators = accumulators_report_for(members=[claim.member], as_of=claim.service_date)[claim.member_id]
    outcome = claim_outcome(claim=claim)
    reason = queue_reason(claim=claim, transitions=outcome["timeline"])
    posted = review_posted or {}
    context = {
        **outcome,
        "active": "queue", "holder": holder, "actions": _actions(claim=claim, user=request.user, role=request.portal_role, holder=holder),
        "reason": reason, "deadline": decision_deadline(received=claim.received_date),
        "today": clock.today(), "accumulators": accumulators, "duplicates": claim_possible_duplicates(claim=claim),
        "denial_codes": [(code, DENIAL_MEANING[code]) for code in EXAMINER_DENIAL_CODES],
        "review_errors": [(FIELD_LABELS.get(field, field.replace("_", " ").capitalize()), message)
                          for field, msgs in (review_errors or {}).items() for message in msgs],
        "invalid": set(review_errors or ()), "posted": posted,
        "note_width": NOTE_WIDTH,
    }
    return render(request, "portal/examiner/claim.html", context, status=status)


def _claim_for(request, claim_id: int) -> Claim:
    """The claim, or 404 when it does not exist (checked before any input, so a missing claim is a 404 whatever was posted)."""
    return claim_access_by_id(user=request.user, claim_id=claim_id, action=Action.CLAIM_VIEW)


@role_page(*ROLES)
def claim(request, claim_id: int):
    found = _claim_for(request, claim_id)  # first: another party's (or no) claim is a 404 for any method
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return _claim_page(request, found)


def _act(request, claim: Claim, act, *, done, review_posted=None):
    """Run a service for the page: done -> a message and back to the claim (a reload sends nothing
    again); a Conflict (someone acted first, a double click) -> the page with the message, 409; bad
    input -> the page with the errors by field, 200."""
    try:
        result = act()
    except Conflict as exc:
        messages.error(request, exc.text())
        return _claim_page(request, _claim_for(request, claim.pk), status=409)  # as it is now
    except DomainError as exc:
        if exc.http_status in (403, 404):
            raise
        return _claim_page(request, claim, review_errors=exc.message_dict, review_posted=review_posted)
    messages.success(request, done(result))
    return redirect(reverse("portal:examiner-claim", kwargs={"claim_id": claim.pk}))


@require_POST
@role_page(*ROLES)
def claim_take(request, claim_id: int):
    claim = _claim_for(request, claim_id)
    return _act(request, claim, lambda: services.claim_take(claim_id=claim.pk, user=request.user),
                done=lambda _: f"You hold claim {claim.claim_number}: no other examiner can decide it until you release it.")


@require_POST
@role_page(*ROLES)
def claim_release(request, claim_id: int):
    claim = _claim_for(request, claim_id)
    return _act(request, claim, lambda: services.claim_release(claim_id=claim.pk, user=request.user),
                done=lambda _: f"Claim {claim.claim_number} is back in the queue for any examiner.")


def _posted(request) -> tuple[dict | None, dict]:
    """The review form's values, or (None, errors by field) when they are not acceptable."""
    try:
        data = request.POST
    except RequestDataTooBig:  # only the note is free text: nothing else can be this large
        return None, {"note": [f"at most {NOTE_WIDTH:,} characters; the form sent was far larger"]}
    form = ReviewForm(data)
    if not form.is_valid():
        return {k: data.get(k, "")[:NOTE_WIDTH].replace("\x00", "") for k in ("decision", "reason_code", "note")}, {
            field: [str(e) for e in errors] for field, errors in form.errors.items()}
    return form.cleaned_data, {}


@require_POST
@role_page(*ROLES)
def claim_review(request, claim_id: int):
    """Approve (priced now) or deny with a reason code a pended claim, with a note for its history."""
    claim = _claim_for(request, claim_id)
    values, errors = _posted(request)
    if errors:
        return _claim_page(request, claim, review_errors=errors, review_posted=values)
    decision = values["decision"]

    def done(decided: Claim) -> str:
        if decided.state == "approved":
            return f"Approved claim {decided.claim_number}: the plan pays ${decided.plan_paid:,.2f}."
        return f"Denied claim {decided.claim_number} with CARC {decided.reason_codes}."
    return _act(request, claim, lambda: services.claim_review(
        claim_id=claim.pk, decision=decision, user=request.user, reason_code=values["reason_code"] or None,
        note=values["note"]), done=done, review_posted=values)


@require_POST
@role_page(*ROLES)
def claim_adjudicate(request, claim_id: int):
    """Adjudicate a submitted or appealed claim now, by the same rules as the batch."""
    claim = _claim_for(request, claim_id)
    return _act(request, claim, lambda: services.claim_adjudicate(claim_id=claim.pk, by=request.user),
                done=lambda c: f"Adjudicated claim {c.claim_number}: now {c.get_state_display().lower()}.")
