"""python manage.py seed_demo: the demo world (training/demo.py), idempotent."""
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count

from claims.models import Claim
from parties.models import Member
from plans.models import Coverage
from training.demo import DEMO_PASSWORD, FEE_SCHEDULE_NAME, seed_demo


class Command(BaseCommand):
    help = "Create the demo world (idempotent: a second run changes nothing). Every login's password is 'demo'."

    def handle(self, *args, **options):
        with transaction.atomic():
            world = seed_demo()
        self._summary(world)

    def _summary(self, world: dict) -> None:
        out = self.stdout.write
        members = Member.objects.filter(employer__in=world["employers"].values())
        out(self.style.SUCCESS("Demo world ready."))
        out(f"  TPA: {world['tpa'].name}")
        out(f"  carriers: {len(world['carriers'])}, sponsors: {len(world['employers'])}, "
            f"plans: {len(world['plans'])}, stop-loss policies: {len(world['stop_loss'])}")
        out(f"  fee schedule '{FEE_SCHEDULE_NAME}': {world['fee_schedule'].entries.count()} codes")
        out(f"  members: {members.count()} ({members.filter(subscriber__isnull=True).count()} subscribers), "
            f"coverage rows: {Coverage.objects.filter(member__in=members).count()}")
        providers = world["providers"]
        in_network = sum(1 for p in providers if p.in_network)
        out(f"  providers: {len(providers)} ({in_network} in network, {len(providers) - in_network} out)")
        states = dict(Claim.objects.filter(plan__sponsor__in=world["employers"].values()).values_list("state")
                      .annotate(n=Count("id")).values_list("state", "n"))
        out("  claims: " + (", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "none"))
        out(f"  logins (password '{DEMO_PASSWORD}'):")
        for username, link in world["logins"].items():
            flags = " superuser" if link.user.is_superuser else (" staff" if link.user.is_staff else "")
            out(f"    {username:<11} {link.get_role_display()} of {link.party}{flags}")


