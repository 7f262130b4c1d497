"""Concurrency edges of the background jobs (PostgreSQL, one thread and one connection per actor).

Each test freezes one actor at a chosen point (an Event inside a wrapped service function), lets a
second actor run into it, then releases the first: the interleaving is forced, not hoped for.
"""
import threading
import time
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum
from django_fsm_log.models import StateLog

from claims import services as claim_services
from claims import tasks as claim_tasks
from claims.models import Accumulator, Claim, LineResult
from claims.services import adjudication as claim_adjudication
from claims.services import intake as claim_intake
from core import clock
from funding import services as funding_services
from funding import tasks as funding_tasks
from funding.models import Account, Deposit, FundingRequest, Payment, PaymentCycle, SponsorPayment
from plans import services as plan_services
from tests.claims.helpers import build_world, day, fresh, transitions
from tests.claims.test_concurrency import _examiner
from tests.funding.helpers import F, approved_claim, assert_ledger_balanced, balance, make_provider, make_sponsor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
ZERO = D("0.00")
K = Account.Kind
WAIT = 20  # seconds: only reached when something hangs


# --- Machinery ---------------------------------------------------------------------------------

class Actor(threading.Thread):
    """Runs `call` in its own thread (so on its own database connection); keeps its result or error."""

    def __init__(self, call, name="actor"):
        super().__init__(name=name, daemon=True)
        self.call, self.result, self.error = call, None, None

    def run(self):
        try:
            self.result = self.call()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc
        finally:
            connection.close()

    def outcome(self, timeout=WAIT):
        self.join(timeout)
        assert not self.is_alive(), f"{self.name} hung"
        if self.error is not None:
            raise self.error
        return self.result


def start(call, name="actor") -> Actor:
    actor = Actor(call, name)
    actor.start()
    return actor


