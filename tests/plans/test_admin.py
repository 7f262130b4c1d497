"""The plans admin: every page answers, errors land on the field they name, and list pages and
change forms cost the same number of queries whatever their number of rows."""
import datetime
from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse

from parties.services import member_create
from plans import admin as plans_admin
from plans.models import CategoryBenefit, Coverage, FeeSchedule, FeeScheduleEntry, Plan, StopLossLaser, StopLossPolicy
from plans.services import coverage_enroll, stop_loss_policy_create
from tests.factories import (
    CarrierFactory,
    CoverageFactory,
    EmployerFactory,
    FeeScheduleFactory,
    MemberFactory,
    PlanFactory,
    StopLossPolicyFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
Y2026 = datetime.date(2026, 1, 1)


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def form_errors(response) -> dict:
    assert response.status_code == 200, response.status_code
    return response.context["adminform"].form.errors


@pytest.fixture
def world():
    policy = StopLossPolicyFactory(aggregate_attachment=D("1500000"))
    plan = policy.plan
    alice = MemberFactory(employer=plan.sponsor, name="Alice Ng")
    coverage_enroll(member=alice, plan=plan, start=Y2026)
    sam = member_create(name="Sam Ng", date_of_birth=datetime.date(2015, 6, 1), subscriber=alice,
                        relationship="child")
    coverage_enroll(member=sam, plan=plan)
    from plans.models import StopLossLaser as Laser

    Laser.objects.create(policy=policy, member=alice, attachment=D("250000"))
    return {"plan": plan, "policy": policy, "alice": alice, "sam": sam}


PLANS_MODELS = [m for m in admin.site._registry if m._meta.app_label == "plans"]


def test_every_plans_model_is_registered():
    assert set(PLANS_MODELS) == {FeeSchedule, FeeScheduleEntry, Plan, CategoryBenefit, Coverage, StopLossPolicy,
                                 StopLossLaser}


@pytest.mark.parametrize("model", PLANS_MODELS, ids=lambda m: m._meta.model_name)
def test_changelist_add_and_change_pages_answer(admin_client, world, model):
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "add")).status_code == 200
    obj = model.objects.order_by("pk").first()
    assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def test_coverage_changelist_shows_dependents_following_the_subscriber(admin_client, world):
    html = admin_client.get(url(Coverage, "changelist")).content.decode()
    assert "follows subscriber" in html


def test_stop_loss_changelist_shows_the_aggregate(admin_client):
    StopLossPolicyFactory(expected_claims=D("800000.00"), aggregate_factor=D("1.2500"))
    html = admin_client.get(url(StopLossPolicy, "changelist")).content.decode()
    assert "800000.00 × 1.2500 = 1000000.00" in html


# --- validation surfaces on the field ------------------------------------------------------

def plan_post(**overrides):
    data = {
        "sponsor": EmployerFactory().pk, "name": "Initech Choice", "funding": "ASO", "carrier": "",
        "fee_schedule": FeeScheduleFactory().pk, "year_start": "2026-01-01",
        "deductible_individual": "1000", "deductible_family": "2000", "oop_max_individual": "4000",
        "oop_max_family": "8000", "coinsurance": "0.20", "oon_coinsurance": "", "timely_filing_days": "365",
        "review_threshold": "25000", "admin_fee_pepm": "45", "premium_pepm": "0",
        "category_benefits-TOTAL_FORMS": "0", "category_benefits-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize("overrides, field", [
    ({"funding": "ASC"}, "carrier"),
    ({"funding": "FULLY_INSURED"}, "carrier"),
    ({"oon_covered": "on"}, "oon_coinsurance"),
    ({"year_start": "2028-02-29"}, "year_start"),
    ({"coinsurance": "1.5"}, "coinsurance"),
    ({"deductible_individual": "-1"}, "deductible_individual"),
])
def test_plan_add_refuses_on_the_field(admin_client, overrides, field):
    assert field in form_errors(admin_client.post(url(Plan, "add"), plan_post(**overrides)))
    assert not Plan.objects.exists()


def test_plan_add_with_benefit_inline(admin_client):
    carrier = CarrierFactory()
    response = admin_client.post(url(Plan, "add"), plan_post(**{
        "funding": "ASC", "carrier": carrier.pk, "category_benefits-TOTAL_FORMS": "2",
        "category_benefits-0-category": "office_visit", "category_benefits-0-treatment": "copay",
        "category_benefits-0-copay": "30",
        "category_benefits-1-category": "cosmetic", "category_benefits-1-treatment": "excluded",
    }))
    assert response.status_code == 302
    plan = Plan.objects.get()
    assert plan.carrier == carrier
    assert list(plan.category_benefits.values_list("category", "treatment", "copay")) == [
        ("cosmetic", "excluded", None), ("office_visit", "copay", D("30.00"))]


