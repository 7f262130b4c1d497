"""DOMAIN.md §5, fee billing: once per plan per calendar month, subscribers in force on the run date."""
import pytest

from funding import services
from funding.models import Account, FeeBilling
from tests.factories import CoverageFactory, DependentFactory, MemberFactory
from tests.funding.helpers import D, F, balance, day, make_sponsor, snapshot

pytestmark = pytest.mark.django_db
K = Account.Kind


def billed(plan):
    return list(FeeBilling.objects.filter(plan=plan).order_by("month").values_list("month", "subscribers", "amount"))


def test_aso_and_asc_pay_admin_fees_fully_insured_pays_premiums_to_its_carrier():
    aso = make_sponsor(F.ASO, members=2, admin_fee_pepm=D("45.00"))
    asc = make_sponsor(F.ASC, members=1, admin_fee_pepm=D("40.00"))
    fi = make_sponsor(F.FULLY_INSURED, members=4, premium_pepm=D("600.00"), admin_fee_pepm=D("99.00"))

    services.fee_billing_run(today=day("2026-02-01"))

    assert billed(aso.plan) == [(day("2026-02-01"), 2, D("90.00"))]
    assert billed(asc.plan) == [(day("2026-02-01"), 1, D("40.00"))]
    assert billed(fi.plan) == [(day("2026-02-01"), 4, D("2400.00"))]
    assert balance(K.ADMIN_FEES) == D("130.00")
    assert balance(K.PREMIUMS, carrier=fi.carrier) == D("2400.00")
    assert balance(K.SPONSOR, employer=fi.employer) == D("-2400.00")
    # Fees are billed to the sponsor, not taken from its claims account.
    assert balance(K.SPONSOR_CLAIMS, employer=aso.employer) == D("0.00")


def test_each_plan_is_billed_once_per_calendar_month():
    s = make_sponsor(F.ASO, members=1, admin_fee_pepm=D("45.00"))
    services.fee_billing_run(today=day("2026-01-01"))
    before = snapshot()

    assert services.fee_billing_run(today=day("2026-01-15")) == []
    assert snapshot() == before

    services.fee_billing_run(today=day("2026-02-01"))
    assert billed(s.plan) == [(day("2026-01-01"), 1, D("45.00")), (day("2026-02-01"), 1, D("45.00"))]


def test_a_month_that_no_run_fell_in_is_not_billed_later():
    s = make_sponsor(F.ASO, members=1, admin_fee_pepm=D("45.00"))
    services.fee_billing_run(today=day("2026-01-01"))
    services.fee_billing_run(today=day("2026-03-02"))
    assert [m for m, _, _ in billed(s.plan)] == [day("2026-01-01"), day("2026-03-01")]
    assert balance(K.ADMIN_FEES) == D("90.00")


def test_a_month_billed_for_zero_subscribers_counts_as_billed():
    s = make_sponsor(F.ASO, members=0, admin_fee_pepm=D("45.00"))
    services.fee_billing_run(today=day("2026-01-05"))
    m = MemberFactory(employer=s.employer)
    CoverageFactory(member=m, plan=s.plan, start=day("2026-01-01"))

    services.fee_billing_run(today=day("2026-01-20"))

    assert billed(s.plan) == [(day("2026-01-01"), 0, D("0.00"))]
    assert FeeBilling.objects.get().transaction_id is None


def test_only_subscribers_whose_coverage_is_in_force_on_the_run_date_count():
    s = make_sponsor(F.ASO, members=1, admin_fee_pepm=D("10.00"))  # in force from 2026-01-01
    ended = MemberFactory(employer=s.employer)
    CoverageFactory(member=ended, plan=s.plan, start=day("2026-01-01"), end=day("2026-01-31"))
    ends_today = MemberFactory(employer=s.employer)
    CoverageFactory(member=ends_today, plan=s.plan, start=day("2026-01-01"), end=day("2026-02-10"))
    not_yet = MemberFactory(employer=s.employer)
    CoverageFactory(member=not_yet, plan=s.plan, start=day("2026-02-11"))
    # Dependents are not employees: no PEPM for them.
    child = DependentFactory(subscriber=s.member())
    CoverageFactory(member=child, plan=s.plan, start=None)

    services.fee_billing_run(today=day("2026-02-10"))

    assert billed(s.plan) == [(day("2026-02-01"), 2, D("20.00"))]
