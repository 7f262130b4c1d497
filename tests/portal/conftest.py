"""The dashboards' tests share one demo world per test module: `seed_demo` on a fixed business date
(2026-06-15), with its logins of every role and a second provider, sponsor and family (`provider2`,
`employer2`, `member2`) for the cross-party rules. Each test runs in a savepoint inside the module's
transaction, so what one test changes the next does not see."""
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import clock
from tests.portal.helpers import DEMO_DATE
from training.demo import seed_demo


@pytest.fixture(scope="module")
def demo_world(django_db_setup, django_db_blocker):
    """The seeded demo world (its parties by key), kept for the module and rolled back after it."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            clock.clock_set(day=DEMO_DATE)
            world = seed_demo()
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture
def demo(demo_world, db):
    return demo_world


@pytest.fixture
def client_for(demo):
    """client_for("provider") -> a test client logged in as that demo login."""
    User = get_user_model()

    def make(username: str) -> Client:
        c = Client()
        c.force_login(User.objects.get(username=username))
        return c
    return make


@pytest.fixture
def count_queries():
    """with count_queries() as q: ...; len(q) is the number of queries run inside."""
    return lambda: CaptureQueriesContext(connection)
