import datetime

import pytest

from core import clock
from tests.claims.helpers import build_world

TODAY = datetime.date(2026, 2, 1)


@pytest.fixture
def world(db):
    """The worked example's plan (deductible 1,000, coinsurance 20 %, OOP 4,000, office-visit copay 30),
    an in-network (mercy) and an out-of-network (faraway) provider, member alice; the clock on TODAY."""
    clock.clock_set(day=TODAY)
    w = build_world(oon_coinsurance="0.40")
    return w
