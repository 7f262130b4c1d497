"""The parties admin: every page answers, errors land on the field they name, the member ID is
generated on save, the ID card shows the member's plan and family, and list pages cost the same
number of queries for 5 rows as for 50."""
import datetime

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from core.clock import clock_set, today
from core.models import BusinessClock
from parties.models import Carrier, Employer, Member, PartyLink, Provider, Tpa
from parties.services import member_create, user_link_party
from parties.validators import member_id_generate, member_id_is_valid, npi_with_check_digit
from plans.services import coverage_enroll
from tests.factories import (
    CarrierFactory,
    EmployerFactory,
    MemberFactory,
    PlanFactory,
    ProviderFactory,
    TpaFactory,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code  # re-shown with errors, not saved
    return response.context["adminform"].form.errors


@pytest.fixture
def world():
    plan = PlanFactory(funding="ASC", name="Bayshore Choice PPO")
    alice = MemberFactory(employer=plan.sponsor, name="Alice Ng")
    coverage_enroll(member=alice, plan=plan, start=datetime.date(2026, 1, 1))
    sam = member_create(name="Sam Ng", date_of_birth=datetime.date(2015, 6, 1), subscriber=alice,
                        relationship="child")
    coverage_enroll(member=sam, plan=plan)
    tpa = TpaFactory(name="Summit Benefit Administrators")
    provider = ProviderFactory()
    user = User.objects.create_user(username="examiner")
    user_link_party(user=user, role="claims_examiner", party=tpa)
    return {"plan": plan, "alice": alice, "sam": sam, "tpa": tpa, "provider": provider, "user": user}


PARTIES_MODELS = [m for m in admin.site._registry if m._meta.app_label == "parties"]


def test_every_parties_model_is_registered():
    assert set(PARTIES_MODELS) == {Tpa, Carrier, Employer, Provider, Member, PartyLink}
    assert User in admin.site._registry and BusinessClock in admin.site._registry


@pytest.mark.parametrize("model", [*PARTIES_MODELS, BusinessClock, User], ids=lambda m: m._meta.model_name)
def test_changelist_add_and_change_pages_answer(admin_client, world, model):
    clock_set(day=datetime.date(2026, 2, 1)) if model is BusinessClock else None
    assert admin_client.get(url(model, "changelist")).status_code == 200
    obj = model.objects.order_by("pk").first()
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200
    if model is BusinessClock:
        BusinessClock.objects.all().delete()
    assert admin_client.get(url(model, "add")).status_code == 200


def test_changelist_search_and_filters_answer(admin_client, world):
    response = admin_client.get(url(Member, "changelist"), {"q": "Ng", "family_role": "dependent"})
    assert [m.name for m in response.context["cl"].result_list] == ["Sam Ng"]
    response = admin_client.get(url(Provider, "changelist"), {"network__exact": "in", "q": world["provider"].npi})
    assert list(response.context["cl"].result_list) == [world["provider"]]


# --- validation surfaces on the field ------------------------------------------------------

def test_provider_add_refuses_a_bad_npi_on_the_npi_field(admin_client):
    response = admin_client.post(url(Provider, "add"), {"name": "Clinic", "npi": "1234567890", "tin": "",
                                                        "network": "in"})
    errors = form_errors(response)
    assert list(errors) == ["npi"] and "check digit" in errors["npi"][0]
    assert not Provider.objects.exists()


def test_provider_add_refuses_a_bad_tin_and_saves_a_good_provider(admin_client):
    npi = npi_with_check_digit("155599990")
    assert list(form_errors(admin_client.post(url(Provider, "add"), {
        "name": "Clinic", "npi": npi, "tin": "12-34", "network": "in"}))) == ["tin"]
    response = admin_client.post(url(Provider, "add"), {"name": "Clinic", "npi": npi, "tin": "12-3456789",
                                                        "network": "out"})
    assert response.status_code == 302
    assert Provider.objects.get(npi=npi).network == "out"


def test_employer_add_refuses_bad_and_duplicate_eins(admin_client):
    assert list(form_errors(admin_client.post(url(Employer, "add"), {"name": "A", "ein": "07-1234567"}))) == ["ein"]
    assert list(form_errors(admin_client.post(url(Employer, "add"), {"name": "A", "ein": "417283956"}))) == ["ein"]
    assert admin_client.post(url(Employer, "add"), {"name": "A", "ein": "41-7283956"}).status_code == 302
    errors = form_errors(admin_client.post(url(Employer, "add"), {"name": "B", "ein": "41-7283956"}))
    assert errors["ein"] == ["An employer with this EIN already exists."]


def test_tpa_add_refuses_a_bad_ein(admin_client):
    assert list(form_errors(admin_client.post(url(Tpa, "add"), {"name": "T", "ein": "96-1234567"}))) == ["ein"]


def test_member_add_form_has_no_member_id_and_saving_generates_one(admin_client):
    employer = EmployerFactory()
    response = admin_client.get(url(Member, "add"))
    assert "member_id" not in response.context["adminform"].form.fields
    response = admin_client.post(url(Member, "add"), {
        "employer": employer.pk, "subscriber": "", "relationship": "subscriber", "name": "Grace Okafor",
        "date_of_birth": "1986-07-25",
    })
    assert response.status_code == 302
    member = Member.objects.get(name="Grace Okafor")
    assert member_id_is_valid(member.member_id) and member.employer == employer
    assert response.url == url(Member, "change", member.pk)


def test_member_id_is_read_only_on_the_change_form(admin_client, world):
    alice = world["alice"]
    response = admin_client.get(url(Member, "change", alice.pk))
    assert "member_id" not in response.context["adminform"].form.fields
    assert alice.member_id in response.content.decode()
    admin_client.post(url(Member, "change", alice.pk), {
        "member_id": "0000000000", "employer": alice.employer_id, "subscriber": "", "relationship": "subscriber",
        "name": "Alice N. Ng", "date_of_birth": "1985-04-02",
        "coverages-TOTAL_FORMS": "0", "coverages-INITIAL_FORMS": "0",
    })
    alice_after = Member.objects.get(pk=alice.pk)
    assert (alice_after.name, alice_after.member_id) == ("Alice N. Ng", alice.member_id)


@pytest.mark.parametrize("data, field", [
    ({"relationship": "child"}, "subscriber"),
    ({"subscriber": "ALICE", "relationship": "subscriber"}, "relationship"),
    ({"subscriber": "SAM", "relationship": "child"}, "subscriber"),
    ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"name": ""}, "name"),
    ({"subscriber": "ALICE", "relationship": "child", "employer": "OTHER"}, "employer"),
])
def test_member_add_refuses_invalid_member_data_on_the_field(admin_client, world, data, field):
    other = EmployerFactory()
    ids = {"ALICE": world["alice"].pk, "SAM": world["sam"].pk, "OTHER": other.pk}
    post = {"employer": world["alice"].employer_id, "subscriber": "", "relationship": "subscriber",
            "name": "Zed", "date_of_birth": "1990-01-01"}
    post.update({k: ids.get(v, v) for k, v in data.items()})
    count = Member.objects.count()
    assert field in form_errors(admin_client.post(url(Member, "add"), post))
    assert Member.objects.count() == count


