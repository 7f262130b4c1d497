"""The claims examiner's dashboard: the work queue (order, age, deadline, overdue, why, who holds it;
filters; bounded queries), a claim's page (facts, outcome, accumulators, possible duplicates, only the
actions legal now), take / release between two examiners, approve, deny with a CARC, re-adjudicate an
appeal; refusals: other roles 403, a missing claim 404, bad input named by its field, nothing changed."""
import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django_fsm_log.models import StateLog

from claims.models import Claim, ClaimAssignment, LineResult
from claims.services import claim_adjudicate, claim_appeal, claim_submit, claim_take
from core import clock
from parties.models import Member, PartyLink, Provider
from parties.services import user_create_with_role
from tests.portal.helpers import DEMO_DATE

pytestmark = pytest.mark.django_db

QUEUE = "/examiner/"
OVERDUE_RECEIVED = datetime.date(2026, 5, 1)  # 45 days before the business date: past its 30 days


def _claim_url(claim_id, action=""):
    return f"/examiner/claims/{claim_id}/" + (f"{action}/" if action else "")


def _html(response) -> str:
    return response.content.decode().replace("&#x27;", "'").replace("&amp;", "&")


def _queue_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-claim="(\d+)"', html)]


def _row(html: str, claim_id: int) -> str:
    start = html.index(f'<tr data-claim="{claim_id}"')
    return html[start:html.index("</tr>", start)]


def _daniel() -> Member:
    return Member.objects.get(name="Daniel Okafor")


def _pended_claim(*, received: datetime.date, billed="30000.00", service_days_before=10) -> Claim:
    """A claim of Daniel's at Harborview received on `received`, over the review threshold: pended."""
    clock.clock_set(day=received)
    try:
        claim = claim_submit(member_id=_daniel().member_id, npi=Provider.objects.get(name__startswith="Harborview").npi,
                             service_date=received - datetime.timedelta(days=service_days_before),
                             lines=[{"code": "27447", "billed": billed}])
        claim = claim_adjudicate(claim_id=claim.pk, today=received)
    finally:
        clock.clock_set(day=DEMO_DATE)
    assert claim.state == "pended"
    return claim


@pytest.fixture
def demo_pended(demo) -> Claim:
    """The demo's pended claim: Daniel Okafor's knee replacement at Harborview ($31,400.00, received on the business date)."""
    return Claim.objects.get(state="pended", member__name="Daniel Okafor")


@pytest.fixture
def overdue(demo) -> Claim:
    return _pended_claim(received=OVERDUE_RECEIVED)


@pytest.fixture
def examiner(demo):
    return get_user_model().objects.get(username="examiner")


@pytest.fixture
def second_examiner(demo) -> Client:
    link = user_create_with_role(username="examiner2", password="demo", role=PartyLink.Role.CLAIMS_EXAMINER,
                                 party=demo["tpa"], first_name="Alma", last_name="Reyes")
    client = Client()
    client.force_login(link.user)
    return client


def _nothing_changed(claim: Claim, *, logged: int, state="pended"):
    fresh = Claim.objects.get(pk=claim.pk)
    assert fresh.state == state
    assert StateLog.objects.count() == logged
    assert not LineResult.objects.filter(claim=claim, round__gt=claim.adjudication_round).exists()


# --- The queue -------------------------------------------------------------------------------

