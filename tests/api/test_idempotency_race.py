"""Submissions racing with one Idempotency-Key make one claim: each request on its own connection, in
its own thread (PostgreSQL: the unique key's insert waits for the first transaction, then refuses)."""
import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.models import IdempotencyKey
from claims.models import Claim
from core import clock
from parties.models import Provider
from tests.api.conftest import user
from tests.portal.helpers import DEMO_DATE
from training.demo import seed_demo


@pytest.fixture
def committed_demo(transactional_db):
    """seed_demo, committed (the threads' connections see it); the test database is emptied after."""
    clock.clock_set(day=DEMO_DATE)
    return seed_demo()


def _post(client, body, key):
    return client.post("/api/v1/claims/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def _race(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = call()
        except Exception as exc:  # reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_with_one_key_make_one_claim(committed_demo):
    token = Token.objects.get_or_create(user=user("provider"))[0].key
    body = {"member_id": user("member").party_link.member.member_id,
            "npi": Provider.objects.get(name="Riverside Family Medicine").npi, "service_date": "2026-06-10",
            "lines": [{"code": "99213", "billed": "150.00"}]}
    before = Claim.objects.count()

    def submit():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        got = _post(client, body, "race-1")
        return got.status_code, got.content.decode()

    for _round in range(3):
        results = _race([submit] * 4)
        assert all(not isinstance(r, Exception) for r in results), results
        assert {status for status, _ in results} == {201}
        assert len({answer for _, answer in results}) == 1  # the same claim, the same bytes
    assert Claim.objects.count() == before + 1
    assert IdempotencyKey.objects.filter(key="race-1").count() == 1
