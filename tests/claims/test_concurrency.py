"""Two examiners, two adjudication runs at once: each on its own connection, in its own thread."""
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django_fsm_log.models import StateLog

from claims import services
from claims.models import Accumulator, Claim, LineResult
from core import clock
from tests.claims.helpers import build_world, day, fresh, transitions
from tests.factories import login

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ZERO = Decimal("0.00")


def _race(*calls):
    """Run the calls at the same moment, one thread (and one DB connection) each: [("ok", value) | ("error", exc)]."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", call())
        except Exception as exc:  # reported to the test
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def _examiner(name):
    return login("claims_examiner", username=name)


def test_two_examiners_review_the_same_pended_claim(transactional_db):
    w = build_world()
    ann, ben = _examiner("ann"), _examiner("ben")
    claims = [w.submit(on="2026-02-01", service=f"2026-01-{10 + i}", lines=[("27447", 30000 + i)]) for i in range(4)]
    services.claims_adjudicate_pending()
    clock.clock_set(day=day("2026-02-02"))
    for claim in claims:
        assert fresh(claim).state == "pended"
        results = _race(
            lambda claim=claim: services.claim_review(claim_id=claim.pk, decision="approve", user=ann),
            lambda claim=claim: services.claim_review(claim_id=claim.pk, decision="deny", user=ben, reason_code="50"),
        )
        outcomes = [kind for kind, _ in results]
        assert sorted(outcomes) == ["error", "ok"], results
        winner = outcomes.index("ok")
        loser_exc = results[1 - winner][1]
        assert isinstance(loser_exc, services.ClaimConflict), loser_exc
        c = fresh(claim)
        assert c.state == ("approved", "denied")[winner]
        reviews = [t for t in transitions(c) if t[0] == "pended"]
        assert len(reviews) == 1
        assert reviews[0][3] == (ann, ben)[winner].pk
        assert c.adjudication_round == 1
        assert LineResult.objects.filter(claim=c).count() == 1
    # Approved claims were priced once each: the accumulators hold exactly their cost sharing.
    approved = Claim.objects.filter(state="approved").aggregate(d=Sum("deductible"), c=Sum("coinsurance"))
    ded, oop = Accumulator.objects.filter(member=w.alice, scope="individual").values_list(
        "deductible_met", "oop_met").first() or (ZERO, ZERO)
    assert (ded, oop) == ((approved["d"] or ZERO), (approved["d"] or ZERO) + (approved["c"] or ZERO))


def test_two_adjudication_runs_at_once_adjudicate_each_claim_once(transactional_db):
    w = build_world(deductible=("500", "800"), oop=("2500", "4000"))
    members = [w.alice]
    for i in range(3):
        members.append(w.add_member(f"dep{i}", subscriber=w.alice))
        members.append(w.add_member(f"sub{i}", start=day("2026-01-01")))
    codes = [("99213", 200), ("70551", 2500), ("80053", "33.30"), ("27447", 20000)]
    claims = []
    for i in range(60):
        code, billed = codes[i % len(codes)]
        claims.append(w.submit(on="2026-02-01", service=day("2026-01-01").replace(day=1 + i % 28),
                               member=members[i % len(members)], lines=[(code, billed, 1 + i // 28)]))
    clock.clock_set(day=day("2026-02-02"))
    results = _race(lambda: services.claims_adjudicate_pending(chunk_size=5),
                    lambda: services.claims_adjudicate_pending(chunk_size=7))
    assert all(kind == "ok" for kind, _ in results), results
    assert sum(value for _, value in results) == len(claims)  # each claim counted by exactly one run
    assert not Claim.objects.filter(state="submitted").exists()
    for claim in claims:
        c = fresh(claim)
        assert c.adjudication_round == 1
        assert [t[:2] for t in transitions(c)] == [("submitted", c.state)]
        assert LineResult.objects.filter(claim=c).count() == c.lines.count()
    assert StateLog.objects.count() == len(claims)
    # Priced once each: every accumulator equals the cost sharing of the claims it counts.
    for member in members:
        mine = Claim.objects.filter(member=member, state="approved").aggregate(
            d=Sum("deductible"), p=Sum("copay"), c=Sum("coinsurance"))
        expected = (mine["d"] or ZERO, (mine["d"] or ZERO) + (mine["p"] or ZERO) + (mine["c"] or ZERO))
        got = Accumulator.objects.filter(member=member, scope="individual").values_list(
            "deductible_met", "oop_met").first() or (ZERO, ZERO)
        assert got == expected, member
        assert got[1] <= Decimal("2500.00")
    family = Accumulator.objects.get(member=w.alice, scope="family")
    assert family.oop_met <= Decimal("4000.00")
    assert family.deductible_met <= Decimal("800.00")


def test_single_claim_adjudication_racing_a_batch_run(transactional_db):
    """The UI's single-claim path on later claims while a batch works through the same member's earlier ones."""
    w = build_world(deductible=("0", "0"), oop=("100000", "200000"))
    claims = [w.submit(on="2026-02-01", service=day("2026-01-01").replace(day=1 + i), lines=[("70551", 2500)])
              for i in range(24)]
    clock.clock_set(day=day("2026-02-02"))
    late = claims[-4:]
    results = _race(lambda: services.claims_adjudicate_pending(chunk_size=2),
                    *[lambda c=c: services.claim_adjudicate(claim_id=c.pk) for c in late])
    batch_kind, batch_done = results[0]
    assert batch_kind == "ok", results
    singles = [r for r in results[1:] if r[0] == "ok"]
    for kind, value in results[1:]:
        assert kind == "ok" or isinstance(value, services.ClaimConflict), value
    assert batch_done + len(singles) == len(claims)
    for claim in claims:
        c = fresh(claim)
        assert c.state == "approved"
        assert c.adjudication_round == 1
        assert len(transitions(c)) == 1
        assert_priced = (c.coinsurance, c.plan_paid)
        assert assert_priced == (Decimal("300.00"), Decimal("1200.00"))
    ded, oop = Accumulator.objects.filter(member=w.alice, scope="individual").values_list(
        "deductible_met", "oop_met").get()
    assert (ded, oop) == (ZERO, Decimal("300.00") * len(claims))  # no update lost