def test_coverage_inline_refuses_overlapping_rows(admin_client, world):
    alice, plan = world["alice"], world["plan"]
    existing = alice.coverages.get()
    base = {
        "employer": alice.employer_id, "subscriber": "", "relationship": "subscriber", "name": alice.name,
        "date_of_birth": "1985-04-02", "coverages-INITIAL_FORMS": "1",
        "coverages-0-id": existing.pk, "coverages-0-member": alice.pk, "coverages-0-plan": plan.pk,
        "coverages-0-start": "2026-01-01", "coverages-0-end": "2026-06-30",
    }
    # Two new rows that overlap each other (but not the stored row once it ends on 2026-06-30).
    post = {**base, "coverages-TOTAL_FORMS": "3",
            "coverages-1-member": alice.pk, "coverages-1-plan": plan.pk, "coverages-1-start": "2026-07-01",
            "coverages-2-member": alice.pk, "coverages-2-plan": plan.pk, "coverages-2-start": "2026-09-01"}
    response = admin_client.post(url(Member, "change", alice.pk), post)
    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert "start" in formset.forms[2].errors
    assert alice.coverages.count() == 1 and alice.coverages.get().end is None
    # One new row that overlaps the stored, open period.
    post = {**base, "coverages-0-end": "", "coverages-TOTAL_FORMS": "2",
            "coverages-1-member": alice.pk, "coverages-1-plan": plan.pk, "coverages-1-start": "2026-07-01"}
    response = admin_client.post(url(Member, "change", alice.pk), post)
    assert "start" in response.context["inline_admin_formsets"][0].formset.forms[1].errors
    # Ending the first period and starting the next one the day after saves.
    post = {**base, "coverages-TOTAL_FORMS": "2",
            "coverages-1-member": alice.pk, "coverages-1-plan": plan.pk, "coverages-1-start": "2026-07-01"}
    assert admin_client.post(url(Member, "change", alice.pk), post).status_code == 302
    assert list(alice.coverages.order_by("start").values_list("start", "end")) == [
        (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)), (datetime.date(2026, 7, 1), None)]