def test_the_queue_is_oldest_first_with_age_deadline_overdue_and_why(client_for, demo_pended, overdue):
    other_pended = Claim.objects.get(state="pended", member__name="Keisha Washington")
    html = _html(client_for("examiner").get(QUEUE))
    assert _queue_ids(html) == [overdue.pk, demo_pended.pk, other_pended.pk]  # received, then id
    late, fresh = _row(html, overdue.pk), _row(html, demo_pended.pk)
    assert '<td class="num" data-testid="age">45</td>' in late  # Jun 15 - May 1
    assert '<time datetime="2026-05-31">May 31, 2026</time>' in late and "overdue" in late  # May 1 + 30 days
    assert '<td class="num" data-testid="age">0</td>' in fresh
    assert '<time datetime="2026-07-15">Jul 15, 2026</time>' in fresh and "overdue" not in fresh
    assert "30 days left" in fresh
    assert "$31,400.00" in fresh and "$30,000.00" in late
    assert "billed 31,400.00 is at least the review threshold 25,000.00" in fresh  # from its pend's log entry
    assert 'class="overdue"' in late and 'class="late"' in late  # red, and the word, not colour alone
    assert "Take claim C" in fresh


def test_newest_first_on_request_and_bad_query_strings_are_named_and_ignored(client_for, demo_pended, overdue):
    client = client_for("examiner")
    newest = _html(client.get(QUEUE + "?sort=-received"))
    assert _queue_ids(newest)[-1] == overdue.pk
    bad = client.get(QUEUE + "?state=bogus&holder=zz&page=abc&sort=zzz")
    html = _html(bad)
    assert bad.status_code == 200
    assert "State: Select a valid choice. bogus is not one of the available choices." in html
    assert "Claims: Select a valid choice. zz is not one of the available choices." in html
    assert _queue_ids(html)[0] == overdue.pk  # the whole queue, oldest first
    huge = client.get(QUEUE + "?page=" + "9" * 40 + "&state=%00")  # a page past MAX_PAGE is the last allowed
    assert huge.status_code == 200


def test_filters_mine_unassigned_and_state(client_for, examiner, demo_pended, overdue):
    claim_take(claim_id=demo_pended.pk, user=examiner)
    appealed = Claim.objects.filter(state="denied", member__name="Daniel Okafor").order_by("pk").first()
    claim_appeal(claim_id=appealed.pk, reason="the procedure was reconstructive")
    client = client_for("examiner")
    everything = _html(client.get(QUEUE))
    assert appealed.pk in _queue_ids(everything) and demo_pended.pk in _queue_ids(everything)
    assert "<strong>You</strong>" in _row(everything, demo_pended.pk)
    assert "the procedure was reconstructive" in _row(everything, appealed.pk)  # the appeal's reason
    assert _queue_ids(_html(client.get(QUEUE + "?holder=mine"))) == [demo_pended.pk]
    unassigned = _queue_ids(_html(client.get(QUEUE + "?holder=unassigned")))
    assert demo_pended.pk not in unassigned and overdue.pk in unassigned and appealed.pk in unassigned
    assert _queue_ids(_html(client.get(QUEUE + "?state=appealed"))) == [appealed.pk]
    assert appealed.pk not in _queue_ids(_html(client.get(QUEUE + "?state=pended")))
    # Another examiner sees who holds it, by name.
    assert "Ethan Morales" in _row(_html(client_for("supervisor").get(QUEUE)), demo_pended.pk)


def test_the_queue_reads_the_same_number_of_queries_with_30_more_pended_claims(client_for, count_queries, demo_pended,
                                                                               examiner):
    client = client_for("examiner")
    client.get(QUEUE)  # warm: the content type and session
    with count_queries() as before:
        first = client.get(QUEUE)
    assert first.status_code == 200
    for i in range(30):
        claim = _pended_claim(received=DEMO_DATE - datetime.timedelta(days=i % 40), billed=f"{26000 + i}.00",
                              service_days_before=5 + i)
        if i % 3 == 0:
            claim_take(claim_id=claim.pk, user=examiner)
    with count_queries() as after:
        page = client.get(QUEUE)
    assert len(after) == len(before), [q["sql"][:120] for q in after.captured_queries]
    html = _html(page)
    assert len(_queue_ids(html)) == 25 and 'rel="next"' in html
    second = _html(client.get(QUEUE + "?page=2"))
    assert len(_queue_ids(second)) == 32 - 25 and 'rel="next"' not in second
    assert not set(_queue_ids(html)) & set(_queue_ids(second))


