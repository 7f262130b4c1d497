"""DOMAIN.md §6, stop-loss: the contract window (12/12, 12/15, month-end clamping), specific with
lasers, aggregate with caps filed once, only plan_paid counts, the money goes to the claims account."""
import pytest

from funding import services
from funding.models import Account, LedgerTransaction, StopLossFiling
from plans.services import stop_loss_policy_create
from tests.factories import CarrierFactory
from tests.funding.helpers import D, F, approved_claim, balance, day, make_provider, make_sponsor, snapshot, state_of

K = Account.Kind


@pytest.mark.parametrize("start, months, expected", [
    ("2026-01-01", 12, "2027-01-01"),
    ("2026-01-01", 15, "2027-04-01"),
    ("2026-01-31", 1, "2026-02-28"),
    ("2026-01-31", 15, "2027-04-30"),
    ("2026-08-31", 15, "2027-11-30"),
    ("2027-11-29", 3, "2028-02-29"),  # a leap year keeps the 29th
    ("2026-11-30", 15, "2028-02-29"),
    ("2026-03-15", 12, "2027-03-15"),
])
def test_add_months_falls_on_the_last_day_of_a_shorter_month(start, months, expected):
    assert services.add_months(day(start), months) == day(expected)


def sponsor_with_policy(*, contract="12/12", start="2026-01-01", specific="100000", members=1, funding=F.ASC,
                        lasers=None, **aggregate):
    s = make_sponsor(funding, members=members)
    sl_carrier = CarrierFactory()
    policy = stop_loss_policy_create(
        plan=s.plan, carrier=sl_carrier, start=day(start), contract=contract, specific_attachment=D(specific),
        lasers={s.members[i]: D(v) for i, v in (lasers or {}).items()},
        **{k: D(v) for k, v in aggregate.items()},
    )
    return s, policy, sl_carrier


def pay(s, member, amount, *, service, paid, deductible="0.00"):
    """An approved claim of `member` serviced on `service`, paid by a payment cycle run on `paid`."""
    claim = approved_claim(plan=s.plan, member=member, provider=make_provider(), plan_paid=amount,
                           service=service, received=service, deductible=deductible)
    if s.plan.funding == F.ASO:
        services.sponsor_deposit(employer=s.employer, amount=amount, today=day(paid))
    services.payment_cycle_run(today=day(paid))
    assert state_of(claim) == ["paid"]
    return claim


def specific_total(policy, member):
    return sum(StopLossFiling.objects.filter(policy=policy, member=member).values_list("amount", flat=True), D("0"))


@pytest.mark.django_db
def test_specific_reimburses_the_excess_over_the_attachment_into_the_sponsors_claims_account():
    s, policy, sl = sponsor_with_policy(funding=F.ASO)
    dana = s.member()
    pay(s, dana, "55000.00", service="2026-02-01", paid="2026-02-13")
    pay(s, dana, "47000.00", service="2026-05-01", paid="2026-05-06")

    (filing,) = services.stop_loss_evaluate(today=day("2026-05-07"))

    assert (filing.kind, filing.member_id, filing.amount, filing.counted_claims, filing.attachment) == (
        "specific", dana.pk, D("2000.00"), D("102000.00"), D("100000.00"))
    assert filing.transaction.kind == LedgerTransaction.Kind.STOP_LOSS
    assert balance(K.STOP_LOSS, carrier=sl) == D("-2000.00")
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("2000.00")


@pytest.mark.django_db
def test_specific_files_only_what_was_not_reimbursed_already():
    s, policy, _ = sponsor_with_policy()
    dana = s.member()
    pay(s, dana, "102000.00", service="2026-02-01", paid="2026-02-13")
    services.stop_loss_evaluate(today=day("2026-03-01"))
    before = snapshot()

    assert services.stop_loss_evaluate(today=day("2026-03-02")) == []
    assert snapshot() == before

    pay(s, dana, "1500.00", service="2026-04-01", paid="2026-04-03")
    (second,) = services.stop_loss_evaluate(today=day("2026-04-04"))
    assert second.amount == D("1500.00")
    assert specific_total(policy, dana) == D("3500.00")


