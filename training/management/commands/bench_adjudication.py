"""Benchmark: python manage.py bench_adjudication --claims N

Builds a synthetic world (members in families, providers, the demo fee schedule) that grows with N
(about 12 claims a member a year: 80,000 members at a million claims) and N submitted claims of 1–4
lines with realistic variety (pends, duplicates, denials), then adjudicates them
through the production Celery task, in a fresh process so that its peak RSS is its own (taken when
the batch ends, before the single-claim sample). Prints as its last line:
  adjudicated N claims in S s: R claims/s, single-claim path P claims/s, peak RSS M MiB
The synthetic world is deleted afterwards unless --keep. Run it on a database of its own.
"""
import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from claims.models import Claim, ClaimLine
from claims.services import SubmittedLine, duplicate_key_for
from core.bulk import bulk_insert
from core.schema import schema_migrate_if_needed
from parties.models import Employer, Member, Provider
from parties.validators import member_id_generate, npi_with_check_digit
from plans.models import Coverage, Plan
from plans.services import fee_schedule_create, plan_create
from training.bench_data import DEMO_FEE_SCHEDULE

TAG = "BENCH"
CLAIM_FIELDS = (
    "id", "submitted_member_id", "submitted_npi", "member_id", "provider_id", "plan_id", "service_date",
    "received_date", "state", "duplicate_key", "rejection_field", "rejection_message", "adjudication_round",
    "is_duplicate", "family_coverage", "reason_codes", "billed", "allowed", "deductible", "copay", "coinsurance",
    "not_covered", "balance_billed", "plan_paid", "member_responsibility", "provider_write_off",
)
LINE_FIELDS = ("claim_id", "line_number", "procedure_code", "units", "billed")
ZERO = Decimal("0.00")
CHUNK = 10_000
# A member files about 12 claims a year (the service dates span about a year), as in a real book of business.
CLAIMS_PER_MEMBER = 12.5
SPAN_DAYS = 330  # the claims arrive over this many days before today


