"""The API's lists and a claim's detail read in a bounded number of queries: a page of one row costs what a
page of many costs (nothing is read row by row)."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import Claim
from funding.models import FeeBilling, FundingRequest, ReimbursementInvoice, RemittanceAdvice

pytestmark = pytest.mark.django_db
LISTS = {"/api/v1/claims/": Claim, "/api/v1/remittances/": RemittanceAdvice,
         "/api/v1/funding-requests/": FundingRequest, "/api/v1/reimbursement-invoices/": ReimbursementInvoice,
         "/api/v1/fee-billings/": FeeBilling}


@pytest.fixture
def more_business(world):
    """A second week: a claim of each self-funded sponsor paid (the ASO one waits for funds: a second funding
    request; the ASC one is billed: a second invoice)."""
    import datetime

    from claims.services import claim_submit, claims_adjudicate_pending
    from core import clock
    from funding import services as funding
    from plans.models import Plan
    from tests.portal.helpers import DEMO_DATE

    day = DEMO_DATE + datetime.timedelta(days=7)
    clock.clock_set(day=day)
    for funding_kind in ("ASO", "ASC"):
        plan = Plan.objects.get(funding=funding_kind)
        member = plan.sponsor.members.order_by("pk").first()
        provider = Claim.objects.filter(plan=plan).order_by("pk").first().provider
        code = Claim.objects.filter(plan=plan).order_by("pk").first().lines.first().procedure_code
        claim_submit(member_id=member.member_id, npi=provider.npi, service_date=day - datetime.timedelta(days=2),
                     lines=[{"code": code, "billed": "90.00"}])
    claims_adjudicate_pending(today=day)
    funding.payment_cycle_run(today=day)
    funding.reimbursement_billing_run(today=day + datetime.timedelta(days=7))
    return world


def _queries(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as seen:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(seen), len(response.json()["results"])


@pytest.mark.parametrize("url", list(LISTS))
def test_a_list_page_costs_the_same_whatever_its_rows(more_business, api_for, url):
    client = api_for("supervisor")
    assert LISTS[url].objects.count() >= 2, f"the world holds too few rows to tell for {url}"
    one, rows_one = _queries(client, url + "?limit=1")
    many, rows_many = _queries(client, url + "?limit=200")
    assert rows_one == 1 and rows_many >= 2
    assert many == one, f"{url}: {one} queries for 1 row, {many} for {rows_many}"


def test_a_claims_detail_costs_the_same_for_one_line_or_many(api_for):
    client = api_for("supervisor")
    claims = list(Claim.objects.exclude(state="rejected").order_by("pk"))
    by_lines = sorted(claims, key=lambda c: c.lines.count())
    few, _ = _queries_detail(client, by_lines[0])
    more, _ = _queries_detail(client, by_lines[-1])
    assert by_lines[-1].lines.count() > by_lines[0].lines.count()
    assert more == few


def _queries_detail(client, claim):
    with CaptureQueriesContext(connection) as seen:
        response = client.get(f"/api/v1/claims/{claim.pk}/")
    assert response.status_code == 200
    return len(seen), response.json()
