"""Bad input: an error in the one shape naming the field, and nothing written; never a server error.
Pagination bounds, and the throttles' 429."""
import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from api.models import IdempotencyKey
from api.pagination import MAX_LIMIT
from claims.models import Claim, ClaimLine
from parties.models import Provider
from tests.api.conftest import user

pytestmark = pytest.mark.django_db


def _body(**overrides):
    body = {"member_id": user("member").party_link.member.member_id,
            "npi": Provider.objects.get(name="Riverside Family Medicine").npi,
            "service_date": "2026-06-10", "lines": [{"code": "99213", "billed": "150.00"}]}
    return {**body, **overrides}


def _written() -> tuple:
    return Claim.objects.count(), ClaimLine.objects.count(), IdempotencyKey.objects.count()


def _assert_shape(got, status: int, field: str | None = None):
    assert got.status_code == status, (got.status_code, got.content[:300])
    error = got.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    if field is not None:
        assert field in error["fields"], error
        assert all(isinstance(m, str) for m in error["fields"][field])


BAD_BODIES = [
    ({"member_id": "AB\x00CD"}, "member_id"),
    ({"member_id": "x" * 1_000_000}, "member_id"),
    ({"npi": "\ud800"}, "npi"),
    ({"service_date": "2026-02-30"}, "service_date"),
    ({"service_date": "99999-01-01"}, "service_date"),
    ({"service_date": "1850-01-01"}, "service_date"),
    ({"service_date": 20260610}, "service_date"),
    ({"lines": "99213"}, "lines"),
    ({"lines": [{"code": "99213"}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": "abc"}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": "1e999999"}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": "150.001"}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": "150.00", "units": 0}]}, "lines[0].units"),
    ({"lines": [{"code": "99213", "billed": "150.00", "units": "2"}]}, "lines[0].units"),
    ({"lines": [{"code": "9" * 5000, "billed": "150.00"}]}, "lines[0].code"),
    ({"lines": [{"code": "99213", "billed": "150.00"}] * 1000}, "lines"),
    ({"lines": [17]}, "lines[0]"),
]


@pytest.mark.parametrize(("change", "field"), BAD_BODIES, ids=[f for _, f in BAD_BODIES])
def test_a_malformed_claim_is_400_naming_the_field_and_nothing_is_written(api_for, change, field):
    before = _written()
    got = api_for("provider").post("/api/v1/claims/", json.dumps(_body(**change)), content_type="application/json",
                                   HTTP_IDEMPOTENCY_KEY="bad-input")
    _assert_shape(got, 400, field)
    assert got.json()["error"]["code"] == "invalid"
    assert _written() == before


@pytest.mark.parametrize(("raw", "content_type", "status"), [
    (b"{not json", "application/json", 400),
    (b'{"member_id": NaN}', "application/json", 400),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400),
    (b'{"units": ' + b"9" * 5000 + b"}", "application/json", 400),
    (b"\xff\xfe\x00", "application/json", 400),
    (b'["a list"]', "application/json", 400),
    (b"member_id=x", "application/x-www-form-urlencoded", 415),
    (b"x" * 3_000_000, "application/json", 400),  # over DATA_UPLOAD_MAX_MEMORY_SIZE
])
def test_an_unreadable_body_is_an_error_in_the_shape_and_nothing_is_written(api_for, raw, content_type, status):
    before = _written()
    got = api_for("provider").generic("POST", "/api/v1/claims/", raw, content_type=content_type)
    _assert_shape(got, status)
    assert _written() == before


@pytest.mark.parametrize(("url", "field"), [
    ("/api/v1/claims/?limit=0", "limit"),
    (f"/api/v1/claims/?limit={MAX_LIMIT + 1}", "limit"),
    ("/api/v1/claims/?limit=abc", "limit"),
    ("/api/v1/claims/?limit=-1", "limit"),
    ("/api/v1/claims/?before=99999999999999999999999999", "before"),
    ("/api/v1/claims/?before=%00", "before"),
    ("/api/v1/claims/?before=%EF%BC%91", "before"),  # a full-width digit: not ASCII
    ("/api/v1/claims/?status=lost", "status"),
    ("/api/v1/fee-billings/?sponsor=abc", "sponsor"),
    ("/api/v1/remittances/?limit=" + "9" * 5000, "limit"),
    ("/api/v1/eligibility/?member_id=GNCHTSYY96&on=2026-13-01", "on"),
    ("/api/v1/eligibility/?member_id=GNCHTSYY96&on=0001-01-01", "on"),
    ("/api/v1/eligibility/?member_id=GNCHTSYY96&on=9999-12-31", "on"),
    ("/api/v1/eligibility/?member_id=GNCHTSYY96&on=%00", "on"),
    ("/api/v1/eligibility/", "member_id"),
])
def test_a_bad_query_parameter_is_400_naming_it(api_for, url, field):
    _assert_shape(api_for("examiner").get(url), 400, field)


