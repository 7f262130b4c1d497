"""The supervisor's dashboard: its figures on the demo world and on a world moved on (decisions and
payments on later days), the claims behind each chart, bounded queries, and the payment cycle started
as a job (queued, run by the task, done with its figures or failed; one at a time)."""
import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from claims import reports
from claims.models import Claim, ClaimAssignment
from claims.services import claim_review, claim_submit
from core import clock
from funding import services as funding
from funding.models import PaymentCycle
from portal.figures import figures_compute
from portal.models import DashboardFigures, JobRun
from portal.tasks import job_run_payment_cycle
from tests.portal.helpers import DEMO_DATE, ROLE_LOGINS

pytestmark = pytest.mark.django_db
User = get_user_model()
HOME = "/supervisor/"
CLAIMS = "/supervisor/claims/"
JOBS = "/supervisor/jobs/"
START = "/supervisor/jobs/payment-cycle/"
REFRESH = "/supervisor/figures/refresh/"


def day(n: int) -> datetime.date:
    return DEMO_DATE + datetime.timedelta(days=n)


def figures(today=DEMO_DATE) -> dict:
    return reports.claim_report_for_supervisor(today=today)


def listed(client, url: str) -> set[int]:
    """The claim ids a claims-list URL shows, over every page."""
    ids: set[int] = set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        ids |= {int(i) for i in re.findall(r'data-claim="(\d+)"', html)}
        more = re.search(r'href="(\?[^"]*)" rel="next"', html)
        url = CLAIMS + more.group(1).replace("&amp;", "&") if more else None
    return ids


def ids(qs) -> set[int]:
    return set(qs.values_list("pk", flat=True))


def user(username: str):
    return User.objects.get(username=username)


# --- The figures on the demo world (every claim received on 2026-06-15, adjudicated the same day) ------

def test_the_demo_worlds_figures(demo):
    f = figures()
    assert f["by_state"] == {"submitted": 1, "rejected": 1, "pended": 2, "approved": 6, "denied": 3,
                             "appealed": 0, "awaiting_funds": 0, "paid": 0}
    # 11 claims adjudicated (6 approved, 3 denied, 2 pended); 9 decided on that first pass.
    assert f["first_pass"] == {"window_days": 90, "adjudicated": 11, "decided": 9, "rate": Decimal("81.8")}
    assert f["backlog"] == {"0-7": 2, "8-14": 0, "15-30": 0, "31+": 0}
    assert f["denials"] == [
        {"code": "96", "meaning": "non-covered service (excluded category)", "claims": 2},
        {"code": "18", "meaning": "exact duplicate of an earlier claim", "claims": 1},
    ]
    # Decided: 6 approved, 3 denied and the rejection, all on their received date; nothing paid yet.
    assert f["turnaround"]["decision"] == {"claims": 10, "median": Decimal("0.0"), "p90": Decimal("0.0")}
    assert f["turnaround"]["payment"] == {"claims": 0, "median": None, "p90": None}
    weeks = f["paid_by_week"]
    assert len(weeks) == 12 and weeks[-1]["week"] == DEMO_DATE and weeks[0]["week"] == day(-77)
    assert all(w["claims"] == 0 and w["amount"] == Decimal("0.00") for w in weeks)
    assert f["queue"] == {"pended": 2, "appealed": 0, "held": 0, "unheld": 2, "examiners": []}


def test_the_dashboard_shows_the_kept_figures_with_their_time(client_for):
    response = client_for("supervisor").get(HOME)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="first-pass-rate">81.8 %<' in html
    assert "9 of 11 claims decided on their first adjudication" in html
    assert "Figures as of" in html and 'data-testid="figures-as-of"' in html
    assert "no pend for an examiner" in html  # the rate's definition is on the page
    kept = DashboardFigures.objects.get(key="supervisor")
    assert kept.business_date == DEMO_DATE
    # every chart has its spec (json_script) and a canvas, and the same figures in a table
    for chart in ("chart-state", "chart-backlog", "chart-paid", "chart-denials"):
        assert f'<canvas data-chart="{chart}" role="img"' in html and f'id="{chart}" type="application/json"' in html
    assert '<script src="/static/portal/vendor/chart-4.6.1.umd.min.js" defer></script>' in html
    table = html[html.index('data-testid="denials"'):]
    assert "non-covered service (excluded category)</td><td class=\"num\">2</td>" in table


