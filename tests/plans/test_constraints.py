"""Every plans DB constraint holds on a raw save that bypasses clean()."""
import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from plans.models import CategoryBenefit, Coverage, FeeSchedule, FeeScheduleEntry, Plan, StopLossLaser, StopLossPolicy
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


def raw_save_fails(obj, constraint_name=None):
    with pytest.raises(IntegrityError) as exc, transaction.atomic():
        obj.save()
    if constraint_name:
        assert constraint_name in str(exc.value)


def plan_fields(**overrides) -> dict:
    fields = {
        "sponsor": EmployerFactory(), "name": "Raw plan", "funding": "ASO", "carrier": None,
        "fee_schedule": FeeScheduleFactory(entries={}), "year_start": datetime.date(2026, 1, 1),
        "deductible_individual": D("1000"), "deductible_family": D("2000"), "oop_max_individual": D("4000"),
        "oop_max_family": D("8000"), "coinsurance": D("0.2"),
    }
    fields.update(overrides)
    return fields


def test_raw_plan_with_valid_fields_saves():
    Plan(**plan_fields()).save()
    assert Plan.objects.count() == 1


@pytest.mark.parametrize("overrides, constraint", [
    ({"funding": "SELF", "carrier": "new"}, "plan_funding_valid"),
    ({"funding": "ASC"}, "plan_carrier_when_needed"),
    ({"funding": "FULLY_INSURED"}, "plan_carrier_when_needed"),
    ({"deductible_individual": D("-1")}, "plan_money_non_negative"),
    ({"oop_max_family": D("-0.01")}, "plan_money_non_negative"),
    ({"admin_fee_pepm": D("-5")}, "plan_money_non_negative"),
    ({"premium_pepm": D("-5")}, "plan_money_non_negative"),
    ({"review_threshold": D("-5")}, "plan_money_non_negative"),
    ({"coinsurance": D("1.5")}, "plan_coinsurance_0_1"),
    ({"coinsurance": D("-0.1")}, "plan_coinsurance_0_1"),
    ({"oon_covered": True, "oon_coinsurance": D("1.2")}, "plan_oon_coinsurance_0_1"),
    ({"oon_covered": True, "oon_coinsurance": None}, "plan_oon_cover_has_coinsurance"),
    ({"year_start": datetime.date(2028, 2, 29)}, "plan_year_start_not_feb_29"),
])
def test_plan_constraints(overrides, constraint):
    if overrides.get("carrier") == "new":
        overrides = {**overrides, "carrier": CarrierFactory()}
    raw_save_fails(Plan(**plan_fields(**overrides)), constraint)
    assert Plan.objects.count() == 0


def test_fee_schedule_constraints():
    schedule = FeeScheduleFactory(entries={"99213": ("office_visit", "120.00")})
    raw_save_fails(FeeSchedule(name=schedule.name))
    raw_save_fails(FeeScheduleEntry(schedule=schedule, code="99213", category="lab", fee=D("1")))
    raw_save_fails(FeeScheduleEntry(schedule=schedule, code="80053", category="lab", fee=D("-1")),
                   "fee_entry_fee_non_negative")
    FeeScheduleEntry(schedule=FeeScheduleFactory(entries={}), code="99213", category="lab", fee=D("0")).save()
    assert FeeScheduleEntry.objects.filter(code="99213").count() == 2


def test_category_benefit_constraints():
    plan = PlanFactory(covered_in_full=[])
    raw_save_fails(CategoryBenefit(plan=plan, category="office_visit", treatment="copay"),
                   "category_benefit_copay_iff_copay")
    raw_save_fails(CategoryBenefit(plan=plan, category="office_visit", treatment="copay", copay=D("-1")),
                   "category_benefit_copay_iff_copay")
    raw_save_fails(CategoryBenefit(plan=plan, category="cosmetic", treatment="excluded", copay=D("10")),
                   "category_benefit_copay_iff_copay")
    CategoryBenefit(plan=plan, category="lab", treatment="copay", copay=D("10")).save()
    raw_save_fails(CategoryBenefit(plan=plan, category="lab", treatment="excluded"))
    assert list(plan.category_benefits.values_list("category", "copay")) == [("lab", D("10.00"))]


def test_coverage_end_not_before_start():
    member = MemberFactory()
    plan = PlanFactory(sponsor=member.employer)
    raw_save_fails(Coverage(member=member, plan=plan, start=datetime.date(2026, 5, 1), end=datetime.date(2026, 4, 30)),
                   "coverage_end_not_before_start")
    Coverage(member=member, plan=plan, start=datetime.date(2026, 5, 1), end=datetime.date(2026, 5, 1)).save()


def stop_loss_fields(**overrides):
    fields = {"plan": PlanFactory(), "carrier": CarrierFactory(), "start": datetime.date(2026, 1, 1),
              "contract": "12/15", "specific_attachment": D("100000")}
    fields.update(overrides)
    return fields


@pytest.mark.parametrize("overrides, constraint", [
    ({"contract": "12/18"}, "stop_loss_contract_valid"),
    ({"specific_attachment": D("-1")}, "stop_loss_specific_non_negative"),
    ({"aggregate_attachment": D("-1")}, "stop_loss_aggregate_non_negative"),
    ({"aggregate_attachment": D("1000"), "expected_claims": D("800"), "aggregate_factor": D("1.25")},
     "stop_loss_aggregate_amount_or_expected_not_both"),
    ({"expected_claims": D("800")}, "stop_loss_expected_claims_with_factor"),
    ({"aggregate_factor": D("1.25")}, "stop_loss_expected_claims_with_factor"),
    ({"expected_claims": D("800"), "aggregate_factor": D("0")}, "stop_loss_expected_claims_with_factor"),
    ({"expected_claims": D("-800"), "aggregate_factor": D("1.25")}, "stop_loss_expected_claims_with_factor"),
])
def test_stop_loss_policy_constraints(overrides, constraint):
    raw_save_fails(StopLossPolicy(**stop_loss_fields(**overrides)), constraint)
    assert StopLossPolicy.objects.count() == 0


def test_one_stop_loss_policy_per_plan_and_start_and_laser_constraints():
    policy = StopLossPolicyFactory()
    raw_save_fails(StopLossPolicy(**stop_loss_fields(plan=policy.plan)))
    member = MemberFactory(employer=policy.plan.sponsor)
    raw_save_fails(StopLossLaser(policy=policy, member=member, attachment=D("-1")), "stop_loss_laser_non_negative")
    StopLossLaser(policy=policy, member=member, attachment=D("250000")).save()
    raw_save_fails(StopLossLaser(policy=policy, member=member, attachment=D("300000")))
    assert policy.lasers.get().attachment == D("250000.00")


def test_factories_build_objects_that_pass_validation():
    coverage = CoverageFactory()
    for obj in (coverage, coverage.member, coverage.plan, coverage.plan.sponsor, StopLossPolicyFactory()):
        obj.full_clean()
    assert coverage.plan.sponsor == coverage.member.employer
    assert sorted(coverage.plan.fee_schedule.entries.values_list("category", flat=True).distinct()) == [
        "cosmetic", "emergency", "imaging", "inpatient", "lab", "office_visit", "preventive", "surgery"]
    assert list(coverage.plan.category_benefits.values_list("category", "treatment")) == [
        ("preventive", "covered_in_full")]
