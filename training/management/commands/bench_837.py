"""Benchmark: python manage.py bench_837 --claims N

Builds bench_adjudication's synthetic world (members in families, providers, the demo fee schedule),
writes an 837P of N of its claims to a file (streamed, one claim at a time), then imports it in a fresh
process (its peak RSS its own) through the importer the command and the upload page use. Prints as
its last line:
  imported N claims from F MB in S s: R claims/s, peak RSS M MiB
The world and the claims are deleted afterwards unless --keep. Run it on a database of its own.
"""
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from core.schema import schema_migrate_if_needed
from interchange.x12.write_837 import Claim837, lines_837
from training.management.commands.bench_adjudication import (
    CLAIMS_PER_MEMBER,
    SyntheticWorld,
    _peak_rss_mib,
    world_delete,
)


def _bench_delete() -> None:
    from interchange.models import InboundFile

    InboundFile.objects.filter(name__startswith="bench_837").delete()  # its claims' outcomes first (they point at claims)
    world_delete()


class Command(BaseCommand):
    help = "Benchmark the 837P import (pyx12 validation, intake, bulk writes)."

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=int, default=10_000)
        parser.add_argument("--providers", type=int, default=200)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--keep", action="store_true", help="keep the synthetic world, its claims and the file")
        parser.add_argument("--measure", help="(internal) import this file and print the figures as JSON")
        parser.add_argument("--serial", action="store_true", help="read and validate in the importing process "
                                                                  "(default: in a second process for big files)")

    def handle(self, *args, **opts):
        if opts["measure"]:
            self._measure(opts["measure"], parallel=False if opts["serial"] else None)
            return
        from core import clock

        n = opts["claims"]
        schema_migrate_if_needed(out=self.stderr)
        today = clock.today()
        _bench_delete()
        world = SyntheticWorld(seed=opts["seed"], members=max(50, round(n / CLAIMS_PER_MEMBER)),
                               providers=opts["providers"])
        with transaction.atomic():
            world.build()
        fd, path = tempfile.mkstemp(prefix="bench_837_", suffix=".txt")
        with os.fdopen(fd, "w", encoding="ascii") as out:
            for segment in lines_837(self._claims(world, n, today=today)):
                out.write(segment + "\n")
        size_mb = os.path.getsize(path) / 1e6
        self.stdout.write(f"wrote {n} claims to {path} ({size_mb:.1f} MB)")
        self.stdout.flush()
        try:
            done = subprocess.run([sys.executable, os.path.join(settings.BASE_DIR, "manage.py"), "bench_837",
                                   "--measure", path, *(["--serial"] if opts["serial"] else [])], check=True, capture_output=True, text=True,
                                  env={**os.environ, "DJANGO_DEBUG": "0"})
            result = json.loads(done.stdout.strip().splitlines()[-1])
        except subprocess.CalledProcessError as exc:
            self.stderr.write(exc.stdout + exc.stderr)
            raise
        finally:
            if not opts["keep"]:
                _bench_delete()
                os.unlink(path)
        self.stdout.write(f"outcomes: {result['outcomes']}")
        self.stdout.write(f"imported {result['accepted']} claims from {size_mb:.1f} MB in {result['seconds']:.1f} s: "
                          f"{result['accepted'] / result['seconds']:,.0f} claims/s, peak RSS {result['rss']:.0f} MiB")

    @staticmethod
    def _claims(world, n: int, *, today: datetime.date):
        for row, lines in world.claims(n, first_id=1, today=today):
            yield Claim837(npi=row[2], member_id=row[1], patient_control_number=f"B{row[0]}", service_date=row[6],
                           lines=tuple((code, Decimal(billed), units) for _, _, code, units, billed in lines))

    def _measure(self, path: str, *, parallel: bool | None) -> None:
        from django.db.models import Count

        from interchange.x12.services import inbound_837_import

        t0 = time.perf_counter()
        with open(path, encoding="ascii", newline="") as src:
            inbound = inbound_837_import(src=src, name="bench_837 " + os.path.basename(path), size=os.path.getsize(path),
                                         parallel=parallel)
        seconds = time.perf_counter() - t0
        # The reader process (forked, a copy of this one at the fork) has its own peak: the larger counts.
        reader_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        outcomes = dict(inbound.claims.values_list("outcome").annotate(n=Count("id")).order_by())
        print(json.dumps({"accepted": inbound.claims_accepted, "seconds": seconds,
                          "rss": max(_peak_rss_mib(), reader_rss), "outcomes": outcomes}))