def test_the_charts_specs_link_each_bar_to_its_claims(client_for):
    context = client_for("supervisor").get(HOME).context
    state = context["charts"]["state"]
    assert state["labels"][:3] == ["Submitted", "Rejected", "Pended"]
    assert state["datasets"][0]["data"] == [1, 1, 2, 6, 3, 0, 0, 0]
    assert state["links"][2] == CLAIMS + "?state=pended"
    denials = context["charts"]["denials"]
    assert denials["labels"] == ["96", "18"] and denials["datasets"][0]["data"] == [2, 1]
    assert denials["links"] == [CLAIMS + "?state=denied&carc=96", CLAIMS + "?state=denied&carc=18"]
    backlog = context["charts"]["backlog"]
    assert backlog["links"][0] == CLAIMS + "?state=pended&age=0-7" and backlog["datasets"][0]["data"] == [2, 0, 0, 0]
    paid = context["charts"]["paid"]
    assert paid["links"][-1] == CLAIMS + "?paid_from=2026-06-15&paid_to=2026-06-21"
    assert paid["datasets"][0]["data"][-1] == "0.00"  # money as strings, never floats


def test_every_chart_bar_leads_to_exactly_its_claims(client_for):
    client = client_for("supervisor")
    context = client.get(HOME).context
    for row in context["by_state"]:
        expected = ids(Claim.objects.filter(state=row["state"]))
        assert len(expected) == row["claims"]
        assert listed(client, row["url"]) == expected, row["state"]
    for row in context["denials"]:
        got = listed(client, row["url"])
        assert len(got) == row["claims"]
        assert all(row["code"] in Claim.objects.get(pk=i).reason_code_list for i in got)
    assert listed(client, context["backlog"][0]["url"]) == ids(Claim.objects.filter(state="pended"))
    assert listed(client, context["backlog"][1]["url"]) == set()


def test_a_refresh_recomputes_the_figures_now(client_for, demo):
    client = client_for("supervisor")
    client.get(HOME)
    before = DashboardFigures.objects.get(key="supervisor")
    examiner = user("examiner")
    for claim_id in Claim.objects.filter(state="pended").values_list("pk", flat=True):
        claim_review(claim_id=claim_id, decision="deny", user=examiner, reason_code="50")
    assert client.get(REFRESH).status_code == 405
    response = client.post(REFRESH)
    assert response.status_code == 302 and response.url == HOME
    after = DashboardFigures.objects.get(key="supervisor")
    assert after.computed_at > before.computed_at
    assert after.data["by_state"]["pended"] == 0 and after.data["by_state"]["denied"] == 5
    html = client.get(HOME).content.decode()
    assert "not medically necessary (examiner)" in html


# --- A world moved on: decisions and payments on later days --------------------------------------

@pytest.fixture
def moved_on(demo):
    """Pay the approved claims on Jun 22 (ASC and fully insured at once, the ASO claim of 0.00 too; the
    other ASO claim waits for funds), deny the ASO pended claim on Jun 20, approve the ASC one on Jun 25,
    pay it on Jun 30."""
    examiner = user("examiner")
    supervisor = user("supervisor")
    aso_pended, asc_pended = Claim.objects.filter(state="pended").order_by("pk").values_list("pk", flat=True)
    clock.clock_set(day=day(5))
    claim_review(claim_id=aso_pended, decision="deny", user=examiner, reason_code="50")
    clock.clock_set(day=day(7))
    first = funding.payment_cycle_run(by=supervisor)
    clock.clock_set(day=day(10))
    claim_review(claim_id=asc_pended, decision="approve", user=examiner)
    clock.clock_set(day=day(15))
    second = funding.payment_cycle_run(by=supervisor)
    return {"first": first, "second": second, "aso_pended": aso_pended, "asc_pended": asc_pended}


