"""The dashboards in a real browser (Chromium through Playwright, against pytest-django's live server):

- every role's home: a full-page screenshot written as a test artifact, and no serious or critical
  axe-core violation;
- every page each role reaches from its menu (and one page of each kind linked from them: a claim, a
  remittance...), after a month of business, checked by axe-core;
- the issue's flow end to end: the provider submits a claim that pends, the examiner takes and approves
  it, the supervisor starts the payment cycle (run by a real Celery worker), the employer funds the
  request, the provider sees it paid with its remittance, the member its EOB and its deductible bar move.
"""
import datetime
import re
from decimal import Decimal

import pytest

from tests.portal import browser
from tests.portal.browser import ROLE_PREFIX, axe_violations, crawl_role, login, screenshot, violations_text, wait_until
from tests.portal.helpers import DEMO_DATE, ROLE_LOGINS

pytestmark = [pytest.mark.browser]
# The browser module's fixtures, for pytest to find here (tests/portal/conftest.py is not theirs).
chromium, new_page, demo_live, celery_worker = browser.chromium, browser.new_page, browser.demo_live, browser.celery_worker


def _a_month_of_business() -> None:
    """What the pages list once business has happened: a pended claim approved (the other left in the
    queue), a payment cycle (the ASO claims wait for funds: a funding request), reimbursement billing
    (ASC invoices), fee billing, and a denied claim appealed (in the queue too)."""
    from claims.models import Claim
    from claims.services import claim_appeal, claim_review, claims_adjudicate_pending
    from funding import services as funding
    from parties.models import PartyLink

    examiner = PartyLink.objects.get(user__username="examiner").user
    pended = list(Claim.objects.filter(state="pended").order_by("pk").values_list("pk", flat=True))
    assert len(pended) >= 2
    claim_review(claim_id=pended[-1], decision="approve", user=examiner, note="reviewed")
    claims_adjudicate_pending(today=DEMO_DATE)
    funding.payment_cycle_run(today=DEMO_DATE)
    funding.reimbursement_billing_run(today=DEMO_DATE + datetime.timedelta(days=7))
    funding.fee_billing_run(today=datetime.date(2026, 7, 1))
    denied = Claim.objects.filter(state="denied").order_by("pk").first()
    claim_appeal(claim_id=denied.pk, reason="The provider sent the records.")


def test_axe_finds_what_it_is_run_for(new_page):
    """The check can fail: a field without a label and an image without a text are critical violations."""
    page = new_page()
    page.set_content('<!doctype html><html lang="en"><head><title>t</title></head><body><main><h1>t</h1>'
                     '<input type="text" name="q"><img src="data:," width="5" height="5"></main></body></html>')
    found = {v["id"]: v for v in axe_violations(page)}
    assert {"label", "image-alt"} <= set(found), found
    assert found["label"]["impact"] == "critical" and found["label"]["nodes"][0]["target"] == "input"
    assert "label" in violations_text({"page": list(found.values())})


def test_every_roles_home_is_screenshot_and_has_no_serious_axe_violation(demo_live, live_server, new_page):
    found, shots = {}, []

    def check(page, where: str) -> None:
        violations = axe_violations(page)
        if violations:
            found[where] = violations

    for username in ROLE_LOGINS:
        page = new_page()
        login(page, live_server, username)
        assert page.url == live_server.url + ROLE_PREFIX[username], (username, page.url)
        assert page.locator("h1").count() == 1
        shot = screenshot(page, f"{username}-home")
        assert shot.stat().st_size > 10_000, shot
        shots.append(shot)
        check(page, f"{username} {ROLE_PREFIX[username]}")
    # Everyone's pages besides the homes: the login page (anonymous) and the password change.
    page = new_page()
    page.goto(live_server.url + "/")
    shots.append(screenshot(page, "login"))
    check(page, "anonymous /")
    login(page, live_server, "member")
    page.goto(live_server.url + "/password/")
    assert page.locator("h1").count() == 1
    check(page, "member /password/")
    print("\n".join(str(s) for s in shots))
    assert not found, "serious or critical axe violations:\n" + violations_text(found)


