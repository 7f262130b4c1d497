"""Coverage periods: overlaps, and a dependent's blank dates following its subscriber (DOMAIN.md §1)."""
import datetime

import pytest

from parties.services import member_create
from plans.periods import coverage_on, periods_overlap
from plans.selectors import coverage_periods_for_members, plan_for_member
from plans.services import PlanError, coverage_change, coverage_enroll
from tests.factories import MemberFactory, PlanFactory

pytestmark = pytest.mark.django_db


def d(text):
    return datetime.date.fromisoformat(text)


@pytest.fixture
def family():
    plan = PlanFactory()
    alice = MemberFactory(employer=plan.sponsor, name="Alice Ng")
    sam = member_create(name="Sam Ng", date_of_birth=d("2015-06-01"), subscriber=alice, relationship="child")
    sue = member_create(name="Sue Ng", date_of_birth=d("1986-01-01"), subscriber=alice, relationship="spouse")
    return plan, alice, sam, sue


@pytest.mark.parametrize("a, b, overlap", [
    (("2026-01-01", None), ("2027-01-01", None), True),
    (("2026-01-01", "2026-06-30"), ("2026-07-01", None), False),
    (("2026-01-01", "2026-06-30"), ("2026-06-30", None), True),
    (("2026-03-01", "2026-03-31"), ("2026-01-01", "2026-12-31"), True),
    (("2026-03-01", "2026-03-31"), ("2026-04-01", "2026-04-30"), False),
    ((None, None), ("2026-01-01", None), False),
])
def test_periods_overlap(a, b, overlap):
    a = tuple(d(x) if x else None for x in a)
    b = tuple(d(x) if x else None for x in b)
    assert periods_overlap(a=a, b=b) is overlap
    assert periods_overlap(a=b, b=a) is overlap


def test_dependent_blank_dates_follow_the_subscriber_current_coverage(family):
    plan, alice, sam, sue = family
    coverage_enroll(member=alice, plan=plan, start=d("2026-01-01"))
    coverage_enroll(member=sam, plan=plan)
    coverage_enroll(member=sue, plan=plan, start=d("2026-03-01"))
    periods = coverage_periods_for_members(member_ids=[alice.pk, sam.pk, sue.pk])
    assert periods == {
        alice.pk: [(plan.pk, d("2026-01-01"), None)],
        sam.pk: [(plan.pk, d("2026-01-01"), None)],
        sue.pk: [(plan.pk, d("2026-03-01"), None)],
    }
    # The subscriber's end moves: dependents without their own end follow it.
    coverage_change(member=alice, end=d("2026-06-30"), set_end=True)
    periods = coverage_periods_for_members(member_ids=[sam.pk, sue.pk])
    assert periods[sam.pk] == [(plan.pk, d("2026-01-01"), d("2026-06-30"))]
    assert periods[sue.pk] == [(plan.pk, d("2026-03-01"), d("2026-06-30"))]
    assert coverage_on(periods=periods[sam.pk], day=d("2026-07-01"))[0] == "after"
    assert coverage_on(periods=periods[sue.pk], day=d("2026-02-01"))[0] == "before"
    assert coverage_on(periods=periods[sue.pk], day=d("2026-06-30"))[0] == "ok"
    assert plan_for_member(member=sam) == plan


def test_dependent_following_a_subscriber_without_coverage_is_refused(family):
    plan, alice, sam, _ = family
    with pytest.raises(PlanError) as exc:
        coverage_enroll(member=sam, plan=plan)
    assert list(exc.value.message_dict) == ["start"]


def test_dependent_own_end_before_subscriber_start_is_refused_on_end(family):
    plan, alice, sam, _ = family
    coverage_enroll(member=alice, plan=plan, start=d("2026-01-01"))
    with pytest.raises(PlanError) as exc:
        coverage_enroll(member=sam, plan=plan, end=d("2025-12-31"))
    assert list(exc.value.message_dict) == ["end"]


def test_overlapping_coverage_is_refused_for_subscribers_and_dependents(family):
    plan, alice, sam, _ = family
    coverage_enroll(member=alice, plan=plan, start=d("2026-01-01"), end=d("2026-12-31"))
    with pytest.raises(PlanError) as exc:
        coverage_enroll(member=alice, plan=plan, start=d("2026-12-31"))
    assert list(exc.value.message_dict) == ["start"]
    coverage_enroll(member=alice, plan=plan, start=d("2027-01-01"))
    # Sam follows Alice's current coverage (2027-01-01 – open); a second row of his own that overlaps fails.
    coverage_enroll(member=sam, plan=plan)
    with pytest.raises(PlanError) as exc:
        coverage_enroll(member=sam, plan=plan, start=d("2027-05-01"))
    assert list(exc.value.message_dict) == ["start"]
    assert sam.coverages.count() == 1 and alice.coverages.count() == 2


def test_many_members_periods_in_a_fixed_number_of_queries(family, django_assert_num_queries):
    plan, alice, sam, sue = family
    coverage_enroll(member=alice, plan=plan, start=d("2026-01-01"))
    coverage_enroll(member=sam, plan=plan)
    others = [MemberFactory(employer=plan.sponsor) for _ in range(10)]
    for m in others:
        coverage_enroll(member=m, plan=plan, start=d("2026-02-01"))
    with django_assert_num_queries(2):
        periods = coverage_periods_for_members(member_ids=[sam.pk, sue.pk, *(m.pk for m in others)])
    assert periods[sue.pk] == [] and all(periods[m.pk] == [(plan.pk, d("2026-02-01"), None)] for m in others)
