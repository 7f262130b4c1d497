"""The provider staff's dashboard: submit a claim (one claim per form, however often it is sent; refusals
named by field, nothing written), the eligibility check, the office's claims (filters, search, sorting,
bounded queries), a claim's page and its appeal, remittance advices; another provider's objects are 404."""
import datetime
import html
import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_fsm_log.models import StateLog

from claims.models import Accumulator, Claim
from claims.services import claim_submit, claims_adjudicate_pending
from funding import services as funding
from funding.models import RemittanceAdvice
from funding.selectors import remittance_list_visible_to
from parties.models import Member, PartyLink
from parties.validators import member_id_check_char
from portal.models import ClaimSubmissionToken
from tests.portal.helpers import DEMO_DATE

pytestmark = pytest.mark.django_db
D = Decimal
TEN_MB = 10 * 1024 * 1024


def _member(demo, sponsor: str, name: str) -> Member:
    return demo["members"][(sponsor, name)]


def _provider(username: str = "provider"):
    return PartyLink.objects.select_related("provider").get(user__username=username).provider


def _claim_form(*, member_id: str, service_date, lines, token=None, rows: int = 5) -> dict:
    """A POST of the claim form: `lines` fill the first rows, the rest of `rows` are left empty."""
    data = {"member_id": member_id, "service_date": str(service_date), "token": str(token or uuid.uuid4())}
    for i in range(max(rows, len(lines))):
        code, units, billed = lines[i] if i < len(lines) else ("", "", "")
        data.update({f"line-{i}-code": code, f"line-{i}-units": units, f"line-{i}-billed": billed})
    return data


def _text(response) -> str:
    return html.unescape(response.content.decode())


def _counts() -> tuple[int, int]:
    return Claim.objects.count(), ClaimSubmissionToken.objects.count()


def _more_claims(demo, count: int, *, username: str = "provider") -> None:
    """`count` more claims of the provider (for the query-count checks), adjudicated."""
    npi = _provider(username).npi
    member = _member(demo, "aso", "Michael Brennan")
    for i in range(count):
        claim_submit(member_id=member.member_id, npi=npi, service_date=DEMO_DATE - datetime.timedelta(days=30 + i),
                     lines=[{"code": "80053", "billed": f"{20 + i}.00"}])
    claims_adjudicate_pending(today=DEMO_DATE)


# --- Home -----------------------------------------------------------------------------------------------

def test_home_shows_the_newest_and_the_denied_claims_and_links_to_every_page(client_for, demo, count_queries):
    client = client_for("provider")
    response = client.get("/provider/")
    assert response.status_code == 200
    provider = _provider()
    page = _text(response)
    for name in ("provider-submit", "provider-eligibility", "provider-claims", "provider-remittances"):
        assert f'href="{reverse(f"portal:{name}")}"' in page, name
    newest, denied = response.context["newest"], response.context["denied"]
    assert newest and all(c.provider_id == provider.pk for c in newest)
    assert [c.received_date for c in newest] == sorted((c.received_date for c in newest), reverse=True)
    # The demo's second copy of Riverside's office visit is denied as a duplicate (CARC 18).
    assert denied and {c.state for c in denied} == {"denied"} and all(c.provider_id == provider.pk for c in denied)
    assert denied[0].claim_number in page
    with count_queries() as before:
        client.get("/provider/")
    _more_claims(demo, 30)
    with count_queries() as after:
        client.get("/provider/")
    assert len(after) == len(before)


# --- Submit a claim -------------------------------------------------------------------------------------