@pytest.mark.django_db
def test_a_laser_replaces_the_attachment_for_that_member_only():
    s, policy, _ = sponsor_with_policy(members=2, lasers={0: "250000"})
    lasered, other = s.members
    pay(s, lasered, "120000.00", service="2026-02-01", paid="2026-02-10")
    pay(s, other, "120000.00", service="2026-02-01", paid="2026-02-10")

    services.stop_loss_evaluate(today=day("2026-03-01"))

    assert specific_total(policy, lasered) == D("0")
    assert specific_total(policy, other) == D("20000.00")
    assert StopLossFiling.objects.get(member=other).attachment == D("100000.00")


@pytest.mark.django_db
@pytest.mark.parametrize("contract, expected", [("12/12", "0"), ("12/15", "5000.00")])
def test_twelve_twelve_counts_claims_paid_within_12_months_twelve_fifteen_within_15(contract, expected):
    s, policy, _ = sponsor_with_policy(contract=contract)
    m = s.member()
    pay(s, m, "100000.00", service="2026-06-01", paid="2026-06-10")
    late = pay(s, m, "5000.00", service="2026-12-20", paid="2027-02-10")  # paid in month 14

    services.stop_loss_evaluate(today=day("2027-02-11"))

    assert late.pk
    assert specific_total(policy, m) == D(expected)


@pytest.mark.django_db
@pytest.mark.parametrize("paid, counted", [("2027-04-29", True), ("2027-04-30", False)])
def test_paid_through_date_is_clamped_to_the_month_end(paid, counted):
    # Start on January 31st, 12/15: paid-through is 2027-04-30 (April has no 31st); paid before it counts.
    s, policy, _ = sponsor_with_policy(contract="12/15", start="2026-01-31")
    assert services.stop_loss_window(policy=policy) == (day("2026-01-31"), day("2027-01-31"), day("2027-04-30"))
    m = s.member()
    pay(s, m, "100000.00", service="2026-03-01", paid="2026-03-05")
    pay(s, m, "700.00", service="2027-01-30", paid=paid)

    services.stop_loss_evaluate(today=day("2027-05-01"))

    assert specific_total(policy, m) == (D("700.00") if counted else D("0"))


@pytest.mark.django_db
def test_only_claims_serviced_in_the_12_months_count():
    s, policy, _ = sponsor_with_policy(contract="12/15", start="2026-02-01")
    m = s.member()
    pay(s, m, "100000.00", service="2026-02-01", paid="2026-02-05")
    pay(s, m, "300.00", service="2026-01-31", paid="2026-02-05")   # before the start
    pay(s, m, "400.00", service="2027-02-01", paid="2027-02-02")   # after the 12 months
    pay(s, m, "500.00", service="2027-01-31", paid="2027-02-02")   # last day: counts

    services.stop_loss_evaluate(today=day("2027-02-03"))

    assert specific_total(policy, m) == D("500.00")


@pytest.mark.django_db
def test_only_plan_paid_counts_never_member_cost_sharing():
    s, policy, _ = sponsor_with_policy()
    m = s.member()
    pay(s, m, "99000.00", service="2026-02-01", paid="2026-02-05", deductible="4000.00")
    assert services.stop_loss_evaluate(today=day("2026-03-01")) == []
    pay(s, m, "1250.00", service="2026-02-02", paid="2026-02-06")
    (filing,) = services.stop_loss_evaluate(today=day("2026-03-02"))
    assert (filing.counted_claims, filing.amount) == (D("100250.00"), D("250.00"))


@pytest.mark.django_db
def test_asc_claims_count_from_the_carriers_payment_date_reimbursed_or_not():
    s, policy, _ = sponsor_with_policy(funding=F.ASC)
    m = s.member()
    pay(s, m, "100100.00", service="2026-02-01", paid="2026-02-03")
    assert services.reimbursement_open_amount(employer=s.employer) == D("0.00")  # not even invoiced

    (filing,) = services.stop_loss_evaluate(today=day("2026-02-04"))

    assert filing.amount == D("100.00")
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("100.00")


