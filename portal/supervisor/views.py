"""Supervisor pages: the dashboard's figures (computed by a job, `portal.supervisor.figures`), the claims
behind each chart bar, and the jobs (start a payment cycle and follow it, the last runs, the schedule)."""
import datetime
import json
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from claims.carc import CARC_MEANING
from claims.models import ClaimState
from claims.reports import AGE_BUCKETS, reason_code_condition, received_age_condition
from claims.selectors import claim_list_visible_to
from core import clock
from core.errors import Conflict
from portal.access import R, role_page
from portal.figures import figures_compute, figures_get
from portal.lists import list_page

from . import jobs
from .figures import KEY

ROLES = (R.SUPERVISOR,)
S = ClaimState
STATE_LABEL = dict(S.choices)
AGE_LABEL = {key: label for key, label, _, _ in AGE_BUCKETS}
FIRST_PASS_HELP = (
    "Of the claims first adjudicated in the last {days} days (their move out of submitted to approved, "
    "denied or pended; a rejection at intake is no adjudication), the share the rules decided on that first "
    "pass, approved or denied with no pend for an examiner's review. A claim appealed later still counts "
    "as decided on its first pass.")


def _claims_url(**filters) -> str:
    return reverse("portal:supervisor-claims") + "?" + urlencode(filters)


def _day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _bar(*, label: str, rows: list[dict], value: str, link: str = "url") -> dict:
    """A bar chart's spec for portal.js: one bar per row, clicking through to its claims."""
    return {"type": "bar", "labels": [r["label"] for r in rows],
            "datasets": [{"label": label, "data": [r[value] for r in rows]}],
            "links": [r[link] for r in rows]}


def _dashboard(data: dict) -> dict:
    """The kept figures as the page shows them: rows with labels and the links to their claims, and the
    charts drawn from the same rows (so the table beside a chart gives exactly its figures)."""
    by_state = [{"state": state, "label": STATE_LABEL[state], "claims": n, "url": _claims_url(state=state)}
                for state, n in data["by_state"].items()]
    backlog = [{"bucket": key, "label": AGE_LABEL[key], "claims": n, "url": _claims_url(state=S.PENDED, age=key)}
               for key, n in data["backlog"].items()]
    weeks = []
    for w in data["paid_by_week"]:
        start, end = _day(w["week"]), _day(w["end"])
        weeks.append({"start": start, "end": end, "label": f"{start:%b} {start.day}", "claims": w["claims"],
                      "amount": w["amount"], "url": _claims_url(paid_from=w["week"], paid_to=w["end"])})
    denials = [{**d, "label": d["code"], "url": _claims_url(state=S.DENIED, carc=d["code"])} for d in data["denials"]]
    queue = data["queue"]
    return {
        "first_pass": data["first_pass"],
        "first_pass_help": FIRST_PASS_HELP.format(days=data["first_pass"]["window_days"]),
        "turnaround": data["turnaround"],
        "by_state": by_state, "backlog": backlog, "paid_by_week": weeks, "denials": denials, "queue": queue,
        "queue_links": {"pended": _claims_url(state=S.PENDED), "appealed": _claims_url(state=S.APPEALED)},
        "charts": {
            "state": _bar(label="Claims", rows=by_state, value="claims"),
            "backlog": _bar(label="Pended claims", rows=backlog, value="claims"),
            "paid": _bar(label="Plan paid ($)", rows=weeks, value="amount"),
            "denials": _bar(label="Denied claims", rows=denials, value="claims"),
        },
    }


@role_page(*ROLES)
def home(request):
    """The dashboard: every figure read from the one kept row (`portal.figures`), with its time."""
    kept = figures_get(key=KEY)
    # Round-trip through JSON: a row computed just now holds Decimals and dates, a kept one their strings.
    data = json.loads(json.dumps(kept.data, cls=DjangoJSONEncoder))
    return render(request, "portal/supervisor/home.html", {
        "active": "home", "computed_at": kept.computed_at, "figures_date": kept.business_date, **_dashboard(data)})


@role_page(*ROLES)
@require_POST
def figures_refresh(request):
    """Recompute the dashboard's figures now (a second or two at a million claims; harmless twice)."""
    kept = figures_compute(key=KEY)
    messages.success(request, f"Figures recomputed at {kept.computed_at:%H:%M:%S}.")
    return redirect("portal:supervisor-home")


class ClaimFilterForm(forms.Form):
    """The filters of the claims list, the same ones the dashboard's charts link with."""

    state = forms.ChoiceField(required=False, choices=[("", "Any state"), *S.choices])
    carc = forms.ChoiceField(label="Reason code (CARC)", required=False,
                             choices=[("", "Any code"), *((c, f"{c}: {m}") for c, m in CARC_MEANING.items())])
    age = forms.ChoiceField(label="Received", required=False,
                            choices=[("", "Any time"), *((key, f"{label} ago") for key, label, _, _ in AGE_BUCKETS)])
    paid_from = forms.DateField(label="Paid from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    paid_to = forms.DateField(label="Paid to", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("paid_from"), data.get("paid_to")
        if start and end and start > end:
            self.add_error("paid_to", "must be on or after the paid-from date")
        return data


def _filtered(qs, data: dict, *, today: datetime.date):
    if data.get("state"):
        qs = qs.filter(state=data["state"])
    if data.get("carc"):
        qs = qs.filter(reason_code_condition(code=data["carc"]))
    if data.get("age"):
        qs = qs.filter(received_age_condition(bucket=data["age"], today=today))
    if data.get("paid_from"):
        qs = qs.filter(paid_on__gte=data["paid_from"])
    if data.get("paid_to"):
        qs = qs.filter(paid_on__lte=data["paid_to"])
    return qs


@role_page(*ROLES)
@require_GET
def claims(request):
    """Every claim of the TPA, newest received first, filtered as the dashboard's charts link to it."""
    form = ClaimFilterForm(request.GET)
    page = None
    if form.is_valid():
        qs = _filtered(claim_list_visible_to(user=request.user), form.cleaned_data, today=clock.today())
        page = list_page(request, qs, sorts={"received": "received_date", "number": "id"}, default="-received")
    return render(request, "portal/supervisor/claims.html", {"active": "claims", "form": form, "page": page})


def _jobs_page(request, *, status: int = 200, error: str = ""):
    runs = jobs.job_run_list_latest()
    return render(request, "portal/supervisor/jobs.html", {
        "active": "jobs", "runs": runs, "current": next((r for r in runs if r.is_active), None),
        "cycles": jobs.payment_cycle_list_latest(), "scheduled": jobs.periodic_task_list(), "error": error,
    }, status=status)


@role_page(*ROLES)
@require_GET
def jobs_page(request):
    return _jobs_page(request)


@role_page(*ROLES)
@require_POST
def payment_cycle_start(request):
    """Queue a payment cycle (a Celery task); a second while one is under way is refused (409)."""
    try:
        run = jobs.payment_cycle_job_start(by=request.user)
    except Conflict as exc:
        return _jobs_page(request, status=409, error=exc.text())
    messages.success(request, f"Payment cycle #{run.pk} queued: its progress shows below.")
    return redirect("portal:supervisor-jobs")


@role_page(*ROLES)
def job(request, job_id: int):
    """One run's progress: the fragment the jobs page polls (htmx) until the run is done or failed."""
    run = jobs.job_run_get(job_id=job_id)
    if run is None:
        raise Http404(f"no job run {job_id}")
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    template = "portal/supervisor/_job.html" if request.htmx else "portal/supervisor/job.html"
    return render(request, template, {"active": "jobs", "run": run})