# --- A claim's page --------------------------------------------------------------------------

def test_a_pended_claims_page_shows_its_facts_accumulators_duplicates_and_only_the_review_actions(
        client_for, demo_pended):
    response = client_for("examiner").get(_claim_url(demo_pended.pk))
    html = _html(response)
    assert response.status_code == 200
    assert "<h1>Claim " + demo_pended.claim_number in html
    assert "billed 31,400.00 is at least the review threshold 25,000.00" in html
    assert "Jul 15, 2026" in html and 'data-testid="holder">No one' in html
    assert 'id="outcome-h"' in html and 'id="timeline-h"' in html  # the shared outcome partial
    # Daniel's accumulators on the service date: the earlier claims' deductible and coinsurance.
    assert re.search(r"Individual</th><td class=\"num\">\$410\.00</td><td class=\"num\">\$1,000\.00</td>\s*"
                     r"<td class=\"num\">\$440\.00</td><td class=\"num\">\$4,000\.00</td>", html)
    assert 'value="approve"' in html and 'value="deny"' in html and 'name="reason_code"' in html
    codes = re.findall(r'<option value="(\d+)"', html)
    assert codes == ["26", "27", "29", "50", "96", "242"]
    assert "Re-adjudicate now" not in html and "Adjudicate now" not in html
    assert "Take this claim" in html and "Release to the queue" not in html
    assert html.count("data-once") >= 3


def test_possible_duplicates_are_the_members_other_claims_on_the_same_service_date(client_for, demo):
    original, copy = Claim.objects.filter(member__name="Daniel Okafor", provider__name="Riverside Family Medicine",
                                          lines__procedure_code="99213").order_by("pk")[:2]
    html = _html(client_for("examiner").get(_claim_url(copy.pk)))
    table = html[html.index('data-testid="duplicates"'):]
    assert original.claim_number in table and "<strong>Yes</strong>" in table
    assert "Take this claim" not in html and 'value="approve"' not in html  # denied: not an examiner's action here
    assert "No examiner action is open on a denied claim." in html


def test_an_appealed_claim_is_offered_re_adjudication_only(client_for, demo):
    denied = Claim.objects.get(state="denied", member__name="Daniel Okafor", reason_codes="96")
    claim_appeal(claim_id=denied.pk, reason="reconstructive")
    client = client_for("examiner")
    html = _html(client.get(_claim_url(denied.pk)))
    assert "Re-adjudicate now" in html and 'value="approve"' not in html and 'value="deny"' not in html
    assert "reconstructive" in html
    done = client.post(_claim_url(denied.pk, "adjudicate"))
    assert done.status_code == 302 and done.url == _claim_url(denied.pk)
    claim = Claim.objects.get(pk=denied.pk)
    assert claim.state == "denied" and claim.adjudication_round == 2 and claim.reason_codes == "96"
    assert "now denied" in _html(client.get(done.url))
    again = client.post(_claim_url(denied.pk, "adjudicate"))  # a double click: a message, not an error page
    assert again.status_code == 409 and "is denied, not submitted or appealed" in _html(again)


def test_the_claim_page_reads_a_bounded_number_of_queries(client_for, count_queries, demo_pended):
    client = client_for("examiner")
    client.get(_claim_url(demo_pended.pk))
    with count_queries() as before:
        client.get(_claim_url(demo_pended.pk))
    for i in range(12):  # more claims of the member on the same day: the duplicates list stays bounded
        _pended_claim(received=DEMO_DATE, billed=f"{26000 + i}.00",
                      service_days_before=(DEMO_DATE - demo_pended.service_date).days)
    with count_queries() as after:
        html = _html(client.get(_claim_url(demo_pended.pk)))
    assert len(after) == len(before)
    assert html[html.index('data-testid="duplicates"'):].count("<tr><td><a href") == 10


# --- Take and release between two examiners --------------------------------------------------

