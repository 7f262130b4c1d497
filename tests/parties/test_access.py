"""One role policy (parties.roles), one access check per model and action, called by every service that
acts for a login and by the admin alike: an object the login may not see answers 404 (NotFound), an
action its role may not take 403 (Forbidden), and nothing changes.

Every login here is *careless*: staff, with every Permission in the database, linked to its party
(tests.factories.careless_login), as a careless administrator might set one up. Model permissions
must never let it act beyond its role.

The tables below are the access matrix: actor x action x world -> outcome. Three worlds: A and B are
ASO sponsors, C an ASC sponsor whose carrier pays its claims. The provider, the employer admin, the
members are A's; the carrier analyst is C's carrier; an employer admin of C pays C's reimbursements.
B is nobody's. Outcomes:

- "ok": done, and its effect checked (a claim's new state, a new deposit, a task sent, ...);
- "404" / "403": refused, and every row counted before is as it was (claims and their states, payments,
  deposits, ledger entries, transition log, accumulators, the scheduled jobs, the business clock, the
  tasks sent);
- "not offered": an admin list action missing from the login's choices; it is posted anyway, and
  nothing changes.

Each attempt runs in a savepoint that is rolled back, so every attempt starts from the same world.
"""
import datetime
import uuid
from decimal import Decimal

import pytest
from celery.app.task import Task
from celery.contrib.django.task import DjangoTask
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from claims.models import Accumulator, Claim, LineResult
from claims.selectors import claim_access_by_id
from claims.services import claim_adjudicate, claim_appeal, claim_review, claim_submit, claims_adjudicate_pending
from claims.tasks import adjudicate_pending_claims_enqueue
from core.errors import Forbidden, NotFound
from core.models import BusinessClock
from funding import services as funding
from funding.models import Deposit, FundingRequest, ReimbursementInvoice
from funding.tasks import payment_cycle_enqueue
from parties.roles import ROLE_ACTIONS, Action, user_may
from parties.selectors import employer_list_visible_to
from tests.claims.helpers import adjudicate, build_world, day, fresh
from tests.factories import StopLossPolicyFactory, careless_login
from tests.funding.helpers import snapshot

pytestmark = pytest.mark.django_db
D = Decimal

# --- The worlds ------------------------------------------------------------------------------------


def _sponsor_world(funding_arrangement: str):
    w = build_world(funding=funding_arrangement, excluded=["cosmetic"])
    w.sam = w.add_member("sam", subscriber=w.alice)  # alice's child: family coverage
    return w


def build_worlds():
    """A, B (ASO) and C (ASC), each with alice and her child sam, and in each: a claim approved and left
    waiting (A, B: awaiting funds, with a funding request; C: paid by the carrier and invoiced), one
    approved since, one pended (over the review threshold), alice's and sam's denials (an excluded
    category: appealable), one still submitted. C also has a claim paid by its carrier and not yet
    invoiced, and a stop-loss policy with a low attachment: every job has work to do."""
    a, b, c = _sponsor_world("ASO"), _sponsor_world("ASO"), _sponsor_world("ASC")
    worlds = {"A": a, "B": b, "C": c}
    for w in worlds.values():
        w.waiting = w.submit(on="2026-03-02", service="2026-03-01", lines=[("99213", 200)])
        w.pended = w.submit(on="2026-03-02", service="2026-03-01", lines=[("27447", 30000)])
        w.denied = w.submit(on="2026-03-02", service="2026-03-01", lines=[("15780", 800)])
        w.sam_denied = w.submit(on="2026-03-02", service="2026-03-01", lines=[("15780", 900)], member=w.sam)
    adjudicate()
    funding.payment_cycle_run(today=day("2026-03-02"))
    funding.reimbursement_billing_run(today=day("2026-03-02"))
    c.paid_not_invoiced = c.submit(on="2026-03-03", service="2026-03-02", lines=[("99213", 210)])
    adjudicate()
    funding.payment_cycle_run(today=day("2026-03-03"))
    for w in worlds.values():
        w.approved = w.submit(on="2026-03-04", service="2026-03-03", lines=[("99213", 220)])
    adjudicate()
    for w in worlds.values():
        w.submitted = w.submit(on="2026-03-05", service="2026-03-04", lines=[("70551", 2500)])
    StopLossPolicyFactory(plan=c.plan, specific_attachment=D("10.00"))
    every_five = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    PeriodicTask.objects.create(name="access: on", task="funding.tasks.fee_billing", interval=every_five, enabled=True)
    PeriodicTask.objects.create(name="access: off", task="funding.tasks.fee_billing", interval=every_five,
                                enabled=False)

    expected = {"waiting": {"A": "awaiting_funds", "B": "awaiting_funds", "C": "paid"}}
    for w_name, w in worlds.items():
        got = {k: fresh(getattr(w, k)).state for k in ("waiting", "approved", "pended", "denied", "sam_denied",
                                                         "submitted")}
        assert got == {"waiting": expected["waiting"][w_name], "approved": "approved", "pended": "pended",
                       "denied": "denied", "sam_denied": "denied", "submitted": "submitted"}, w_name
    assert FundingRequest.objects.filter(employer__in=[a.employer, b.employer], open_amount__gt=0).count() == 2
    assert funding.reimbursement_open_amount(employer=c.employer) > 0
    return worlds


