"""parties.services: every refusal is a PartyError whose message_dict names the field."""
import datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from core.clock import clock_set
from parties.models import Member, PartyLink
from parties.services import (
    PartyError,
    carrier_create,
    employer_create,
    member_create,
    provider_register,
    tpa_create,
    user_create_with_role,
    user_link_party,
)
from parties.validators import member_id_is_valid, npi_with_check_digit
from tests.factories import CarrierFactory, EmployerFactory, MemberFactory, ProviderFactory, TpaFactory

pytestmark = pytest.mark.django_db
DOB = datetime.date(1985, 4, 2)


def refused(fn, **kwargs) -> dict:
    with pytest.raises(PartyError) as exc:
        fn(**kwargs)
    return exc.value.message_dict


def test_provider_register_valid():
    npi = npi_with_check_digit("155512345")
    provider = provider_register(name="Riverside Clinic", npi=npi, tin="36-4829173", network="out")
    assert (provider.npi, provider.tin, provider.network, provider.in_network) == (npi, "36-4829173", "out", False)


@pytest.mark.parametrize("kwargs, field", [
    ({"npi": "1234567890"}, "npi"),
    ({"npi": "12345"}, "npi"),
    ({"tin": "12-34"}, "tin"),
    ({"network": "maybe"}, "network"),
    ({"name": ""}, "name"),
])
def test_provider_register_refusals_name_the_field(kwargs, field):
    spec = {"name": "Clinic", "npi": npi_with_check_digit("155512346"), "tin": "", "network": "in", **kwargs}
    errors = refused(provider_register, **spec)
    assert list(errors) == [field]


def test_provider_register_refuses_a_registered_npi():
    provider = ProviderFactory()
    assert list(refused(provider_register, name="Twin", npi=provider.npi)) == ["npi"]


def test_employer_create_refusals():
    assert list(refused(employer_create, name="Acme", ein="123456789")) == ["ein"]
    assert list(refused(employer_create, name="Acme", ein="07-1234567")) == ["ein"]
    assert list(refused(employer_create, name="", ein="41-7283956")) == ["name"]
    employer_create(name="Acme", ein="41-7283956")
    errors = refused(employer_create, name="Acme Two", ein="41-7283956")
    assert errors == {"ein": ["An employer with this EIN already exists."]}


def test_tpa_and_carrier_refusals():
    tpa_create(name="Summit", ein="84-2917365")
    assert list(refused(tpa_create, name="Summit")) == ["name"]
    assert list(refused(tpa_create, name="Other", ein="96-1234567")) == ["ein"]
    assert list(refused(carrier_create, name="")) == ["name"]
    assert carrier_create(name="Keystone", naic_code="61247").naic_code == "61247"


def test_member_create_generates_a_valid_id_and_dependents_take_the_subscribers_employer():
    employer, other = EmployerFactory(), EmployerFactory()
    alice = member_create(employer=employer, name="Alice Ng", date_of_birth=DOB)
    sam = member_create(employer=other, name="Sam Ng", date_of_birth=datetime.date(2015, 6, 1),
                        subscriber=alice, relationship="child")
    sue = member_create(name="Sue Ng", date_of_birth=datetime.date(1986, 1, 1), subscriber=alice,
                        relationship="spouse")
    assert member_id_is_valid(alice.member_id) and member_id_is_valid(sam.member_id)
    assert len({alice.member_id, sam.member_id, sue.member_id}) == 3
    assert sam.employer == employer and sue.employer == employer
    assert (alice.is_subscriber, sam.is_subscriber, sam.family_subscriber_id) == (True, False, alice.pk)


def test_member_create_refusals_name_the_field():
    employer = EmployerFactory()
    alice = MemberFactory(employer=employer)
    sam = member_create(name="Sam", date_of_birth=DOB, subscriber=alice, relationship="child")
    cases = [
        ({"employer": employer, "relationship": "child"}, "subscriber"),
        ({"subscriber": alice, "relationship": "subscriber"}, "relationship"),
        ({"subscriber": sam, "relationship": "child"}, "subscriber"),
        ({"employer": employer, "name": ""}, "name"),
        ({"employer": employer, "relationship": "cousin"}, "relationship"),
        ({"employer": employer, "date_of_birth": datetime.date(2030, 1, 1)}, "date_of_birth"),
        ({"employer": None}, "employer"),
    ]
    for extra, field in cases:
        spec = {"name": "Zed", "date_of_birth": DOB, **extra}
        errors = refused(member_create, **spec)
        assert field in errors, (extra, errors)
    assert Member.objects.count() == 2


def test_date_of_birth_is_checked_against_the_business_clock():
    employer = EmployerFactory()
    clock_set(day=datetime.date(2026, 1, 1))
    assert list(refused(member_create, employer=employer, name="Newborn",
                        date_of_birth=datetime.date(2026, 3, 1))) == ["date_of_birth"]
    clock_set(day=datetime.date(2026, 3, 1))
    assert member_create(employer=employer, name="Newborn", date_of_birth=datetime.date(2026, 3, 1)).pk


def test_member_clean_refuses_a_dependent_with_another_employer_and_a_subscriber_with_dependents():
    alice = MemberFactory()
    bob = MemberFactory()
    member_create(name="Sam", date_of_birth=DOB, subscriber=alice, relationship="child")
    stray = Member(member_id="0" * 10, employer=bob.employer, subscriber=alice, relationship="child",
                   name="Stray", date_of_birth=DOB)
    with pytest.raises(ValidationError) as exc:
        stray.full_clean(exclude=["member_id"])
    assert list(exc.value.message_dict) == ["employer"]
    alice.subscriber, alice.relationship, alice.employer = bob, "spouse", bob.employer
    with pytest.raises(ValidationError) as exc:
        alice.full_clean()
    assert "subscriber" in exc.value.message_dict


def test_user_create_with_role_links_one_party_and_is_idempotent():
    tpa = TpaFactory()
    link = user_create_with_role(username="ex", password="demo", role="claims_examiner", party=tpa, is_staff=True)
    again = user_create_with_role(username="ex", password="other", role="claims_examiner", party=tpa)
    assert link.pk == again.pk and again.party == tpa
    user = get_user_model().objects.get(username="ex")
    assert user.is_staff and user.check_password("demo")
    assert PartyLink.objects.count() == 1 and get_user_model().objects.count() == 1


def test_user_link_party_refusals_and_relinking():
    user = get_user_model().objects.create_user(username="someone")
    carrier, provider = CarrierFactory(), ProviderFactory()
    assert list(refused(user_link_party, user=user, role="janitor", party=carrier)) == ["role"]
    assert list(refused(user_link_party, user=user, role="carrier_analyst", party=provider)) == ["carrier"]
    user_link_party(user=user, role="carrier_analyst", party=carrier)
    link = user_link_party(user=user, role="provider_staff", party=provider)
    link.refresh_from_db()
    assert (link.role, link.provider, link.carrier) == ("provider_staff", provider, None)
    assert PartyLink.objects.filter(user=user).count() == 1


def test_party_link_clean_names_the_missing_and_the_extra_party():
    user = get_user_model().objects.create_user(username="someone")
    link = PartyLink(user=user, role="employer_admin", carrier=CarrierFactory())
    with pytest.raises(ValidationError) as exc:
        link.full_clean()
    assert set(exc.value.message_dict) == {"employer", "carrier"}
