"""The money jobs on a REAL Celery worker (a `celery -A config worker` subprocess: prefork pool, concurrency 1,
prefetch 1 from the settings) over the real broker, against the test database (PostgreSQL: the worker is
another process, so the tests are transactional).

- The job chain end to end: the payment cycle, its stop-loss follow-up (enqueued on commit),
  reimbursement billing, fee billing, a deposit delivered twice.
- The pool's child killed with SIGKILL in the middle of a payment cycle: the ONE message sent comes back
  by itself (acks_late + reject_on_worker_lost: the main process requeues it) and completes within a
  bound: every claim paid once, nothing of the killed attempt kept, the ledger balanced. With either
  setting switched off in the worker (`-- task_annotations=...`, the tasks' own attribute overridden)
  the same kill loses the message: no copy left in the broker, nothing paid.
- The whole worker killed (main process and child at once, as when its host dies: nothing is left to
  reject the message): the message stays unacknowledged in Redis until its visibility timeout
  (`CELERY_VISIBILITY_TIMEOUT`); a second worker started with a short one restores it at its start and
  completes it within a bound.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F as DbF
from django_fsm_log.models import StateLog

from claims.models import Claim
from funding import services, tasks
from funding.models import (
    Account,
    Deposit,
    FeeBilling,
    LedgerTransaction,
    Payment,
    PaymentCycle,
    ReimbursementInvoice,
    RemittanceAdvice,
    StopLossFiling,
)
from plans.services import stop_loss_policy_create
from tests.factories import CarrierFactory
from tests.funding.helpers import (
    D,
    F,
    approved_claim,
    assert_ledger_balanced,
    balance,
    day,
    insert_approved_claims,
    make_provider,
    make_sponsor,
)

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
K = Account.Kind
ROOT = Path(__file__).resolve().parents[2]
VISIBILITY_TIMEOUT_ENV = "CELERY_VISIBILITY_TIMEOUT"  # read by config/settings/base.py
GUARANTEES = ("acks_late", "reject_on_worker_lost")
PAYMENT_CYCLE = "funding.tasks.payment_cycle"

# The bounds the redelivery must keep (seconds). A requeued message is taken again by the same worker at
# once (measured: half a second after the main process reports the lost child, which it does within
# 0.2-4 s of the kill); the redelivered cycle (2,000 claims in chunks of 3) takes 6-12 s.
REDELIVERY_BOUND = 10
COMPLETION_BOUND = 90


def _database_url() -> str:
    s = connection.settings_dict
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{s['NAME']}"


def _redis():
    import redis

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


def _clear_broker() -> None:
    """Nothing left from an earlier run in this test's broker: ready messages nor unacknowledged ones
    (a message whose worker was killed waits there to be redelivered)."""
    from config.celery import app

    if settings.CELERY_BROKER_URL.startswith("redis"):
        client = _redis()
        client.delete("unacked", "unacked_index", "unacked_mutex")
        client.close()
    app.control.purge()


def _copies_in_broker(task_id: str) -> dict:
    """Where Redis holds the message of `task_id`: how many copies wait in a queue (`ready`), and the
    delivery times (epoch seconds) of the copies a worker took and has not acknowledged (`unacked`: kombu's
    `unacked` hash and its `unacked_index` sorted set, which `restore_visible` sweeps)."""
    client = _redis()
    try:
        ready = 0
        for key in client.scan_iter(count=1000):
            if client.type(key) == b"list":
                ready += sum(json.loads(raw).get("headers", {}).get("id") == task_id
                             for raw in client.lrange(key, 0, -1))
        unacked = []
        for tag, raw in client.hgetall("unacked").items():
            payload = json.loads(raw)[0]
            if payload.get("headers", {}).get("id") == task_id:
                unacked.append(client.zscore("unacked_index", tag))
    finally:
        client.close()
    return {"ready": ready, "unacked": unacked}


class Worker:
    """`celery -A config worker` as production runs it (the prefork pool; one child here), in a session
    of its own: `kill_child()` kills the pool's child only, `kill_all()` the main process and its child
    at once (a host that dies). `config` goes after `--` (Celery's command-line configuration)."""

    def __init__(self, tmp_path: Path, *, env: dict | None = None, config: tuple[str, ...] = ()):
        worker_env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
                      "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1"}
        worker_env.pop(VISIBILITY_TIMEOUT_ENV, None)  # the settings' default unless the test sets one
        worker_env.update(env or {})
        self.name = f"funding-test-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
        self.log_path = tmp_path / f"worker-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
                   "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info", "-n", self.name]
        if config:
            command += ["--", *config]
        self.proc = subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.wait_for_log("ready.", timeout=90)
        self.ready_at = time.monotonic()
        assert "concurrency: 1 (prefork)" in self.text()

    def text(self) -> str:
        return self.log_path.read_text()

    def count(self, needle: str) -> int:
        return self.text().count(needle)

    def wait_for_log(self, needle: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({self.proc.returncode}):\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} from the worker in {timeout} s:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def pool_children(self) -> list[int]:
        """The pids whose parent is the main process: the prefork pool's children."""
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid:
                children.append(int(stat.parent.name))
        return children

    def kill_child(self) -> int:
        children = self.pool_children()
        assert len(children) == 1, f"one pool child expected, found {children}"
        os.kill(children[0], signal.SIGKILL)
        return children[0]

    def kill_all(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def inspect(self):
        from config.celery import app

        return app.control.inspect(destination=[self.name], timeout=5, limit=1)

    def task_options(self, name: str) -> dict:
        """The delivery options the worker runs `name` with (remote control: `inspect registered`)."""
        reply = self.inspect().registered(*GUARANTEES) or {}
        line = next(t for t in reply.get(self.name, []) if t.startswith(f"{name} "))
        return {k: v == "True" for k, v in (item.split("=") for item in line.split("[", 1)[1].rstrip("]").split())}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def start_worker(tmp_path):
    _clear_broker()
    started = []

    def start(**kwargs) -> Worker:
        w = Worker(tmp_path, **kwargs)
        started.append(w)
        return w

    yield start
    for w in started:
        w.stop()
    _clear_broker()


def wait_until(check, *, timeout: float = 90, what: str = "", worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            log = worker.text()[-4000:] if worker else ""
            raise AssertionError(f"timed out waiting for {what}\n{log}")
        time.sleep(0.25)


def test_the_job_chain_runs_end_to_end_on_a_real_worker(start_worker):
    aso = make_sponsor(F.ASO, admin_fee_pepm=D("45.00"))
    asc = make_sponsor(F.ASC, admin_fee_pepm=D("40.00"))
    fi = make_sponsor(F.FULLY_INSURED, premium_pepm=D("600.00"))
    stop_loss_policy_create(plan=aso.plan, carrier=CarrierFactory(), start=day("2026-01-01"), contract="12/12",
                            specific_attachment=D("1000.00"))
    mercy = make_provider()
    from core.clock import clock_set

    clock_set(day=day("2026-02-02"))
    with transaction.atomic():
        services.sponsor_deposit(employer=aso.employer, amount="2000.00", today=day("2026-02-01"))
    big = approved_claim(plan=aso.plan, member=aso.member(), provider=mercy, plan_paid="1500.00",
                         received="2026-02-01", service="2026-01-30")
    asc_claim = approved_claim(plan=asc.plan, member=asc.member(), provider=mercy, plan_paid="300.00",
                               received="2026-02-01")
    fi_claim = approved_claim(plan=fi.plan, member=fi.member(), provider=mercy, plan_paid="200.00",
                              received="2026-02-01")
    worker = start_worker()

    tasks.payment_cycle.delay()
    wait_until(lambda: StopLossFiling.objects.exists(), what="the stop-loss follow-up of the cycle", worker=worker)
    tasks.reimbursement_billing.delay()
    tasks.fee_billing.delay()
    tasks.sponsor_deposit_record.delay(aso.employer.pk, "250.00", "EFT-77")
    tasks.sponsor_deposit_record.delay(aso.employer.pk, "250.00", "EFT-77")  # delivered twice: one deposit
    tasks.stop_loss_evaluation.delay()
    wait_until(lambda: worker.text().count("succeeded") >= 7, what="seven tasks to succeed", worker=worker)

    assert set(Claim.objects.filter(pk__in=[big.pk, asc_claim.pk, fi_claim.pk]).values_list("state", flat=True)) == {
        "paid"}
    assert set(Claim.objects.filter(pk__in=[big.pk]).values_list("paid_on", flat=True)) == {day("2026-02-02")}
    filing = StopLossFiling.objects.get()
    assert (filing.member_id, filing.amount) == (aso.member().pk, D("500.00"))
    assert list(ReimbursementInvoice.objects.values_list("employer_id", "amount")) == [(asc.employer.pk, D("300.00"))]
    assert sorted(FeeBilling.objects.values_list("plan_id", "amount")) == sorted(
        [(aso.plan.pk, D("45.00")), (asc.plan.pk, D("40.00")), (fi.plan.pk, D("600.00"))])
    assert Deposit.objects.filter(reference="EFT-77").count() == 1
    assert balance(K.SPONSOR_CLAIMS, employer=aso.employer) == D("2000.00") - D("1500.00") + D("500.00") + D("250.00")
    assert StopLossFiling.objects.count() == 1  # the second evaluation found nothing new
    assert "Traceback" not in worker.text()
    assert_ledger_balanced()


# --- A worker killed in the middle of a payment cycle ---------------------------------------------

N_CLAIMS = 2000
CHUNK_SIZE = 3  # 667 chunks: a cycle slow enough to kill in the middle (it takes 6-12 s; the kill comes after 1 s)
DEPOSIT = D("1000000.00")  # covers every ASO claim: each claim is paid


class World:
    """Approved claims under the three arrangements, five providers, an ASO deposit that covers them all;
    what a complete payment cycle must leave, computed from the claims as they were made."""

    def __init__(self):
        self.sponsors = {f: make_sponsor(f) for f in (F.ASO, F.ASC, F.FULLY_INSURED)}
        self.providers = [make_provider().pk for _ in range(5)]
        sponsors = list(self.sponsors.values())
        specs = [(sponsors[i % 3].member(), self.providers[i % len(self.providers)], sponsors[i % 3].plan,
                  D(f"{1 + i % 97}.{i % 100:02d}"), day("2026-01-11")) for i in range(N_CLAIMS)]
        with transaction.atomic():
            insert_approved_claims(specs)  # straight into the table (setup, as the bench does)
        self.total = sum((s[3] for s in specs), D("0.00"))
        self.by_provider, self.by_plan = defaultdict(lambda: D("0.00")), defaultdict(lambda: D("0.00"))
        for _, provider_id, plan, amount, _ in specs:
            self.by_provider[provider_id] += amount
            self.by_plan[plan.pk] += amount
        with transaction.atomic():
            services.sponsor_deposit(employer=self.sponsors[F.ASO].employer, amount=str(DEPOSIT),
                                     today=day("2026-01-12"))
        self.payment_id_before = self._last_payment_id()

    @staticmethod
    def _last_payment_id() -> int:
        """The payment id sequence's last value (sequences are not rolled back: ids a killed attempt
        took stay taken)."""
        with connection.cursor() as cursor:
            cursor.execute("SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('funding_payment', 'id')), 0)")
            return cursor.fetchone()[0]

    def assert_nothing_paid(self) -> None:
        assert Payment.objects.count() == 0
        assert PaymentCycle.objects.count() == 0
        assert RemittanceAdvice.objects.count() == 0
        assert Claim.objects.filter(state="approved").count() == N_CLAIMS
        assert not StateLog.objects.filter(state="paid").exists()
        assert LedgerTransaction.objects.exclude(kind=LedgerTransaction.Kind.DEPOSIT).count() == 0
        assert balance(K.SPONSOR_CLAIMS, employer=self.sponsors[F.ASO].employer) == DEPOSIT
        assert_ledger_balanced()

    def assert_paid_once(self) -> None:
        """One cycle paid every claim, each exactly once, for its plan_paid, and nothing of another
        (killed) attempt is left: its payments' ids were taken and are gone, its cycle is not there."""
        cycle = PaymentCycle.objects.get()  # one cycle: the killed attempt left none
        assert (cycle.claims_paid, cycle.amount_paid, cycle.claims_awaiting_funds) == (N_CLAIMS, self.total, 0)
        assert cycle.finished_at is not None
        # Every claim paid, none left approved (or awaiting funds), each with its one payment.
        assert Claim.objects.count() == N_CLAIMS
        assert Claim.objects.exclude(state="paid").count() == 0
        assert Claim.objects.filter(payment__isnull=True).count() == 0
        assert Payment.objects.count() == N_CLAIMS
        assert Payment.objects.exclude(amount=DbF("claim__plan_paid")).count() == 0
        assert sum(Payment.objects.values_list("amount", flat=True)) == self.total
        assert sum(Claim.objects.values_list("plan_paid", flat=True)) == self.total
        assert Payment.objects.exclude(remittance__cycle=cycle).count() == 0
        # Each claim moved to `paid` once, by this cycle (a transition of the killed attempt would name its cycle).
        paid_log = StateLog.objects.filter(content_type=ContentType.objects.get_for_model(Claim), state="paid")
        assert paid_log.count() == N_CLAIMS
        assert paid_log.values("object_id").distinct().count() == N_CLAIMS
        assert set(paid_log.values_list("description", flat=True)) == {f"paid in payment cycle {cycle.pk}"}
        # The killed attempt did write payments (their ids were taken: sequences do not roll back), and
        # none of them is kept: every payment is this cycle's (above), none has an id the killed one took.
        first_id = min(Payment.objects.values_list("id", flat=True))
        assert first_id > self.payment_id_before + 1, "the kill came before the first payment was written"
        # The money: each provider got its claims' total; each payer paid its claims' total, once.
        assert {p: balance(K.PROVIDER, provider_id=p) for p in self.providers} == dict(self.by_provider)
        aso, asc, fi = (self.sponsors[f] for f in (F.ASO, F.ASC, F.FULLY_INSURED))
        assert balance(K.SPONSOR_CLAIMS, employer=aso.employer) == DEPOSIT - self.by_plan[aso.plan.pk]
        assert balance(K.CARRIER, carrier=asc.carrier) == -self.by_plan[asc.plan.pk]
        assert balance(K.ASC_RECEIVABLE, employer=asc.employer, carrier=asc.carrier) == self.by_plan[asc.plan.pk]
        assert balance(K.CARRIER, carrier=fi.carrier) == -self.by_plan[fi.plan.pk]
        remittances = RemittanceAdvice.objects.filter(cycle=cycle)
        assert remittances.count() == RemittanceAdvice.objects.count() == 3 * len(self.providers)
        assert LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.CLAIM_PAYMENT).count() == remittances.count()
        assert_ledger_balanced()


def _cycle_in_progress() -> bool:
    """Another backend holds the funding lock: a payment cycle is running, uncommitted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted "
                       "AND pid <> pg_backend_pid() "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       [services.FUNDING_LOCK_ID])
        return cursor.fetchone()[0] > 0


def _send_one_cycle_and_wait_until_it_runs(worker: Worker) -> str:
    """Send THE one payment-cycle message of the test; return its task id once the worker is in the
    middle of the cycle (it holds the funding lock and has been paying for a while)."""
    task_id = tasks.payment_cycle.apply_async(kwargs={"chunk_size": CHUNK_SIZE}).id
    wait_until(_cycle_in_progress, timeout=60, what="the cycle to start", worker=worker)
    time.sleep(0.7)
    assert _cycle_in_progress(), "the cycle ended before the kill: make it slower"
    assert worker.count(f"[{task_id}] received") == 1
    return task_id


def _switched_off(names: tuple[str, ...]) -> tuple[str, ...]:
    """Celery command-line configuration for a worker that runs every task with `names` off: the tasks
    set acks_late and reject_on_worker_lost themselves (funding/tasks.py, claims/tasks.py), which wins
    over task_* settings, so the override is a task annotation (applied over the task's own attributes)."""
    annotations = json.dumps({"*": dict.fromkeys(names, False)})
    return (f"task_annotations=(json){annotations}", *(f"task_{name}=false" for name in names))


def test_a_pool_child_killed_mid_cycle_gets_the_same_message_back_and_completes_it(start_worker):
    world = World()
    worker = start_worker()
    assert worker.task_options(PAYMENT_CYCLE) == {"acks_late": True, "reject_on_worker_lost": True}
    assert worker.inspect().stats()[worker.name]["prefetch_count"] == 1
    task_id = _send_one_cycle_and_wait_until_it_runs(worker)
    assert _copies_in_broker(task_id)["unacked"], "taken by the worker, not acknowledged (acks_late)"

    killed_at = time.monotonic()
    worker.kill_child()
    worker.wait_for_log("WorkerLostError", timeout=30)
    lost_at = time.monotonic()
    assert worker.proc.poll() is None, "the main process lives on: only the pool's child was killed"

    # Nothing purged, nothing sent: the main process requeued the message and takes it again.
    wait_until(lambda: worker.count(f"[{task_id}] received") == 2, timeout=REDELIVERY_BOUND,
               what="the killed message to be received again", worker=worker)
    redelivered_after = time.monotonic() - lost_at
    # While the redelivered cycle runs, nothing of the killed attempt is visible (it was rolled back).
    if _cycle_in_progress():
        payments_meanwhile = Payment.objects.count()
        if _cycle_in_progress():
            assert payments_meanwhile == 0
    wait_until(lambda: f"[{task_id}] succeeded" in worker.text(), timeout=COMPLETION_BOUND,
               what="the redelivered cycle to succeed", worker=worker)
    completed_after = time.monotonic() - killed_at
    print(f"redelivered {redelivered_after:.1f} s after the worker saw its child lost "
          f"({lost_at - killed_at:.1f} s after the kill), completed {completed_after:.1f} s after the kill")

    # The same message twice: received twice, succeeded once, and no other payment-cycle message ran.
    assert worker.count(f"{PAYMENT_CYCLE}[") == worker.count(f"{PAYMENT_CYCLE}[{task_id}]") == 3
    assert worker.count(f"[{task_id}] received") == 2
    assert worker.count(f"[{task_id}] succeeded") == 1
    assert _copies_in_broker(task_id) == {"ready": 0, "unacked": []}  # acknowledged after the success
    assert "IntegrityError" not in worker.text()
    world.assert_paid_once()


@pytest.mark.parametrize("off", [("acks_late",), ("reject_on_worker_lost",)], ids=lambda off: f"{off[0]}-off")
def test_without_either_delivery_setting_the_killed_message_is_lost(start_worker, off):
    """What the test above shows depends on both settings: with either one off in the worker, the same
    kill loses the message (acknowledged at its receipt, or at the worker's loss) and nothing is paid."""
    world = World()
    worker = start_worker(config=_switched_off(off))
    expected = {name: name not in off for name in GUARANTEES}
    assert worker.task_options(PAYMENT_CYCLE) == expected  # the switch reached the worker's task
    task_id = _send_one_cycle_and_wait_until_it_runs(worker)

    worker.kill_child()
    worker.wait_for_log("WorkerLostError", timeout=30)
    lost_at = time.monotonic()
    assert worker.proc.poll() is None
    # The broker has no copy left: nothing can ever redeliver it (one message was sent, nothing purged).
    wait_until(lambda: _copies_in_broker(task_id) == {"ready": 0, "unacked": []}, timeout=10,
               what="the broker to drop the message", worker=worker)
    # Given the bound the test above keeps, it is not received again; nothing is paid.
    time.sleep(max(0.0, REDELIVERY_BOUND - (time.monotonic() - lost_at)))
    assert worker.count(f"[{task_id}] received") == 1
    assert f"[{task_id}] succeeded" not in worker.text()
    assert not _cycle_in_progress()
    world.assert_nothing_paid()


def test_a_whole_worker_killed_mid_cycle_leaves_the_message_to_the_next_worker_after_the_visibility_timeout(
        start_worker):
    """A host that dies (the main process and its child at once): nothing rejects the message, it stays
    unacknowledged in Redis. kombu's `restore_visible` puts back the messages delivered more than
    `visibility_timeout` seconds ago; a worker runs it when it starts (then every
    unacked_restore_interval x unacked_restore_throttle seconds, 100 s by default). A second worker with a
    short CELERY_VISIBILITY_TIMEOUT, started once the message is older than that, restores the same
    message at its start and completes it."""
    # Longer than the restored cycle runs, so it is not restored a second time while it runs (nor could it be
    # within COMPLETION_BOUND: the second worker sweeps at its start, then 100 s later).
    short_timeout = 15
    world = World()
    worker = start_worker()
    task_id = _send_one_cycle_and_wait_until_it_runs(worker)
    worker.kill_all()
    assert not worker.pool_children()

    # The dead worker's connection is gone: PostgreSQL rolled its transaction back; the message waits, unacked.
    wait_until(lambda: not _cycle_in_progress(), timeout=60, what="the dead cycle's lock to go")
    world.assert_nothing_paid()
    copies = _copies_in_broker(task_id)
    assert copies["ready"] == 0 and len(copies["unacked"]) == 1, copies
    delivered_at = copies["unacked"][0]

    # Once it is older than the short timeout, a second worker with that timeout starts.
    time.sleep(max(0.0, delivered_at + short_timeout + 1 - time.time()))
    worker2 = start_worker(env={VISIBILITY_TIMEOUT_ENV: str(short_timeout)})
    wait_until(lambda: f"[{task_id}] received" in worker2.text(), timeout=REDELIVERY_BOUND,
               what="the second worker to restore and receive the message", worker=worker2)
    restored_after = time.monotonic() - worker2.ready_at
    wait_until(lambda: f"[{task_id}] succeeded" in worker2.text(), timeout=COMPLETION_BOUND,
               what="the restored cycle to succeed", worker=worker2)
    print(f"restored {restored_after:.1f} s and completed {time.monotonic() - worker2.ready_at:.1f} s "
          "after the second worker was ready")

    assert worker.count(f"{PAYMENT_CYCLE}[") == worker.count(f"[{task_id}] received") == 1
    assert worker2.count(f"{PAYMENT_CYCLE}[") == worker2.count(f"{PAYMENT_CYCLE}[{task_id}]") == 2
    assert worker2.count(f"[{task_id}] received") == worker2.count(f"[{task_id}] succeeded") == 1
    assert _copies_in_broker(task_id) == {"ready": 0, "unacked": []}
    world.assert_paid_once()