@pytest.mark.parametrize("claim_id", ["abc", "0", "-1", "1.5", "99999999999999999999999", "%00", "%EF%BC%91"])
def test_an_id_that_names_no_row_is_404(api_for, claim_id):
    got = api_for("examiner").get(f"/api/v1/claims/{claim_id}/")
    _assert_shape(got, 404, "claim")


def test_an_unknown_address_is_404_in_the_shape(api_for):
    _assert_shape(api_for("examiner").get("/api/v1/nowhere/"), 404)
    _assert_shape(api_for("examiner").get("/api/v1/claims"), 404)  # no trailing slash: no redirect of a POST


def test_a_method_an_endpoint_does_not_take_is_405(api_for):
    _assert_shape(api_for("examiner").delete("/api/v1/claims/"), 405)


def test_a_huge_member_id_in_the_path_is_404(api_for):
    _assert_shape(api_for("examiner").get("/api/v1/members/" + "Z" * 10_000 + "/eobs/"), 404, "member_id")


def test_the_last_page_has_no_next_and_a_page_beyond_every_row_is_empty(api_for):
    client = api_for("examiner")
    every = client.get(f"/api/v1/claims/?limit={MAX_LIMIT}").json()
    assert every["next"] is None and len(every["results"]) == Claim.objects.count() <= MAX_LIMIT
    assert client.get("/api/v1/claims/?before=1").json() == {"next": None, "results": []}
    assert len(client.get("/api/v1/claims/?limit=1").json()["results"]) == 1
    default = client.get("/api/v1/claims/").json()["results"]
    assert len(default) == min(50, Claim.objects.count())


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.decimals(allow_nan=False, places=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["member_id", "npi", "service_date", "lines", "code", "billed", "units"]), inner,
        max_size=5), max_leaves=12))
def test_no_submitted_body_is_a_server_error(api_for, body):
    """Any JSON at all: 201 (a claim, stored; rejected or not) or an error in the shape, never a 500."""
    client: APIClient = api_for("provider")
    got = client.generic("POST", "/api/v1/claims/", json.dumps(body, default=str), content_type="application/json")
    assert got.status_code in (201, 400, 403), (body, got.status_code, got.content[:300])
    if got.status_code != 201:
        _assert_shape(got, got.status_code)


def test_the_login_throttle_answers_429_in_the_shape(api_for, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "3/min", "anon": "2/min", "token": "2/min"}}
    client = api_for("examiner")
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    got = client.get("/api/v1/me/")
    _assert_shape(got, 429)
    assert got.json()["error"]["code"] == "throttled" and int(got["Retry-After"]) > 0
    assert api_for("provider").get("/api/v1/me/").status_code == 200  # per login


def test_the_anonymous_and_token_throttles_answer_429(api_for, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "100/min", "anon": "100/min", "token": "2/min"}}
    anon = api_for(None)
    statuses = [anon.post("/api/v1/token/", {"username": "nobody", "password": "x"}, format="json").status_code
                for _ in range(3)]
    assert statuses == [400, 400, 429]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "100/min", "anon": "1/min", "token": "100/min"}}
    cache.clear()
    assert anon.post("/api/v1/token/", {"username": "nobody", "password": "x"}, format="json").status_code == 400
    _assert_shape(anon.post("/api/v1/token/", {"username": "nobody", "password": "x"}, format="json"), 429)


@pytest.mark.parametrize(("body", "field"), [
    ({"username": "provider"}, "password"),
    ({"username": "x" * 200, "password": "p"}, "username"),
    ({"username": "provider", "password": "wrong"}, "password"),
    ({"username": "pro\x00vider", "password": "demo"}, "username"),
])
def test_a_bad_token_request_is_400_naming_the_field(api_for, body, field):
    _assert_shape(api_for(None).post("/api/v1/token/", body, format="json"), 400, field)


def test_the_token_endpoint_goes_through_axes_and_locks_out_in_the_shape(api_for, settings):
    from axes.models import AccessAttempt

    settings.AXES_ENABLED = True
    anon = api_for(None)
    for _ in range(4):
        got = anon.post("/api/v1/token/", {"username": "provider", "password": "wrong"}, format="json")
        _assert_shape(got, 400, "password")
    assert AccessAttempt.objects.get(username="provider").failures_since_start == 4
    locked = anon.post("/api/v1/token/", {"username": "provider", "password": "wrong"}, format="json")
    _assert_shape(locked, 429)
    assert locked.json()["error"]["code"] == "locked_out"
    # Locked: the right password is refused too, in the API's shape (not axes' page).
    right = anon.post("/api/v1/token/", {"username": "provider", "password": "demo"}, format="json")
    _assert_shape(right, 429)
    assert right["Content-Type"] == "application/json"
