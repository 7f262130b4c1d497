import pytest

from tests.claims.helpers import build_world
from tests.factories import login


@pytest.fixture
def make_world(db):
    return build_world


@pytest.fixture
def world(db):
    """The worked example's plan: deductible 1,000, coinsurance 20 %, OOP max 4,000, office-visit copay 30."""
    return build_world()


@pytest.fixture
def examiner(db):
    """A claims examiner of the TPA: reviews pended claims."""
    return login("claims_examiner")
