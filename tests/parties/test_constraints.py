"""Every parties DB constraint holds on a raw save that bypasses clean()."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from core.models import BusinessClock
from parties.models import Employer, Member, PartyLink, Provider, Tpa
from parties.validators import member_id_generate, npi_with_check_digit
from tests.factories import CarrierFactory, EmployerFactory, MemberFactory, ProviderFactory, TpaFactory

pytestmark = pytest.mark.django_db


def raw_save_fails(obj, constraint_name=None):
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        obj.save()
    if constraint_name:
        assert constraint_name in str(exc.value)
    return exc.value


def test_business_clock_has_one_row():
    BusinessClock(pk=1, simulated_date=datetime.date(2026, 1, 1)).save()
    raw_save_fails(BusinessClock(pk=2, simulated_date=None), "core_business_clock_single_row")
    assert BusinessClock.objects.count() == 1


def test_tpa_name_unique():
    TpaFactory(name="Summit TPA")
    raw_save_fails(Tpa(name="Summit TPA"))


def test_employer_ein_unique_but_blank_allowed_many_times():
    EmployerFactory(ein="41-7283956")
    raw_save_fails(Employer(name="Other", ein="41-7283956"))
    Employer(name="No EIN 1", ein="").save()
    Employer(name="No EIN 2", ein="").save()
    assert Employer.objects.filter(ein="").count() == 2


def test_provider_npi_unique():
    npi = npi_with_check_digit("155500001")
    ProviderFactory(npi=npi)
    raw_save_fails(Provider(name="Twin", npi=npi))


def test_provider_network_valid():
    raw_save_fails(Provider(name="Odd", npi=npi_with_check_digit("155500002"), network="xx"),
                   "provider_network_valid")


def test_member_id_unique():
    member = MemberFactory()
    raw_save_fails(Member(member_id=member.member_id, employer=member.employer, name="Clone",
                          date_of_birth=datetime.date(1990, 1, 1)))


def test_subscriber_cannot_have_a_subscriber():
    alice = MemberFactory()
    raw_save_fails(Member(member_id=member_id_generate(), employer=alice.employer, subscriber=alice,
                          relationship="subscriber", name="Wrong", date_of_birth=datetime.date(1990, 1, 1)),
                   "member_relationship_matches_subscriber")


def test_dependent_needs_a_subscriber():
    employer = EmployerFactory()
    raw_save_fails(Member(member_id=member_id_generate(), employer=employer, subscriber=None,
                          relationship="child", name="Orphan", date_of_birth=datetime.date(2015, 1, 1)),
                   "member_relationship_matches_subscriber")


@pytest.fixture
def parties():
    return {
        "tpa": TpaFactory(), "provider": ProviderFactory(), "employer": EmployerFactory(),
        "carrier": CarrierFactory(), "member": MemberFactory(),
    }


ROLE_FIELD = {
    "provider_staff": "provider", "claims_examiner": "tpa", "supervisor": "tpa",
    "employer_admin": "employer", "carrier_analyst": "carrier", "member": "member",
}


@pytest.mark.parametrize("role", sorted(ROLE_FIELD))
def test_party_link_needs_its_party(role, parties):
    user = get_user_model().objects.create_user(username=f"u-{role}")
    raw_save_fails(PartyLink(user=user, role=role), "party_link_one_party_for_role")


@pytest.mark.parametrize("role", sorted(ROLE_FIELD))
def test_party_link_refuses_a_second_party(role, parties):
    user = get_user_model().objects.create_user(username=f"u-{role}")
    field = ROLE_FIELD[role]
    other = next(f for f in ("tpa", "provider", "employer", "carrier", "member") if f != field)
    raw_save_fails(PartyLink(user=user, role=role, **{field: parties[field], other: parties[other]}),
                   "party_link_one_party_for_role")
    PartyLink(user=user, role=role, **{field: parties[field]}).save()  # the right shape saves
    assert PartyLink.objects.get(user=user).party == parties[field]


def test_party_link_unknown_role(parties):
    user = get_user_model().objects.create_user(username="u-odd")
    raw_save_fails(PartyLink(user=user, role="janitor", tpa=parties["tpa"]), "party_link_one_party_for_role")


def test_one_party_link_per_user(parties):
    user = get_user_model().objects.create_user(username="u-two")
    PartyLink(user=user, role="claims_examiner", tpa=parties["tpa"]).save()
    raw_save_fails(PartyLink(user=user, role="carrier_analyst", carrier=parties["carrier"]))