def test_take_then_the_other_examiner_can_neither_take_nor_decide_it_until_released(
        client_for, second_examiner, demo_pended):
    mine = client_for("examiner")
    taken = mine.post(_claim_url(demo_pended.pk, "take"))
    assert taken.status_code == 302 and taken.url == _claim_url(demo_pended.pk)
    assert mine.post(_claim_url(demo_pended.pk, "take")).status_code == 302  # a double click: the same hold
    assert ClaimAssignment.objects.get(claim=demo_pended).examiner.username == "examiner"
    page = _html(mine.get(_claim_url(demo_pended.pk)))
    assert 'data-testid="holder"><strong>You</strong>' in page and "Release to the queue" in page
    logged = StateLog.objects.count()

    theirs = _html(second_examiner.get(_claim_url(demo_pended.pk)))
    assert "Held by Ethan Morales" in theirs and 'value="approve"' not in theirs and "Take this claim" not in theirs
    refused = second_examiner.post(_claim_url(demo_pended.pk, "take"))
    assert refused.status_code == 409 and "is held by Ethan Morales" in _html(refused)
    for data in ({"decision": "approve"}, {"decision": "deny", "reason_code": "50"}):
        decided = second_examiner.post(_claim_url(demo_pended.pk, "review"), data)
        assert decided.status_code == 409 and "is held by Ethan Morales" in _html(decided)
    released = second_examiner.post(_claim_url(demo_pended.pk, "release"))
    assert released.status_code == 409 and "only they or a supervisor may release it" in _html(released)
    _nothing_changed(demo_pended, logged=logged)
    assert ClaimAssignment.objects.get(claim=demo_pended).examiner.username == "examiner"

    assert mine.post(_claim_url(demo_pended.pk, "release")).status_code == 302
    assert not ClaimAssignment.objects.exists()
    assert mine.post(_claim_url(demo_pended.pk, "release")).status_code == 302  # nothing left: no error
    assert second_examiner.post(_claim_url(demo_pended.pk, "take")).status_code == 302
    assert ClaimAssignment.objects.get(claim=demo_pended).examiner.username == "examiner2"


def test_a_supervisor_may_release_an_examiners_hold(client_for, demo_pended, examiner):
    claim_take(claim_id=demo_pended.pk, user=examiner)
    client = client_for("supervisor")
    assert "Release to the queue" in _html(client.get(_claim_url(demo_pended.pk)))
    assert client.post(_claim_url(demo_pended.pk, "release")).status_code == 302
    assert not ClaimAssignment.objects.exists()


# --- Decisions -------------------------------------------------------------------------------

def test_approve_prices_the_claim_now_and_ends_the_hold(client_for, demo_pended):
    client = client_for("examiner")
    client.post(_claim_url(demo_pended.pk, "take"))
    done = client.post(_claim_url(demo_pended.pk, "review"), {"decision": "approve", "note": "op note on file"})
    assert done.status_code == 302
    claim = Claim.objects.get(pk=demo_pended.pk)
    # 27447 at the fee 14,500.00 and 99223 at 290.00; Daniel has met 410.00 of his 1,000.00 deductible:
    # 590.00 deductible, then 20 % coinsurance on 13,910.00 (2,782.00) and on 290.00 (58.00).
    assert claim.state == "approved"
    assert (claim.allowed, claim.deductible, claim.coinsurance, claim.plan_paid) == (
        Decimal("14790.00"), Decimal("590.00"), Decimal("2840.00"), Decimal("11360.00"))
    assert not ClaimAssignment.objects.exists()
    html = _html(client.get(done.url))
    assert "Approved claim " + claim.claim_number + ": the plan pays $11,360.00." in html
    assert 'data-testid="plan-paid">$11,360.00' in html and "op note on file" not in html.split("Timeline")[0]
    assert StateLog.objects.filter(object_id=claim.pk, state="approved", by__username="examiner").exists()
    again = client.post(_claim_url(demo_pended.pk, "review"), {"decision": "approve"})  # a double click
    assert again.status_code == 409 and "is approved, no longer pended" in _html(again)
    assert Claim.objects.get(pk=claim.pk).plan_paid == Decimal("11360.00")
    assert claim.pk not in _queue_ids(_html(client.get(QUEUE)))


