"""The Idempotency-Key of a claim submission: a retry (same login, same key) answers the first claim,
same status and body, and submits nothing; the same key with another body is refused (422); the key
is per login; a refused submission keeps no key. Racing submissions: test_idempotency_race.py."""
import pytest

from api.models import IdempotencyKey
from claims.models import Claim, ClaimLine
from parties.models import Provider
from tests.api.conftest import user

BODY_LINES = [{"code": "99213", "billed": "150.00"}]


def _body(**overrides):
    member = user("member").party_link.member
    body = {"member_id": member.member_id, "npi": Provider.objects.get(name="Riverside Family Medicine").npi,
            "service_date": "2026-06-10", "lines": BODY_LINES}
    return {**body, **overrides}


def _post(client, body, key):
    return client.post("/api/v1/claims/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_answers_the_first_claim_and_submits_nothing(api_for):
    client = api_for("provider")
    first = _post(client, _body(), "visit-2026-06-10-a")
    claims = Claim.objects.count()
    again = _post(client, _body(), "visit-2026-06-10-a")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Claim.objects.count() == claims
    assert IdempotencyKey.objects.get(key="visit-2026-06-10-a").claim_id == first.json()["id"]
    # Another key is another submission.
    other = _post(client, _body(), "visit-2026-06-10-b")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert Claim.objects.count() == claims + 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_nothing_is_written(api_for):
    client = api_for("provider")
    _post(client, _body(), "k-1")
    claims, lines = Claim.objects.count(), ClaimLine.objects.count()
    got = _post(client, _body(lines=[{"code": "99213", "billed": "151.00"}]), "k-1")
    assert got.status_code == 422
    assert got.json()["error"]["code"] == "idempotency_key_reused"
    assert (Claim.objects.count(), ClaimLine.objects.count()) == (claims, lines)


@pytest.mark.django_db
def test_a_key_is_per_login(api_for):
    a = _post(api_for("provider"), _body(), "shared")
    b = _post(api_for("examiner"), _body(), "shared")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


@pytest.mark.django_db
def test_a_refused_submission_keeps_no_key_and_its_retry_is_checked_again(api_for):
    client = api_for("provider")
    bad = _post(client, _body(service_date="2026-02-30"), "k-bad")
    assert bad.status_code == 400 and list(bad.json()["error"]["fields"]) == ["service_date"]
    assert not IdempotencyKey.objects.filter(key="k-bad").exists()
    good = _post(client, _body(), "k-bad")  # the key was never used: the corrected claim is received
    assert good.status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_400_naming_the_header(api_for, key):
    claims = Claim.objects.count()
    got = _post(api_for("provider"), _body(), key)
    assert got.status_code == 400
    assert list(got.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert Claim.objects.count() == claims
