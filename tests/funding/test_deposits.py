"""DOMAIN.md §5, ASO deposits: settling funding requests oldest first, releasing waiting claims."""
import pytest

from funding import services
from funding.models import Account, Deposit, FundingSettlement, LedgerTransaction, PaymentCycle
from tests.funding.helpers import D, F, approved_claim, balance, day, make_provider, make_sponsor, snapshot, state_of

pytestmark = pytest.mark.django_db
K = Account.Kind


def waiting_world(*amounts, cycles=None):
    """An ASO sponsor with claims of `amounts` (oldest first) put to awaiting_funds by cycles with no money."""
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    claims = []
    for i, amount in enumerate(amounts):
        claims.append(approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=amount,
                                     received=day(f"2026-01-{10 + i:02d}")))
        if cycles and i in cycles:
            services.payment_cycle_run(today=day(f"2026-01-{10 + i:02d}"))
    services.payment_cycle_run(today=day("2026-01-20"))
    return s, mercy, claims


def test_deposit_moves_money_from_the_sponsor_into_its_claims_account():
    s = make_sponsor(F.ASO)
    deposit = services.sponsor_deposit(employer=s.employer, amount="5000", today=day("2026-01-22"))
    assert (deposit.amount, deposit.received_on) == (D("5000.00"), day("2026-01-22"))
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("5000.00")
    assert balance(K.SPONSOR, employer=s.employer) == D("-5000.00")
    assert deposit.transaction.kind == LedgerTransaction.Kind.DEPOSIT


def test_deposit_settles_open_funding_requests_oldest_first():
    s, _, _ = waiting_world("100.00", "50.00", cycles={0})
    first, second = s.employer.funding_requests.order_by("pk")
    assert (first.amount, second.amount) == (D("100.00"), D("50.00"))

    deposit = services.sponsor_deposit(employer=s.employer, amount="120.00", today=day("2026-01-22"))

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.open_amount, second.open_amount) == (D("0.00"), D("30.00"))
    assert list(FundingSettlement.objects.filter(deposit=deposit).order_by("pk").values_list(
        "funding_request_id", "amount")) == [(first.pk, D("100.00")), (second.pk, D("20.00"))]
    assert services.funding_request_open_amount(employer=s.employer) == D("30.00")


def test_deposit_releases_waiting_claims_by_the_cycle_rule_and_stops_at_the_first_it_does_not_cover():
    s, mercy, (c1, c2, c3) = waiting_world("100.00", "80.00", "10.00")
    assert state_of(c1, c2, c3) == ["awaiting_funds"] * 3

    deposit = services.sponsor_deposit(employer=s.employer, amount="150.00", today=day("2026-01-22"))

    assert state_of(c1, c2, c3) == ["paid", "awaiting_funds", "awaiting_funds"]
    c1.refresh_from_db()
    assert c1.paid_on == day("2026-01-22")
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("50.00")
    assert balance(K.PROVIDER, provider=mercy) == D("100.00")
    assert deposit.release.kind == PaymentCycle.Kind.RELEASE
    assert deposit.release.claims_paid == 1

    services.sponsor_deposit(employer=s.employer, amount="40.00", today=day("2026-01-23"))
    assert state_of(c2, c3) == ["paid", "paid"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("0.00")


def test_deposit_of_the_requested_amount_pays_every_waiting_claim():
    s, mercy, claims = waiting_world("90.00", "400.00", "17130.00", "120.00")
    requested = services.funding_request_open_amount(employer=s.employer)
    assert requested == D("17740.00")

    services.sponsor_deposit(employer=s.employer, amount=requested, today=day("2026-01-22"))

    assert state_of(*claims) == ["paid"] * 4
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("0.00")
    assert balance(K.PROVIDER, provider=mercy) == D("17740.00")
    assert services.funding_request_open_amount(employer=s.employer) == D("0.00")


def test_deposit_releases_only_waiting_claims_an_approved_one_waits_for_the_next_cycle():
    s, mercy, (waiting,) = waiting_world("60.00")
    fresh = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="10.00",
                           received=day("2026-01-21"))

    services.sponsor_deposit(employer=s.employer, amount="1000.00", today=day("2026-01-22"))

    assert state_of(waiting, fresh) == ["paid", "approved"]
    services.payment_cycle_run(today=day("2026-01-23"))
    assert state_of(fresh) == ["paid"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("930.00")


def test_deposit_with_a_recorded_reference_is_the_same_deposit():
    s, _, (c1,) = waiting_world("60.00")
    first = services.sponsor_deposit(employer=s.employer, amount="100.00", today=day("2026-01-22"), reference="EFT-1")
    before = snapshot()

    again = services.sponsor_deposit(employer=s.employer, amount="100.00", today=day("2026-01-22"), reference="EFT-1")

    assert again.pk == first.pk
    assert snapshot() == before
    assert Deposit.objects.count() == 1


@pytest.mark.parametrize("funding", [F.ASC, F.FULLY_INSURED])
def test_deposit_is_refused_for_a_sponsor_that_is_not_aso(funding):
    s = make_sponsor(funding)
    with pytest.raises(services.FundingError) as exc:
        services.sponsor_deposit(employer=s.employer, amount="10.00")
    assert "employer" in exc.value.message_dict
    assert LedgerTransaction.objects.count() == 0


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.234", "abc", 1.5])
def test_deposit_amount_must_be_positive_money(amount):
    s = make_sponsor(F.ASO)
    with pytest.raises(services.FundingError) as exc:
        services.sponsor_deposit(employer=s.employer, amount=amount)
    assert list(exc.value.message_dict) == ["amount"]
    assert Deposit.objects.count() == 0
