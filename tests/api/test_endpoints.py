"""Every endpoint's figures against the services and selectors the screens use: a claim submitted
through the API is claim_submit's claim; a claim's outcome per line is its current line results; the
eligibility answer is member_eligibility_on's; remittances, requests, invoices and billings are the
visibility selectors' rows with their amounts."""
import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.models import Claim, ClaimLine
from claims.selectors import claim_line_results, claim_list_visible_to, member_eligibility_on
from claims.services import claim_adjudicate, claim_submit
from funding.models import FeeBilling, FundingRequest, ReimbursementInvoice, RemittanceAdvice
from funding.selectors import (
    fee_billing_list_visible_to,
    funding_request_list_visible_to,
    reimbursement_invoice_list_visible_to,
    remittance_advice_for,
    remittance_list_visible_to,
)
from interchange.fhir import coverage_resource, eob_bundle
from interchange.x12 import remittance_835
from parties.models import Member, PartyLink, Provider
from parties.services import user_create_with_role
from tests.api.conftest import user
from tests.portal.helpers import DEMO_DATE

pytestmark = pytest.mark.django_db
OWN_NPI_NAME = "Riverside Family Medicine"


def _member_of_login(username: str) -> Member:
    return user(username).party_link.member


def _claim_body(**overrides) -> dict:
    body = {"member_id": _member_of_login("member").member_id,
            "npi": Provider.objects.get(name=OWN_NPI_NAME).npi,
            "service_date": "2026-06-10",
            "lines": [{"code": "99213", "billed": "150.00"}, {"code": "72148", "units": 1, "billed": 1100.00}]}
    return {**body, **overrides}


def test_a_claim_submitted_through_the_api_is_claim_submits_claim(api_for):
    body = _claim_body()
    got = api_for("provider").post("/api/v1/claims/", body, format="json")
    assert got.status_code == 201, got.json()
    made = Claim.objects.get(pk=got.json()["id"])
    same = claim_submit(member_id=body["member_id"], npi=body["npi"], service_date=body["service_date"],
                        lines=[{"code": "99213", "billed": "150.00"}, {"code": "72148", "billed": "1100.00"}],
                        submitted_by=user("provider"))
    for field in ("state", "member_id", "provider_id", "plan_id", "service_date", "received_date", "billed",
                  "duplicate_key", "submitted_by_id"):
        assert getattr(made, field) == getattr(same, field), field
    assert made.state == "submitted" and made.billed == Decimal("1250.00") and made.received_date == DEMO_DATE
    assert made.submitted_by == user("provider")
    assert list(ClaimLine.objects.filter(claim=made).values_list("line_number", "procedure_code", "units", "billed")) \
        == [(1, "99213", 1, Decimal("150.00")), (2, "72148", 1, Decimal("1100.00"))]
    answer = got.json()
    assert answer["status"] == "submitted" and answer["claim_number"] == made.claim_number
    assert answer["billed"] == "1250.00" and answer["totals"]["billed"] == "1250.00"
    assert [ln["outcome"] for ln in answer["lines"]] == [None, None]
    assert [(t["source_state"], t["state"]) for t in answer["timeline"]] == []  # a new claim has no transition yet


def test_a_claim_failing_an_intake_edit_is_stored_rejected_with_the_field(api_for):
    got = api_for("provider").post("/api/v1/claims/", _claim_body(lines=[{"code": "99999", "billed": "80.00"}]),
                                   format="json")
    assert got.status_code == 201
    answer = got.json()
    assert answer["status"] == "rejected"
    assert answer["rejection"] == {"field": "lines[0].code",
                                   "message": "procedure code '99999' is not in the fee schedule"}
    assert Claim.objects.get(pk=answer["id"]).state == "rejected"