@pytest.mark.parametrize("username", ROLE_LOGINS)
def test_every_page_of_the_roles_menu_has_no_serious_axe_violation(demo_live, live_server, new_page, username):
    _a_month_of_business()
    results = crawl_role(new_page(), live_server, username)
    pages = [p for p, r in results.items() if r["content_type"].startswith("text/html")]
    print(f"{username}: {len(results)} pages: " + ", ".join(f"{p} {r['status']}" for p, r in results.items()))
    assert ROLE_PREFIX[username] in results
    assert all(r["status"] == 200 for r in results.values()), {p: r["status"] for p, r in results.items()}
    assert pages
    found = {f"{username} {p}": r["violations"] for p, r in results.items() if r["violations"]}
    assert not found, "serious or critical axe violations:\n" + violations_text(found)


# --- the flow, end to end ------------------------------------------------------------------

KNEE = ("27447", "31000.00")  # total knee arthroplasty, billed over the plan's review threshold (25,000): pends


def _deductible_bar(page, live_server, name: str) -> dict:
    """The member home's deductible bar of `name`: aria figures and the text beside it."""
    page.goto(live_server.url + "/member/")
    bar = page.get_by_role("progressbar", name=f"{name}: deductible")
    figures = page.locator(f'p.meter-figures[data-bar="{name}: deductible"]').inner_text()
    return {"now": Decimal(bar.get_attribute("aria-valuenow")), "max": Decimal(bar.get_attribute("aria-valuemax")),
            "text": " ".join(figures.split())}


