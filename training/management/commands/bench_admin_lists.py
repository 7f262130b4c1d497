"""Benchmark: python manage.py bench_admin_lists [--repeat 21] [--pay]

The admin's lists on the world `bench_adjudication --keep` left (run it first, on PostgreSQL): each
page requested in-process through the whole stack (middleware, the admin, templates) as a superuser,
`--repeat` times after one warm-up, and printed as a table of median, 95th percentile and worst
time with the number of queries. `--pay` first runs a payment cycle over the kept world (depositing
what the ASO sponsor is asked for), so that the payments list has rows.
"""
import statistics
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.models import Claim, LineResult
from funding import services as funding
from funding.models import Payment
from parties.models import Employer

from .bench_adjudication import TAG

USERNAME = "bench-admin"


class Command(BaseCommand):
    help = "Time the admin's claim, line-result and payment lists on the kept benchmark world."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=21)
        parser.add_argument("--pay", action="store_true", help="run a payment cycle first if nothing is paid yet")

    def handle(self, *args, **opts):
        bench_claims = Claim.objects.filter(plan__name__startswith=TAG)
        if not bench_claims.exists():
            raise CommandError("no benchmark world: run `manage.py bench_adjudication --claims N --keep` first")
        if opts["pay"] and not Payment.objects.exists():
            self._pay()
        client = Client(SERVER_NAME="localhost")
        client.force_login(self._superuser())
        pages = self._pages(bench_claims)
        self.stdout.write(f"{Claim.objects.count():,} claims, {LineResult.objects.count():,} line results, "
                          f"{Payment.objects.count():,} payments; {opts['repeat']} requests a page after a warm-up")
        self.stdout.write(f"{'page':<34} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
        for label, url in pages:
            times, queries = self._time(client, url, opts["repeat"])
            ordered = sorted(times)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            self.stdout.write(f"{label:<34} {queries:>7} {statistics.median(times):>10.1f} {p95:>8.1f} "
                              f"{max(times):>8.1f}")

    def _pages(self, bench_claims) -> list[tuple[str, str]]:
        claims = reverse("admin:claims_claim_changelist")
        member_claim = bench_claims.exclude(member=None).order_by("-id").values_list("member__member_id", flat=True)[:1]
        some = bench_claims.order_by("id").values_list("id", flat=True)[bench_claims.count() // 2]
        paid = Payment.objects.order_by("-id").values_list("claim_id", flat=True).first()
        deep = max(1, min(40, Claim.objects.count() // 50))  # the last counted page (40), or a small world's
        pages = [
            ("claim list", claims),
            (f"claim list, page {deep}", f"{claims}?p={deep}"),
            ("claims approved", f"{claims}?state__exact=approved"),
            ("claims denied", f"{claims}?state__exact=denied"),
            ("claims pended", f"{claims}?state__exact=pended"),
            ("claims paid", f"{claims}?state__exact=paid"),
            ("claims by member ID", f"{claims}?q={member_claim[0]}"),
            ("claim by claim number", f"{claims}?q=C{some:09d}"),
            ("claims of one sponsor", f"{claims}?plan__sponsor__id__exact={Employer.objects.filter(name__startswith=TAG).order_by('pk').values_list('pk', flat=True).first()}"),
            ("line results", reverse("admin:claims_lineresult_changelist")),
            ("line results, denial 96", reverse("admin:claims_lineresult_changelist") + "?denial_code=96"),
            ("line results by claim number", reverse("admin:claims_lineresult_changelist") + f"?q=C{some:09d}"),
            ("payments", reverse("admin:funding_payment_changelist")),
        ]
        if paid:
            pages.append(("payments by claim number", reverse("admin:funding_payment_changelist") + f"?q={paid}"))
        pages.append(("claim page", reverse("admin:claims_claim_change", args=[some])))
        return pages

    @staticmethod
    def _time(client: Client, url: str, repeat: int) -> tuple[list[float], int]:
        response = client.get(url)  # warm-up (and a check that the page answers)
        if response.status_code != 200:
            raise CommandError(f"{url} answered {response.status_code}")
        times = []
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
        return times, len(ctx.captured_queries)

    @staticmethod
    def _superuser():
        User = get_user_model()
        user = User.objects.filter(username=USERNAME).first()
        return user or User.objects.create_superuser(username=USERNAME, email="bench@example.com", password=None)

    def _pay(self) -> None:
        t0 = time.perf_counter()
        funding.payment_cycle_run()
        for employer in Employer.objects.filter(name__startswith=TAG):
            if funding.funding_request_open_amount(employer=employer) > 0:
                funding.sponsor_deposit(employer=employer, amount=funding.REQUESTED)
        self.stdout.write(f"paid: {Payment.objects.count():,} payments in {time.perf_counter() - t0:.1f} s")
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # As a production database would be after autovacuum: the paid claims' old row versions gone.
            with connection.cursor() as cursor:
                for table in ("claims_claim", "funding_payment", "funding_remittanceadvice", "django_fsm_log_statelog"):
                    cursor.execute(f"VACUUM ANALYZE {table}")