def _peak_rss_mib() -> float:
    """This process's peak resident set size. Linux's `getrusage` maximum survives `exec`: a measuring
    process started by the one that built the world would report the builder's size (188 MiB at a
    million claims, whatever the batch used). The address space's own high-water mark (VmHWM) starts
    afresh at `exec`."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _max_id(model) -> int:
    with connection.cursor() as c:
        c.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")
        return c.fetchone()[0]


def _sync_sequence(model) -> None:
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        with connection.cursor() as c:
            c.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))")


class SyntheticWorld:
    """Three sponsors (ASO, ASC, fully insured), members in families, providers, claims."""

    def __init__(self, *, seed: int, members: int, providers: int):
        self.rng = random.Random(seed)
        self.n_members = members
        self.n_providers = providers

    def build(self) -> None:
        rng = self.rng
        from parties.services import carrier_create

        self.carrier = carrier_create(name=f"{TAG} Carrier")
        self.schedule = fee_schedule_create(name=f"{TAG} fee schedule {time.time_ns()}", entries=DEMO_FEE_SCHEDULE)
        self.codes = [(code, spec["category"], Decimal(str(spec["fee"]))) for code, spec in DEMO_FEE_SCHEDULE.items()]
        self.plans = []
        for funding, oon in (("ASO", True), ("ASC", False), ("FULLY_INSURED", True)):
            employer = Employer.objects.create(name=f"{TAG} {funding} sponsor")
            self.plans.append(plan_create(
                sponsor=employer, name=f"{TAG} {funding} plan", funding=funding, fee_schedule=self.schedule,
                carrier=None if funding == "ASO" else self.carrier, year_start=datetime.date(2026, 1, 1),
                deductible_individual=Decimal("1000"), deductible_family=Decimal("2000"),
                oop_max_individual=Decimal("4000"), oop_max_family=Decimal("8000"), coinsurance=Decimal("0.20"),
                copays={"office_visit": Decimal("30"), "emergency": Decimal("150")}, excluded=["cosmetic"],
                oon_covered=oon, oon_coinsurance=Decimal("0.40") if oon else None,
            ))
        taken = set(Provider.objects.values_list("npi", flat=True))
        providers = []
        n = 0
        while len(providers) < self.n_providers:
            npi = npi_with_check_digit(f"17{n:07d}")
            n += 1
            if npi in taken:
                continue
            providers.append(Provider(name=f"{TAG} provider {len(providers)}", npi=npi,
                                      network="out" if len(providers) % 10 == 0 else "in"))
        self.providers = Provider.objects.bulk_create(providers)
        # Families: a subscriber with 0-3 dependents, until the member count is reached.
        ids = set()
        subscribers, dependents = [], []
        count = 0
        while count < self.n_members:
            plan = self.plans[rng.randrange(3)]
            start = datetime.date(2026, 3, 1) if rng.random() < 0.1 else datetime.date(2025, 1, 1)
            sub = Member(member_id=self._member_id(ids), employer_id=plan.sponsor_id, name=f"{TAG} subscriber {count}",
                         date_of_birth=datetime.date(1970 + rng.randrange(30), 1 + rng.randrange(12), 1))
            subscribers.append((sub, plan, start))
            count += 1
            for _ in range(rng.choice((0, 0, 1, 2, 3))):
                if count >= self.n_members:
                    break
                dependents.append((sub, plan, Member(member_id=self._member_id(ids), employer_id=plan.sponsor_id,
                                                     relationship="child", name=f"{TAG} dependent {count}",
                                                     date_of_birth=datetime.date(2010, 1, 1))))
                count += 1
        Member.objects.bulk_create([s for s, _, _ in subscribers], batch_size=2000)
        for sub, _, dep in dependents:
            dep.subscriber_id = sub.pk
        Member.objects.bulk_create([d for _, _, d in dependents], batch_size=2000)
        Coverage.objects.bulk_create(
            [Coverage(member=s, plan=p, start=start) for s, p, start in subscribers]
            + [Coverage(member=d, plan=p) for _, p, d in dependents], batch_size=2000,
        )
        start_of = {s.pk: start for s, _, start in subscribers}
        self.members = [(s.pk, s.member_id, p.pk, start_of[s.pk]) for s, p, _ in subscribers] + [
            (d.pk, d.member_id, p.pk, start_of[sub.pk]) for sub, p, d in dependents
        ]

    @staticmethod
    def _member_id(ids: set) -> str:
        while True:
            mid = member_id_generate()
            if mid not in ids:
                ids.add(mid)
                return mid

    def claims(self, n: int, *, first_id: int, today: datetime.date):
        """Yield (claim row, line rows) for n claims, with pends, duplicates and denials among them.

        As in production, a claim's id follows its received date (both are taken at submission): the
        claims arrive day by day over the 330 days before `today`, each for a service up to 19 days
        before it arrived."""
        rng = self.rng
        recent = []
        cheap = [c for c in self.codes if c[1] not in ("surgery", "inpatient")]
        dear = [c for c in self.codes if c[1] in ("surgery", "inpatient")]
        first_day = today - datetime.timedelta(days=SPAN_DAYS)
        for i in range(n):
            cid = first_id + i
            received = first_day + datetime.timedelta(days=i * SPAN_DAYS // n)
            if recent and rng.random() < 0.02:  # an exact duplicate of a recent claim
                member, provider, service, lines = rng.choice(recent)
            else:
                member = rng.choice(self.members)
                provider = rng.choice(self.providers)
                service = received - datetime.timedelta(days=rng.randrange(0, 20))
                if rng.random() < 0.03:  # high-dollar: pended for review
                    code, cat, fee = rng.choice(dear)
                    lines = [SubmittedLine(code=code, units=1, billed=(fee * Decimal("1.6")).quantize(Decimal("0.01")))]
                else:
                    lines = []
                    for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
                        code, cat, fee = rng.choice(cheap)
                        units = 1 if rng.random() < 0.9 else 2
                        factor = Decimal(rng.randrange(80, 220)) / 100
                        lines.append(SubmittedLine(code=code, units=units, billed=(fee * units * factor).quantize(Decimal("0.01"))))
                recent.append((member, provider, service, lines))
                if len(recent) > 500:
                    recent.pop(0)
            member_pk, member_id, plan_id, _ = member
            key = duplicate_key_for(provider_id=provider.pk, member_id=member_pk, service_date=service, lines=lines)
            billed = sum((ln.billed for ln in lines), ZERO)
            row = (cid, member_id, provider.npi, member_pk, provider.pk, plan_id, service, received, "submitted", key,
                   "", "", 0, False, False, "", billed, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO, ZERO)
            yield row, [(cid, j + 1, ln.code, ln.units, ln.billed) for j, ln in enumerate(lines)]

    def insert_claims(self, n: int, *, today: datetime.date) -> list[int]:
        first = _max_id(Claim) + 1
        gen = self.claims(n, first_id=first, today=today)
        done = 0
        while done < n:
            size = min(CHUNK, n - done)
            claim_rows, line_rows = [], []
            for _ in range(size):
                row, lines = next(gen)
                claim_rows.append(row)
                line_rows.extend(lines)
            with transaction.atomic():
                bulk_insert(Claim, CLAIM_FIELDS, claim_rows)
                bulk_insert(ClaimLine, LINE_FIELDS, line_rows)
            done += size
        _sync_sequence(Claim)
        return list(range(first, first + n))


def world_delete() -> None:
    """Remove everything the benchmark made (raw deletes: the ORM's cascade collector is too slow here)."""
    with transaction.atomic(), connection.cursor() as c:
        plan_ids = list(Plan.objects.filter(name__startswith=TAG).values_list("id", flat=True))
        if not plan_ids:
            return
        from funding.models import Payment

        if Payment.objects.filter(claim__plan_id__in=plan_ids).exists():
            # The ledger is append-only (database triggers): a paid world stays where it is.
            raise CommandError("this database holds a benchmark world that was paid (bench_admin_lists --pay): "
                               "its ledger cannot be deleted; use a fresh database")
        claim_sub = "SELECT id FROM claims_claim WHERE plan_id = ANY(%s)"
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(Claim).pk
        if connection.vendor == "postgresql":
            c.execute(f"DELETE FROM django_fsm_log_statelog WHERE content_type_id = %s AND object_id IN ({claim_sub})", [ct, plan_ids])
            for table in ("claims_lineresult", "claims_claimline"):
                c.execute(f"DELETE FROM {table} WHERE claim_id IN ({claim_sub})", [plan_ids])
            c.execute("DELETE FROM claims_claim WHERE plan_id = ANY(%s)", [plan_ids])
            c.execute("DELETE FROM claims_accumulator WHERE plan_id = ANY(%s)", [plan_ids])
        else:
            claims = Claim.objects.filter(plan_id__in=plan_ids)
            from django_fsm_log.models import StateLog

            StateLog.objects.filter(content_type_id=ct, object_id__in=claims.values("id"))._raw_delete("default")
            from claims.models import Accumulator, LineResult

            LineResult.objects.filter(claim__in=claims)._raw_delete("default")
            ClaimLine.objects.filter(claim__in=claims)._raw_delete("default")
            claims._raw_delete("default")
            Accumulator.objects.filter(plan_id__in=plan_ids)._raw_delete("default")
    members = Member.objects.filter(name__startswith=TAG)
    Coverage.objects.filter(member__in=members).delete()
    Member.objects.filter(name__startswith=TAG, subscriber__isnull=False).delete()
    members.delete()
    schedules = list(Plan.objects.filter(name__startswith=TAG).values_list("fee_schedule_id", flat=True))
    for plan in Plan.objects.filter(name__startswith=TAG):
        plan.category_benefits.all().delete()
        plan.delete()
    from plans.models import FeeSchedule

    FeeSchedule.objects.filter(pk__in=schedules).delete()
    Employer.objects.filter(name__startswith=TAG).delete()
    Provider.objects.filter(name__startswith=TAG).delete()
    from parties.models import Carrier

    Carrier.objects.filter(name__startswith=TAG).delete()


class Command(BaseCommand):
    help = "Benchmark batch auto-adjudication through the production task."

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=int, default=10_000)
        parser.add_argument("--members", type=int, default=None,
                            help=f"default: about {CLAIMS_PER_MEMBER} claims a member (N / {CLAIMS_PER_MEMBER})")
        parser.add_argument("--providers", type=int, default=200)
        parser.add_argument("--sample", type=int, default=200, help="claims adjudicated one by one (single-claim path)")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--keep", action="store_true", help="keep the synthetic world")
        parser.add_argument("--here", action="store_true",
                            help="measure in this process, in the caller's transaction if any (tests); "
                                 "peak RSS is then this whole process's")
        parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args, **opts):
        if opts["measure"]:
            print(json.dumps(self._measure(opts)))
            return
        from core import clock

        if opts["members"] is None:
            opts["members"] = max(50, round(opts["claims"] / CLAIMS_PER_MEMBER))
        schema_migrate_if_needed(out=self.stderr)
        today = clock.today()
        world_delete()
        world = SyntheticWorld(seed=opts["seed"], members=opts["members"], providers=opts["providers"])
        t0 = time.perf_counter()
        with transaction.atomic():
            world.build()
        world.insert_claims(opts["claims"], today=today)
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # As a production database would be: vacuumed, with statistics.
            with connection.cursor() as c:
                for table in ("claims_claim", "claims_claimline", "claims_lineresult", "claims_accumulator",
                              "django_fsm_log_statelog", "parties_member", "plans_coverage"):
                    c.execute(f"VACUUM ANALYZE {table}")
                # The world's own pages written out now, not by a checkpoint in the middle of the timing.
                c.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")  # CHECKPOINT's right
                if c.fetchone()[0]:
                    c.execute("CHECKPOINT")
        self.stdout.write(f"built {opts['members']} members, {opts['providers']} providers, {opts['claims']} claims "
                          f"in {time.perf_counter() - t0:.1f} s ({connection.vendor})")
        self.stdout.flush()
        manage = os.path.join(settings.BASE_DIR, "manage.py")
        try:
            if opts["here"]:
                result = self._measure(opts)
            else:
                out = subprocess.run(
                    [sys.executable, manage, "bench_adjudication", "--measure", "--sample", str(opts["sample"]),
                     "--seed", str(opts["seed"]), "--members", str(opts["members"]),
                     "--providers", str(opts["providers"])],
                    check=True, capture_output=True, text=True, env={**os.environ, "DJANGO_DEBUG": "0"},
                )
                result = json.loads(out.stdout.strip().splitlines()[-1])
        except subprocess.CalledProcessError as exc:
            self.stderr.write(exc.stdout + exc.stderr)
            if not opts["keep"]:
                world_delete()
            raise
        counts = result["states"]
        self.stdout.write("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        n = result["adjudicated"]
        self.stdout.write(
            f"adjudicated {n} claims in {result['seconds']:.2f} s: {n / result['seconds']:,.0f} claims/s, "
            f"single-claim path {result['single_rate']:,.0f} claims/s, peak RSS {result['peak_rss_mib']:.0f} MiB"
        )
        self.stdout.flush()
        if not opts["keep"]:
            world_delete()

    def _measure(self, opts):
        from claims.services import claim_adjudicate
        from claims.tasks import adjudicate_pending_claims
        from core import clock

        pending = Claim.objects.filter(state="submitted").count()
        t0 = time.perf_counter()
        adjudicate_pending_claims.apply(throw=True)  # the production task, run in this process
        seconds = time.perf_counter() - t0
        peak = _peak_rss_mib()  # the batch's, before the sample below
        from django.db.models import Count

        states = {s: c for s, c in Claim.objects.filter(plan__name__startswith=TAG).values_list("state")
                  .annotate(n=Count("id")).values_list("state", "n")}
        # Single-claim path: a sample of new claims adjudicated one by one, each in its own transaction.
        world = SyntheticWorld(seed=opts["seed"] + 1, members=0, providers=0)
        world.providers = list(Provider.objects.filter(name__startswith=TAG))
        world.members = [  # a few thousand members are enough to draw the sample's claims from
            (pk, mid, plan_id, None)
            for pk, mid, plan_id in Coverage.objects.filter(member__name__startswith=TAG).order_by("pk")
            .values_list("member_id", "member__member_id", "plan_id")[:5000]
        ]
        world.codes = [(c, s["category"], Decimal(str(s["fee"]))) for c, s in DEMO_FEE_SCHEDULE.items()]
        ids = world.insert_claims(opts["sample"], today=clock.today())
        t1 = time.perf_counter()
        for cid in ids:
            claim_adjudicate(claim_id=cid)
        single = len(ids) / (time.perf_counter() - t1)
        return {"adjudicated": pending, "seconds": seconds, "single_rate": single, "peak_rss_mib": peak,
                "states": states}