def test_turnaround_and_paid_by_week_after_decisions_and_payments(moved_on):
    today = day(15)  # Tuesday Jun 30
    f = figures(today)
    # Decisions: ten on the received date, the denial after 5 days, the approval after 10.
    # 12 values 0×10, 5, 10: median 0; p90 at rank 9.9, between 0 and 5: 4.5.
    assert f["turnaround"]["decision"] == {"claims": 12, "median": Decimal("0.0"), "p90": Decimal("4.5")}
    # Payments: five on Jun 22 (7 days), the approved pended claim on Jun 30 (15 days):
    # 7×5, 15: median 7; p90 at rank 4.5, between 7 and 15: 11.
    assert f["turnaround"]["payment"] == {"claims": 6, "median": Decimal("7.0"), "p90": Decimal("11.0")}
    asc_claim = Claim.objects.get(pk=moved_on["asc_pended"])
    assert asc_claim.state == "paid" and asc_claim.paid_on == today
    weeks = {w["week"]: w for w in f["paid_by_week"]}
    assert weeks[day(7)] == {"week": day(7), "end": day(13), "claims": 5, "amount": Decimal("435.00")}
    assert weeks[day(14)] == {"week": day(14), "end": day(20), "claims": 1, "amount": asc_claim.plan_paid}
    # 47562: allowed 2,300.00; deductible 1,483.00 left (17.00 met by her lab line), 25 % of 817.00 = 204.25
    assert asc_claim.plan_paid == Decimal("612.75")
    assert sum(w["claims"] for w in f["paid_by_week"]) == 6
    # the reviews change neither the first-pass rate nor the claims adjudicated
    assert f["first_pass"]["rate"] == Decimal("81.8") and f["first_pass"]["adjudicated"] == 11
    assert f["by_state"]["paid"] == 6 and f["by_state"]["awaiting_funds"] == 1 and f["by_state"]["pended"] == 0
    assert f["denials"][0] == {"code": "96", "meaning": "non-covered service (excluded category)", "claims": 2}
    assert {d["code"]: d["claims"] for d in f["denials"]} == {"96": 2, "18": 1, "50": 1}


def test_a_paid_week_bar_lists_the_claims_paid_that_week(moved_on, client_for):
    client = client_for("supervisor")
    client.post(REFRESH)
    context = client.get(HOME).context
    row = next(w for w in context["paid_by_week"] if w["start"] == day(7))
    assert row["claims"] == 5 and row["amount"] == "435.00"
    assert listed(client, row["url"]) == ids(Claim.objects.filter(paid_on__range=(day(7), day(13))))
    assert len(listed(client, row["url"])) == 5
    backlog_after = context["backlog"]
    assert [b["claims"] for b in backlog_after] == [0, 0, 0, 0]


def test_the_backlog_ages_by_days_since_received(demo):
    assert figures(day(7))["backlog"] == {"0-7": 2, "8-14": 0, "15-30": 0, "31+": 0}
    assert figures(day(8))["backlog"] == {"0-7": 0, "8-14": 2, "15-30": 0, "31+": 0}
    assert figures(day(30))["backlog"] == {"0-7": 0, "8-14": 0, "15-30": 2, "31+": 0}
    assert figures(day(31))["backlog"] == {"0-7": 0, "8-14": 0, "15-30": 0, "31+": 2}


def test_the_age_filter_matches_the_backlog_bucket(demo, client_for):
    clock.clock_set(day=day(20))
    client = client_for("supervisor")
    pended = ids(Claim.objects.filter(state="pended"))
    assert listed(client, CLAIMS + "?state=pended&age=15-30") == pended
    assert listed(client, CLAIMS + "?state=pended&age=0-7") == set()