def test_submitting_a_claim_makes_one_claim_priced_by_adjudication(client_for, demo):
    client = client_for("provider")
    daniel = _member(demo, "aso", "Daniel Okafor")
    assert client.get("/provider/submit/").status_code == 200
    before = Claim.objects.count()
    service_date = DEMO_DATE - datetime.timedelta(days=2)
    response = client.post("/provider/submit/", _claim_form(
        member_id=daniel.member_id.lower(), service_date=service_date,
        lines=[("99213", "", "150.00"), ("85025", "2", "$40.00")]))
    assert Claim.objects.count() == before + 1
    claim = Claim.objects.order_by("-pk").first()
    assert response.status_code == 302 and response.url == f"/provider/claims/{claim.pk}/"
    assert (claim.state, claim.member_id, claim.provider_id, claim.service_date) == (
        "submitted", daniel.pk, _provider().pk, service_date)
    assert claim.submitted_by.username == "provider"
    assert [(ln.procedure_code, ln.units, ln.billed) for ln in claim.lines.order_by("line_number")] == [
        ("99213", 1, D("150.00")), ("85025", 2, D("40.00"))]

    claims_adjudicate_pending(today=DEMO_DATE)
    claim.refresh_from_db()
    # 99213: fee 95.00, office-visit copay 30.00, 55.00 written off. 85025 x 2: fee 2 x 11.00 = 22.00, all of
    # it deductible (Daniel has 590.00 of his 1,000.00 left), 18.00 written off.
    assert claim.state == "approved"
    assert (claim.allowed, claim.copay, claim.deductible, claim.coinsurance) == (D("117.00"), D("30.00"), D("22.00"), D("0.00"))
    assert (claim.plan_paid, claim.member_responsibility, claim.provider_write_off) == (D("65.00"), D("52.00"), D("73.00"))
    page = _text(client.get(response.url))
    assert "Claim " + claim.claim_number in page and "$65.00" in page and "$52.00" in page
    assert "<strong>3</strong> copay amount" in page and "<strong>1</strong> deductible amount" in page
    assert "<strong>45</strong> charge exceeds the fee schedule" in page


def test_a_claim_for_an_unknown_member_is_stored_rejected_and_its_page_says_why(client_for, demo):
    client = client_for("provider")
    body = "Z" * 9
    unknown = body + member_id_check_char(body)
    assert not Member.objects.filter(member_id=unknown).exists()
    before = Claim.objects.count()
    response = client.post("/provider/submit/", _claim_form(member_id=unknown, service_date=DEMO_DATE,
                                                            lines=[("99213", "1", "120.00")]), follow=True)
    assert Claim.objects.count() == before + 1
    claim = Claim.objects.order_by("-pk").first()
    assert (claim.state, claim.rejection_field, claim.submitted_member_id) == ("rejected", "member_id", unknown)
    page = _text(response)
    assert response.status_code == 200 and "rejected at intake" in page and "unknown member ID" in page
    assert 'data-testid="rejection"' in page


BLANK_FIRST_ROW = {"line-0-code": "", "line-0-units": "", "line-0-billed": ""}


@pytest.mark.parametrize(("change", "label", "message"), [
    ({"member_id": "M" * 275}, "Member ID", "at most 40 characters"),
    ({"member_id": ""}, "Member ID", "This field is required"),
    ({"service_date": "2026-13-40"}, "Service date", "not a date"),
    ({"service_date": "1850-01-01"}, "Service date", "on or after 1900-01-01"),
    ({"line-0-code": "99\x00"}, "Line 1 procedure code", "NUL"),
    ({"line-0-code": "9" * 1_000_000}, "Line 1 procedure code", "at most 10 characters, got 1,000,000"),
    ({"line-0-billed": "abc"}, "Line 1 billed", "not an amount"),
    ({"line-0-billed": ""}, "Line 1 billed", "a billed amount is required"),
    ({"line-0-billed": "9" * 30}, "Line 1 billed", "too large"),
    ({"line-0-units": "abc"}, "Line 1 units", "must be a whole number from 1 to 9,999"),
    ({"line-0-units": "0"}, "Line 1 units", "must be a whole number from 1 to 9,999"),
    ({**BLANK_FIRST_ROW, "line-2-code": "99213", "line-2-billed": "x1"}, "Line 3 billed", "not an amount"),
    ({"line-0-code": "", "line-0-billed": ""}, "Line 1 procedure code", "a procedure code is required"),
    (BLANK_FIRST_ROW, "Lines", "the claim has no lines"),
], ids=["member-id-275", "member-id-blank", "date-bad", "date-1850", "code-nul", "code-1MB", "billed-abc",
        "billed-blank", "billed-huge", "units-abc", "units-0", "third-row", "units-only", "no-lines"])
