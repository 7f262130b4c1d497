"""Benchmark the payment cycle: `python manage.py bench_payments --claims 100000`.

Builds a world of approved claims across the three arrangements (ASO sponsors funded by deposits,
one of them short so that its cycle stops and asks for funds; ASC and fully insured sponsors paid by
their carriers; 2 % of the claims with plan_paid 0.00). Setup is not measured: the claims go in with
COPY, already `approved`, and are committed. Then it pays them through the production task
(`funding.tasks.payment_cycle`, its body called in this process, committing as in a worker) and
prints as its last line:

    paid N claims in S s: R claims/s, ledger balanced: yes|no

The ledger is append-only (even for a benchmark), so by default the whole run happens in a scratch
database made for it and dropped afterwards (PostgreSQL: `<db>_bench_payments`; SQLite: a temporary
file). `--here` runs on the configured database and leaves the world in it.
"""
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from claims.models import Claim
from core import clock
from core.bulk import bulk_insert
from funding import services, tasks
from funding.models import Payment
from funding.selectors import ledger_is_balanced
from parties.models import Carrier, Employer, Member, Provider
from parties.validators import member_id_generate, npi_with_check_digit
from plans.models import FundingArrangement
from plans.services import fee_schedule_create, plan_create

F = FundingArrangement
D = Decimal