def test_the_windows_leave_out_older_claims(moved_on):
    # 90 days after Jun 30 the decisions and payments have left the window; the first-pass rate too.
    f = figures(day(15 + 90))
    assert f["turnaround"]["payment"]["claims"] == 0 and f["turnaround"]["decision"]["claims"] == 0
    assert f["first_pass"] == {"window_days": 90, "adjudicated": 0, "decided": 0, "rate": None}


def test_the_percentile_is_postgresqls_percentile_cont():
    assert reports.percentile_cont([], 0.5) is None
    assert reports.percentile_cont([3], 0.9) == 3
    assert reports.percentile_cont([1, 2, 3, 4], 0.5) == 2.5
    assert reports.percentile_cont([10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0], 0.9) == pytest.approx(4.5)


def test_each_examiners_held_claims(demo):
    examiner, supervisor = user("examiner"), user("supervisor")
    first, second = Claim.objects.filter(state="pended").order_by("pk")
    ClaimAssignment.objects.create(claim=first, examiner=examiner, taken_at=timezone.now())
    ClaimAssignment.objects.create(claim=second, examiner=supervisor, taken_at=timezone.now())
    queue = figures()["queue"]
    assert queue["held"] == 2 and queue["unheld"] == 0
    assert queue["examiners"] == [
        {"examiner_id": examiner.pk, "examiner": "Ethan Morales", "claims": 1},
        {"examiner_id": supervisor.pk, "examiner": "Janet Kowalski", "claims": 1},
    ]


# --- The claims list ---------------------------------------------------------------------------

def test_the_claims_list_links_each_claim_to_its_page(client_for, demo):
    html = client_for("supervisor").get(CLAIMS + "?state=denied&carc=96").content.decode()
    for claim_id in ids(Claim.objects.filter(state="denied", reason_codes="96")):
        assert f'href="{reverse("portal:examiner-claim", kwargs={"claim_id": claim_id})}"' in html


def test_the_carc_filter_matches_whole_codes_only(demo, client_for):
    client = client_for("supervisor")
    assert listed(client, CLAIMS + "?carc=1") == ids(Claim.objects.filter(
        Q(reason_codes__startswith="1,") | Q(reason_codes="1")))
    assert listed(client, CLAIMS + "?carc=45") == ids(Claim.objects.filter(reason_codes__contains="45"))
    assert listed(client, CLAIMS + "?carc=18") == ids(Claim.objects.filter(reason_codes="18"))


@pytest.mark.parametrize("query", [
    "state=bogus", "carc=999", "age=forever", "paid_from=2026-13-45", "paid_from=99999-01-01",
    "paid_from=2026-06-30&paid_to=2026-06-01", "state=%00", "paid_to=" + "9" * 5000, "page=abc&sort=zzz",
    "carc=1%00", "page=999999999999",
])
def test_bad_filters_are_named_on_the_page_never_a_server_error(client_for, query):
    response = client_for("supervisor").get(CLAIMS + "?" + query)
    assert response.status_code == 200
    html = response.content.decode()
    if query.startswith("page"):
        assert 'data-testid="claims"' in html
    else:
        assert 'class="error"' in html and "Correct the filters" in html


def _more_claims(n: int) -> None:
    members = list(Claim.objects.filter(state="approved").values_list("member__member_id", "provider__npi")[:2])
    for i in range(n):
        member_id, npi = members[i % len(members)]
        claim_submit(member_id=member_id, npi=npi, service_date=day(-1 - i % 20), lines=[{"code": "99213", "billed": "150.00"}])


def test_the_claims_list_costs_the_same_queries_whatever_the_data(client_for, count_queries):
    client = client_for("supervisor")
    client.get(CLAIMS)
    with count_queries() as small:
        assert client.get(CLAIMS + "?state=submitted").status_code == 200
    _more_claims(30)
    with count_queries() as large:
        page = client.get(CLAIMS + "?state=submitted")
    assert page.context["page"].has_next and len(page.context["page"].rows) == 25
    assert len(large) == len(small) <= 7  # session, login, role; the clock, one page of claims; the header (2)