def test_a_refused_claim_names_the_field_and_writes_nothing(client_for, demo, change, label, message):
    client = client_for("provider")
    data = _claim_form(member_id=_member(demo, "aso", "Daniel Okafor").member_id, service_date=DEMO_DATE,
                       lines=[("99213", "1", "150.00")])
    data.update(change)
    before = _counts()
    response = client.post("/provider/submit/", data)
    after = _counts()
    if message == "the claim has no lines":  # a well-formed claim without lines is an intake edit: rejected
        assert after[0] == before[0] + 1 and Claim.objects.order_by("-pk").first().rejection_field == "lines"
        return
    assert response.status_code == 200
    assert after == before
    page = _text(response)
    assert re.search(rf"{re.escape(label)}: [^<]*{re.escape(message)}", page), page[:3000]
    assert 'role="alert"' in page
    assert len(response.content) < 200_000, "the refusal does not echo a huge value back"


def test_a_10_mb_code_is_refused_with_a_message_and_nothing_is_written(client_for, demo):
    client = client_for("provider")
    data = _claim_form(member_id=_member(demo, "aso", "Daniel Okafor").member_id, service_date=DEMO_DATE,
                       lines=[("9" * TEN_MB, "1", "150.00")])
    before = _counts()
    response = client.post("/provider/submit/", data)
    assert response.status_code == 413
    assert "procedure code 10" in _text(response) and "Nothing was written" in _text(response)
    assert _counts() == before


def test_more_fields_than_the_server_reads_is_refused_with_a_message(client_for, demo):
    client = client_for("provider")
    data = _claim_form(member_id=_member(demo, "aso", "Daniel Okafor").member_id, service_date=DEMO_DATE,
                       lines=[("99213", "1", "1.00")] * 400)
    before = _counts()
    response = client.post("/provider/submit/", data)
    assert response.status_code == 413 and "at most 300 lines" in _text(response)
    assert _counts() == before


def test_a_second_post_with_the_same_token_goes_to_the_first_claim(client_for, demo):
    client = client_for("provider")
    data = _claim_form(member_id=_member(demo, "aso", "Daniel Okafor").member_id, service_date=DEMO_DATE,
                       lines=[("99213", "1", "150.00")])
    before = Claim.objects.count()
    first = client.post("/provider/submit/", data)
    second = client.post("/provider/submit/", data)
    assert Claim.objects.count() == before + 1
    assert first.status_code == second.status_code == 302 and first.url == second.url
    assert "already sent" in _text(client.get(second.url))
    # Another login's form with the same token is its own claim.
    other = client_for("provider2")
    data2 = {**data, "member_id": _member(demo, "asc", "Keisha Washington").member_id}
    assert other.post("/provider/submit/", data2).status_code == 302
    assert Claim.objects.count() == before + 2


def test_a_refused_form_can_be_corrected_and_sent_with_the_same_token(client_for, demo):
    client = client_for("provider")
    token = uuid.uuid4()
    member_id = _member(demo, "aso", "Daniel Okafor").member_id
    before = Claim.objects.count()
    bad = client.post("/provider/submit/", _claim_form(member_id=member_id, service_date=DEMO_DATE,
                                                       lines=[("99213", "1", "abc")], token=token))
    assert bad.status_code == 200 and f'value="{token}"' in bad.content.decode()
    good = client.post("/provider/submit/", _claim_form(member_id=member_id, service_date=DEMO_DATE,
                                                        lines=[("99213", "1", "150")], token=token))
    assert good.status_code == 302 and Claim.objects.count() == before + 1


def test_a_form_without_a_valid_token_is_refused(client_for, demo):
    client = client_for("provider")
    data = _claim_form(member_id=_member(demo, "aso", "Daniel Okafor").member_id, service_date=DEMO_DATE,
                       lines=[("99213", "1", "150.00")])
    for token in ("", "not-a-uuid", "\x00"):
        before = _counts()
        response = client.post("/provider/submit/", {**data, "token": token})
        assert response.status_code == 200 and "submission token" in _text(response)
        assert _counts() == before