@pytest.mark.postgres
@pytest.mark.worker
def test_a_claim_from_submission_to_payment_through_every_roles_pages(demo_live, live_server, new_page, celery_worker):
    from claims.models import Accumulator, Claim
    from claims.tasks import adjudicate_pending_claims
    from funding.models import FundingRequest

    found: dict[str, list] = {}

    def check(page, step: str) -> None:
        """Each step's page as it is then (messages, new states): a screenshot and axe-core."""
        screenshot(page, f"flow-{step}")
        violations = axe_violations(page)
        if violations:
            found[f"{step} {page.url}"] = violations

    daniel = demo_live["members"][("aso", "Daniel Okafor")]
    member = new_page()
    login(member, live_server, "member")
    before = _deductible_bar(member, live_server, daniel.name)
    assert before["now"] < before["max"]

    # The provider submits the claim; the scheduled adjudication (the job the scheduler queues every
    # five minutes) runs on the worker and pends it: over the review threshold.
    provider = new_page()
    login(provider, live_server, "provider")
    provider.goto(live_server.url + "/provider/submit/")
    provider.get_by_label("Member ID").fill(daniel.member_id)
    provider.get_by_label("Service date").fill(f"{DEMO_DATE - datetime.timedelta(days=2):%Y-%m-%d}")
    provider.locator("#id_line-0-code").fill(KNEE[0])
    provider.locator("#id_line-0-units").fill("1")
    provider.locator("#id_line-0-billed").fill(KNEE[1])
    with provider.expect_navigation():
        provider.get_by_role("button", name="Submit the claim").click()
    claim_id = int(re.search(r"/provider/claims/(\d+)/$", provider.url).group(1))
    claim = Claim.objects.get(pk=claim_id)
    assert (claim.member_id, claim.state, claim.billed) == (daniel.pk, "submitted", Decimal(KNEE[1]))
    check(provider, "1-provider-submitted")
    adjudicate_pending_claims.delay()
    wait_until(lambda: Claim.objects.get(pk=claim_id).state == "pended", what="the claim to pend",
               worker=celery_worker)
    provider.reload()
    assert "pended" in provider.locator("h1").inner_text()

    # The examiner finds it in the queue, takes it and approves it.
    examiner = new_page()
    login(examiner, live_server, "examiner")
    examiner.get_by_role("link", name=claim.claim_number).click()
    examiner.get_by_role("button", name="Take this claim").click()
    examiner.wait_for_load_state()
    assert "You hold claim" in examiner.locator(".messages").inner_text()
    check(examiner, "2-examiner-took")
    with examiner.expect_navigation():
        examiner.get_by_role("button", name="Approve", exact=True).click()
    claim.refresh_from_db()
    assert claim.state == "approved" and claim.plan_paid > 0
    assert f"Approved claim {claim.claim_number}" in examiner.locator(".messages").inner_text()
    check(examiner, "3-examiner-approved")

    # The supervisor starts the payment cycle; the worker runs it while the page shows its progress.
    # The sponsor's claims account is empty: the ASO claims wait for funds, a funding request is issued.
    supervisor = new_page()
    login(supervisor, live_server, "supervisor")
    supervisor.goto(live_server.url + "/supervisor/jobs/")
    with supervisor.expect_navigation():
        supervisor.get_by_role("button", name="Start a payment cycle").click()
    run = supervisor.locator('[data-testid="job-run"]').first
    run.and_(supervisor.locator('[data-state="done"]')).wait_for(timeout=45_000)
    result = supervisor.locator('[data-testid="job-result"]').first.inner_text()
    claim.refresh_from_db()
    assert claim.state == "awaiting_funds", (claim.state, result, celery_worker.text()[-2000:])
    assert "Claims now awaiting funds" in result
    request = FundingRequest.objects.filter(employer=claim.plan.sponsor).order_by("-pk").first()
    assert request is not None and request.open_amount >= claim.plan_paid
    check(supervisor, "4-supervisor-cycle-done")

    # The employer funds the open requests: the deposit pays the waiting claims at once.
    employer = new_page()
    login(employer, live_server, "employer")
    employer.goto(live_server.url + "/employer/funding/")
    with employer.expect_navigation():
        employer.get_by_role("button", name=re.compile(r"^Fund \$")).click()
    assert "waiting claim" in employer.locator(".messages").inner_text()
    claim.refresh_from_db()
    assert claim.state == "paid" and claim.paid_on == DEMO_DATE
    check(employer, "5-employer-funded")

    # The provider sees it paid, with its remittance.
    provider.goto(live_server.url + f"/provider/claims/{claim_id}/")
    assert "paid" in provider.locator("h1").inner_text()
    provider.get_by_role("link", name=re.compile(r"^remittance \d+")).click()
    provider.wait_for_load_state()
    assert provider.locator(f'[data-claim="{claim_id}"]').count() == 1
    check(provider, "6-provider-remittance")

    # The member sees the explanation of benefits and its deductible bar moved.
    after = _deductible_bar(member, live_server, daniel.name)
    assert after["now"] > before["now"]
    met = Accumulator.objects.get(member=daniel, scope="individual", plan_year_start=claim.plan_year_start).deductible_met
    assert after["now"] == met and claim.deductible > 0
    assert after["text"] == f"met ${met:,.2f} of ${after['max']:,.2f}, ${max(after['max'] - met, 0):,.2f} remaining"
    check(member, "7-member-home")
    member.goto(live_server.url + f"/member/claims/{claim_id}/")
    eob = member.locator(".eob")
    assert "This is not a bill." in eob.inner_text()
    summary = " ".join(eob.locator(".summary").inner_text().split())
    assert f"Your plan paid {claim.plan_paid:,.2f}" in summary and f"You may owe {claim.member_responsibility:,.2f}" in summary
    assert "Total knee arthroplasty" in eob.inner_text()
    member.get_by_role("link", name="Printable explanation of benefits").click()
    member.wait_for_load_state()
    assert member.locator(".eob").count() == 1
    check(member, "8-member-eob")
    assert not found, "serious or critical axe violations:\n" + violations_text(found)
