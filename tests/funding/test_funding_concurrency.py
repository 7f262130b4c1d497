"""Two payment runs at once (PostgreSQL, each thread with its own connection and transaction): every
claim is paid exactly once, and a deposit racing a cycle neither double-spends nor loses money."""
import threading

import pytest
from django.db import connection

from funding import services
from funding.models import Account, Deposit, Payment, PaymentCycle
from tests.funding.helpers import (
    D,
    F,
    approved_claim,
    assert_ledger_balanced,
    balance,
    day,
    make_provider,
    make_sponsor,
    state_of,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
K = Account.Kind


def run_together(*jobs):
    """Start every job at the same moment in its own thread (its own connection); return results/errors."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def worker(i, job):
        try:
            barrier.wait(timeout=10)
            results[i] = job()
        except Exception as exc:  # reported to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_two_payment_cycles_at_once_pay_every_claim_exactly_once():
    aso, asc, fi = make_sponsor(F.ASO), make_sponsor(F.ASC), make_sponsor(F.FULLY_INSURED)
    providers = [make_provider() for _ in range(3)]
    services_total = D("0.00")
    claims = []
    for i in range(60):
        s = (aso, asc, fi)[i % 3]
        amount = D(f"{10 + i}.00")
        services_total += amount
        claims.append(approved_claim(plan=s.plan, member=s.member(), provider=providers[i % 3], plan_paid=amount))
    from django.db import transaction
    with transaction.atomic():
        services.sponsor_deposit(employer=aso.employer, amount="100000.00", today=day("2026-01-02"))

    results = run_together(lambda: services.payment_cycle_run(today=day("2026-01-20"), chunk_size=7),
                           lambda: services.payment_cycle_run(today=day("2026-01-20"), chunk_size=7))

    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r is None for r in results) == [False, True]  # one paid everything, the other found nothing
    assert set(state_of(*claims)) == {"paid"}
    assert Payment.objects.count() == 60
    assert Payment.objects.values("claim_id").distinct().count() == 60
    assert sum(balance(K.PROVIDER, provider=p) for p in providers) == services_total
    assert PaymentCycle.objects.count() == 1
    assert_ledger_balanced()


def test_a_deposit_racing_a_cycle_pays_each_claim_once_from_the_money_there_is():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    claims = [approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00",
                             received=day(f"2026-01-{10 + i:02d}")) for i in range(5)]
    services.payment_cycle_run(today=day("2026-01-16"))  # all five wait: 500.00 requested
    more = [approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00",
                           received=day("2026-01-17")) for _ in range(3)]

    results = run_together(
        lambda: services.sponsor_deposit(employer=s.employer, amount="650.00", today=day("2026-01-20"), reference="E1"),
        lambda: services.payment_cycle_run(today=day("2026-01-20")),
        lambda: services.sponsor_deposit(employer=s.employer, amount="650.00", today=day("2026-01-20"), reference="E1"),
    )

    assert not [r for r in results if isinstance(r, Exception)], results
    assert Deposit.objects.count() == 1  # the same reference is the same deposit, even at once
    states = state_of(*claims, *more)
    assert states.count("paid") == 6  # 650.00 pays six claims of 100.00, whichever job ran first
    assert Payment.objects.count() == 6
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("50.00")
    assert balance(K.PROVIDER, provider=mercy) == D("600.00")
    assert_ledger_balanced()
