"""The API's tests run in the demo world of the dashboards' tests (tests/portal/conftest.py: seed_demo
on 2026-06-15, a login of every role and a second provider, sponsor and family), after a month of
business (the `money_moved` world of the cross-party sweep: remittances, funding requests, invoices
and fee billings exist). Each login gets a token; `api_for(username)` is a DRF client sending it."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from claims.models import Claim
from claims.services import claim_review, claims_adjudicate_pending
from funding import services as funding
from parties.models import PartyLink
from tests.portal.conftest import demo, demo_world  # noqa: F401 (fixtures)
from tests.portal.helpers import DEMO_DATE

LOGINS = ("provider", "provider2", "examiner", "supervisor", "employer", "employer2", "carrier", "member", "member2")


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """The throttles count in the (per-process memory) cache: each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def business_world(demo_world, django_db_blocker):  # noqa: F811 (the imported fixture)
    """The demo world after a month of business (as tests/portal/test_cross_party.py's `money_moved`),
    built once for the module inside its transaction."""
    with django_db_blocker.unblock():
        examiner = PartyLink.objects.get(user__username="examiner").user
        for claim_id in Claim.objects.filter(state="pended").values_list("pk", flat=True):
            claim_review(claim_id=claim_id, decision="approve", user=examiner, note="reviewed")
        claims_adjudicate_pending(today=DEMO_DATE)
        funding.payment_cycle_run(today=DEMO_DATE)
        funding.reimbursement_billing_run(today=DEMO_DATE + datetime.timedelta(days=7))
        funding.fee_billing_run(today=datetime.date(2026, 7, 1))
        for username in LOGINS:
            Token.objects.get_or_create(user=get_user_model().objects.get(username=username))
    return demo_world


@pytest.fixture
def world(business_world, db):
    return business_world


@pytest.fixture
def api_for(world):
    """api_for("provider") -> an APIClient sending that login's token; api_for(None): no credentials."""
    def make(username: str | None) -> APIClient:
        client = APIClient()
        if username is not None:
            token = Token.objects.get(user__username=username)
            client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client
    return make


def user(username: str):
    return get_user_model().objects.get(username=username)
