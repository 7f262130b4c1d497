"""The money jobs on a REAL Celery worker (a `celery -A config worker` subprocess) over the real broker,
against the test database (PostgreSQL: the worker is another process, so the tests are transactional).

- The job chain end to end: the payment cycle, its stop-loss follow-up (enqueued on commit),
  reimbursement billing, fee billing, a deposit delivered twice.
- A worker killed with SIGKILL in the middle of a payment cycle: nothing of that cycle is kept, and
  the next run pays every claim exactly once; the ledger balances throughout.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, transaction

from claims.models import Claim
from funding import services, tasks
from funding.models import Account, Deposit, FeeBilling, Payment, PaymentCycle, ReimbursementInvoice, StopLossFiling
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


def _database_url() -> str:
    s = connection.settings_dict
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{s['NAME']}"


def _clear_broker() -> None:
    """Nothing left from an earlier run in this test's broker: ready messages nor unacknowledged ones
    (a message whose worker was killed waits there to be redelivered)."""
    from config.celery import app

    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        client.delete("unacked", "unacked_index", "unacked_mutex")
        client.close()
    app.control.purge()


class Worker:
    def __init__(self, tmp_path: Path):
        env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1"}
        self.log_path = tmp_path / f"worker-{time.monotonic_ns()}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info",
             "-n", f"funding-test-{os.getpid()}-{time.monotonic_ns()}@%h"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )
        self.wait_for_log("ready.", timeout=90)

    def text(self) -> str:
        return self.log_path.read_text()

    def wait_for_log(self, needle: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({self.proc.returncode}):\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} from the worker in {timeout} s:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def start_worker(tmp_path):
    _clear_broker()
    started = []

    def start() -> Worker:
        w = Worker(tmp_path)
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


def _many_approved_claims(plans_by_funding: dict, provider_ids: list, n: int) -> D:
    """n approved claims straight into the table (setup, as the bench does); returns their plan_paid total."""
    sponsors = list(plans_by_funding.values())
    specs = [(sponsors[i % 3].member(), provider_ids[i % len(provider_ids)], sponsors[i % 3].plan,
              D(f"{1 + i % 97}.{i % 100:02d}"), day("2026-01-11")) for i in range(n)]
    with transaction.atomic():
        insert_approved_claims(specs)
    return sum((s[3] for s in specs), D("0.00"))


def _cycle_in_progress() -> bool:
    """Another backend holds the funding lock: a payment cycle is running, uncommitted."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND granted "
                       "AND pid <> pg_backend_pid() "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       [services.FUNDING_LOCK_ID])
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_in_the_middle_of_a_payment_cycle_loses_nothing_and_pays_nothing_twice(start_worker):
    sponsors = {F.ASO: make_sponsor(F.ASO), F.ASC: make_sponsor(F.ASC), F.FULLY_INSURED: make_sponsor(F.FULLY_INSURED)}
    providers = [make_provider().pk for _ in range(5)]
    n = 6000
    total = _many_approved_claims(sponsors, providers, n)
    with transaction.atomic():
        services.sponsor_deposit(employer=sponsors[F.ASO].employer, amount="1000000.00", today=day("2026-01-12"))
    worker = start_worker()

    tasks.payment_cycle.delay(chunk_size=3)  # 2,000 chunks: a slow cycle to kill in the middle
    wait_until(_cycle_in_progress, timeout=60, what="the cycle to start", worker=worker)
    time.sleep(0.7)
    assert _cycle_in_progress(), "the cycle ended before the kill: make it slower"
    worker.kill()

    # The killed worker's connection is gone: PostgreSQL rolled its transaction back.
    wait_until(lambda: not _cycle_in_progress(), timeout=60, what="the dead cycle's lock to go")
    assert Payment.objects.count() == 0
    assert PaymentCycle.objects.count() == 0
    assert set(Claim.objects.values_list("state", flat=True)) == {"approved"}
    assert_ledger_balanced()

    # Run the cycle again (another worker): every claim paid exactly once.
    _clear_broker()  # the killed message would be redelivered later; run it now instead
    worker2 = start_worker()
    tasks.payment_cycle.delay()
    wait_until(lambda: Payment.objects.count() == n, timeout=120, what="every claim paid", worker=worker2)
    assert set(Claim.objects.values_list("state", flat=True)) == {"paid"}
    assert Payment.objects.values("claim_id").distinct().count() == n
    assert sum(Payment.objects.values_list("amount", flat=True)) == total
    assert sum(balance(K.PROVIDER, provider_id=p) for p in providers) == total
    assert_ledger_balanced()

    # And running it once more (as a redelivered message would) changes nothing.
    tasks.payment_cycle.delay()
    wait_until(lambda: worker2.text().count("succeeded") >= 3, what="the extra cycles", worker=worker2)
    assert Payment.objects.count() == n
    assert PaymentCycle.objects.count() == 1
    assert_ledger_balanced()
