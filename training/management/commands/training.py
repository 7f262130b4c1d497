"""python manage.py training start FILE | list | advance CODE --to YYYY-MM-DD | reset CODE | end CODE |
status CODE [--json]

The Training area from the command line, for trainers who script their classes (and for tests). It acts as
the TPA's administrator; the clock moves here and now, through the same task a worker runs.
"""
import json
import sys

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from core.errors import DomainError
from core.schema import schema_migrate_if_needed
from training import selectors, services, tasks


class _System:
    """The command line acts as the TPA's own administrator (a superuser, in the role policy's words)."""

    pk = None
    is_authenticated = True
    is_active = True
    is_superuser = True
    is_staff = True


class Command(BaseCommand):
    help = "Run demo training sessions: start, list, advance, reset, end, status."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        start = sub.add_parser("start", help="start a session from a scenario file; prints its code and join URL")
        start.add_argument("file")
        start.add_argument("--base-url", default="http://127.0.0.1:8000")
        sub.add_parser("list", help="the running sessions")
        advance = sub.add_parser("advance", help="move a session's clock forward, running the due jobs")
        advance.add_argument("code")
        group = advance.add_mutually_exclusive_group(required=True)
        group.add_argument("--to", help="YYYY-MM-DD")
        group.add_argument("--days", type=int)
        reset = sub.add_parser("reset", help="back to the scenario's end state")
        reset.add_argument("code")
        end = sub.add_parser("end", help="end a session and drop its database")
        end.add_argument("code")
        status = sub.add_parser("status", help="the checklist's progress and the session's report")
        status.add_argument("code")
        status.add_argument("--json", action="store_true")

    def handle(self, *args, **options):
        schema_migrate_if_needed()
        try:
            getattr(self, f"_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(exc.text()) from None

    def _start(self, options):
        try:
            with open(options["file"], encoding="utf-8") as fh:
                text = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from None
        session = services.training_session_start(scenario_text=text, source=options["file"].rsplit("/", 1)[-1],
                                                  by=_System(), build_now=True)
        if session.state != session.S.READY:
            raise CommandError(f"session {session.code} is {session.state}: {session.error}")
        join = options["base_url"].rstrip("/") + reverse("training:join", args=[session.code])
        self.stdout.write(f"{session.code} {join}\n")

    def _list(self, options):
        for s in selectors.session_list():
            self.stdout.write(f"{s.code}  {s.state:<10} gen {s.generation}  {s.scenario_name}\n")

    def _advance(self, options):
        session = tasks.session_advance_enqueue(code=options["code"], by=_System(), to=options["to"],
                                                days=options["days"], now=True)
        if session.error:
            raise CommandError(f"session {session.code}: {session.error}")
        self.stdout.write(f"{session.code} now on {services.session_today(session=session)} "
                          f"({session.advance_jobs_run} jobs run)\n")

    def _reset(self, options):
        session = services.training_session_reset(code=options["code"], by=_System())
        self.stdout.write(f"{session.code} reset (generation {session.generation})\n")

    def _end(self, options):
        session = services.training_session_end(code=options["code"], by=_System())
        self.stdout.write(f"{session.code} ended\n")

    def _status(self, options):
        session = services.session_access_by_code(code=options["code"], by=_System())
        status = services.session_status_record(session=session)
        if options["json"]:
            sys.stdout.write(json.dumps(status, indent=2) + "\n")
            return
        self.stdout.write(f"{status['code']}: {status['scenario']} ({status['state']}, on {status.get('today')})\n")
        for step in status["checklist"]:
            self.stdout.write(f"  [{'x' if step['done'] else ' '}] {step['number']}. as {step['as']}: {step['do']}\n")
        for login in status["logins"]:
            self.stdout.write(f"  login {login['username']} (password demo)\n")