def test_add_a_line_with_htmx_and_without_javascript(client_for, demo):
    client = client_for("provider")
    fresh = client.get("/provider/submit/").content.decode()
    assert fresh.count('class="line-row"') == 5 and 'hx-get="/provider/submit/line/?row=5"' in fresh
    row = client.get("/provider/submit/line/?row=5", HTTP_HX_REQUEST="true").content.decode()
    assert 'name="line-5-code"' in row and 'for="id_line-5-billed"' in row and "Line 6" in row
    assert 'hx-swap-oob="true"' in row and "?row=6" in row
    for bad in ("abc", "-1", "99999999999999999999"):
        assert client.get(f"/provider/submit/line/?row={bad}").status_code == 200
    last = client.get("/provider/submit/line/?row=299").content.decode()
    assert 'name="line-299-code"' in last and "at most 300 lines" in last
    assert 'name="line-299-code"' in client.get("/provider/submit/line/?row=5000").content.decode()
    # Without JavaScript the button posts the form: it comes back with one row more, what was typed kept.
    before = _counts()
    data = _claim_form(member_id="ABC", service_date=DEMO_DATE, lines=[("99213", "1", "150")])
    response = client.post("/provider/submit/", {**data, "add_line": "1"})
    page = response.content.decode()
    assert response.status_code == 200 and page.count('class="line-row"') == 6 and 'value="99213"' in page
    assert _counts() == before


# --- Eligibility ----------------------------------------------------------------------------------------

def test_eligibility_of_a_member_in_force_gives_the_plan_copays_and_what_remains(client_for, demo):
    client = client_for("provider")
    daniel, plan = _member(demo, "aso", "Daniel Okafor"), demo["plans"]["aso"]
    response = client.get("/provider/eligibility/", {"member_id": daniel.member_id})  # the date: the business date
    assert response.status_code == 200
    answer = response.context["answer"]
    assert (answer["status"], answer["in_force"], answer["on"]) == ("active", True, DEMO_DATE)
    assert answer["plan"] == plan and answer["family_coverage"] is True
    assert (plan.deductible_individual, plan.deductible_family) == (D("1000.00"), D("2000.00"))
    assert (plan.oop_max_individual, plan.oop_max_family) == (D("4000.00"), D("8000.00"))
    year = datetime.date(2026, 1, 1)
    own = Accumulator.objects.get(plan=plan, member=daniel, scope="individual", plan_year_start=year)
    family = Accumulator.objects.get(plan=plan, member=daniel, scope="family", plan_year_start=year)
    assert own.deductible_met == D("410.00")  # the demo's MRI: 410.00 of deductible
    assert answer["deductible"] == {"limit": D("1000.00"), "met": own.deductible_met,
                                    "remaining": D("1000.00") - own.deductible_met}
    assert answer["out_of_pocket"] == {"limit": D("4000.00"), "met": own.oop_met, "remaining": D("4000.00") - own.oop_met}
    assert answer["family_deductible"] == {"limit": D("2000.00"), "met": family.deductible_met,
                                           "remaining": D("2000.00") - family.deductible_met}
    assert answer["family_out_of_pocket"]["remaining"] == D("8000.00") - family.oop_met
    copays = {b["category"]: b["copay"] for b in answer["benefits"]}
    assert copays["office_visit"] == D("30.00") and copays["emergency"] == D("250.00")
    assert {b["category"]: b["treatment"] for b in answer["benefits"]}["cosmetic"].startswith("Excluded")
    page = _text(response)
    assert "Coverage in force" in page and "Northwind PPO 1000" in page
    for figure in ("$1,000.00", "$2,000.00", "$4,000.00", "$8,000.00", "$590.00", "$30.00", "$250.00"):
        assert figure in page, figure
    assert "In network" in page and "20 %" in page


def test_eligibility_of_a_single_subscriber_has_no_family_figures(client_for, demo):
    michael = _member(demo, "aso", "Michael Brennan")
    answer = client_for("provider").get("/provider/eligibility/", {"member_id": michael.member_id,
                                                                    "on": "2026-03-01"}).context["answer"]
    assert answer["in_force"] and answer["family_coverage"] is False
    assert answer["family_deductible"] is None and answer["deductible"]["remaining"] == D("1000.00")