def lock_waiters(lock_id: int) -> int:
    """Backends of this database waiting (not granted) for the advisory lock `lock_id`."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", [lock_id])
        return cursor.fetchone()[0]


def wait_for(check, what: str, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class WriterGate:
    """Wraps claims.services.adjudication._adjudicate_write: the pipelined batch's writer stops before writing its
    `pause_at`-th chunk until `go` is set. Also records which claims the pricing thread has priced."""

    def __init__(self, monkeypatch, *, pause_at: int):
        self.pause_at, self.writes = pause_at, 0
        self.paused, self.go = threading.Event(), threading.Event()
        self.priced: list[int] = []
        self.priced_changed = threading.Condition()
        real_write, real_compute = claim_adjudication._adjudicate_write, claim_adjudication._adjudicate_compute

        def write(writes):
            self.writes += 1
            if self.writes == self.pause_at:
                self.paused.set()
                assert self.go.wait(WAIT), "the test never released the writer"
            real_write(writes)

        def compute(rows, **kwargs):
            out = real_compute(rows, **kwargs)
            with self.priced_changed:
                self.priced.extend(r[0] for r in rows)
                self.priced_changed.notify_all()
            return out

        monkeypatch.setattr(claim_adjudication, "_adjudicate_write", write)
        monkeypatch.setattr(claim_adjudication, "_adjudicate_compute", compute)

    def wait_priced(self, claim_id: int):
        with self.priced_changed:
            assert self.priced_changed.wait_for(lambda: claim_id in self.priced, WAIT), "never priced"

    def wait_paused(self):
        assert self.paused.wait(WAIT), "the writer never reached the gate"


def assert_accumulators_match_claims(member):
    """Every individual accumulator of `member` holds exactly the cost sharing of its counted claims
    (each claim priced once, no update lost)."""
    for year in set(Claim.objects.filter(member=member, state__in=("approved", "paid"))
                    .values_list("plan_year_start", flat=True)):
        mine = Claim.objects.filter(member=member, state__in=("approved", "paid"), plan_year_start=year).aggregate(
            d=Sum("deductible"), p=Sum("copay"), c=Sum("coinsurance"))
        d, p, c = (mine[k] or ZERO for k in "dpc")
        got = Accumulator.objects.filter(member=member, scope="individual", plan_year_start=year).values_list(
            "deductible_met", "oop_met").first() or (ZERO, ZERO)
        assert got == (d, d + p + c), (member, year)


def imaging_claims(w, n, *, on="2026-02-02", first_day=10):
    return [w.submit(on=on, service=f"2026-01-{first_day + i:02d}", lines=[("70551", 2500)]) for i in range(n)]


# --- Claims: the batch against single-claim paths, reviews, appeals and coverage changes -------------

def test_review_approve_during_a_batch_waits_and_prices_after_it(transactional_db, monkeypatch):
    w = build_world(deductible=("500", "1000"), oop=("100000", "200000"))
    examiner = _examiner("edge-ann")
    pended = w.submit(on="2026-02-01", service="2026-01-05", lines=[("27447", 30000)])
    claim_services.claims_adjudicate_pending()
    assert fresh(pended).state == "pended"
    batch_claims = imaging_claims(w, 6)
    clock.clock_set(day=day("2026-02-03"))
    gate = WriterGate(monkeypatch, pause_at=1)

    batch = start(lambda: claim_services.claims_adjudicate_pending(chunk_size=2), "batch")
    try:
        gate.wait_paused()
        review = start(lambda: claim_services.claim_review(claim_id=pended.pk, decision="approve", user=examiner),
                       "review")
        wait_for(lambda: lock_waiters(claim_services.ADJUDICATION_LOCK_ID) == 1, "the review to wait for the batch")
        assert fresh(pended).state == "pended"
    finally:
        gate.go.set()
    assert batch.outcome() == 6
    assert review.outcome().state == "approved"

    # The batch's claims were counted first: they met the deductible, the reviewed claim met none of it.
    assert sum((fresh(c).deductible for c in batch_claims), ZERO) == D("500.00")
    p = fresh(pended)
    assert (p.deductible, p.adjudication_round) == (ZERO, 1)
    assert [t[:2] for t in transitions(p)] == [("submitted", "pended"), ("pended", "approved")]
    assert_accumulators_match_claims(w.alice)


def test_two_examiners_queued_behind_a_batch_one_wins_one_conflicts(transactional_db, monkeypatch):
    w = build_world(deductible=("500", "1000"), oop=("100000", "200000"))
    ann, ben = _examiner("edge-ann2"), _examiner("edge-ben2")
    pended = w.submit(on="2026-02-01", service="2026-01-05", lines=[("27447", 30000)])
    claim_services.claims_adjudicate_pending()
    imaging_claims(w, 4)
    clock.clock_set(day=day("2026-02-03"))
    gate = WriterGate(monkeypatch, pause_at=1)

    batch = start(lambda: claim_services.claims_adjudicate_pending(chunk_size=2), "batch")
    try:
        gate.wait_paused()
        reviews = [
            start(lambda: claim_services.claim_review(claim_id=pended.pk, decision="approve", user=ann), "ann"),
            start(lambda: claim_services.claim_review(claim_id=pended.pk, decision="deny", user=ben,
                                                      reason_code="50"), "ben"),
        ]
        wait_for(lambda: lock_waiters(claim_services.ADJUDICATION_LOCK_ID) == 2, "both examiners to wait")
    finally:
        gate.go.set()
    assert batch.outcome() == 4
    outcomes = []
    for r in reviews:
        try:
            outcomes.append(r.outcome().state)
        except claim_services.ClaimConflict:
            outcomes.append("conflict")
    assert sorted(outcomes) in (["approved", "conflict"], ["conflict", "denied"])
    p = fresh(pended)
    assert p.state in outcomes and len([t for t in transitions(p) if t[0] == "pended"]) == 1
    assert LineResult.objects.filter(claim=p).count() == 1
    assert_accumulators_match_claims(w.alice)


def test_single_claim_task_on_a_claim_priced_but_not_yet_written_is_skipped(transactional_db, monkeypatch):
    w = build_world(deductible=("500", "1000"), oop=("100000", "200000"))
    claims = imaging_claims(w, 6)
    clock.clock_set(day=day("2026-02-03"))
    gate = WriterGate(monkeypatch, pause_at=1)
    target = claims[3]  # chunk 2: priced and queued while the writer holds chunk 1

    batch = start(lambda: claim_services.claims_adjudicate_pending(chunk_size=2), "batch")
    try:
        gate.wait_paused()
        gate.wait_priced(target.pk)
        assert fresh(target).state == "submitted"  # priced in memory, not written
        single = start(lambda: claim_tasks.adjudicate_claim(target.pk), "single-claim task")
        wait_for(lambda: lock_waiters(claim_services.ADJUDICATION_LOCK_ID) == 1, "the single claim to wait")
    finally:
        gate.go.set()
    assert batch.outcome() == 6
    assert single.outcome() == "skipped"
    t = fresh(target)
    assert (t.state, t.adjudication_round) == ("approved", 1)
    assert len(transitions(t)) == 1
    assert LineResult.objects.filter(claim=t).count() == 1
    assert StateLog.objects.count() == 6
    assert_accumulators_match_claims(w.alice)


def test_single_claim_task_delivered_twice_at_once_adjudicates_once(transactional_db):
    w = build_world()
    claim = w.submit(on="2026-02-02", service="2026-01-10", lines=[("99213", 150)])
    clock.clock_set(day=day("2026-02-03"))
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait(WAIT)
        return claim_tasks.adjudicate_claim(claim.pk)

    deliveries = [start(deliver, f"delivery {i}") for i in range(2)]
    assert sorted(d.outcome() for d in deliveries) == ["approved", "skipped"]
    c = fresh(claim)
    assert c.adjudication_round == 1 and len(transitions(c)) == 1
    assert LineResult.objects.filter(claim=c).count() == 1
    assert_accumulators_match_claims(w.alice)


def test_appeal_recorded_mid_batch_is_adjudicated_once_by_that_batch(transactional_db, monkeypatch):
    w = build_world(deductible=("500", "1000"), oop=("100000", "200000"))
    # Denied for want of coverage (service before the start), on a later received date than the batch's claims.
    denied = w.submit(on="2026-02-05", service="2025-12-20", lines=[("99213", 150)])
    claim_services.claims_adjudicate_pending()
    assert fresh(denied).state == "denied"
    plan_services.coverage_change(member=w.alice, start=day("2025-12-01"), set_start=True)
    batch_claims = imaging_claims(w, 6)  # received 2026-02-02: ahead of the denied claim in the queue
    clock.clock_set(day=day("2026-02-06"))
    gate = WriterGate(monkeypatch, pause_at=1)

    batch = start(lambda: claim_services.claims_adjudicate_pending(chunk_size=2), "batch")
    try:
        gate.wait_paused()
        gate.wait_priced(batch_claims[-1].pk)  # every queued claim read; the next read comes after the appeal
        appeal = start(lambda: claim_services.claim_appeal(claim_id=denied.pk, reason="coverage corrected"), "appeal")
        assert appeal.outcome(timeout=5).state == "appealed"  # an appeal does not wait for the batch
    finally:
        gate.go.set()
    assert batch.outcome() == 7  # the six, then the appealed claim it found further on
    assert claim_services.claims_adjudicate_pending() == 0
    d = fresh(denied)
    assert (d.state, d.adjudication_round) == ("approved", 2)
    assert [t[:2] for t in transitions(d)] == [("submitted", "denied"), ("denied", "appealed"), ("appealed", "approved")]
    assert all(fresh(c).adjudication_round == 1 for c in batch_claims)
    assert_accumulators_match_claims(w.alice)


def test_coverage_change_mid_batch_applies_from_the_next_chunk_priced(transactional_db, monkeypatch):
    w = build_world(deductible=("500", "1000"), oop=("100000", "200000"))
    claims = imaging_claims(w, 8)  # service 2026-01-10 .. 2026-01-17
    clock.clock_set(day=day("2026-02-03"))
    gate = WriterGate(monkeypatch, pause_at=1)

    batch = start(lambda: claim_services.claims_adjudicate_pending(chunk_size=2), "batch")
    try:
        gate.wait_paused()
        gate.wait_priced(claims[5].pk)  # chunks 1–3 priced under the old coverage
        change = start(lambda: plan_services.coverage_change(member=w.alice, end=day("2026-01-13"), set_end=True),
                       "coverage change")
        change.outcome(timeout=5)  # does not wait for the batch
        priced_before = set(gate.priced)
    finally:
        gate.go.set()
    assert batch.outcome() == 8
    assert priced_before == {c.pk for c in claims[:6]}
    states = [fresh(c).state for c in claims]
    assert states == ["approved"] * 6 + ["denied"] * 2
    assert [fresh(c).reason_codes for c in claims[6:]] == ["27", "27"]
    assert_accumulators_match_claims(w.alice)


# --- Claims and money: a payment cycle while the batch writes --------------------------------------

def test_payment_cycle_while_the_batch_writes_pays_each_claim_once(transactional_db, monkeypatch):
    w = build_world(deductible=("0", "0"), oop=("100000", "200000"))
    funding_services.sponsor_deposit(employer=w.employer, amount="100000.00", today=day("2026-02-01"))
    claims = imaging_claims(w, 6)
    clock.clock_set(day=day("2026-02-03"))
    gate = WriterGate(monkeypatch, pause_at=2)  # chunk 1 committed, chunk 2 held

    batch = start(lambda: claim_services.claims_adjudicate_pending(chunk_size=2), "batch")
    try:
        gate.wait_paused()
        cycle = start(lambda: funding_services.payment_cycle_run(today=day("2026-02-03")), "payment cycle")
        first = cycle.outcome(timeout=5)  # the cycle does not wait for the adjudication
    finally:
        gate.go.set()
    assert batch.outcome() == 6
    assert first.claims_paid == 2
    second = funding_services.payment_cycle_run(today=day("2026-02-04"))
    assert second.claims_paid == 4
    assert funding_services.payment_cycle_run(today=day("2026-02-05")) is None
    assert [fresh(c).state for c in claims] == ["paid"] * 6
    assert Payment.objects.count() == Payment.objects.values("claim_id").distinct().count() == 6
    paid = Claim.objects.filter(pk__in=[c.pk for c in claims]).aggregate(t=Sum("plan_paid"))["t"]
    assert balance(K.PROVIDER, provider=w.mercy) == paid
    assert_ledger_balanced()


def test_a_copy_committed_after_its_twin_was_adjudicated_is_the_duplicate(transactional_db, monkeypatch):
    """Two submissions of one service: the first's transaction has its id (so it is the earlier claim)
    but commits only after a batch has approved the second. The already adjudicated claim is the
    original: the next batch denies the first as its duplicate (18), and the provider is paid once."""
    w = build_world(deductible=("0", "0"), oop=("100000", "200000"))
    funding_services.sponsor_deposit(employer=w.employer, amount="100000.00", today=day("2026-02-01"))
    clock.clock_set(day=day("2026-02-02"))
    inserted, commit = threading.Event(), threading.Event()
    real_flush = claim_intake.transition_log_flush

    def flush(rows, **kwargs):  # inside claim_submit's transaction, after the claim and its lines are inserted
        if threading.current_thread().name == "slow submission":
            inserted.set()
            assert commit.wait(WAIT)
        return real_flush(rows, **kwargs)

    monkeypatch.setattr(claim_intake, "transition_log_flush", flush)
    lines = [{"code": "70551", "billed": "2500"}]
    submit = lambda: claim_services.claim_submit(  # noqa: E731
        member_id=w.alice.member_id, npi=w.mercy.npi, service_date="2026-01-10", lines=lines)
    slow = start(submit, "slow submission")
    try:
        assert inserted.wait(WAIT)
        copy = submit()  # committed at once
        assert claim_services.claims_adjudicate_pending() == 1  # the 5-minute batch: sees only the copy
    finally:
        commit.set()
    first = slow.outcome()
    assert first.pk < copy.pk and first.duplicate_key == copy.duplicate_key
    assert claim_services.claims_adjudicate_pending() == 1
    funding_services.payment_cycle_run(today=day("2026-02-03"))

    pair = [fresh(first), fresh(copy)]
    assert sorted(c.is_duplicate for c in pair) == [False, True], [(c.pk, c.state, c.is_duplicate) for c in pair]
    assert Payment.objects.filter(claim__in=pair, amount__gt=0).count() == 1


# --- Money: deposits, reimbursements and cycles --------------------------------------------------

def test_deposit_arriving_during_a_cycle_waits_then_releases_what_the_cycle_held(transactional_db, monkeypatch):
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    claims = [approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00",
                             received=day(f"2026-01-{10 + i:02d}")) for i in range(4)]
    funding_services.sponsor_deposit(employer=s.employer, amount="150.00", today=day("2026-01-15"), reference="D0")
    finished, go = threading.Event(), threading.Event()
    real_finish = funding_services._PaymentRun.finish

    def finish(self):
        cycle = real_finish(self)
        if self.kind == PaymentCycle.Kind.CYCLE:  # the cycle's rows are written, its funding request is next
            finished.set()
            assert go.wait(WAIT)
        return cycle

    monkeypatch.setattr(funding_services._PaymentRun, "finish", finish)
    cycle = start(lambda: funding_services.payment_cycle_run(today=day("2026-01-20")), "cycle")
    try:
        assert finished.wait(WAIT)
        deposit = start(lambda: funding_tasks.sponsor_deposit_record(s.employer.pk, "300.00", "D1"), "deposit")
        wait_for(lambda: lock_waiters(funding_services.FUNDING_LOCK_ID) == 1, "the deposit to wait for the cycle")
    finally:
        go.set()
    run = cycle.outcome()
    assert (run.claims_paid, run.claims_awaiting_funds) == (1, 3)
    deposit.outcome()
    assert [c.state for c in map(fresh, claims)] == ["paid"] * 4
    assert FundingRequest.objects.get().open_amount == ZERO
    assert Payment.objects.count() == 4
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("50.00")
    assert balance(K.PROVIDER, provider=mercy) == D("400.00")
    assert_ledger_balanced()


def _deliver_twice(task, *args):
    """The same message delivered twice at once (acks_late: a redelivery carries the same task id)."""
    task_id = str(uuid.uuid4())
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait(WAIT)
        return task.apply(args=args, task_id=task_id, throw=True).get()

    deliveries = [start(deliver, f"delivery {i}") for i in range(2)]
    return [d.outcome() for d in deliveries]


def test_deposit_task_without_reference_delivered_twice_deposits_once(transactional_db):
    s = make_sponsor(F.ASO)
    _deliver_twice(funding_tasks.sponsor_deposit_record, s.employer.pk, "500.00")
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("500.00"), Deposit.objects.count()
    assert Deposit.objects.count() == 1
    assert_ledger_balanced()


def test_reimbursement_task_without_reference_delivered_twice_pays_once(transactional_db):
    s = make_sponsor(F.ASC)
    approved_claim(plan=s.plan, member=s.member(), provider=make_provider(), plan_paid="1000.00")
    funding_services.payment_cycle_run(today=day("2026-01-20"))  # the carrier pays: the sponsor owes it 1,000.00
    receivable = dict(employer=s.employer, carrier=s.carrier)
    owed_before = balance(K.ASC_RECEIVABLE, **receivable)
    assert owed_before == D("1000.00")
    _deliver_twice(funding_tasks.sponsor_reimbursement_record, s.employer.pk, "300.00")
    assert SponsorPayment.objects.count() == 1
    assert balance(K.ASC_RECEIVABLE, **receivable) == owed_before - D("300.00")
    assert_ledger_balanced()