ACTORS = {  # actor -> (role, its party in the worlds)
    "provider_staff": ("provider_staff", lambda ws: ws["A"].mercy),
    "employer_admin": ("employer_admin", lambda ws: ws["A"].employer),
    "employer_admin of C": ("employer_admin", lambda ws: ws["C"].employer),
    "carrier_analyst": ("carrier_analyst", lambda ws: ws["C"].plan.carrier),
    "member": ("member", lambda ws: ws["A"].alice),
    "member (dependent)": ("member", lambda ws: ws["A"].sam),
    "claims_examiner": ("claims_examiner", lambda ws: None),
    "supervisor": ("supervisor", lambda ws: None),
}


# --- What is sent, and what is counted ----------------------------------------------------------------

@pytest.fixture
def sent(monkeypatch):
    """The Celery tasks sent (by name), now or on commit: nothing reaches a broker."""
    names: list[str] = []
    monkeypatch.setattr(Task, "apply_async", lambda self, *a, **k: names.append(self.name))
    monkeypatch.setattr(DjangoTask, "delay_on_commit", lambda self, *a, **k: names.append(self.name))
    return names


def rows(sent) -> dict:
    """Everything an action could change: equal before and after means nothing changed."""
    out = snapshot()  # funding rows, claim states, transition log
    out["claim lines"] = LineResult.objects.count()
    out["accumulators"] = sorted(Accumulator.objects.values_list("pk", "deductible_met", "oop_met"))
    out["jobs"] = sorted(PeriodicTask.objects.values_list("pk", "enabled", "description"))
    out["clock"] = list(BusinessClock.objects.values_list("pk", "simulated_date"))
    out["sent"] = list(sent)
    return out


class _Undo(Exception):
    pass


def _classify(call, done, before, sent) -> str:
    try:
        result = call()
    except NotFound:
        outcome = "404"
    except Forbidden:
        outcome = "403"
    else:
        status = getattr(result, "status_code", None)
        if result == "not offered":
            outcome = "not offered"
        elif status in (403, 404):
            outcome = str(status)
        elif status is not None and status not in (200, 302):
            outcome = f"HTTP {status}"
        else:
            return "ok" if done(before, rows(sent)) else "no effect"
    after = rows(sent)
    changed = sorted(k for k in before if before[k] != after[k])
    return outcome if not changed else f"{outcome}, but changed {', '.join(changed)}"


def attempt(call, done, sent) -> str:
    """The outcome of `call`, in a savepoint rolled back afterwards."""
    before = rows(sent)
    try:
        with transaction.atomic():
            raise _Undo(_classify(call, done, before, sent))
    except _Undo as undo:
        del sent[len(before["sent"]):]
        return undo.args[0]


def _count(key):
    return lambda before, after: after[key] > before[key]


def _state(w_attr, *states):
    return lambda w: lambda before, after: fresh(w_attr(w)).state in states


def _sent(name):
    return lambda before, after: name in after["sent"][len(before["sent"]):]


def _always(before, after):
    return True


# --- The actions ----------------------------------------------------------------------------------