def test_deny_with_reason_code_50_gives_denied_with_that_carc(client_for, demo_pended):
    client = client_for("examiner")
    done = client.post(_claim_url(demo_pended.pk, "review"),
                       {"decision": "deny", "reason_code": "50", "note": "no prior authorization"})
    assert done.status_code == 302
    claim = Claim.objects.get(pk=demo_pended.pk)
    assert claim.state == "denied" and claim.reason_codes == "50" and claim.plan_paid == Decimal("0.00")
    assert set(LineResult.objects.filter(claim=claim, round=claim.adjudication_round)
               .values_list("denial_code", flat=True)) == {"50"}
    log = StateLog.objects.get(object_id=claim.pk, state="denied")
    assert log.description == "examiner denied, CARC 50: no prior authorization" and log.by.username == "examiner"
    assert "Denied claim " + claim.claim_number + " with CARC 50." in _html(client.get(done.url))


# --- Refusals --------------------------------------------------------------------------------

@pytest.mark.parametrize("username", ["provider", "employer", "member", "carrier"])
def test_other_roles_get_403_on_every_examiner_page_and_change_nothing(client_for, demo_pended, username):
    client = client_for(username)
    logged = StateLog.objects.count()
    assert client.get(QUEUE).status_code == 403
    assert client.get(_claim_url(demo_pended.pk)).status_code == 403
    for action in ("take", "release", "adjudicate"):
        assert client.post(_claim_url(demo_pended.pk, action)).status_code == 403
    assert client.post(_claim_url(demo_pended.pk, "review"), {"decision": "approve"}).status_code == 403
    _nothing_changed(demo_pended, logged=logged)
    assert not ClaimAssignment.objects.exists()


def test_a_claim_that_does_not_exist_is_404_for_every_page_and_action(client_for):
    client = client_for("examiner")
    assert client.get(_claim_url(987654321)).status_code == 404
    assert client.post(_claim_url(987654321)).status_code == 404
    for action in ("take", "release", "review", "adjudicate"):
        assert client.post(_claim_url(987654321, action), {"decision": "approve"}).status_code == 404
        assert client.get(_claim_url(987654321, action)).status_code == 405
    assert client.get("/examiner/claims/99999999999999999999999/").status_code == 404


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"decision": "maybe"}, "Decision", "Select a valid choice. maybe is not one of the available choices."),
    ({"decision": "deny", "reason_code": "zz"}, "Reason code", "Select a valid choice. zz is not one of the"),
    ({"decision": "deny", "reason_code": "18"}, "Reason code", "Select a valid choice. 18 is not one of the"),
    ({"decision": "approve", "note": "looks fine\x00"}, "Note", "Null characters are not allowed."),
    ({"decision": "approve", "note": "x" * 501}, "Note", "Ensure this value has at most 500 characters (it has 501)."),
    ({"decision": "approve", "note": "x" * 10_000_000}, "Note", "at most 500 characters; the form sent was far larger"),
    ({}, "Decision", "This field is required."),
], ids=["decision-maybe", "reason-zz", "reason-not-an-examiners", "note-nul", "note-501", "note-10mb", "nothing"])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(client_for, demo_pended, data, field, message):
    client = client_for("examiner")
    logged = StateLog.objects.count()
    response = client.post(_claim_url(demo_pended.pk, "review"), data)
    html = _html(response)
    assert response.status_code == 200
    assert f"<strong>{field}</strong>: {message}" in html
    assert 'role="alert"' in html and 'value="approve"' in html  # the page again, its forms still there
    _nothing_changed(demo_pended, logged=logged)