@pytest.mark.parametrize(("member_id", "on", "status", "message"), [
    ("NOT-AN-ID", "2026-06-15", "invalid_id", "Not a valid member ID"),
    ("zzzzzzzzz?", "2026-06-15", "invalid_id", "Not a valid member ID"),
    (None, "2026-06-15", "not_found", "No member has the ID"),
    ("daniel", "2025-12-31", "before_coverage", "the coverage starts on 2026-01-01"),
])
def test_eligibility_for_a_bad_or_unknown_id_or_a_date_before_coverage_is_not_in_force(
        client_for, demo, member_id, on, status, message):
    if member_id is None:
        body = "Z" * 9
        member_id = body + member_id_check_char(body)
    elif member_id == "daniel":
        member_id = _member(demo, "aso", "Daniel Okafor").member_id
    response = client_for("provider").get("/provider/eligibility/", {"member_id": member_id, "on": on})
    assert response.status_code == 200
    answer = response.context["answer"]
    assert (answer["status"], answer["in_force"]) == (status, False)
    assert message in _text(response) and "Not in force" in _text(response)
    assert answer["deductible"] is None


@pytest.mark.parametrize(("query", "label"), [
    ({"member_id": "AB\x00CD"}, "Member ID"), ({"member_id": "X" * 300}, "Member ID"),
    ({"member_id": "ABC", "on": "zzz"}, "Date of service"), ({"member_id": "ABC", "on": "0001-01-01"}, "Date of service"),
    ({"member_id": "ABC", "on": "99999-01-01"}, "Date of service"), ({"member_id": ""}, "Member ID"),
])
def test_eligibility_with_a_bad_field_names_it(client_for, demo, query, label):
    response = client_for("provider").get("/provider/eligibility/", query)
    assert response.status_code == 200 and response.context["answer"] is None
    assert re.search(rf'class="error"[^>]*>{re.escape(label)}: ', response.content.decode())


def test_eligibility_is_for_logins_that_submit_claims(demo):
    from claims.selectors import member_eligibility_on
    from core.errors import Forbidden

    employer = get_user_model().objects.get(username="employer")
    with pytest.raises(Forbidden):
        member_eligibility_on(member_id=_member(demo, "aso", "Daniel Okafor").member_id, on=DEMO_DATE, user=employer)


# --- The claims list ------------------------------------------------------------------------------------

def test_the_claim_list_filters_searches_and_sorts(client_for, demo):
    client = client_for("provider")
    provider = _provider()
    own = Claim.objects.filter(provider=provider)
    everything = client.get("/provider/claims/").context["page"].rows
    assert {c.pk for c in everything} == set(own.values_list("pk", flat=True))
    assert [c.received_date for c in everything] == sorted((c.received_date for c in everything), reverse=True)
    for state in ("denied", "rejected", "approved"):
        rows = client.get("/provider/claims/", {"state": state}).context["page"].rows
        assert rows and {c.state for c in rows} == {state}
        assert {c.pk for c in rows} == set(own.filter(state=state).values_list("pk", flat=True))
    claim = own.filter(state="approved").first()
    found = client.get("/provider/claims/", {"q": claim.claim_number}).context["page"].rows
    assert [c.pk for c in found] == [claim.pk]
    daniel = _member(demo, "aso", "Daniel Okafor")
    by_member = client.get("/provider/claims/", {"q": daniel.member_id.lower()}).context["page"].rows
    assert {c.pk for c in by_member} == set(own.filter(member=daniel).values_list("pk", flat=True))
    # Keisha's claims are St. Agnes's: searching her ID finds none of them here.
    keisha = _member(demo, "asc", "Keisha Washington")
    assert client.get("/provider/claims/", {"q": keisha.member_id}).context["page"].rows == []
    ascending = client.get("/provider/claims/", {"sort": "service"}).context["page"].rows
    assert [(c.service_date, c.pk) for c in ascending] == sorted((c.service_date, c.pk) for c in ascending)
    page = _text(client.get("/provider/claims/", {"sort": "-received"}))
    for heading in ("Claim", "Member", "Service date", "Received", "Billed", "Plan paid", "Member owes", "State"):
        assert f">{heading}" in page, heading
    assert 'aria-sort="descending"' in page


@pytest.mark.parametrize("query", [
    "page=abc&sort=zzz&state=bogus", "page=0", "page=-3", "page=99999999999", "sort=-", "q=%00", "q=" + "x" * 500,
    "state=denied&q=C", "sort=service&page=2", "state[]=x",
])
def test_bad_query_strings_give_200(client_for, demo, query):
    client = client_for("provider")
    rejected = Claim.objects.filter(provider=_provider()).first()
    remittance_id = _paid_remittance(demo).pk
    for url in ("/provider/", "/provider/claims/", "/provider/remittances/", f"/provider/remittances/{remittance_id}/",
                f"/provider/claims/{rejected.pk}/", "/provider/eligibility/", "/provider/submit/"):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 200, (url, query)
    bogus = client.get("/provider/claims/?state=bogus")
    assert "State: Select a valid choice" in _text(bogus)
    bad_date = client.get("/provider/remittances/?issued_from=abc&issued_to=99999-01-01")
    assert bad_date.status_code == 200 and "Issued on or after: Enter a valid date" in _text(bad_date)