@pytest.mark.django_db
def test_aggregate_caps_each_member_at_its_attachment_and_is_filed_once_on_or_after_the_paid_through_date():
    s, policy, sl = sponsor_with_policy(members=3, specific="100000", lasers={2: "30000"}, aggregate_attachment="150000")
    a, b, c = s.members
    pay(s, a, "120000.00", service="2026-03-01", paid="2026-03-05")  # capped at 100,000
    pay(s, b, "80000.00", service="2026-04-01", paid="2026-04-05")
    pay(s, c, "40000.00", service="2026-05-01", paid="2026-05-05")   # capped at its laser 30,000

    filings = services.stop_loss_evaluate(today=day("2026-12-31"))
    assert {(f.kind, f.member_id, f.amount) for f in filings} == {
        ("specific", a.pk, D("20000.00")), ("specific", c.pk, D("10000.00"))}

    (aggregate,) = services.stop_loss_evaluate(today=day("2027-01-01"))
    assert (aggregate.kind, aggregate.counted_claims, aggregate.attachment, aggregate.amount) == (
        "aggregate", D("210000.00"), D("150000.00"), D("60000.00"))
    assert balance(K.STOP_LOSS, carrier=sl) == D("-90000.00")

    before = snapshot()
    assert services.stop_loss_evaluate(today=day("2027-03-01")) == []
    assert snapshot() == before


@pytest.mark.django_db
def test_aggregate_attachment_from_expected_claims_times_the_factor():
    s, policy, _ = sponsor_with_policy(contract="12/15", members=2, expected_claims="100000", aggregate_factor="1.25")
    a, b = s.members
    pay(s, a, "70000.00", service="2026-03-01", paid="2026-03-05")
    pay(s, b, "60000.00", service="2026-11-01", paid="2027-03-31")

    assert services.stop_loss_evaluate(today=day("2027-03-31")) == []  # before 2027-04-01: not yet
    (aggregate,) = services.stop_loss_evaluate(today=day("2027-04-10"))
    assert (aggregate.attachment, aggregate.amount) == (D("125000.00"), D("5000.00"))


@pytest.mark.django_db
def test_aggregate_with_nothing_over_the_point_is_evaluated_once_and_pays_nothing():
    s, policy, _ = sponsor_with_policy(aggregate_attachment="500000")
    pay(s, s.member(), "1000.00", service="2026-03-01", paid="2026-03-05")

    (aggregate,) = services.stop_loss_evaluate(today=day("2027-01-05"))
    assert (aggregate.amount, aggregate.transaction_id) == (D("0.00"), None)
    assert services.stop_loss_evaluate(today=day("2027-02-05")) == []
    assert StopLossFiling.objects.filter(kind="aggregate").count() == 1


@pytest.mark.django_db
def test_no_aggregate_cover_files_no_aggregate():
    s, policy, _ = sponsor_with_policy()
    pay(s, s.member(), "1000.00", service="2026-03-01", paid="2026-03-05")
    assert services.stop_loss_evaluate(today=day("2027-06-01")) == []


@pytest.mark.django_db
def test_stop_loss_money_releases_no_waiting_claim():
    s, policy, _ = sponsor_with_policy(funding=F.ASO)
    m = s.member()
    pay(s, m, "100000.00", service="2026-02-01", paid="2026-02-05")
    pay(s, m, "5000.00", service="2026-02-12", paid="2026-02-12")  # 5,000 over the attachment
    waiting = approved_claim(plan=s.plan, member=m, provider=make_provider(), plan_paid="3000.00",
                             service="2026-02-13", received="2026-02-13")
    services.payment_cycle_run(today=day("2026-02-14"))
    assert state_of(waiting) == ["awaiting_funds"]

    (filing,) = services.stop_loss_evaluate(today=day("2026-02-15"))

    assert filing.amount == D("5000.00")
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("5000.00")
    assert state_of(waiting) == ["awaiting_funds"]  # released by nothing until the next cycle
    services.payment_cycle_run(today=day("2026-02-16"))
    assert state_of(waiting) == ["paid"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("2000.00")
