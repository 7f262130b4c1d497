"""python manage.py export_835 REMITTANCE_ID: the remittance's 835 on standard output."""
from django.core.management.base import BaseCommand, CommandError

from funding.models import RemittanceAdvice
from interchange.x12 import remittance_835


class Command(BaseCommand):
    help = "Write the 835 (005010X221A1) of one remittance advice to standard output."

    def add_arguments(self, parser):
        parser.add_argument("remittance_id")

    def handle(self, *args, remittance_id, **options):
        text = str(remittance_id).strip()
        remittance = RemittanceAdvice.objects.filter(pk=int(text)).first() if text.isdecimal() and len(text) < 19 else None
        if remittance is None:
            raise CommandError(f"no remittance {remittance_id}")
        self.stdout.write(remittance_835(remittance=remittance), ending="")
