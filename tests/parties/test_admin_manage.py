"""Changing reference data and logins in the admin needs the role action that covers it
(parties.admin_scope MANAGE_ACTION_OF_MODEL), whatever model permissions a login's row carries: a
careless examiner can neither raise its own role nor change plans; a supervisor manages logins but
only a superuser grants superuser status, permissions or groups."""
import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse

from parties.models import Carrier, Employer, Member, PartyLink, Provider, Tpa
from plans.models import Coverage, FeeSchedule, FeeScheduleEntry, Plan, StopLossPolicy
from tests.factories import MemberFactory, PlanFactory, careless_login

pytestmark = pytest.mark.django_db
User = get_user_model()

PLAN_DATA = (Tpa, Carrier, Employer, Provider, Plan, FeeSchedule, FeeScheduleEntry, StopLossPolicy)
ENROLLMENT = (Member, Coverage)
LOGINS = (User, Group, PartyLink)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _may(user, model) -> dict[str, bool]:
    request = RequestFactory().get("/admin/")
    request.user = user
    model_admin = admin.site._registry[model]
    return {"view": model_admin.has_view_permission(request), "add": model_admin.has_add_permission(request),
            "change": model_admin.has_change_permission(request),
            "delete": model_admin.has_delete_permission(request)}


@pytest.mark.parametrize("role, plans, enrollment, logins", [
    ("claims_examiner", False, True, False),
    ("supervisor", True, True, True),
])
def test_who_may_change_what_in_the_admin(role, plans, enrollment, logins):
    user = careless_login(role)
    for models, allowed in ((PLAN_DATA, plans), (ENROLLMENT, enrollment), (LOGINS, logins)):
        for model in models:
            assert _may(user, model) == {"view": True, "add": allowed, "change": allowed, "delete": allowed}, model


def test_a_careless_examiner_cannot_make_itself_a_supervisor():
    examiner = careless_login("claims_examiner")
    link = examiner.party_link
    client = _client(examiner)
    response = client.post(reverse("admin:parties_partylink_change", args=[link.pk]),
                           {"user": examiner.pk, "role": "supervisor", "tpa": link.tpa_id})
    assert response.status_code == 403
    assert PartyLink.objects.get(pk=link.pk).role == "claims_examiner"
    response = client.post(reverse("admin:auth_user_change", args=[examiner.pk]), {
        "username": examiner.username, "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    assert response.status_code == 403
    assert not User.objects.get(pk=examiner.pk).is_superuser


def test_a_careless_examiner_cannot_change_a_plan():
    examiner = careless_login("claims_examiner")
    plan = PlanFactory(name="Keep me")
    client = _client(examiner)
    response = client.get(reverse("admin:plans_plan_change", args=[plan.pk]))
    assert response.status_code == 200 and b'name="_save"' not in response.content  # shown read-only
    response = client.post(reverse("admin:plans_plan_change", args=[plan.pk]), {"name": "Changed"})
    assert response.status_code == 403
    assert Plan.objects.get(pk=plan.pk).name == "Keep me"
    assert client.post(reverse("admin:plans_plan_delete", args=[plan.pk]), {"post": "yes"}).status_code == 403
    assert Plan.objects.filter(pk=plan.pk).exists()


def test_an_examiner_may_correct_a_members_enrollment():
    examiner = careless_login("claims_examiner")
    member = MemberFactory(name="Ann Lee")
    response = _client(examiner).get(reverse("admin:parties_member_change", args=[member.pk]))
    assert response.status_code == 200 and b'name="_save"' in response.content


def test_a_supervisor_manages_logins_but_only_a_superuser_grants_superuser_permissions_or_groups():
    supervisor = careless_login("supervisor")
    clerk = User.objects.create_user(username="clerk", password="pw")
    group = Group.objects.create(name="all powers")
    client = _client(supervisor)
    url = reverse("admin:auth_user_change", args=[clerk.pk])
    page = client.get(url).content.decode()
    assert 'name="is_staff"' in page and 'name="is_superuser"' not in page and 'name="groups"' not in page
    response = client.post(url, {"username": "clerk", "is_active": "on", "is_staff": "on", "is_superuser": "on",
                                 "groups": [group.pk], "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
                                 "party_link-TOTAL_FORMS": "0", "party_link-INITIAL_FORMS": "0",
                                 "party_link-MIN_NUM_FORMS": "0", "party_link-MAX_NUM_FORMS": "1"})
    assert response.status_code == 302, response.content.decode()[:2000]
    clerk = User.objects.get(pk=clerk.pk)
    assert clerk.is_staff and not clerk.is_superuser and not clerk.groups.exists()
    root = User.objects.create_superuser(username="root", password="pw", email="root@example.com")
    assert client.post(reverse("admin:auth_user_change", args=[root.pk]), {"username": "root2"}).status_code == 403
    assert client.post(reverse("admin:auth_user_delete", args=[root.pk]), {"post": "yes"}).status_code == 403
    assert User.objects.filter(username="root").exists()


def test_a_superuser_grants_superuser_status():
    root = User.objects.create_superuser(username="root", password="pw", email="root@example.com")
    clerk = User.objects.create_user(username="clerk", password="pw")
    page = _client(root).get(reverse("admin:auth_user_change", args=[clerk.pk])).content.decode()
    assert 'name="is_superuser"' in page and 'name="groups"' in page
    assert _may(root, Plan) == {"view": True, "add": True, "change": True, "delete": True}
