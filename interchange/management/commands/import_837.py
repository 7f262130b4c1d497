"""python manage.py import_837 FILE [--ack PATH]: import an 837P as the system; the 999 is written to
PATH (default FILE.999, "-" for standard output) and the claims' outcome summed up."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import DomainError
from interchange.x12.services import inbound_837_import


class Command(BaseCommand):
    help = "Import an 837P (005010X222A1) file: every claim through intake; writes its 999."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--ack", help="where to write the 999 (default FILE.999; - for standard output)")

    def handle(self, *args, file, ack=None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            with path.open(encoding="ascii", errors="replace", newline="") as src:
                inbound = inbound_837_import(src=src, name=path.name, size=path.stat().st_size)
        except DomainError as exc:
            raise CommandError("; ".join(m for ms in exc.message_dict.values() for m in ms)) from None
        if ack == "-":
            self.stdout.write(inbound.ack_999, ending="")
        else:
            target = Path(ack) if ack else path.with_name(path.name + ".999")
            target.write_text(inbound.ack_999, encoding="ascii")
            self.stdout.write(f"999 written to {target}")
        for ic in inbound.claims.exclude(outcome="submitted").order_by("position")[:50]:
            self.stdout.write(f"claim {ic.position} ({ic.patient_control_number}) {ic.outcome}: {ic.message}")
        self.stdout.write(f"{inbound.name}: {inbound.status}; {inbound.claims_accepted} of {inbound.claims_found} "
                          f"claims taken in, {inbound.claims_refused} refused, {inbound.errors_found} X12 errors")