def test_the_dashboard_reads_its_figures_in_one_query(client_for, count_queries):
    client = client_for("supervisor")
    client.get(HOME)  # computes and keeps them
    with count_queries() as small:
        client.get(HOME)
    _more_claims(10)
    with count_queries() as large:
        client.get(HOME)
    assert len(large) == len(small) <= 7  # session, login, role; the kept figures, the clock; the header (2)
    assert sum("claims_claim" in q["sql"] for q in large.captured_queries) == 0  # no aggregate at request time


# --- Jobs: the payment cycle as a Celery task ---------------------------------------------------

def test_starting_a_payment_cycle_queues_one_run_and_its_task(client_for, django_capture_on_commit_callbacks):
    client = client_for("supervisor")
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(START)
    assert response.status_code == 302 and response.url == JOBS
    run = JobRun.objects.get()
    assert run.state == "queued" and run.kind == "payment_cycle" and run.requested_by.username == "supervisor"
    assert len(callbacks) == 1  # the task is sent once the transaction commits
    page = client.get(JOBS).content.decode()
    assert f'hx-get="/supervisor/jobs/{run.pk}/" hx-trigger="every 2s"' in page and "Waiting for a worker" in page


def test_a_second_start_while_one_is_queued_is_refused(client_for):
    client = client_for("supervisor")
    client.post(START)
    second = client.post(START)
    assert second.status_code == 409
    assert "is already queued" in second.content.decode()
    assert JobRun.objects.count() == 1
    admin = client_for("admin")
    assert admin.post(START).status_code == 409 and JobRun.objects.count() == 1