def test_coverage_inline_offers_only_the_employers_plans(admin_client, world):
    PlanFactory()  # another sponsor's plan
    response = admin_client.get(url(Member, "change", world["alice"].pk))
    field = response.context["inline_admin_formsets"][0].formset.form.base_fields["plan"]
    assert [value for value, _ in field.choices if value] == [world["plan"].pk]


# --- ID card -------------------------------------------------------------------------------

def test_id_card_shows_member_plan_payer_and_family(admin_client, world):
    alice, sam, plan = world["alice"], world["sam"], world["plan"]
    clock_set(day=datetime.date(2026, 3, 1))
    for page in (url(Member, "change", alice.pk), reverse("admin:parties_member_id_card", args=[alice.pk])):
        response = admin_client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        for text in (alice.name, alice.member_id, plan.sponsor.name, plan.name, plan.carrier.name,
                     world["tpa"].name, "2026-01-01", sam.name, sam.member_id, f"GRP-{plan.sponsor_id:06d}"):
            assert text in html, text
        assert "not in force today" not in html
    html = admin_client.get(reverse("admin:parties_member_id_card", args=[sam.pk])).content.decode()
    assert sam.member_id in html and "child of Alice Ng" in html and plan.name in html


def test_id_card_view_needs_permission(client, world):
    staff = User.objects.create_user(username="staff", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:parties_member_id_card", args=[world["alice"].pk])).status_code == 403


# --- Business clock ------------------------------------------------------------------------

def test_business_clock_admin_sets_the_simulated_date(admin_client):
    response = admin_client.post(url(BusinessClock, "add"), {"simulated_date": "2026-04-15"})
    assert response.status_code == 302
    assert today() == datetime.date(2026, 4, 15)
    assert admin_client.get(url(BusinessClock, "add")).status_code == 403  # one row only
    response = admin_client.post(url(BusinessClock, "change", 1), {"simulated_date": "2026-05-01"})
    assert response.status_code == 302 and today() == datetime.date(2026, 5, 1)
    assert "2026-05-01" in admin_client.get(url(BusinessClock, "changelist")).content.decode() or \
        "May 1, 2026" in admin_client.get(url(BusinessClock, "changelist")).content.decode()
    admin_client.post(url(BusinessClock, "change", 1), {"simulated_date": ""})
    assert BusinessClock.objects.get().simulated_date is None


# --- Party links ---------------------------------------------------------------------------

def test_party_link_admin_names_the_wrong_party_field(admin_client, world):
    user = User.objects.create_user(username="nadia")
    carrier = CarrierFactory()
    errors = form_errors(admin_client.post(url(PartyLink, "add"), {
        "user": user.pk, "role": "employer_admin", "carrier": carrier.pk}))
    assert set(errors) == {"employer", "carrier"}
    response = admin_client.post(url(PartyLink, "add"), {"user": user.pk, "role": "carrier_analyst",
                                                         "carrier": carrier.pk})
    assert response.status_code == 302 and PartyLink.objects.get(user=user).party == carrier


def test_user_admin_shows_the_party_link_inline(admin_client, world):
    response = admin_client.get(url(User, "change", world["user"].pk))
    prefixes = [f.formset.prefix for f in response.context["inline_admin_formsets"]]
    assert prefixes == ["party_link"]
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.forms[0].instance.tpa == world["tpa"]
    html = admin_client.get(url(User, "changelist")).content.decode()
    assert "Claims examiner" in html


# --- Query counts --------------------------------------------------------------------------

def make_members(n):
    employer = EmployerFactory()
    plan = PlanFactory(sponsor=employer)
    for i in range(n):
        if i % 3 == 0:
            subscriber = MemberFactory(employer=employer)
            coverage_enroll(member=subscriber, plan=plan, start=datetime.date(2026, 1, 1))
        else:
            Member.objects.create(member_id=member_id_generate(), employer=employer, subscriber=subscriber,
                                  relationship="child", name=f"Kid {i}", date_of_birth=datetime.date(2015, 1, 1))


def make_party_links(n):
    for i in range(n):
        user = User.objects.create_user(username=f"user{i}-{User.objects.count()}")
        kind = i % 4
        if kind == 0:
            user_link_party(user=user, role="provider_staff", party=ProviderFactory())
        elif kind == 1:
            user_link_party(user=user, role="employer_admin", party=EmployerFactory())
        elif kind == 2:
            user_link_party(user=user, role="carrier_analyst", party=CarrierFactory())
        else:
            user_link_party(user=user, role="member", party=MemberFactory())


MAKERS = {
    Tpa: lambda n: TpaFactory.create_batch(n),
    Carrier: lambda n: [PlanFactory(funding="ASC", carrier=CarrierFactory()) for _ in range(n)],
    Employer: lambda n: [MemberFactory(employer=EmployerFactory()) for _ in range(n)],
    Provider: lambda n: ProviderFactory.create_batch(n),
    Member: make_members,
    PartyLink: make_party_links,
    User: make_party_links,
}


@pytest.mark.parametrize("model", list(MAKERS), ids=lambda m: m._meta.model_name)
def test_changelist_queries_do_not_grow_with_rows(admin_client, count_queries, model):
    changelist = url(model, "changelist")
    MAKERS[model](5)
    few, response = count_queries(lambda: admin_client.get(changelist))
    rows_few = response.context["cl"].result_count
    MAKERS[model](45)
    many, response = count_queries(lambda: admin_client.get(changelist))
    rows_many = response.context["cl"].result_count
    assert rows_many >= rows_few + 45 and rows_many <= 100
    assert many == few, f"{model.__name__}: {few} queries for {rows_few} rows, {many} for {rows_many}"


def test_member_change_form_queries_do_not_grow_with_coverage_rows_or_dependents(admin_client, count_queries, world):
    alice, plan = world["alice"], world["plan"]
    page = url(Member, "change", alice.pk)
    few, _ = count_queries(lambda: admin_client.get(page))
    # Close the open period, add 5 more monthly periods and 4 more dependents.
    from plans.services import coverage_change

    coverage_change(member=alice, end=datetime.date(2026, 1, 31), set_end=True)
    for month in range(2, 7):
        coverage_enroll(member=alice, plan=plan, start=datetime.date(2026, month, 1),
                        end=datetime.date(2026, month, 28))
    for i in range(4):
        member_create(name=f"Kid {i}", date_of_birth=datetime.date(2016, 1, 1 + i), subscriber=alice,
                      relationship="child")
    many, response = count_queries(lambda: admin_client.get(page))
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == 6
    assert many == few
