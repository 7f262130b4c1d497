"""schemathesis over the API's OpenAPI schema, against a live server (the WSGI app in a thread) with a
supervisor's token: no request gets a server error, and every answer is one the schema documents (status
code, content type, body). Bounded (a few examples per operation) and derandomized: the same requests
every run, well under a minute."""
import json
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import schemathesis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core import clock
from tests.portal.helpers import DEMO_DATE
from training.demo import seed_demo

SPEC = json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
schema = schemathesis.openapi.from_dict(SPEC)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _Server(WSGIServer):
    def handle_error(self, request, client_address):  # a client that hung up: not the app's error
        pass


@pytest.fixture(scope="module")
def live_api(django_db_setup, django_db_blocker):
    """The demo world, committed (the server's thread reads it on its own connection), served on a free
    local port; the database is emptied afterwards (as a transactional test's)."""
    rates = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/min", "anon": "100000/min",
                                                                   "token": "100000/min"}}
    with django_db_blocker.unblock(), override_settings(REST_FRAMEWORK=rates):
        # pytest-django creates the test database only for a session holding a django_db test (the one
        # below): never seed, serve or flush any other database.
        name = str(connections["default"].settings_dict["NAME"])
        assert "test" in name or "memorydb" in name, f"not a test database: {name}"
        clock.clock_set(day=DEMO_DATE)
        seed_demo()
        token = Token.objects.get_or_create(user=get_user_model().objects.get(username="supervisor"))[0].key
        httpd = make_server("127.0.0.1", 0, WSGIHandler(), server_class=_Server, handler_class=_Quiet)

        def serve():
            try:
                httpd.serve_forever(poll_interval=0.1)
            finally:
                connections.close_all()  # this thread's connection: the test database can be dropped
        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{httpd.server_port}", token
        finally:
            httpd.shutdown()
            thread.join(timeout=30)
            httpd.server_close()
            call_command("flush", interactive=False, verbosity=0)


@pytest.mark.django_db  # also makes pytest-django set up the test database for this module's server
def test_the_schema_documents_every_v1_operation():
    operations = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert len(operations) == 18
    assert all(path.startswith("/api/v1/") for path, _ in operations)


@schema.parametrize()
@hypothesis_settings(max_examples=8, derandomize=True, deadline=None, database=None,
                     suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error_or_an_undocumented_answer(case, live_api):
    base_url, token = live_api
    response = case.call(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=30)
    case.validate_response(response, checks=CHECKS)


def test_the_token_reaches_the_endpoints_on_the_live_server(live_api):
    """The run above is against endpoints that answer (the token works there), not 401s throughout."""
    import requests

    base_url, token = live_api
    for path in ("/api/v1/me/", "/api/v1/claims/", "/api/v1/remittances/", "/api/v1/funding-requests/",
                 "/api/v1/reimbursement-invoices/", "/api/v1/fee-billings/"):
        got = requests.get(base_url + path, headers={"Authorization": f"Token {token}"}, timeout=30)
        assert got.status_code == 200, (path, got.status_code)
    claims = requests.get(base_url + "/api/v1/claims/", headers={"Authorization": f"Token {token}"}, timeout=30)
    assert claims.json()["results"], "the demo world's claims are served"