# action -> (the worlds it is tried on, the effect that makes it "ok": (w) -> (before, after) -> bool)
EFFECTS = {
    "view": ("ABC", lambda w: _always),
    "review": ("ABC", _state(lambda w: w.pended, "approved")),
    "appeal": ("ABC", _state(lambda w: w.denied, "appealed")),
    "appeal a dependent's claim": ("ABC", _state(lambda w: w.sam_denied, "appealed")),
    "adjudicate": ("ABC", lambda w: lambda before, after: fresh(w.submitted).state != "submitted"),
    "submit": ("ABC", lambda w: lambda before, after: len(after["claims"]) == len(before["claims"]) + 1),
    "batch": ("-", lambda w: lambda before, after: not Claim.objects.filter(state="submitted").exists()),
    "batch (queued)": ("-", lambda w: _sent("claims.tasks.adjudicate_pending_claims")),
    "batch (list action)": ("-", lambda w: _sent("claims.tasks.adjudicate_pending_claims")),
    "payment cycle": ("-", lambda w: _count("PaymentCycle")),
    "payment cycle (queued)": ("-", lambda w: _sent("funding.tasks.payment_cycle")),
    "deposit": ("AB", lambda w: lambda before, after: Deposit.objects.filter(employer=w.employer,
                                                                            reference="ACCESS-1").exists()),
    "deposit requested": ("AB", lambda w: lambda before, after: Deposit.objects.filter(employer=w.employer).exists()),
    "reimbursement": ("C", lambda w: _count("SponsorPayment")),
    "fee billing": ("-", lambda w: _count("FeeBilling")),
    "reimbursement billing": ("-", lambda w: _count("ReimbursementInvoice")),
    "stop-loss": ("-", lambda w: _count("StopLossFiling")),
    "jobs: enable": ("-", lambda w: lambda b, a: PeriodicTask.objects.get(name="access: off").enabled),
    "jobs: disable": ("-", lambda w: lambda b, a: not PeriodicTask.objects.get(name="access: on").enabled),
    "jobs: toggle": ("-", lambda w: lambda b, a: not PeriodicTask.objects.get(name="access: on").enabled
                     and PeriodicTask.objects.get(name="access: off").enabled),
    "jobs: run": ("-", lambda w: _sent("funding.tasks.fee_billing")),
    "jobs: change": ("-", lambda w: lambda b, a: PeriodicTask.objects.get(name="access: on").description == "moved"),
    "jobs: delete": ("-", lambda w: lambda b, a: not PeriodicTask.objects.filter(name="access: on").exists()),
    "clock: change": ("-", lambda w: lambda b, a: BusinessClock.objects.get().simulated_date == datetime.date(2026, 6, 1)),
    "clock: list edit": ("-", lambda w: lambda b, a: BusinessClock.objects.get().simulated_date == datetime.date(2026, 6, 2)),
}


def _submit(user, w):
    return claim_submit(member_id=w.alice.member_id, npi=w.mercy.npi, service_date="2026-03-04",
                        lines=[{"code": "99213", "billed": "150.00"}], submitted_by=user)


SERVICES = {
    "view": lambda u, w: claim_access_by_id(user=u, claim_id=w.approved.pk, action=Action.CLAIM_VIEW),
    "review": lambda u, w: claim_review(claim_id=w.pended.pk, decision="approve", user=u),
    "appeal": lambda u, w: claim_appeal(claim_id=w.denied.pk, user=u, reason="the member disagrees"),
    "appeal a dependent's claim": lambda u, w: claim_appeal(claim_id=w.sam_denied.pk, user=u),
    "adjudicate": lambda u, w: claim_adjudicate(claim_id=w.submitted.pk, by=u),
    "submit": _submit,
    "batch": lambda u, w: claims_adjudicate_pending(by=u),
    "batch (queued)": lambda u, w: adjudicate_pending_claims_enqueue(by=u),
    "payment cycle": lambda u, w: funding.payment_cycle_run(by=u),
    "payment cycle (queued)": lambda u, w: payment_cycle_enqueue(by=u),
    "deposit": lambda u, w: funding.sponsor_deposit(employer=w.employer, amount="100.00", reference="ACCESS-1", by=u),
    "deposit requested": lambda u, w: funding.sponsor_deposit(employer=w.employer, amount=funding.REQUESTED, by=u),
    "reimbursement": lambda u, w: funding.sponsor_reimbursement_pay(employer=w.employer, amount=funding.REQUESTED,
                                                                     by=u),
    "fee billing": lambda u, w: funding.fee_billing_run(by=u),
    "reimbursement billing": lambda u, w: funding.reimbursement_billing_run(by=u),
    "stop-loss": lambda u, w: funding.stop_loss_evaluate(by=u),
}