def test_the_claim_list_queries_do_not_grow_with_the_claims(client_for, demo, count_queries):
    client = client_for("provider")
    urls = ["/provider/claims/", "/provider/claims/?state=approved", "/provider/claims/?sort=service",
            f"/provider/claims/?q={_member(demo, 'aso', 'Michael Brennan').member_id}"]
    counts = []
    for url in urls:
        client.get(url)
        with count_queries() as q:
            client.get(url)
        counts.append(len(q))
    _more_claims(demo, 30)
    assert len(client.get("/provider/claims/").context["page"].rows) == 25
    for url, before in zip(urls, counts):
        with count_queries() as q:
            client.get(url)
        assert len(q) == before, url


# --- A claim and its appeal -----------------------------------------------------------------------------

def test_another_providers_claim_is_404_and_its_appeal_changes_nothing(client_for, demo):
    client = client_for("provider")
    theirs = Claim.objects.filter(provider=_provider("provider2"))
    assert theirs.exists()
    for claim in theirs:
        assert client.get(f"/provider/claims/{claim.pk}/").status_code == 404
        states = dict(Claim.objects.values_list("pk", "state"))
        assert client.post(f"/provider/claims/{claim.pk}/appeal/", {"reason": "x"}).status_code == 404
        assert dict(Claim.objects.values_list("pk", "state")) == states
    assert client.get("/provider/claims/987654321/").status_code == 404


def test_a_claim_page_shows_its_outcome_timeline_and_carc_meanings(client_for, demo):
    client = client_for("provider")
    approved = Claim.objects.filter(provider=_provider(), state="approved").first()
    page = _text(client.get(f"/provider/claims/{approved.pk}/"))
    assert "Outcome per line" in page and "Timeline" in page and "How line 1 was priced" in page
    assert "<strong>3</strong> copay amount" in page
    assert "Appeal this denial" not in page  # only a denied claim is appealed


def test_an_appeal_works_once_and_a_second_is_a_conflict_message(client_for, demo):
    client = client_for("provider")
    denied = Claim.objects.filter(provider=_provider(), state="denied").first()
    url = f"/provider/claims/{denied.pk}/"
    page = _text(client.get(url))
    assert "Appeal this denial" in page and f'action="{url}appeal/"' in page and "data-once" in page
    logs = StateLog.objects.count()
    nul = client.post(f"{url}appeal/", {"reason": "wrong\x00"})
    assert nul.status_code == 200 and "Reason for the appeal: " in _text(nul)
    assert Claim.objects.get(pk=denied.pk).state == "denied" and StateLog.objects.count() == logs
    first = client.post(f"{url}appeal/", {"reason": "The visit was a separate encounter."})
    assert first.status_code == 302 and first.url == url
    assert Claim.objects.get(pk=denied.pk).state == "appealed" and StateLog.objects.count() == logs + 1
    second = client.post(f"{url}appeal/", {"reason": "The visit was a separate encounter."})
    assert second.status_code == 409 and "already appealed" in _text(second)
    assert Claim.objects.get(pk=denied.pk).state == "appealed" and StateLog.objects.count() == logs + 1
    assert "appeal: The visit was a separate encounter." in _text(client.get(url))
    assert client.get(f"{url}appeal/").status_code == 302  # a GET changes nothing: back to the claim


# --- Remittances ----------------------------------------------------------------------------------------

def _paid_remittance(demo) -> RemittanceAdvice:
    """A remittance to Riverside: an office visit of Keisha Washington (ASC: the carrier pays at once) submitted,
    adjudicated and paid by a payment cycle (the pended claims approved first, as a month's work does)."""
    npi = _provider().npi
    claim_submit(member_id=_member(demo, "asc", "Keisha Washington").member_id, npi=npi,
                 service_date=DEMO_DATE - datetime.timedelta(days=1), lines=[{"code": "99214", "billed": "200.00"}])
    claims_adjudicate_pending(today=DEMO_DATE)
    funding.payment_cycle_run(today=DEMO_DATE)
    return RemittanceAdvice.objects.filter(provider__npi=npi).order_by("-pk").first()