def test_benefit_inline_names_the_copay(admin_client):
    response = admin_client.post(url(Plan, "add"), plan_post(**{
        "category_benefits-TOTAL_FORMS": "1", "category_benefits-0-category": "office_visit",
        "category_benefits-0-treatment": "copay", "category_benefits-0-copay": "",
    }))
    formset = response.context["inline_admin_formsets"][0].formset
    assert "copay" in formset.forms[0].errors and not Plan.objects.exists()


def test_coverage_add_refuses_overlap_and_another_sponsors_plan(admin_client, world):
    alice, plan = world["alice"], world["plan"]
    errors = form_errors(admin_client.post(url(Coverage, "add"), {
        "member": alice.pk, "plan": plan.pk, "start": "2026-06-01", "end": ""}))
    assert list(errors) == ["start"] and "Overlaps" in errors["start"][0]
    errors = form_errors(admin_client.post(url(Coverage, "add"), {
        "member": alice.pk, "plan": PlanFactory().pk, "start": "2027-06-01", "end": ""}))
    assert list(errors) == ["plan"]
    errors = form_errors(admin_client.post(url(Coverage, "add"), {
        "member": MemberFactory(employer=plan.sponsor).pk, "plan": plan.pk, "start": "2026-06-01",
        "end": "2026-05-01"}))
    assert list(errors) == ["end"]
    assert Coverage.objects.count() == 2


def test_stop_loss_refused_for_a_fully_insured_plan(admin_client):
    fi_plan = PlanFactory(funding="FULLY_INSURED")
    errors = form_errors(admin_client.post(url(StopLossPolicy, "add"), {
        "plan": fi_plan.pk, "carrier": CarrierFactory().pk, "start": "2026-01-01", "contract": "12/15",
        "specific_attachment": "100000", "lasers-TOTAL_FORMS": "0", "lasers-INITIAL_FORMS": "0",
        "lasers-2-TOTAL_FORMS": "0", "lasers-2-INITIAL_FORMS": "0"}))
    assert list(errors) == ["plan"]


def test_laser_inline_refuses_a_member_of_another_sponsor(admin_client, world):
    policy = world["policy"]
    laser = policy.lasers.get()
    data = {
        "plan": policy.plan_id, "carrier": policy.carrier_id, "start": "2026-01-01", "contract": "12/15",
        "specific_attachment": "100000", "aggregate_attachment": "1500000",
        "lasers-TOTAL_FORMS": "1", "lasers-INITIAL_FORMS": "1", "lasers-0-id": laser.pk,
        "lasers-0-policy": policy.pk, "lasers-0-attachment": "250000",
        "lasers-2-TOTAL_FORMS": "1", "lasers-2-INITIAL_FORMS": "0", "lasers-2-0-member": MemberFactory().pk,
        "lasers-2-0-attachment": "90000",
    }
    response = admin_client.post(url(StopLossPolicy, "change", policy.pk), data)
    add_formset = response.context["inline_admin_formsets"][1].formset
    assert "member" in add_formset.forms[0].errors
    data["lasers-2-0-member"] = world["sam"].pk
    assert admin_client.post(url(StopLossPolicy, "change", policy.pk), data).status_code == 302
    assert dict(policy.lasers.values_list("member__name", "attachment")) == {
        "Alice Ng": D("250000.00"), "Sam Ng": D("90000.00")}


def test_fee_schedule_entries_inline_or_a_link_for_big_schedules(admin_client, monkeypatch):
    schedule = FeeScheduleFactory()
    response = admin_client.get(url(FeeSchedule, "change", schedule.pk))
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == 8 + 1
    monkeypatch.setattr(plans_admin, "FEE_SCHEDULE_INLINE_LIMIT", 5)
    response = admin_client.get(url(FeeSchedule, "change", schedule.pk))
    assert response.context["inline_admin_formsets"] == []
    assert f"?schedule__id__exact={schedule.pk}" in response.content.decode()
    response = admin_client.get(url(FeeScheduleEntry, "changelist"), {"schedule__id__exact": schedule.pk})
    assert response.context["cl"].result_count == 8
    response = admin_client.get(url(FeeScheduleEntry, "changelist"), {"schedule__id__exact": schedule.pk,
                                                                       "category__exact": "lab"})
    assert [e.code for e in response.context["cl"].result_list] == ["80053"]


