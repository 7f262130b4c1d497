"""Issue (or show, or replace) a login's API token: `manage.py api_token USERNAME [--rotate]`.

The token is printed once on stdout; send it as "Authorization: Token <token>". The admin's
"Tokens" page (rest_framework.authtoken) issues and revokes them too."""
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print a login's API token, issuing one if it has none (--rotate: replace it)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--rotate", action="store_true", help="Revoke the current token and issue a new one.")

    def handle(self, *args, username, rotate, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No login {username!r}.")
        if not user.is_active:
            raise CommandError(f"The login {username!r} is inactive: no token is issued.")
        with transaction.atomic():
            if rotate:
                Token.objects.filter(user=user).delete()
            token, _ = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
