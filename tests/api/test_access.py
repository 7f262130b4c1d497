"""Every demo login's token against every endpoint that names an object, with another party's objects
(another provider's claim and remittance, the other sponsor's requests, invoices and billings, another
family's claim and member, a carrier competitor's business; TPA staff, who see everything: an id nothing
has): 404, and no row changes. A role that may not take an action: 403. No credentials: 401."""
import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver

from api import urls as api_urls
from claims.models import Claim
from funding.models import FeeBilling, FundingRequest, ReimbursementInvoice, RemittanceAdvice
from parties.models import Member, PartyLink, Provider
from tests.api.conftest import LOGINS

pytestmark = pytest.mark.django_db
MISSING = 987_654_321
MISSING_MEMBER = "ZZZZZZZZZ0"


def _patterns(resolvers, prefix=""):
    for p in resolvers:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name and p.name != "unknown":
            yield p.name, prefix + str(p.pattern)


ROUTES = dict(_patterns(api_urls.urlpatterns))
V1 = {name: route for name, route in ROUTES.items() if route.startswith("v1/")}
OBJECT_ROUTES = {name: route for name, route in V1.items() if "<" in route}


def _row_counts() -> dict:
    skip = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog",
            "portal.dashboardfigures"}
    return {m._meta.label_lower: m.objects.count() for m in apps.get_models()
            if m._meta.label_lower not in skip and not m._meta.proxy}


def _foreign_objects(username: str) -> dict[str, object]:
    """Per path argument, an object another party owns (or an id nothing has)."""
    link = PartyLink.objects.get(user__username=username)
    claims, remittances = Claim.objects.all(), RemittanceAdvice.objects.all()
    requests, invoices, fees = FundingRequest.objects.all(), ReimbursementInvoice.objects.all(), FeeBilling.objects.all()
    members = Member.objects.all()
    if link.role == "provider_staff":
        claims = claims.exclude(provider_id=link.provider_id)
        remittances = remittances.exclude(provider_id=link.provider_id)
        members = members.exclude(claims__provider_id=link.provider_id)
    elif link.role == "employer_admin":
        claims = claims.exclude(plan__sponsor_id=link.employer_id)
        requests = requests.exclude(employer_id=link.employer_id)
        invoices = invoices.exclude(employer_id=link.employer_id)
        fees = fees.exclude(plan__sponsor_id=link.employer_id)
        members = members.exclude(employer_id=link.employer_id)
    elif link.role == "member":
        family = link.member.subscriber_id or link.member.pk
        claims = claims.exclude(member__subscriber_id=family).exclude(member_id=family)
        members = members.exclude(subscriber_id=family).exclude(pk=family)
    elif link.role == "carrier_analyst":
        claims = claims.exclude(plan__carrier_id=link.carrier_id, plan__funding__in=["ASC", "FULLY_INSURED"])
        invoices = invoices.exclude(carrier_id=link.carrier_id)
        fees = fees.exclude(plan__carrier_id=link.carrier_id, kind="premium")
        members = members.exclude(claims__plan__carrier_id=link.carrier_id, claims__plan__funding__in=["ASC", "FULLY_INSURED"])
    else:  # TPA staff see every object: only ids that do not exist
        claims, remittances, requests, invoices, fees, members = (
            qs.none() for qs in (claims, remittances, requests, invoices, fees, members))

    def first(qs):
        return qs.order_by("-pk").values_list("pk", flat=True).first() or MISSING
    member = members.order_by("-pk").first()
    return {"claim_id": first(claims), "remittance_id": first(remittances), "funding_request_id": first(requests),
            "invoice_id": first(invoices), "fee_billing_id": first(fees),
            "member_id": member.member_id if member else MISSING_MEMBER}


def _url(route: str, args: dict) -> str:
    for name, value in args.items():
        route = route.replace(f"<str:{name}>", str(value))
    assert "<" not in route, route
    return "/api/" + route


CASES = [(u, name) for u in LOGINS for name in sorted(OBJECT_ROUTES)]