def test_a_claims_outcome_per_line_is_its_current_line_results(api_for):
    got = api_for("provider").post("/api/v1/claims/", _claim_body(), format="json").json()
    claim_adjudicate(claim_id=got["id"], today=DEMO_DATE)
    claim = Claim.objects.get(pk=got["id"])
    answer = api_for("provider").get(f"/api/v1/claims/{claim.pk}/").json()
    assert answer["status"] == claim.state != "submitted"
    results = claim_line_results(claim=claim)
    assert len(results) == 2 == len(answer["lines"])
    for line, r in zip(answer["lines"], results):
        out = line["outcome"]
        assert line["line_number"] == r.line.line_number and line["billed"] == f"{r.line.billed:.2f}"
        for f in ("allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                  "provider_write_off", "plan_paid", "member_owes"):
            assert out[f] == f"{getattr(r, f):.2f}", f
        assert [c["code"] for c in out["reason_codes"]] == r.reason_code_list
        assert out["trace"] == [s.strip() for s in r.trace_text.splitlines() if s.strip()] and out["trace"]
    for f in ("billed", "allowed", "deductible", "copay", "coinsurance", "plan_paid", "member_responsibility",
              "provider_write_off"):
        assert answer["totals"][f] == f"{getattr(claim, f):.2f}", f
    # The figures add up: what the plan paid per line sums to the claim's.
    assert sum(Decimal(ln["outcome"]["plan_paid"]) for ln in answer["lines"]) == claim.plan_paid
    assert answer["timeline"][-1]["state"] == claim.state


def test_the_claim_list_is_the_visible_claims_newest_first_a_page_at_a_time(api_for):
    client = api_for("provider")
    expected = list(claim_list_visible_to(user=user("provider")).order_by("-pk").values_list("pk", flat=True))
    assert len(expected) >= 3
    seen, url = [], "/api/v1/claims/?limit=2"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 2
        seen += [c["id"] for c in page["results"]]
        url = page["next"]
    assert seen == expected
    paid = client.get("/api/v1/claims/?status=paid&limit=200").json()["results"]
    assert {c["id"] for c in paid} == set(claim_list_visible_to(user=user("provider")).filter(state="paid")
                                          .values_list("pk", flat=True))


@pytest.mark.parametrize("on", ["2026-06-15", "2025-01-01"])
def test_eligibility_is_member_eligibility_on(api_for, on):
    member = _member_of_login("member")
    got = api_for("provider").get("/api/v1/eligibility/", {"member_id": member.member_id, "on": on})
    assert got.status_code == 200
    answer = got.json()
    expected = member_eligibility_on(member_id=member.member_id, on=datetime.date.fromisoformat(on),
                                     user=user("provider"))
    assert answer["status"] == expected["status"] and answer["in_force"] == expected["in_force"]
    assert answer["message"] == expected["message"]
    if expected["in_force"]:
        assert answer["member"] == {"member_id": member.member_id, "name": member.name}
        assert answer["plan"]["id"] == expected["plan"].pk
        for part in ("deductible", "out_of_pocket"):
            assert answer[part] == {k: f"{v:.2f}" for k, v in expected[part].items()}, part
        assert answer["plan_year_start"] == expected["plan_year_start"].isoformat()
        assert [b["category"] for b in answer["benefits"]] == [b["category"] for b in expected["benefits"]]
        # Met plus remaining is the limit.
        ded = answer["deductible"]
        assert Decimal(ded["met"]) + Decimal(ded["remaining"]) == Decimal(ded["limit"]) or Decimal(ded["remaining"]) == 0


def test_eligibility_answers_every_status(api_for):
    client = api_for("examiner")
    assert client.get("/api/v1/eligibility/", {"member_id": "NOTANID"}).json()["status"] == "invalid_id"
    today = client.get("/api/v1/eligibility/", {"member_id": _member_of_login("member").member_id}).json()
    assert today["on"] == DEMO_DATE.isoformat() and today["status"] == "active"


def test_remittances_are_the_visible_ones_with_the_advices_figures(api_for, world):
    client = api_for("provider2")  # St. Agnes: the carrier paid its ASC claims
    listed = client.get("/api/v1/remittances/").json()["results"]
    visible = remittance_list_visible_to(user=user("provider2"))
    assert [r["id"] for r in listed] == list(visible.order_by("-pk").values_list("pk", flat=True))
    assert listed, "the month of business paid the provider"
    remittance = RemittanceAdvice.objects.get(pk=listed[0]["id"])
    advice = remittance_advice_for(remittance=remittance)
    one = client.get(f"/api/v1/remittances/{remittance.pk}/").json()
    assert one["amount"] == advice["total_paid"] and one["claim_count"] == advice["claim_count"]
    assert one["payee"] == {"npi": advice["payee"]["npi"], "name": advice["payee"]["name"]}
    claims = client.get(f"/api/v1/remittances/{remittance.pk}/claims/?limit=200").json()["results"]
    by_number = {c["claim_number"]: c for c in advice["claims"]}
    assert {c["claim_number"] for c in claims} == set(by_number)
    for c in claims:
        want = by_number[c["claim_number"]]
        for f in ("billed", "paid", "patient_responsibility", "provider_write_off"):
            assert c[f] == want[f], f
        assert [(ln["line_number"], ln["paid"], ln["adjustments"]) for ln in c["lines"]] == \
            [(ln["line_number"], ln["paid"], ln["adjustments"]) for ln in want["lines"]]
    assert sum(Decimal(c["paid"]) for c in claims) == Decimal(advice["total_paid"])
    assert len(claims) == one["claim_count"] >= 2
    first = client.get(f"/api/v1/remittances/{remittance.pk}/claims/?limit=1").json()
    assert len(first["results"]) == 1 and first["next"]


def test_the_835_download_is_the_interchange_builders_file(api_for, monkeypatch):
    # The envelope carries the time of writing (to the minute): the same minute for both writes.
    from core import clock
    at = clock.now()
    monkeypatch.setattr(clock, "now", lambda: at)
    remittance = remittance_list_visible_to(user=user("provider2")).order_by("-pk").first()
    got = api_for("provider2").get(f"/api/v1/remittances/{remittance.pk}/835/")
    assert got.status_code == 200
    assert got["Content-Type"].startswith("application/edi-x12")
    assert got.content.decode() == remittance_835(remittance=remittance)


def test_a_members_eobs_are_the_fhir_bundle_of_its_priced_claims(api_for):
    member = _member_of_login("member")
    got = api_for("member").get(f"/api/v1/members/{member.member_id}/eobs/")
    assert got.status_code == 200, got.json()
    claims = list(claim_list_visible_to(user=user("member")).filter(
        member=member, state__in=("approved", "denied", "appealed", "awaiting_funds", "paid")).order_by("-pk"))
    assert claims
    expected = eob_bundle(claims=claims, base_url="http://testserver/api/v1/")
    answer = got.json()
    assert answer["resourceType"] == "Bundle" and answer["type"] == "searchset"
    assert answer["entry"] == expected["entry"]
    eobs = [e["resource"] for e in answer["entry"] if e["resource"]["resourceType"] == "ExplanationOfBenefit"]
    assert [e["search"]["mode"] for e in answer["entry"][:len(claims)]] == ["match"] * len(claims)
    assert len(eobs) == len(claims)


def test_a_members_coverage_is_the_fhir_coverage_resource(api_for):
    member = _member_of_login("member")
    got = api_for("member").get(f"/api/v1/members/{member.member_id}/coverage/")
    assert got.status_code == 200
    assert got.json() == coverage_resource(member=member, base_url="http://testserver/api/v1/")


@pytest.mark.parametrize(("username", "url", "selector", "model"), [
    ("employer", "/api/v1/funding-requests/", funding_request_list_visible_to, FundingRequest),
    ("employer2", "/api/v1/reimbursement-invoices/", reimbursement_invoice_list_visible_to, ReimbursementInvoice),
    ("carrier", "/api/v1/reimbursement-invoices/", reimbursement_invoice_list_visible_to, ReimbursementInvoice),
    ("employer", "/api/v1/fee-billings/", fee_billing_list_visible_to, FeeBilling),
    ("supervisor", "/api/v1/fee-billings/", fee_billing_list_visible_to, FeeBilling),
])
def test_sponsors_money_is_the_visible_rows_with_their_amounts(api_for, username, url, selector, model):
    rows = api_for(username).get(url, {"limit": 200}).json()["results"]
    visible = selector(user=user(username))
    assert [r["id"] for r in rows] == list(visible.order_by("-pk").values_list("pk", flat=True))
    assert rows, f"{username} sees some {model.__name__} after a month of business"
    for r in rows:
        assert r["amount"] == f"{model.objects.get(pk=r['id']).amount:.2f}"
    one = api_for(username).get(f"{url}{rows[0]['id']}/").json()
    assert one == rows[0]


def test_the_sponsor_filter_keeps_one_sponsors_rows(api_for):
    client = api_for("supervisor")
    every = client.get("/api/v1/fee-billings/", {"limit": 200}).json()["results"]
    sponsors = {r["sponsor"]["id"] for r in every}
    assert len(sponsors) >= 2
    first = sorted(sponsors)[0]
    kept = client.get("/api/v1/fee-billings/", {"sponsor": first, "limit": 200}).json()["results"]
    assert kept == [r for r in every if r["sponsor"]["id"] == first]


def test_me_names_the_login_its_role_and_party(api_for):
    assert api_for("provider").get("/api/v1/me/").json() == {
        "username": "provider", "role": "provider_staff", "party": str(Provider.objects.get(name=OWN_NPI_NAME))}


def test_the_token_endpoint_gives_the_logins_token(api_for, settings):
    settings.AXES_ENABLED = True
    got = api_for(None).post("/api/v1/token/", {"username": "provider", "password": "demo"}, format="json")
    assert got.status_code == 200
    token = got.json()["token"]
    assert token == Token.objects.get(user__username="provider").key
    me = api_for(None)
    me.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert me.get("/api/v1/me/").json()["username"] == "provider"


def test_the_management_command_issues_and_rotates_a_token(world, capsys):
    call_command("api_token", "employer")
    first = capsys.readouterr().out.strip()
    assert first == Token.objects.get(user__username="employer").key
    call_command("api_token", "employer", "--rotate")
    second = capsys.readouterr().out.strip()
    assert second != first and Token.objects.filter(user__username="employer").get().key == second


def test_the_schema_and_the_docs_page_are_served_offline(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/claims/" in paths and "/api/v1/remittances/{remittance_id}/835/" in paths
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/api/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "https://" not in page


def test_who_sees_a_members_eobs(api_for):
    """The subscriber its dependents' too, a dependent only itself; the sponsor its members; a provider its
    patients; TPA staff anyone (another party's member: tests/api/test_access.py)."""
    subscriber = _member_of_login("member")
    dependent = subscriber.dependents.order_by("pk").first()
    assert dependent is not None
    patient_of_provider = Claim.objects.filter(provider__name=OWN_NPI_NAME).exclude(member=None).first().member
    for username, member in (("member", subscriber), ("member", dependent), ("employer", subscriber),
                             ("provider", patient_of_provider), ("examiner", dependent)):
        got = api_for(username).get(f"/api/v1/members/{member.member_id}/eobs/")
        assert got.status_code == 200, (username, member, got.json())
        assert got.json()["resourceType"] == "Bundle"
    # A dependent's login does not see its subscriber (as claim_list_visible_to).
    login = user_create_with_role(username="dependent-login", password="x" * 16, role=PartyLink.Role.MEMBER,
                                  party=dependent)
    client = APIClient()
    client.force_authenticate(login.user)
    assert client.get(f"/api/v1/members/{subscriber.member_id}/eobs/").status_code == 404
    assert client.get(f"/api/v1/members/{dependent.member_id}/eobs/").status_code == 200
