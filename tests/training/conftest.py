"""Training sessions in tests: their databases (templates, sandboxes) are dropped when the run ends, and the
connection aliases of sandboxes are forgotten after each test (a test's database guard wraps the aliases
it finds at its start; a sandbox of an earlier test, long dropped, must not be among them)."""
import pytest
from django.db import connections


@pytest.fixture(scope="session", autouse=True)
def _training_databases_dropped(django_db_setup, django_db_blocker):
    yield
    from training.sandbox.databases import databases_drop_all

    with django_db_blocker.unblock():
        databases_drop_all()


@pytest.fixture(autouse=True)
def _sandbox_aliases_forgotten():
    yield
    from training.sandbox.connections import SANDBOX_PREFIX, alias_forget

    for alias in [a for a in connections.settings if a.startswith(SANDBOX_PREFIX)]:
        alias_forget(alias=alias)