def test_the_task_runs_the_cycle_and_the_page_shows_its_figures(client_for):
    client = client_for("supervisor")
    client.post(START)
    run = JobRun.objects.get()
    fragment = client.get(f"/supervisor/jobs/{run.pk}/", headers={"HX-Request": "true"})
    assert 'hx-trigger="every 2s"' in fragment.content.decode() and "<html" not in fragment.content.decode()
    job_run_payment_cycle.run(run.pk)
    run.refresh_from_db()
    cycle = PaymentCycle.objects.get()
    assert run.state == "done" and run.started_at and run.finished_at
    # the approved claims: ASC and fully insured paid at once, the ASO 0.00 one too; the ASO 65.00 one waits
    assert run.result == {"cycle": cycle.pk, "run_date": "2026-06-15", "claims_paid": 5, "amount_paid": "435.00",
                          "claims_awaiting_funds": 1, "funding_requests": 1}
    assert (cycle.claims_paid, cycle.amount_paid, cycle.claims_awaiting_funds) == (5, Decimal("435.00"), 1)
    done = client.get(f"/supervisor/jobs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done  # the polling stops
    assert "<dt>Claims paid</dt><dd>5</dd>" in done and "$435.00" in done
    jobs = client.get(JOBS).content.decode()
    assert f"Payment cycle #{cycle.pk}" in jobs and "hx-trigger" not in jobs
    # a second delivery of the message changes nothing; a new start is allowed now
    job_run_payment_cycle.run(run.pk)
    assert PaymentCycle.objects.count() == 1 and JobRun.objects.get().state == "done"
    assert client.post(START).status_code == 302 and JobRun.objects.count() == 2


def test_a_run_with_nothing_to_pay_is_done_with_that_said(client_for):
    client = client_for("supervisor")
    funding.payment_cycle_run()
    client.post(START)
    run = JobRun.objects.order_by("-pk").first()
    job_run_payment_cycle.run(run.pk)
    run.refresh_from_db()
    assert run.state == "done" and run.result == {"cycle": None} and run.message == "Nothing was waiting for payment."
    assert "Nothing was waiting for payment." in client.get(f"/supervisor/jobs/{run.pk}/").content.decode()


def test_a_run_for_a_login_whose_role_may_not_pay_fails_with_the_reason(demo):
    run = JobRun.objects.create(kind="payment_cycle", requested_by=user("examiner"), requested_at=timezone.now())
    job_run_payment_cycle.run(run.pk)
    run.refresh_from_db()
    assert run.state == "failed" and run.message == "user: Your role may not run a payment cycle."
    assert not PaymentCycle.objects.exists()
    assert Claim.objects.filter(state="approved").count() == 6


def test_an_unexpected_error_fails_the_run_and_rolls_the_cycle_back(demo, monkeypatch):
    run = JobRun.objects.create(kind="payment_cycle", requested_by=user("supervisor"), requested_at=timezone.now())

    def broken(**kwargs):
        PaymentCycle.objects.create(run_date=DEMO_DATE, started_at=timezone.now())
        raise RuntimeError("disk full")
    monkeypatch.setattr("funding.services.payment_cycle_run", broken)
    with pytest.raises(RuntimeError):
        job_run_payment_cycle.run(run.pk)
    run.refresh_from_db()
    assert run.state == "failed" and "RuntimeError" in run.message
    assert not PaymentCycle.objects.exists()


def test_a_run_no_worker_finished_within_an_hour_does_not_block_a_new_one(client_for):
    stale = JobRun.objects.create(kind="payment_cycle", requested_by=user("supervisor"),
                                  requested_at=timezone.now() - datetime.timedelta(hours=2))
    assert client_for("supervisor").post(START).status_code == 302
    stale.refresh_from_db()
    assert stale.state == "failed" and "within an hour" in stale.message
    assert JobRun.objects.filter(state="queued").count() == 1
    job_run_payment_cycle.run(stale.pk)  # its message delivered late: nothing is run for it
    assert not PaymentCycle.objects.exists()


def test_the_jobs_page_lists_the_last_runs_cycles_and_scheduled_jobs(client_for, count_queries):
    client = client_for("supervisor")
    funding.payment_cycle_run()
    with count_queries() as small:
        html = client.get(JOBS).content.decode()
    assert "dashboard figures (every 5 minutes)" in html
    assert 'href="/admin/django_celery_beat/periodictask/"' in html
    cycles = html[html.index('data-testid="payment-cycles"'):]
    assert "Jun 15, 2026" in cycles and "$435.00" in cycles
    for i in range(15):
        JobRun.objects.create(kind="payment_cycle", state="done", requested_by=user("supervisor"),
                              requested_at=timezone.now(), result={"cycle": None}, message=f"run {i}")
        PaymentCycle.objects.create(run_date=DEMO_DATE, started_at=timezone.now())
    with count_queries() as large:
        page = client.get(JOBS)
    assert len(page.context["runs"]) == 10 and len(page.context["cycles"]) == 10
    assert len(large) == len(small) <= 8


def test_a_job_page_of_no_run_is_404(client_for):
    client = client_for("supervisor")
    assert client.get("/supervisor/jobs/987654/").status_code == 404
    assert client.post("/supervisor/jobs/987654/").status_code == 404


# --- Other roles -------------------------------------------------------------------------------

@pytest.mark.parametrize("username", [u for u in ROLE_LOGINS if u != "supervisor"])
def test_other_roles_may_open_no_supervisor_page_nor_start_a_cycle(client_for, username):
    client = client_for(username)
    run = JobRun.objects.create(kind="payment_cycle", state="done", requested_by=user("supervisor"),
                                requested_at=timezone.now())
    for url in (HOME, CLAIMS, JOBS, f"/supervisor/jobs/{run.pk}/"):
        assert client.get(url).status_code == 403, url
    for url in (START, REFRESH):
        assert client.post(url).status_code == 403, url
    assert JobRun.objects.count() == 1


def test_the_figures_register_under_the_supervisor_key(demo):
    kept = figures_compute(key="supervisor")
    assert kept.data["by_state"]["approved"] == 6 and kept.business_date == DEMO_DATE