def _claim_url(view, claim):
    return reverse(f"admin:claims_claim_{view}", args=[claim.pk])


def _list_action(client, changelist: str, action: str, pks, **extra):
    """Post a changelist action (as the browser does); "not offered" when the page lists no such action
    (it is posted anyway: nothing may change)."""
    url = reverse(changelist)
    page = client.get(url)
    if page.status_code != 200:
        return page
    action_form = page.context.get("action_form") if page.context else None
    offered = action_form is not None and action in dict(action_form.fields["action"].choices)
    response = client.post(url, {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0", **extra})
    if response.status_code not in (200, 302):
        return response
    return response if offered else "not offered"


def _job(name):
    return PeriodicTask.objects.get(name=name)


def _job_form(task, **changes):
    data = {"name": task.name, "regtask": "", "task": task.task, "description": task.description,
            "interval": task.interval_id, "crontab": "", "solar": "", "clocked": "", "start_time_0": "",
            "start_time_1": "", "last_run_at_0": "", "last_run_at_1": "", "one_off": "", "args": "[]",
            "kwargs": "{}", "expires_0": "", "expires_1": "", "expire_seconds": "", "queue": "", "exchange": "",
            "routing_key": "", "priority": "", "headers": "{}", "_save": "Save"}
    if task.enabled:
        data["enabled"] = "on"
    data.update(changes)
    return data


def _jobs_action(action):
    return lambda c, w: _list_action(c, "admin:django_celery_beat_periodictask_changelist", action,
                                     [_job("access: on").pk, _job("access: off").pk])


ADMIN = {
    "view": lambda c, w: c.get(reverse("admin:claims_claim_change", args=[w.approved.pk])),
    "review": lambda c, w: c.post(_claim_url("review", w.pended), {"decision": "approve"}),
    "appeal": lambda c, w: c.post(_claim_url("appeal", w.denied), {"reason": "the member disagrees"}),
    "appeal a dependent's claim": lambda c, w: c.post(_claim_url("appeal", w.sam_denied), {"reason": ""}),
    "adjudicate": lambda c, w: c.post(_claim_url("adjudicate", w.submitted)),
    "batch (queued)": lambda c, w: c.post(reverse("admin:claims_claim_adjudicate_pending")),
    "batch (list action)": lambda c, w: _list_action(c, "admin:claims_claim_changelist", "run_auto_adjudication",
                                                     [w.submitted.pk]),
    "payment cycle": lambda c, w: c.post(reverse("admin:funding_paymentcycle_run")),
    "deposit": lambda c, w: c.post(reverse("admin:funding_deposit_record"), {
        "employer": w.employer.pk, "amount": "100.00", "reference": "ACCESS-1", "idempotency_key": uuid.uuid4().hex}),
    "deposit requested": lambda c, w: _list_action(c, "admin:funding_fundingrequest_changelist", "deposit_requested",
                                                   FundingRequest.objects.filter(employer=w.employer)
                                                   .values_list("pk", flat=True)),
    "reimbursement": lambda c, w: _list_action(c, "admin:funding_reimbursementinvoice_changelist", "pay_open",
                                               ReimbursementInvoice.objects.filter(employer=w.employer)
                                               .values_list("pk", flat=True)),
    "jobs: enable": _jobs_action("enable_tasks"),
    "jobs: disable": _jobs_action("disable_tasks"),
    "jobs: toggle": _jobs_action("toggle_tasks"),
    "jobs: run": _jobs_action("run_tasks"),
    "jobs: change": lambda c, w: c.post(reverse("admin:django_celery_beat_periodictask_change",
                                                args=[_job("access: on").pk]),
                                        _job_form(_job("access: on"), description="moved")),
    "jobs: delete": lambda c, w: c.post(reverse("admin:django_celery_beat_periodictask_delete",
                                                args=[_job("access: on").pk]), {"post": "yes"}),
    "clock: change": lambda c, w: c.post(reverse("admin:core_businessclock_change", args=[1]),
                                         {"simulated_date": "2026-06-01", "_save": "Save"}),
    "clock: list edit": lambda c, w: c.post(reverse("admin:core_businessclock_changelist"), {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": "1", "form-0-simulated_date": "2026-06-02", "_save": "Save"}),
}

# --- The matrix -----------------------------------------------------------------------------------
# Per actor, per action: the outcomes on the worlds EFFECTS names, in that order ("A B C", "A B", ...).

def _all_ok(action) -> str:
    return " ".join(["ok"] * len(EFFECTS[action][0].strip("-"))) or "ok"


PARTY_JOBS_AND_CLOCK = {a: "403" for a in ADMIN if a.startswith(("jobs:", "clock:"))}
NO_MONEY_JOBS = {"batch": "403", "batch (queued)": "403", "payment cycle": "403", "payment cycle (queued)": "403",
                 "fee billing": "403", "reimbursement billing": "403", "stop-loss": "403"}

SERVICE_EXPECTED = {
    "provider_staff": {
        "view": "ok 404 404", "review": "403 404 404", "appeal": "ok 404 404", "appeal a dependent's claim": "ok 404 404",
        "adjudicate": "403 404 404", "submit": "ok 403 403", **NO_MONEY_JOBS,
        "deposit": "404 404", "deposit requested": "404 404", "reimbursement": "404"},
    "employer_admin": {
        "view": "ok 404 404", "review": "403 404 404", "appeal": "403 404 404",
        "appeal a dependent's claim": "403 404 404", "adjudicate": "403 404 404", "submit": "403 403 403",
        **NO_MONEY_JOBS, "deposit": "ok 404", "deposit requested": "ok 404", "reimbursement": "404"},
    "employer_admin of C": {
        "view": "404 404 ok", "review": "404 404 403", "appeal": "404 404 403",
        "appeal a dependent's claim": "404 404 403", "adjudicate": "404 404 403", "submit": "403 403 403",
        **NO_MONEY_JOBS, "deposit": "404 404", "deposit requested": "404 404", "reimbursement": "ok"},
    "carrier_analyst": {
        "view": "404 404 ok", "review": "404 404 403", "appeal": "404 404 403",
        "appeal a dependent's claim": "404 404 403", "adjudicate": "404 404 403", "submit": "403 403 403",
        **NO_MONEY_JOBS, "deposit": "404 404", "deposit requested": "404 404", "reimbursement": "404"},
    "member": {
        "view": "ok 404 404", "review": "403 404 404", "appeal": "ok 404 404", "appeal a dependent's claim": "ok 404 404",
        "adjudicate": "403 404 404", "submit": "403 403 403", **NO_MONEY_JOBS,
        "deposit": "404 404", "deposit requested": "404 404", "reimbursement": "404"},
    "member (dependent)": {  # sam sees his own claims only: not his mother's
        "view": "404 404 404", "review": "404 404 404", "appeal": "404 404 404",
        "appeal a dependent's claim": "ok 404 404", "adjudicate": "404 404 404", "submit": "403 403 403",
        **NO_MONEY_JOBS, "deposit": "404 404", "deposit requested": "404 404", "reimbursement": "404"},
    "claims_examiner": {
        "view": "ok ok ok", "review": "ok ok ok", "appeal": "ok ok ok", "appeal a dependent's claim": "ok ok ok",
        "adjudicate": "ok ok ok", "submit": "ok ok ok", "batch": "ok", "batch (queued)": "ok",
        "payment cycle": "403", "payment cycle (queued)": "403", "deposit": "403 403", "deposit requested": "403 403",
        "reimbursement": "403", "fee billing": "403", "reimbursement billing": "403", "stop-loss": "403"},
    "supervisor": {a: _all_ok(a) for a in SERVICES},
}

# The admin: a login outside the TPA may open only the claim pages (parties.admin_scope); on them,
# the same answers as the services'.
_PARTY_ADMIN = {"batch (queued)": "403", "batch (list action)": "not offered", "payment cycle": "403",
                "deposit requested": "403 403", "reimbursement": "403", **PARTY_JOBS_AND_CLOCK}


def _party_admin(actor):
    service = SERVICE_EXPECTED[actor]
    same = {a: service[a] for a in ("view", "review", "appeal", "appeal a dependent's claim", "adjudicate", "deposit")}
    return {**same, **_PARTY_ADMIN}


ADMIN_EXPECTED = {
    **{actor: _party_admin(actor) for actor in ACTORS if actor not in ("claims_examiner", "supervisor")},
    "claims_examiner": {
        "view": "ok ok ok", "review": "ok ok ok", "appeal": "ok ok ok", "appeal a dependent's claim": "ok ok ok",
        "adjudicate": "ok ok ok", "batch (queued)": "ok", "batch (list action)": "ok", "payment cycle": "403",
        "deposit": "403 403", "deposit requested": "not offered not offered", "reimbursement": "not offered",
        "jobs: enable": "not offered", "jobs: disable": "not offered", "jobs: toggle": "not offered",
        "jobs: run": "not offered", "jobs: change": "403", "jobs: delete": "403",
        "clock: change": "403", "clock: list edit": "403"},
    "supervisor": {a: _all_ok(a) for a in ADMIN},
}


def _outcomes(calls, actor_call, worlds, sent) -> dict[str, str]:
    got = {}
    for action, call in calls.items():
        targets, effect = EFFECTS[action]
        on = [worlds[t] for t in targets.strip("-")] or [worlds["A"]]
        got[action] = " ".join(attempt(lambda w=w, call=call: actor_call(call, w), effect(w), sent) for w in on)
    return got


@pytest.fixture
def worlds():
    return build_worlds()


def _actor(worlds, name):
    role, party = ACTORS[name]
    return careless_login(role, party(worlds))


@pytest.mark.parametrize("actor", list(ACTORS))
def test_services_answer_each_careless_login_by_its_role_and_what_it_may_see(worlds, sent, actor):
    user = _actor(worlds, actor)
    assert user.is_staff and user.user_permissions.count() == Permission.objects.count()
    got = _outcomes(SERVICES, lambda call, w: call(user, w), worlds, sent)
    assert got == SERVICE_EXPECTED[actor]


@pytest.mark.parametrize("actor", list(ACTORS))
def test_the_admin_answers_each_careless_login_as_the_services_do(worlds, sent, actor):
    client = Client()
    client.force_login(_actor(worlds, actor))
    got = _outcomes(ADMIN, lambda call, w: call(client, w), worlds, sent)
    assert got == ADMIN_EXPECTED[actor]


def test_the_matrix_covers_every_action_of_the_role_policy():
    """Every action of the policy is tried through a service or the admin, and the expectations follow the
    one table: a role is "ok" somewhere (for one of its actors, on its own objects) exactly for the
    actions ROLE_ACTIONS gives it."""
    tried = {
        Action.CLAIM_VIEW: "view", Action.CLAIM_SUBMIT: "submit", Action.CLAIM_REVIEW: "review",
        Action.CLAIM_APPEAL: "appeal", Action.CLAIM_ADJUDICATE: "adjudicate",
        Action.CLAIMS_ADJUDICATE_PENDING: "batch", Action.PAYMENT_CYCLE_RUN: "payment cycle",
        Action.DEPOSIT_RECORD: "deposit", Action.REIMBURSEMENT_PAY: "reimbursement",
        Action.BILLING_RUN: "fee billing", Action.STOP_LOSS_EVALUATE: "stop-loss", Action.JOB_MANAGE: "jobs: run",
        Action.CLOCK_SET: "clock: change",
    }
    # Changing reference data and logins in the admin: tests/parties/test_admin_manage.py; running training
    # sessions: tests/training/test_sessions.py and test_training_pages.py (every role but trainer and
    # supervisor refused).
    assert set(tried) | {Action.LOGIN_MANAGE, Action.PLAN_MANAGE, Action.ENROLLMENT_MANAGE,
                         Action.TRAINING_RUN} == set(Action)
    ok_somewhere: dict[tuple, bool] = {}
    for actor, (role, _) in ACTORS.items():
        for action, name in tried.items():
            expected = SERVICE_EXPECTED[actor].get(name) or ADMIN_EXPECTED[actor][name]
            ok_somewhere[role, action] = ok_somewhere.get((role, action), False) or "ok" in expected.split()
    assert ok_somewhere == {(role, action): action in ROLE_ACTIONS[role] for role, action in ok_somewhere}


# --- Focused cases ---------------------------------------------------------------------------------

def test_a_provider_submits_under_its_own_npi_only(worlds):
    a, b = worlds["A"], worlds["B"]
    provider = careless_login("provider_staff", a.mercy)
    before = Claim.objects.count()
    for npi in (b.mercy.npi, a.faraway.npi, "1234567893", ""):
        with pytest.raises(Forbidden) as refused:
            claim_submit(member_id=a.alice.member_id, npi=npi, service_date="2026-03-04",
                         lines=[{"code": "99213", "billed": "150.00"}], submitted_by=provider)
        assert "npi" in refused.value.message_dict
    assert Claim.objects.count() == before
    mine = claim_submit(member_id=b.alice.member_id, npi=a.mercy.npi, service_date="2026-03-04",
                        lines=[{"code": "99213", "billed": "150.00"}], submitted_by=provider)
    assert mine.provider_id == a.mercy.pk and mine.submitted_by_id == provider.pk and mine.state == "submitted"


def test_a_member_appeals_its_own_and_its_familys_claims_a_dependent_only_its_own(worlds):
    a = worlds["A"]
    alice, sam = careless_login("member", a.alice), careless_login("member", a.sam)
    with pytest.raises(NotFound):
        claim_appeal(claim_id=a.denied.pk, user=sam)
    assert fresh(a.denied).state == "denied"
    claim_appeal(claim_id=a.sam_denied.pk, user=alice, reason="for my son")
    claim_appeal(claim_id=a.denied.pk, user=alice)
    assert (fresh(a.denied).state, fresh(a.sam_denied).state) == ("appealed", "appealed")


def test_an_employer_admin_records_a_deposit_for_its_own_aso_sponsor_only(worlds, client):
    a, b = worlds["A"], worlds["B"]
    employer = careless_login("employer_admin", a.employer)
    assert list(employer_list_visible_to(user=employer)) == [a.employer]
    client.force_login(employer)
    url = reverse("admin:funding_deposit_record")
    form = client.get(url)
    assert form.status_code == 200
    assert [e.pk for e in form.context["form"].fields["employer"].queryset] == [a.employer.pk]
    key = form.context["form"].initial["idempotency_key"]
    before = snapshot()

    theirs = client.post(url, {"employer": b.employer.pk, "amount": "90.00", "idempotency_key": key})
    nobody = client.post(url, {"employer": 10**9, "amount": "90.00", "idempotency_key": key})
    assert (theirs.status_code, nobody.status_code) == (404, 404)  # the same answer: no such sponsor for it
    assert snapshot() == before

    mine = client.post(url, {"employer": a.employer.pk, "amount": "90.00", "idempotency_key": key})
    assert mine.status_code == 302
    deposit = Deposit.objects.get(employer=a.employer)
    assert deposit.amount == D("90.00")
    assert fresh(a.waiting).state == "paid"  # the deposit released its waiting claim
    assert client.get(mine.url).status_code == 200  # and the page it lands on is one it may open


def test_tpa_roles_may_what_the_policy_says():
    """Examiners: review, appeal, adjudicate one claim, queue the batch, correct enrollment; not money,
    jobs, the clock, plans or logins.
    Supervisors: everything."""
    examiner, supervisor = careless_login("claims_examiner"), careless_login("supervisor")
    may = {a for a in Action if user_may(user=examiner, action=a)}
    assert may == {Action.CLAIM_VIEW, Action.CLAIM_SUBMIT, Action.CLAIM_REVIEW, Action.CLAIM_APPEAL,
                   Action.CLAIM_ADJUDICATE, Action.CLAIMS_ADJUDICATE_PENDING, Action.ENROLLMENT_MANAGE}
    assert all(user_may(user=supervisor, action=a) for a in Action)


# --- The scheduled jobs and the business clock ---------------------------------------------------------

def _beat_login(role):
    user = careless_login(role)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_celery_beat")
                              .exclude(codename__startswith="delete_").exclude(codename__startswith="add_"))
    user = type(user).objects.get(pk=user.pk)
    assert user.has_perm("django_celery_beat.change_periodictask")
    client = Client()
    client.force_login(user)
    return client


def _beat_world():
    every_five = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    on = PeriodicTask.objects.create(name="beat: on", task="funding.tasks.fee_billing", interval=every_five)
    off = PeriodicTask.objects.create(name="beat: off", task="funding.tasks.payment_cycle", interval=every_five,
                                      enabled=False)
    return on, off


def _jobs():
    return sorted(PeriodicTask.objects.values_list("name", "enabled", "description", "task"))


def test_an_examiner_with_the_beat_permissions_may_not_enable_disable_run_or_change_jobs(sent):
    on, off = _beat_world()
    examiner = _beat_login("claims_examiner")
    url = reverse("admin:django_celery_beat_periodictask_changelist")
    page = examiner.get(url)
    assert page.status_code == 200  # it may look at the schedule...
    assert not page.context.get("action_form")  # ...and is offered no action on it
    before = _jobs()
    for action in ("enable_tasks", "disable_tasks", "toggle_tasks", "run_tasks", "delete_selected"):
        response = examiner.post(url, {"action": action, "_selected_action": [on.pk, off.pk], "index": "0"})
        assert response.status_code in (200, 302, 403), action
        assert _jobs() == before, action
    change = reverse("admin:django_celery_beat_periodictask_change", args=[on.pk])
    assert examiner.post(change, _job_form(on, description="moved")).status_code == 403
    assert examiner.post(reverse("admin:django_celery_beat_periodictask_add"),
                         _job_form(on, name="new job")).status_code == 403
    schedule = reverse("admin:django_celery_beat_intervalschedule_change", args=[on.interval_id])
    assert examiner.post(schedule, {"every": "1", "period": "seconds"}).status_code == 403
    assert _jobs() == before
    assert IntervalSchedule.objects.get(pk=on.interval_id).every == 5
    assert sent == []


def test_a_supervisor_enables_disables_toggles_runs_and_changes_jobs(sent):
    on, off = _beat_world()
    supervisor = _beat_login("supervisor")
    url = reverse("admin:django_celery_beat_periodictask_changelist")

    def act(action, *tasks):
        response = supervisor.post(url, {"action": action, "_selected_action": [t.pk for t in tasks], "index": "0"})
        assert response.status_code == 302, action

    act("enable_tasks", off)
    assert PeriodicTask.objects.get(pk=off.pk).enabled
    act("disable_tasks", on)
    assert not PeriodicTask.objects.get(pk=on.pk).enabled
    act("toggle_tasks", on, off)
    assert (PeriodicTask.objects.get(pk=on.pk).enabled, PeriodicTask.objects.get(pk=off.pk).enabled) == (True, False)
    act("run_tasks", on)
    assert sent == ["funding.tasks.fee_billing"]
    change = reverse("admin:django_celery_beat_periodictask_change", args=[on.pk])
    assert supervisor.post(change, _job_form(PeriodicTask.objects.get(pk=on.pk), description="moved")).status_code == 302
    assert PeriodicTask.objects.get(pk=on.pk).description == "moved"


@pytest.mark.parametrize("role, may", [("claims_examiner", False), ("supervisor", True)])
def test_only_a_role_with_clock_set_moves_the_business_clock(role, may):
    BusinessClock.objects.update_or_create(pk=1, defaults={"simulated_date": datetime.date(2026, 3, 1)})
    user = careless_login(role)
    assert user_may(user=user, action=Action.CLOCK_SET) == may
    client = Client()
    client.force_login(user)
    change = client.post(reverse("admin:core_businessclock_change", args=[1]), {"simulated_date": "2026-06-01"})
    assert change.status_code == (302 if may else 403)
    assert BusinessClock.objects.get().simulated_date == (datetime.date(2026, 6, 1) if may else datetime.date(2026, 3, 1))
    listed = client.post(reverse("admin:core_businessclock_changelist"), {
        "form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0", "form-MAX_NUM_FORMS": "1000",
        "form-0-id": "1", "form-0-simulated_date": "2026-07-01", "_save": "Save"})
    assert listed.status_code == (302 if may else 403)
    assert BusinessClock.objects.get().simulated_date == (datetime.date(2026, 7, 1) if may else datetime.date(2026, 3, 1))
