"""plans.services: what they create, and every refusal as a PlanError naming the field."""
import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from plans.models import CategoryBenefit, FeeScheduleEntry, StopLossLaser, StopLossPolicy
from plans.services import (
    PlanError,
    coverage_change,
    coverage_enroll,
    fee_schedule_create,
    plan_create,
    stop_loss_policy_create,
)
from tests.factories import (
    CarrierFactory,
    CoverageFactory,
    EmployerFactory,
    FeeScheduleFactory,
    MemberFactory,
    PlanFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
Y2026 = datetime.date(2026, 1, 1)


def refused(fn, **kwargs) -> dict:
    with pytest.raises(PlanError) as exc:
        fn(**kwargs)
    return exc.value.message_dict


def plan_spec(**overrides) -> dict:
    spec = {
        "sponsor": EmployerFactory(), "name": "Globex PPO", "funding": "ASO",
        "fee_schedule": FeeScheduleFactory(), "year_start": Y2026, "deductible_individual": D("1000.00"),
        "deductible_family": D("2000.00"), "oop_max_individual": D("4000.00"), "oop_max_family": D("8000.00"),
        "coinsurance": D("0.20"),
    }
    spec.update(overrides)
    return spec


def test_fee_schedule_create():
    schedule = fee_schedule_create(name="Network 2026", entries={
        "99213": {"category": "office_visit", "fee": D("120.00"), "description": "Office visit"},
        "70551": {"category": "imaging", "fee": D("1500.00")},
    })
    rows = list(FeeScheduleEntry.objects.filter(schedule=schedule).values_list("code", "category", "fee", "description"))
    assert rows == [("70551", "imaging", D("1500.00"), ""), ("99213", "office_visit", D("120.00"), "Office visit")]


def test_fee_schedule_create_refusals():
    FeeScheduleFactory(name="Taken")
    assert list(refused(fee_schedule_create, name="Taken", entries={})) == ["name"]
    assert list(refused(fee_schedule_create, name="New", entries={"99213": {"category": "office_visit",
                                                                             "fee": D("-1")}})) == ["entries.99213.fee"]
    assert list(refused(fee_schedule_create, name="New", entries={"99213": {"category": "office visit!",
                                                                             "fee": D("1")}})) == ["entries.99213.category"]
    assert not FeeScheduleEntry.objects.filter(schedule__name="New").exists()


def test_plan_create_with_benefits():
    plan = plan_create(**plan_spec(funding="ASC", carrier=CarrierFactory(), copays={"office_visit": D("30")},
                                   excluded=["cosmetic"], oon_covered=True, oon_coinsurance=D("0.40"),
                                   admin_fee_pepm=D("45.00")))
    benefits = {b.category: (b.treatment, b.copay) for b in plan.category_benefits.all()}
    assert benefits == {
        "cosmetic": (CategoryBenefit.Treatment.EXCLUDED, None),
        "preventive": (CategoryBenefit.Treatment.COVERED_IN_FULL, None),
        "office_visit": (CategoryBenefit.Treatment.COPAY, D("30.00")),
    }
    assert plan.self_funded and plan.admin_fee_pepm == D("45.00") and plan.oon_coinsurance == D("0.40")


def test_preventive_copay_replaces_the_default_full_cover():
    plan = plan_create(**plan_spec(copays={"preventive": D("10")}))
    assert list(plan.category_benefits.values_list("category", "treatment")) == [("preventive", "copay")]


@pytest.mark.parametrize("overrides, field", [
    ({"funding": "ASC"}, "carrier"),
    ({"funding": "FULLY_INSURED"}, "carrier"),
    ({"funding": "SELF"}, "funding"),
    ({"oon_covered": True}, "oon_coinsurance"),
    ({"oon_covered": True, "oon_coinsurance": D("1.1")}, "oon_coinsurance"),
    ({"year_start": datetime.date(2028, 2, 29)}, "year_start"),
    ({"coinsurance": D("1.5")}, "coinsurance"),
    ({"coinsurance": D("-0.1")}, "coinsurance"),
    ({"deductible_individual": D("-1")}, "deductible_individual"),
    ({"oop_max_family": D("-1")}, "oop_max_family"),
    ({"admin_fee_pepm": D("-1")}, "admin_fee_pepm"),
    ({"premium_pepm": D("-1")}, "premium_pepm"),
    ({"review_threshold": D("-1")}, "review_threshold"),
    ({"name": ""}, "name"),
    ({"excluded": ["cosmetic"], "copays": {"cosmetic": D("10")}}, "copays"),
    ({"excluded": ["cosmetic"], "covered_in_full": ["cosmetic"]}, "covered_in_full"),
    ({"copays": {"office_visit": D("-5")}}, "category_benefits.office_visit.copay"),
    ({"copays": {"office visit": D("5")}}, "category_benefits.office visit.category"),
])
def test_plan_create_refusals_name_the_field(overrides, field):
    errors = refused(plan_create, **plan_spec(**overrides))
    assert field in errors, errors


def test_plan_create_refusal_leaves_nothing_behind():
    from plans.models import Plan

    refused(plan_create, **plan_spec(copays={"office_visit": D("-5")}))
    assert Plan.objects.count() == 0 and CategoryBenefit.objects.count() == 0


def test_category_benefit_clean_names_copay():
    plan = PlanFactory()
    for benefit in (CategoryBenefit(plan=plan, category="lab", treatment="copay"),
                    CategoryBenefit(plan=plan, category="lab", treatment="excluded", copay=D("5"))):
        with pytest.raises(ValidationError) as exc:
            benefit.full_clean()
        assert list(exc.value.message_dict) == ["copay"]


def test_coverage_enroll_refusals_name_the_field():
    alice = MemberFactory()
    plan = PlanFactory(sponsor=alice.employer)
    other_plan = PlanFactory()
    assert list(refused(coverage_enroll, member=alice, plan=plan)) == ["start"]
    assert list(refused(coverage_enroll, member=alice, plan=other_plan, start=Y2026)) == ["plan"]
    assert list(refused(coverage_enroll, member=alice, plan=plan, start=Y2026,
                        end=datetime.date(2025, 12, 31))) == ["end"]
    coverage_enroll(member=alice, plan=plan, start=Y2026, end=datetime.date(2026, 6, 30))
    assert list(refused(coverage_enroll, member=alice, plan=plan, start=datetime.date(2026, 6, 30))) == ["start"]
    later = coverage_enroll(member=alice, plan=plan, start=datetime.date(2026, 7, 1))
    assert later.start == datetime.date(2026, 7, 1)


def test_coverage_change_refuses_a_member_without_coverage_and_moves_dates():
    alice = MemberFactory()
    assert list(refused(coverage_change, member=alice, end=Y2026, set_end=True)) == ["member"]
    coverage = CoverageFactory(member=alice)
    changed = coverage_change(member=alice, end=datetime.date(2026, 6, 30), set_end=True)
    assert changed.pk == coverage.pk and changed.end == datetime.date(2026, 6, 30)
    assert list(refused(coverage_change, member=alice, end=datetime.date(2025, 6, 30), set_end=True)) == ["end"]


def test_stop_loss_policy_create_with_a_laser():
    plan = PlanFactory()
    alice = MemberFactory(employer=plan.sponsor)
    policy = stop_loss_policy_create(plan=plan, carrier=CarrierFactory(), start=Y2026, contract="12/15",
                                     specific_attachment=D("100000"), lasers={alice: D("250000")},
                                     expected_claims=D("800000"), aggregate_factor=D("1.25"))
    assert list(policy.lasers.values_list("member", "attachment")) == [(alice.pk, D("250000.00"))]


@pytest.mark.parametrize("overrides, field", [
    ({"contract": "12/18"}, "contract"),
    ({"specific_attachment": D("-1")}, "specific_attachment"),
    ({"aggregate_attachment": D("-1")}, "aggregate_attachment"),
    ({"aggregate_attachment": D("1"), "expected_claims": D("1"), "aggregate_factor": D("1.2")}, "aggregate_attachment"),
    ({"expected_claims": D("800000")}, "aggregate_factor"),
    ({"aggregate_factor": D("1.25")}, "aggregate_factor"),
    ({"expected_claims": D("800000"), "aggregate_factor": D("0")}, "aggregate_factor"),
    ({"expected_claims": D("-1"), "aggregate_factor": D("1.2")}, "expected_claims"),
])
def test_stop_loss_policy_refusals_name_the_field(overrides, field):
    spec = {"plan": PlanFactory(), "carrier": CarrierFactory(), "start": Y2026, "contract": "12/15",
            "specific_attachment": D("100000"), **overrides}
    assert field in refused(stop_loss_policy_create, **spec)
    assert StopLossPolicy.objects.count() == 0


def test_stop_loss_refused_for_fully_insured_and_for_a_stranger_laser():
    fi_plan = PlanFactory(funding="FULLY_INSURED")
    carrier = CarrierFactory()
    assert list(refused(stop_loss_policy_create, plan=fi_plan, carrier=carrier, start=Y2026, contract="12/12",
                        specific_attachment=D("50000"))) == ["plan"]
    plan = PlanFactory()
    stranger = MemberFactory()
    assert list(refused(stop_loss_policy_create, plan=plan, carrier=carrier, start=Y2026, contract="12/12",
                        specific_attachment=D("50000"), lasers={stranger: D("1")})) == ["lasers.member"]
    assert StopLossPolicy.objects.count() == 0 and StopLossLaser.objects.count() == 0
    stop_loss_policy_create(plan=plan, carrier=carrier, start=Y2026, contract="12/12", specific_attachment=D("1"))
    assert "__all__" in refused(stop_loss_policy_create, plan=plan, carrier=carrier, start=Y2026, contract="12/15",
                                specific_attachment=D("2"))