def test_the_remittance_page_after_a_payment_cycle_shows_the_paid_amounts(client_for, demo):
    client = client_for("provider")
    remittance = _paid_remittance(demo)
    assert remittance is not None
    listed = client.get("/provider/remittances/")
    assert listed.status_code == 200 and [r.pk for r in listed.context["page"].rows] == [remittance.pk]
    claim = Claim.objects.get(payment__remittance=remittance)
    # 99214: fee 135.00, copay 35.00 (Bayshore), 65.00 written off: the plan pays 100.00.
    assert (claim.state, claim.plan_paid, claim.copay, claim.provider_write_off) == (
        "paid", D("100.00"), D("35.00"), D("65.00"))
    response = client.get(f"/provider/remittances/{remittance.pk}/")
    page = _text(response)
    assert response.status_code == 200
    assert remittance.amount == D("100.00") and "$100.00" in page and 'data-testid="remittance-total"' in page
    assert claim.claim_number in page and "CO-45 $65.00" in page and "PR-3 $35.00" in page
    assert "Keystone" in page  # paid from the ASC carrier's account
    claim_page = _text(client.get(f"/provider/claims/{claim.pk}/"))
    assert f"remittance {remittance.pk}" in claim_page


def test_another_providers_remittance_is_404_and_visibility_is_by_party(client_for, demo):
    own = _paid_remittance(demo)
    theirs = RemittanceAdvice.objects.filter(provider=_provider("provider2")).first()  # St. Agnes's ASC claims
    assert theirs is not None
    client = client_for("provider")
    assert client.get(f"/provider/remittances/{theirs.pk}/").status_code == 404
    assert client.post(f"/provider/remittances/{theirs.pk}/").status_code == 404
    assert theirs.pk not in [r.pk for r in client.get("/provider/remittances/").context["page"].rows]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=["employer", "carrier", "examiner"])}
    assert not remittance_list_visible_to(user=users["employer"]).exists()
    assert not remittance_list_visible_to(user=users["carrier"]).exists()
    assert {own.pk, theirs.pk} <= set(remittance_list_visible_to(user=users["examiner"]).values_list("pk", flat=True))


def test_the_remittance_pages_queries_do_not_grow_with_the_claims_paid(client_for, demo, count_queries):
    client = client_for("provider")
    remittance = _paid_remittance(demo)
    url = f"/provider/remittances/{remittance.pk}/"
    client.get(url)
    with count_queries() as before:
        client.get(url)
    _more_claims(demo, 30)
    funding.payment_cycle_run(today=DEMO_DATE)
    funding.sponsor_deposit(employer=demo["employers"]["aso"], amount="5000.00", today=DEMO_DATE, reference="T-1")
    bigger = RemittanceAdvice.objects.filter(provider=_provider()).order_by("-claim_count").first()
    assert bigger.claim_count >= 25
    with count_queries() as after:
        response = client.get(f"/provider/remittances/{bigger.pk}/")
    assert len(response.context["claims"]) == 25 and response.context["page"].has_next
    assert len(after) == len(before)


def test_two_requests_at_once_with_one_token_make_one_claim(client_for, demo, monkeypatch):
    """The second of two simultaneous POSTs passes the first look-up before the first commits: its token row
    then meets the unique constraint, and it answers with the first request's claim."""
    from portal.provider import submission

    client = client_for("provider")
    data = _claim_form(member_id=_member(demo, "aso", "Daniel Okafor").member_id, service_date=DEMO_DATE,
                       lines=[("99213", "1", "150.00")])
    first = client.post("/provider/submit/", data)
    before = Claim.objects.count()
    real, calls = submission.claim_submitted_with, []

    def late_look_up(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)  # the first look-up ran before the twin committed
    monkeypatch.setattr(submission, "claim_submitted_with", late_look_up)
    second = client.post("/provider/submit/", data)
    assert len(calls) == 2 and Claim.objects.count() == before
    assert second.status_code == 302 and second.url == first.url