class Command(BaseCommand):
    help = "Build N approved claims across ASO, ASC and fully insured sponsors and time the payment cycle."

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=int, default=100_000, help="how many approved claims (default 100000)")
        parser.add_argument("--chunk-size", type=int, default=None, help="claims per write chunk (default 5000)")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--here", action="store_true",
                            help="run on the configured database and keep the world (default: a scratch database)")

    def handle(self, *args, claims: int, chunk_size: int | None, seed: int, here: bool, **options):
        if claims < 1:
            raise CommandError("--claims must be at least 1")
        if here:
            return self._bench(claims, chunk_size, seed)
        return self._in_scratch_database(claims, chunk_size, seed)

    def _in_scratch_database(self, claims: int, chunk_size: int | None, seed: int) -> None:
        env = dict(os.environ)
        settings_db = connection.settings_dict
        tmp = None
        if connection.vendor == "postgresql":
            name = f"{settings_db['NAME']}_bench_payments"[:63]
            user, host, port = settings_db.get("USER") or "", settings_db.get("HOST") or "", settings_db.get("PORT") or ""
            password = settings_db.get("PASSWORD") or ""
            auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
            env["DATABASE_URL"] = f"postgres://{auth}{host}{':' + str(port) if port else ''}/{name}"
            self._admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
            self._admin_sql(f'CREATE DATABASE "{name}"')
        else:
            tmp = tempfile.TemporaryDirectory(prefix="bench_payments_")
            env.pop("DATABASE_URL", None)
            env["SQLITE_PATH"] = os.path.join(tmp.name, "bench.sqlite3")
            name = env["SQLITE_PATH"]
        self.stdout.write(f"scratch database: {name}")
        manage = [sys.executable, os.path.abspath(sys.argv[0] if sys.argv[0].endswith("manage.py") else "manage.py")]
        try:
            subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True)
            args = [*manage, "bench_payments", "--here", "--claims", str(claims), "--seed", str(seed)]
            if chunk_size:
                args += ["--chunk-size", str(chunk_size)]
            run = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as exc:
            raise CommandError(f"the benchmark failed: {getattr(exc, 'stderr', '') or exc}") from None
        finally:
            if tmp is not None:
                tmp.cleanup()
            else:
                self._admin_sql(f'DROP DATABASE IF EXISTS "{name}"')
        lines = run.stdout.strip().splitlines()
        for line in lines[:-1]:
            self.stdout.write(line)
        self.stdout.write("scratch database dropped")
        self.stdout.write(lines[-1])

    @staticmethod
    def _admin_sql(sql: str) -> None:
        """CREATE/DROP DATABASE cannot run in a transaction: use a connection of its own in autocommit."""
        import psycopg

        s = connection.settings_dict
        with psycopg.connect(dbname="postgres", user=s.get("USER") or None, password=s.get("PASSWORD") or None,
                             host=s.get("HOST") or None, port=s.get("PORT") or None, autocommit=True) as conn:
            conn.execute(sql)

    def _bench(self, n: int, chunk_size: int | None, seed: int) -> None:
        with transaction.atomic():
            self._setup(n, seed)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE claims_claim")  # as autovacuum would have, long before a cycle
        before = Payment.objects.count()
        start = time.perf_counter()
        summary = tasks.payment_cycle(chunk_size=chunk_size)
        seconds = time.perf_counter() - start
        paid = Payment.objects.count() - before
        self.stdout.write(f"cycle: {summary}")
        rate = paid / seconds if seconds else float("inf")
        self.stdout.write(f"paid {paid} claims in {seconds:.2f} s: {rate:,.0f} claims/s, "
                          f"ledger balanced: {'yes' if ledger_is_balanced() else 'no'}")

    def _setup(self, n: int, seed: int) -> None:
        rng = random.Random(seed)
        today = clock.today()
        t0 = time.perf_counter()
        tag = secrets.token_hex(3)
        schedule = fee_schedule_create(name=f"bench {tag}", entries={"99213": {"category": "office_visit", "fee": 120}})
        carrier_asc = Carrier.objects.create(name=f"Bench ASC carrier {tag}")
        carrier_fi = Carrier.objects.create(name=f"Bench FI carrier {tag}")
        arrangements = [F.ASO] * 4 + [F.ASC] * 3 + [F.FULLY_INSURED] * 3
        plans = []
        for i, funding in enumerate(arrangements):
            employer = Employer.objects.create(name=f"Bench sponsor {tag}-{i}")
            carrier = {F.ASC: carrier_asc, F.FULLY_INSURED: carrier_fi}.get(funding)
            plans.append(plan_create(
                sponsor=employer, name=f"Bench plan {tag}-{i}", funding=funding, carrier=carrier, fee_schedule=schedule,
                year_start=today.replace(month=1, day=1), deductible_individual=D("500"), deductible_family=D("1000"),
                oop_max_individual=D("3000"), oop_max_family=D("6000"), coinsurance=D("0.20"),
            ))
        members = {}
        for plan in plans:
            rows = [Member(member_id=member_id_generate(), employer_id=plan.sponsor_id, name=f"Bench member {j}",
                           date_of_birth=today.replace(year=today.year - 40)) for j in range(20)]
            members[plan.pk] = [m.pk for m in Member.objects.bulk_create(rows)]
        providers = [p.pk for p in Provider.objects.bulk_create([
            Provider(name=f"Bench provider {tag}-{k}", npi=npi_with_check_digit(f"9{secrets.randbelow(10**8):08d}"))
            for k in range(50)
        ], ignore_conflicts=False)]

        fields = ("submitted_member_id", "submitted_npi", "member_id", "provider_id", "plan_id", "service_date",
                  "received_date", "state", "duplicate_key", "rejection_field", "rejection_message",
                  "adjudication_round", "is_duplicate", "family_coverage", "adjudicated_on", "reason_codes",
                  "billed", "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                  "plan_paid", "member_responsibility", "provider_write_off")
        total_by_plan = {p.pk: D("0.00") for p in plans}
        rows = []
        for i in range(n):
            plan = plans[i % len(plans)]
            plan_paid = D("0.00") if rng.random() < 0.02 else D(rng.randint(1000, 50000)) / 100
            copay = D("20.00")
            total_by_plan[plan.pk] += plan_paid
            received = today.fromordinal(today.toordinal() - rng.randint(0, 30))
            rows.append(("BENCH", "BENCH", rng.choice(members[plan.pk]), rng.choice(providers), plan.pk, received,
                         received, "approved", "", "", "", 1, False, False, received, "3",
                         plan_paid + copay, plan_paid + copay, D("0.00"), copay, D("0.00"), D("0.00"), D("0.00"),
                         plan_paid, copay, D("0.00")))
        bulk_insert(Claim, fields, rows)
        for plan, funding in zip(plans, arrangements):
            if funding == F.ASO:
                share = D("0.5") if plan is plans[0] else D("1")  # the first ASO sponsor is short: it stops
                amount = (total_by_plan[plan.pk] * share).quantize(D("0.01"))
                if amount > 0:
                    services.sponsor_deposit(employer=plan.sponsor, amount=amount, today=today)
        self.stdout.write(f"setup: {n} approved claims, 10 sponsors, 50 providers in {time.perf_counter() - t0:.1f} s")
