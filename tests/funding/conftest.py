import datetime

import pytest

from tests.funding.helpers import assert_ledger_balanced


@pytest.fixture(autouse=True)
def _ledger_balances_after_each_test(request):
    """After every test that touches the database, the ledger balances (checked before the test's
    database is rolled back or flushed)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        yield
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    yield
    assert_ledger_balanced()


@pytest.fixture
def today():
    return datetime.date(2026, 1, 20)
