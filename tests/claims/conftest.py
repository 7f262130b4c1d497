import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from tests.claims.helpers import build_world, new_seq


@pytest.fixture
def make_world(db):
    return build_world


@pytest.fixture
def world(db):
    """The worked example's plan: deductible 1,000, coinsurance 20 %, OOP max 4,000, office-visit copay 30."""
    return build_world()


@pytest.fixture
def examiner(db):
    """A login allowed to review pended claims."""
    user = get_user_model().objects.create_user(username=f"examiner{new_seq()}", password="x")
    user.user_permissions.add(Permission.objects.get(codename="review_claim", content_type__app_label="claims"))
    return get_user_model().objects.get(pk=user.pk)  # fresh: no stale permission cache