def test_the_sweep_walks_every_object_endpoint():
    assert set(OBJECT_ROUTES) >= {"claim", "remittance", "remittance-claims", "remittance-835", "member-eobs",
                                  "member-coverage", "funding-request", "reimbursement-invoice", "fee-billing"}


@pytest.mark.parametrize(("username", "name"), CASES, ids=[f"{u}:{n}" for u, n in CASES])
def test_another_partys_object_is_404_and_nothing_changes(world, api_for, username, name):
    foreign = _foreign_objects(username)
    url = _url(OBJECT_ROUTES[name], foreign)
    client = api_for(username)
    before, states = _row_counts(), dict(Claim.objects.values_list("pk", "state"))
    got = client.get(url)
    assert got.status_code == 404, (url, got.status_code, got.content[:300])
    assert got.json()["error"]["code"] == "not_found"
    posted = client.post(url, {"status": "paid"}, format="json")
    assert posted.status_code in (404, 405), (url, posted.status_code)
    assert _row_counts() == before
    assert dict(Claim.objects.values_list("pk", "state")) == states


def test_every_login_sees_no_other_partys_rows_in_the_lists(world, api_for):
    """The lists hold none of the objects the sweep above uses as another party's."""
    lists = {"claim_id": "/api/v1/claims/", "remittance_id": "/api/v1/remittances/",
             "funding_request_id": "/api/v1/funding-requests/", "invoice_id": "/api/v1/reimbursement-invoices/",
             "fee_billing_id": "/api/v1/fee-billings/"}
    for username in LOGINS:
        foreign = _foreign_objects(username)
        for arg, url in lists.items():
            ids = {r["id"] for r in api_for(username).get(url, {"limit": 200}).json()["results"]}
            assert foreign[arg] not in ids, (username, url)


@pytest.mark.parametrize("username", ["member", "member2", "employer", "employer2", "carrier"])
def test_a_role_that_may_not_submit_claims_is_403_and_nothing_changes(world, api_for, username):
    member = Member.objects.order_by("pk").first()
    body = {"member_id": member.member_id, "npi": Provider.objects.order_by("pk").first().npi,
            "service_date": "2026-06-01", "lines": [{"code": "99213", "billed": "100.00"}]}
    before = _row_counts()
    got = api_for(username).post("/api/v1/claims/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-403")
    assert got.status_code == 403 and got.json()["error"]["code"] == "forbidden"
    elig = api_for(username).get("/api/v1/eligibility/", {"member_id": member.member_id})
    assert elig.status_code == 403 and elig.json()["error"]["code"] == "forbidden"
    assert _row_counts() == before


def test_a_provider_submitting_under_another_providers_npi_is_403_naming_the_npi(world, api_for):
    other = Provider.objects.get(name="St. Agnes Regional Medical Center")
    body = {"member_id": Member.objects.order_by("pk").first().member_id, "npi": other.npi,
            "service_date": "2026-06-01", "lines": [{"code": "99213", "billed": "100.00"}]}
    before = _row_counts()
    got = api_for("provider").post("/api/v1/claims/", body, format="json")
    assert got.status_code == 403 and list(got.json()["error"]["fields"]) == ["npi"]
    assert _row_counts() == before


ALL_URLS = sorted({_url(route, {"claim_id": 1, "remittance_id": 1, "funding_request_id": 1, "invoice_id": 1,
                                "fee_billing_id": 1, "member_id": MISSING_MEMBER})
                   for name, route in V1.items() if name != "token"})


@pytest.mark.parametrize("url", ALL_URLS)
@pytest.mark.parametrize("credentials", [None, "Token not-a-token", "Bearer x"])
def test_without_valid_credentials_every_endpoint_is_401(world, api_for, url, credentials):
    client = api_for(None)
    if credentials:
        client.credentials(HTTP_AUTHORIZATION=credentials)
    before = _row_counts()
    for got in (client.get(url), client.post(url, {}, format="json")):
        assert got.status_code == 401, (url, got.status_code)
        assert got.json()["error"]["code"] in ("not_authenticated", "authentication_failed")
        assert got["WWW-Authenticate"] == "Token"
    assert _row_counts() == before