def test_fee_entry_add_refuses_a_negative_fee_and_a_duplicate_code(admin_client):
    schedule = FeeScheduleFactory()
    errors = form_errors(admin_client.post(url(FeeScheduleEntry, "add"), {
        "schedule": schedule.pk, "code": "99999", "category": "lab", "fee": "-1", "description": ""}))
    assert list(errors) == ["fee"]
    errors = form_errors(admin_client.post(url(FeeScheduleEntry, "add"), {
        "schedule": schedule.pk, "code": "99213", "category": "lab", "fee": "1", "description": ""}))
    assert errors  # the (schedule, code) pair is taken
    assert schedule.entries.count() == 8


# --- Query counts --------------------------------------------------------------------------

def make_coverages(n):
    plan = PlanFactory()
    for i in range(n):
        if i % 2 == 0:
            subscriber = MemberFactory(employer=plan.sponsor)
            coverage_enroll(member=subscriber, plan=plan, start=Y2026)
        else:
            dependent = member_create(name=f"Kid {i}", date_of_birth=datetime.date(2015, 1, 1), subscriber=subscriber,
                                      relationship="child")
            coverage_enroll(member=dependent, plan=plan)


def make_lasers(n):
    policy = StopLossPolicyFactory()
    for _ in range(n):
        StopLossLaser.objects.create(policy=policy, member=MemberFactory(employer=policy.plan.sponsor),
                                     attachment=D("200000"))


MAKERS = {
    FeeSchedule: lambda n: FeeScheduleFactory.create_batch(n),
    FeeScheduleEntry: lambda n: FeeScheduleFactory(entries={f"{10000 + i}": ("lab", "10.00") for i in range(n)}),
    Plan: lambda n: [PlanFactory(funding="ASC") for _ in range(n)],
    CategoryBenefit: lambda n: [PlanFactory(covered_in_full=[], copays={"office_visit": D("30")}) for _ in range(n)],
    Coverage: make_coverages,
    StopLossPolicy: lambda n: [StopLossPolicyFactory(plan=PlanFactory(funding="ASC")) for _ in range(n)],
    StopLossLaser: make_lasers,
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
    assert rows_many >= rows_few + 45 and len(response.context["cl"].result_list) >= 50
    assert many == few, f"{model.__name__}: {few} queries for {rows_few} rows, {many} for {rows_many}"


def test_plan_change_form_queries_do_not_grow_with_benefits(admin_client, count_queries):
    small = PlanFactory(copays={"office_visit": D("30")})
    big = PlanFactory(copays={c: D("10") for c in ("office_visit", "lab", "imaging", "emergency", "inpatient")},
                      excluded=["cosmetic", "surgery"])
    few, _ = count_queries(lambda: admin_client.get(url(Plan, "change", small.pk)))
    many, response = count_queries(lambda: admin_client.get(url(Plan, "change", big.pk)))
    assert len(response.context["inline_admin_formsets"][0].formset.initial_forms) == 8
    assert many == few


def test_fee_schedule_change_form_queries_do_not_grow_with_entries(admin_client, count_queries):
    small = FeeScheduleFactory(entries={f"{10000 + i}": ("lab", "10.00") for i in range(5)})
    big = FeeScheduleFactory(entries={f"{10000 + i}": ("lab", "10.00") for i in range(50)})
    few, _ = count_queries(lambda: admin_client.get(url(FeeSchedule, "change", small.pk)))
    many, _ = count_queries(lambda: admin_client.get(url(FeeSchedule, "change", big.pk)))
    assert many == few


def test_stop_loss_change_form_queries_do_not_grow_with_lasers(admin_client, count_queries):
    one = StopLossPolicyFactory()
    StopLossLaser.objects.create(policy=one, member=MemberFactory(employer=one.plan.sponsor), attachment=D("1"))
    six = stop_loss_policy_create(
        plan=PlanFactory(), carrier=CarrierFactory(), start=Y2026, contract="12/12", specific_attachment=D("5"),
    )
    for _ in range(6):
        StopLossLaser.objects.create(policy=six, member=MemberFactory(employer=six.plan.sponsor), attachment=D("1"))
    few, _ = count_queries(lambda: admin_client.get(url(StopLossPolicy, "change", one.pk)))
    many, response = count_queries(lambda: admin_client.get(url(StopLossPolicy, "change", six.pk)))
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == 6
    assert many == few


def test_coverage_factory_dependent_follows(world):
    coverage = CoverageFactory(member=world["sam"], plan=world["plan"], start=None)
    with pytest.raises(ValidationError):  # Sam already follows Alice: a second open period overlaps
        coverage.full_clean()
