"""Benchmark: python manage.py bench_pages [--repeat 20] [--role ROLE] [--list] [--explain PAGE]

Every dashboard page of every role, timed on the world `bench_adjudication --claims N --keep` left
(run it first, on PostgreSQL; `bench_admin_lists --pay` or this command pays it). The demo logins
are linked to the world's largest parties first: `provider` to the provider with the most claims,
`examiner` and `supervisor` to the TPA, `employer` to the self-funded sponsor with the most claims
(`employer2` to the other self-funded one, for the pages of the arrangement the first has not),
`carrier` to the carrier with the most business, `member` to the subscriber of the largest family
with claims. What the world lacks for the pages to have content is made once, through the services:
a payment cycle with the ASO sponsors' deposits, reimbursement and fee billing, a stop-loss policy on
each self-funded plan (evaluated).

The pages are read from the URL conf (every `portal:<role>-...` name, so a page added later is timed
too); an object argument gets the newest object of its kind the login may see (the first of a few
that answers 200); a pattern that answers a GET with 405 is an action (POST only) and is left out. A
list page (one with sort links) is also timed sorted by each of its columns, filtered by state, at a
deep page and searched by a claim number; a GET form asking for a member ID is filled in. The
summary figures are refreshed once after a warm-up of every page, as the 5-minute job keeps them
(and again whenever they would be stale). Each page is then requested `--repeat` times after one
warm-up, in-process through the whole stack (middleware, views, templates), and printed with its
median and 95th-percentile time and its number of queries; the last line is
  pages: N pages, worst p95 X ms (PAGE), most queries Q[, E errors]
(the CSV downloads, whose time grows with the rows they export, are on a line of their own before it).
A page that answers anything but 200 is an error line, never a crash. `--explain PAGE` prints the
page's queries, slowest first, each with PostgreSQL's EXPLAIN ANALYZE.
"""
import datetime
import logging
import os
import statistics
import time
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count, Sum
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from claims.models import Claim
from claims.selectors import claim_list_visible_to
from core import clock
from core.schema import schema_migrate_if_needed
from funding import services as funding
from funding.models import (
    FeeBilling,
    FundingRequest,
    Payment,
    PaymentCycle,
    ReimbursementInvoice,
    RemittanceAdvice,
)
from parties.models import Carrier, Employer, Member, PartyLink, Provider, Tpa
from parties.services import tpa_create, user_create_with_role, user_link_party
from plans.models import Plan, StopLossPolicy
from plans.services import stop_loss_policy_create

from .bench_adjudication import TAG

R = PartyLink.Role
PASSWORD = "demo"
ROLES = ("provider", "examiner", "supervisor", "employer", "carrier", "member")
# The stop-loss cover made for a self-funded bench plan that has none: a low specific attachment, the
# stop-loss pages' heavy case (a bench member's plan pays about 5,600 a year at the median: a quarter of
# them pass 7,500, 14,439 filings at a million claims), and the aggregate at 125 % of what was paid.
SPECIFIC_ATTACHMENT = Decimal("7500.00")
AGGREGATE_FACTOR = Decimal("1.25")
DEEP_PAGE = 40
MAX_SORTS = 8  # sort variants timed per list page
CANDIDATES = 4  # objects tried per argument until one answers 200
LABEL = 58
# The portal is a floor beside this one (it is not imported): its pages are read from the URL conf, its
# figures refreshed by running its scheduled job by name, as the beat scheduler does.
FIGURES_JOB = "portal.tasks.dashboard_figures_refresh"
JOB_RUN_TASK = "portal.tasks.job_run_payment_cycle"  # a payment cycle started from the supervisor's page


@dataclass
class Page:
    label: str
    url: str
    login: str
    role: str
    error: str = ""  # why the page could not be timed (its status, a missing object)
    times: list = field(default_factory=list)
    queries: int = 0
    download: bool = False  # a CSV export: its size is the party's data, so it is reported apart from the pages


class _PageForms(HTMLParser):
    """What a page offers to vary it: its GET forms' fields and its sort and pager links."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []  # {"method", "fields": {name: {"tag", "type", "options"}}}
        self.sort_links: list[str] = []  # query strings of `?sort=` links, in page order
        self.pages_link = False
        self._form = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "fields": {}}
            self.forms.append(self._form)
        elif tag in ("input", "select", "textarea") and self._form is not None and a.get("name"):
            entry = {"tag": tag, "type": (a.get("type") or "text").lower(), "options": []}
            self._form["fields"].setdefault(a["name"], entry)
            if tag == "select":
                self._select = self._form["fields"][a["name"]]
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value", ""))
        elif tag == "a" and a.get("href"):
            query = urlsplit(a["href"]).query
            keys = dict(parse_qsl(query))
            if "sort" in keys:
                self.sort_links.append(query)
            elif "page" in keys:
                self.pages_link = True

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def portal_page_patterns():
    """(URL name, its argument names) of every role's page in the portal's URL conf (namespace `portal`)."""
    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name and p.name.split("-", 1)[0] in ROLES:
                yield p.name, tuple(p.pattern.converters)
    seen, out = set(), []
    for name, kwargs in walk(get_resolver().namespace_dict["portal"][1].url_patterns):
        if name not in seen:
            seen.add(name)
            out.append((name, kwargs))
    return out


def _refusal(response) -> str:
    """Why a page is not timed: its status, and the exception behind a 500."""
    exc = getattr(response, "exc_info", None)
    detail = f" ({exc[0].__name__}: {str(exc[1])[:160]})" if exc else ""
    return f"answered {response.status_code}{detail}"


def _is_action(response) -> bool:
    """A URL that answers a GET with 405, or redirects it (to the page whose form posts to it), is an action."""
    return response.status_code == 405 or (300 <= response.status_code < 400
                                           and "/login" not in response.get("Location", ""))


def _action_word(response) -> str:
    if response.status_code == 405:
        return "POST only: not timed"
    return f"an action (a GET redirects to {response.get('Location', '?')}): not timed"


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time every dashboard page of every role on the kept benchmark world."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=20, help="timed requests a page, after one warm-up")
        parser.add_argument("--role", choices=ROLES, action="append", help="only this role's pages (repeatable)")
        parser.add_argument("--list", action="store_true", help="print the pages and their URLs, and exit")
        parser.add_argument("--explain", metavar="PAGE",
                            help="print the queries of PAGE (a label of the table) with EXPLAIN ANALYZE, and exit")

    def handle(self, *args, **opts):
        # No news while the pages are looked for and timed: another's object refused (a 404; a 500 is its
        # error line), a forced login, a job run in this process. The levels are put back afterwards.
        quiet = {"django.request": logging.CRITICAL, "axes": logging.WARNING, "celery.app.trace": logging.WARNING}
        levels = {name: logging.getLogger(name).level for name in quiet}
        try:
            for name, level in quiet.items():
                logging.getLogger(name).setLevel(level)
            self._run(opts)
        finally:
            for name, level in levels.items():
                logging.getLogger(name).setLevel(level)

    def _run(self, opts):
        if opts["repeat"] < 1:
            raise CommandError("--repeat is at least 1")
        schema_migrate_if_needed(out=self.stderr)
        if not Claim.objects.filter(plan__name__startswith=TAG).exists():
            raise CommandError("no benchmark world: run `manage.py bench_adjudication --claims N --keep` first")
        t0 = time.perf_counter()
        self._world_complete()
        logins = self._logins_link()
        self.clients = {}
        for username in {u for names in logins.values() for u in names}:
            client = Client(SERVER_NAME="localhost", raise_request_exception=False)
            client.force_login(get_user_model().objects.get(username=username))
            self.clients[username] = client
        self._job_run_ensure()
        self.refreshes, self.figures_every = 0, self._figures_every()  # refreshes while timing
        # Figures kept from an earlier run are refreshed first: a page looked at below never finds them
        # stale (it would queue their job for a worker); those it finds missing it computes, once.
        self._figures_refresh()
        roles = opts["role"] or ROLES
        pages, actions = self._pages(logins, roles)  # requests each page once: the warm-up of its figures
        self.stdout.write(f"pages found in {time.perf_counter() - t0:.1f} s")
        if opts["list"]:
            for page in pages:
                self.stdout.write(f"{page.label:<{LABEL}} {page.login:<11} {page.error or page.url}")
            for name, why in actions.items():
                self.stdout.write(f"{name:<{LABEL}} {'':<11} {why}")
            return
        if opts["explain"]:
            self._explain(pages, opts["explain"])
            return
        self._figures_refresh(announce=True)
        self._header(opts["repeat"])
        self.stdout.write(f"{'page':<{LABEL}} {'p50 ms':>8} {'p95 ms':>8} {'queries':>7}")
        for page in pages:
            if not page.error:
                self._time(page, opts["repeat"])
            if page.error:
                self.stdout.write(f"{page.label:<{LABEL}} ERROR {page.error} ({page.url})")
            else:
                self.stdout.write(f"{page.label:<{LABEL}} {statistics.median(page.times):>8.1f} "
                                  f"{_p95(page.times):>8.1f} {page.queries:>7}")
            self.stdout.flush()
        if self.refreshes:
            self.stdout.write(f"(the figures were refreshed {self.refreshes} more times while the pages were "
                              f"timed, as their job would have been)")
        downloads = [p for p in pages if not p.error and p.download]
        if downloads:
            slowest = max(downloads, key=lambda p: _p95(p.times))
            self.stdout.write(f"downloads (CSV, every row of the party's table, streamed): {len(downloads)}, worst p95 "
                              f"{_p95(slowest.times):.1f} ms ({slowest.label})")
        timed = [p for p in pages if not p.error and not p.download]
        errors = len([p for p in pages if p.error])
        if timed:
            worst = max(timed, key=lambda p: _p95(p.times))
            last = (f"pages: {len(timed)} pages, worst p95 {_p95(worst.times):.1f} ms ({worst.label}), "
                    f"most queries {max(p.queries for p in timed)}")
        else:
            last = "pages: 0 pages, worst p95 0.0 ms (none), most queries 0"
        self.stdout.write(last + (f", {errors} errors" if errors else ""))

    # The world -------------------------------------------------------------------------------------

    def _world_complete(self) -> None:
        """Money moved once, so that the funding pages have rows: what is missing is made, and said."""
        bench_claims = Claim.objects.filter(plan__name__startswith=TAG)
        made = []
        t0 = time.perf_counter()
        if not Payment.objects.filter(claim__in=bench_claims.order_by().values("pk")).exists():
            funding.payment_cycle_run()
            for employer in Employer.objects.filter(name__startswith=TAG):
                if funding.funding_request_open_amount(employer=employer) > 0:
                    funding.sponsor_deposit(employer=employer, amount=funding.REQUESTED)
            made.append("a payment cycle and the ASO deposits")
        plans = Plan.objects.filter(name__startswith=TAG)
        if not ReimbursementInvoice.objects.filter(employer__plans__in=plans.filter(funding="ASC")).exists():
            funding.reimbursement_billing_run()
            made.append("reimbursement billing")
        if not FeeBilling.objects.filter(plan__in=plans).exists():
            funding.fee_billing_run()
            made.append("fee billing")
        carrier = Carrier.objects.filter(name__startswith=TAG).order_by("pk").first()
        new_policy = False
        for plan in plans.filter(funding__in=["ASO", "ASC"]).order_by("pk"):
            if carrier is None or plan.stop_loss_policies.exists():
                continue
            paid = Claim.objects.filter(plan=plan, state="paid").aggregate(s=Sum("plan_paid"))["s"] or Decimal("0")
            stop_loss_policy_create(
                plan=plan, carrier=carrier, start=datetime.date(clock.today().year, 1, 1),
                contract=StopLossPolicy.Contract.TWELVE_FIFTEEN, specific_attachment=SPECIFIC_ATTACHMENT,
                aggregate_attachment=max(Decimal("1.00"), (paid * AGGREGATE_FACTOR).quantize(Decimal("0.01"))),
            )
            new_policy = True
        if new_policy:
            funding.stop_loss_evaluate()
            made.append("stop-loss policies (evaluated)")
        if made:
            self.stdout.write(f"made for the pages: {', '.join(made)} in {time.perf_counter() - t0:.1f} s")
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                with connection.cursor() as c:  # as autovacuum would have, before pages are timed
                    for table in ("claims_claim", "funding_payment", "funding_remittanceadvice",
                                  "django_fsm_log_statelog"):
                        c.execute(f"VACUUM ANALYZE {table}")

    def _logins_link(self) -> dict[str, list[str]]:
        """Link the demo logins to the world's largest parties; role -> its logins, the first one's first."""
        bench = Claim.objects.filter(plan__name__startswith=TAG).order_by()
        provider_id = (bench.values("provider_id").annotate(n=Count("id")).order_by("-n", "provider_id")
                       .values_list("provider_id", flat=True).first())
        tpa = Tpa.objects.order_by("pk").first() or tpa_create(name=f"{TAG} TPA")
        sponsors = list(bench.filter(plan__funding__in=["ASO", "ASC"]).values("plan__sponsor_id")
                        .annotate(n=Count("id")).order_by("-n", "plan__sponsor_id")
                        .values_list("plan__sponsor_id", "plan__funding"))
        if not sponsors:
            sponsors = list(bench.values("plan__sponsor_id").annotate(n=Count("id")).order_by("-n")
                            .values_list("plan__sponsor_id", "plan__funding")[:1])
        carrier_id = (Claim.objects.filter(plan__carrier__isnull=False).exclude(plan__funding="ASO").order_by()
                      .values("plan__carrier_id").annotate(n=Count("id")).order_by("-n", "plan__carrier_id")
                      .values_list("plan__carrier_id", flat=True).first())
        carrier = Carrier.objects.get(pk=carrier_id) if carrier_id else (
            Carrier.objects.filter(name__startswith=TAG).first() or Carrier.objects.create(name=f"{TAG} Carrier"))
        links = [
            ("provider", R.PROVIDER_STAFF, Provider.objects.get(pk=provider_id)),
            ("examiner", R.CLAIMS_EXAMINER, tpa),
            ("supervisor", R.SUPERVISOR, tpa),
            ("employer", R.EMPLOYER_ADMIN, Employer.objects.get(pk=sponsors[0][0])),
            ("carrier", R.CARRIER_ANALYST, carrier),
            ("member", R.MEMBER, self._largest_family()),
        ]
        logins = {role: [role] for role in ROLES}
        # The other self-funded arrangement's sponsor, for the pages only it has (invoices or funding requests).
        other = next((s for s, f in sponsors if f != sponsors[0][1]), None)
        if other is not None:
            links.append(("employer2", R.EMPLOYER_ADMIN, Employer.objects.get(pk=other)))
            logins["employer"].append("employer2")
        for username, role, party in links:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                user_create_with_role(username=username, password=PASSWORD, role=role, party=party)
            else:
                user_link_party(user=user, role=role, party=party)
        self.stdout.write("logins: " + "; ".join(f"{u} = {p}" for u, _, p in links))
        return logins

    @staticmethod
    def _largest_family() -> Member:
        """The subscriber of the largest family with claims (the most claims among the largest)."""
        subscribers = (Member.objects.filter(name__startswith=TAG, subscriber__isnull=True)
                       .annotate(size=Count("dependents")).order_by("-size", "pk"))
        top = subscribers.values_list("size", flat=True).first()
        ids = list(subscribers.filter(size=top).values_list("pk", flat=True))
        family_of = {pk: pk for pk in ids}
        family_of.update(Member.objects.filter(subscriber_id__in=ids).values_list("pk", "subscriber_id"))
        claims = dict(Claim.objects.filter(member_id__in=list(family_of)).order_by().values("member_id")
                      .annotate(n=Count("id")).values_list("member_id", "n"))
        per_family = {pk: 0 for pk in ids}
        for member_id, n in claims.items():
            per_family[family_of[member_id]] += n
        best = max(ids, key=lambda pk: (per_family[pk], -pk))
        return Member.objects.get(pk=best)

    # The pages -------------------------------------------------------------------------------------

    def _candidates(self, username: str, kwarg: str, name: str) -> list[int]:
        """Objects of `kwarg`'s kind the login may see, newest first (what a page of that role shows)."""
        user = get_user_model().objects.get(username=username)
        link = PartyLink.objects.get(user=user)
        staff = link.role in (R.CLAIMS_EXAMINER, R.SUPERVISOR)

        def newest(qs, n=CANDIDATES):
            return list(qs.order_by("-pk").values_list("pk", flat=True)[:n])

        claims = claim_list_visible_to(user=user)
        if kwarg == "claim_id":
            preferred = {"appeal": "denied", "eob": "paid"}
            first = next((state for word, state in preferred.items() if word in name), None)
            if first is None and link.role == R.CLAIMS_EXAMINER:
                first = "pended"  # the examiner's claims are its queue's
            out = newest(claims.filter(state=first), 2) if first else []
            for state in (None, "paid", "denied", "pended", "approved"):
                out += newest(claims.filter(state=state) if state else claims, 1)
            return list(dict.fromkeys(out))
        if kwarg == "member_pk":
            out = []
            if link.role == R.MEMBER:
                out = [link.member_id] + newest(Member.objects.filter(subscriber_id=link.member_id), 3)
            members = list(claims.order_by("-pk").values_list("member_id", flat=True)[:20])
            return list(dict.fromkeys(out + [m for m in members if m is not None]))[:CANDIDATES + 2]
        if kwarg == "remittance_id":
            qs = RemittanceAdvice.objects.all()
            if link.role == R.PROVIDER_STAFF:
                qs = qs.filter(provider_id=link.provider_id)
            elif link.role == R.EMPLOYER_ADMIN:
                qs = qs.filter(employer_id=link.employer_id)
            elif link.role == R.CARRIER_ANALYST:
                qs = qs.filter(payer_account__carrier_id=link.carrier_id)
            elif not staff:
                qs = qs.none()
            return newest(qs)
        if kwarg == "payment_id":
            return newest(Payment.objects.filter(claim__in=claims.order_by().values("pk")))
        if kwarg == "funding_request_id":
            qs = FundingRequest.objects.all()
            return newest(qs if staff else qs.filter(employer_id=link.employer_id) if link.employer_id else qs.none())
        if kwarg == "invoice_id":
            qs = ReimbursementInvoice.objects.all()
            if link.role == R.EMPLOYER_ADMIN:
                qs = qs.filter(employer_id=link.employer_id)
            elif link.role == R.CARRIER_ANALYST:
                qs = qs.filter(carrier_id=link.carrier_id)
            elif not staff:
                qs = qs.none()
            return newest(qs)
        if kwarg == "fee_billing_id":
            qs = FeeBilling.objects.all()
            if link.role == R.EMPLOYER_ADMIN:
                qs = qs.filter(plan__sponsor_id=link.employer_id)
            elif link.role == R.CARRIER_ANALYST:
                qs = qs.filter(plan__carrier_id=link.carrier_id)
            elif not staff:
                qs = qs.none()
            return newest(qs)
        if kwarg == "cycle_id":
            return newest(PaymentCycle.objects.all())
        if kwarg == "job_id":
            return self._job_candidates()
        return []

    def _job_run_ensure(self) -> None:
        """A run on the supervisor's jobs page, when there is none: started there as a supervisor starts
        one (its POST), then run to its end in this process (the queued message then finds it done)."""
        from django.apps import apps

        models = [m for m in apps.get_app_config("portal").get_models() if "job" in m._meta.model_name]
        if not models or models[0].objects.exists():
            return
        start = next((n for n, kw in portal_page_patterns() if n.startswith("supervisor-") and "start" in n
                      and not kw), None)
        if start is None:
            return
        self.clients["supervisor"].post(reverse(f"portal:{start}"))
        run = models[0].objects.order_by("-pk").first()
        task = self._celery_task(JOB_RUN_TASK)
        if run is not None and task is not None:
            task.apply(args=[run.pk], throw=True)
            run.refresh_from_db()
        self.stdout.write(f"made for the pages: {run} (started from {start})")

    @staticmethod
    def _job_candidates() -> list[int]:
        """A supervisor's job: the newest run kept by the portal (a model named for jobs), else a scheduled task."""
        from django.apps import apps

        for model in apps.get_app_config("portal").get_models():
            if "job" in model._meta.model_name:
                ids = list(model.objects.order_by("-pk").values_list("pk", flat=True)[:CANDIDATES])
                if ids:
                    return ids
        from django_celery_beat.models import PeriodicTask

        return list(PeriodicTask.objects.order_by("pk").values_list("pk", flat=True)[:CANDIDATES])

    def _get(self, username: str, url: str):
        return self.clients[username].get(url)

    def _pages(self, logins: dict[str, list[str]], roles) -> tuple[list[Page], dict[str, str]]:
        """The pages to time, and the URLs that are actions rather than pages (name -> why)."""
        pages, actions = [], {}
        for name, kwargs in portal_page_patterns():
            role = name.split("-", 1)[0]
            if role not in roles:
                continue
            page, response = self._page_found(name, kwargs, logins[role], role)
            if page is None:
                actions[name] = _action_word(response)
                continue
            pages.append(page)
            if not kwargs and response is not None and response.status_code == 200:
                pages.extend(self._variants(page, response))
        return pages, actions

    def _page_found(self, name, kwargs, usernames, role):
        """(page, its response) of `name` with objects the login may see: the first set of them that answers
        200; (None, response) when the URL answers a GET as an action does (405, or a redirect)."""
        tried, last = None, None
        for username in usernames:
            choices = {k: self._candidates(username, k, name) for k in kwargs}
            missing = [k for k, ids in choices.items() if not ids]
            if missing:
                tried = tried or Page(label=name, url=f"portal:{name}", login=username, role=role,
                                      error=f"no {', '.join(missing)} visible to {username} in the world")
                continue
            label = name if username == usernames[0] else f"{name} ({username})"
            for i in range(max((len(ids) for ids in choices.values()), default=1)):
                values = {k: ids[min(i, len(ids) - 1)] for k, ids in choices.items()}
                url = reverse(f"portal:{name}", kwargs=values)
                response = self._get(username, url)
                if response.status_code == 200:
                    return Page(label=label, url=url, login=username, role=role), response
                if response.status_code == 405:
                    return None, response  # a POST whatever the object
                if not _is_action(response):
                    tried = tried if tried is not None and not tried.error.startswith("no ") else Page(
                        label=label, url=url, login=username, role=role, error=_refusal(response))
                last = response
        if tried is None and last is not None:
            return None, last  # every object's URL answered as an action does
        return tried, None

    def _variants(self, page: Page, response) -> list[Page]:
        """A list page sorted by each of its columns, filtered by state, deep, and searched; a GET form that
        asks for a member ID filled in."""
        if "html" not in response.get("Content-Type", ""):
            return []
        found = _PageForms()
        found.feed(response.content.decode(response.charset or "utf-8", "replace"))
        queries = []
        current = dict(parse_qsl(urlsplit(page.url).query)).get("sort")
        sorts = []
        for query in found.sort_links:
            value = dict(parse_qsl(query))["sort"]
            if value != current and value.lstrip("-") not in {s.lstrip("-") for s in sorts}:
                sorts.append(value)
        queries += [{"sort": s} for s in sorts[:MAX_SORTS]]
        is_list = bool(found.sort_links) or found.pages_link
        user = get_user_model().objects.get(username=page.login)
        for form in found.forms:
            if form["method"] != "get":
                continue
            fields = form["fields"]
            for name, f in fields.items():  # each filter: the state pended (the busiest queue), else its first choice
                options = [o for o in f["options"] if o]
                if f["tag"] != "select" or not options:
                    continue
                preferred = ("pended", "denied", "paid", "approved") if name == "state" else ()
                queries.append({name: next((o for o in preferred if o in options), options[0])})
            search = next((n for n in ("q", "search", "claim", "claim_number") if n in fields), None)
            if search:
                claim = self._middle_claim(user)
                if claim is not None:
                    queries.append({search: claim.claim_number})
            wants_member = [n for n in fields if "member" in n and fields[n]["tag"] == "input"]
            if wants_member:
                member = self._member_for(user)
                if member is not None:
                    filled = {}
                    for n, f in fields.items():
                        if n in wants_member:
                            filled[n] = member.member_id
                        elif f["type"] == "date" or "date" in n or n in ("on", "day"):
                            filled[n] = clock.today().isoformat()
                        elif f["type"] == "hidden" or f["tag"] == "select":
                            continue
                    queries.append(filled)
        if is_list:
            queries.append({"page": str(DEEP_PAGE)})
        out = []
        for query in queries:
            url = f"{page.url}?{urlencode(query)}"
            variant = Page(label=f"{page.label} ?{urlencode(query)}"[:LABEL], url=url, login=page.login, role=page.role)
            response = self._get(page.login, url)
            if response.status_code != 200:
                variant.error = _refusal(response)
            out.append(variant)
        return out

    @staticmethod
    def _middle_claim(user):
        """A claim from the middle of what the login sees (neither the newest nor the oldest page)."""
        visible = claim_list_visible_to(user=user).order_by("pk")
        first = visible.values_list("pk", flat=True).first()
        last = visible.order_by("-pk").values_list("pk", flat=True).first()
        if first is None:
            return None
        return visible.filter(pk__gte=(first + last) // 2).first()

    @staticmethod
    def _member_for(user):
        link = PartyLink.objects.get(user=user)
        if link.role == R.MEMBER:
            return link.member
        claim = claim_list_visible_to(user=user).exclude(member=None).order_by("-pk").first()
        return claim.member if claim else None

    # Timing ----------------------------------------------------------------------------------------

    @staticmethod
    def _celery_task(name: str):
        from celery import current_app

        current_app.autodiscover_tasks(force=True)  # every app's tasks module, as a worker loads them
        return current_app.tasks.get(name)

    def _figures_refresh(self, *, announce: bool = False) -> None:
        """Run the figures job now, in this process (what its beat entry runs every few minutes)."""
        task = self._celery_task(FIGURES_JOB)
        if task is None:
            raise CommandError(f"no task {FIGURES_JOB}: the summary figures cannot be refreshed")
        t0 = time.perf_counter()
        keys = task.apply(throw=True).result
        self.refreshed_at = time.monotonic()
        if announce:
            self.stdout.write(f"figures: {keys} summaries refreshed in {time.perf_counter() - t0:.1f} s "
                              f"(by their job, run every {self.figures_every:.0f} s; the pages read them)")

    @staticmethod
    def _figures_every() -> float:
        """The figures job's interval in seconds (its beat entry, editable in the admin; 5 minutes if none)."""
        from django_celery_beat.models import PeriodicTask

        job = PeriodicTask.objects.filter(task=FIGURES_JOB, enabled=True, interval__isnull=False).first()
        if job is None:
            return 300.0
        return datetime.timedelta(**{job.interval.period: job.interval.every}).total_seconds()

    def _header(self, repeat: int) -> None:
        db = connection.settings_dict
        self.stdout.write(
            f"{Claim.objects.filter(plan__name__startswith=TAG).count():,} bench claims, "
            f"{Member.objects.filter(name__startswith=TAG).count():,} members, "
            f"{Payment.objects.count():,} payments; {connection.vendor} {db.get('HOST') or ''}:{db.get('PORT') or ''} "
            f"{db.get('NAME')}; DEBUG {'on' if settings.DEBUG else 'off'}; "
            f"{repeat} requests a page after a warm-up; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    def _time(self, page: Page, repeat: int) -> None:
        if time.monotonic() - self.refreshed_at > self.figures_every - 60:
            self._figures_refresh()  # the job would have run by now: a page never finds them stale
            self.refreshes += 1
        client = self.clients[page.login]
        response = client.get(page.url)  # warm-up
        if response.status_code != 200:
            page.error = _refusal(response)
            return
        for _ in range(repeat):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(page.url)
                if response.streaming:  # a download is timed until its last row is written
                    b"".join(response.streaming_content)
                page.times.append((time.perf_counter() - t0) * 1000)
            page.download = response.get("Content-Type", "").startswith("text/csv")
            if response.status_code != 200:
                page.error, page.times = _refusal(response), []
                return
            page.queries = max(page.queries, len(ctx.captured_queries))

    def _explain(self, pages: list[Page], wanted: str) -> None:
        chosen = [p for p in pages if p.label == wanted] or [p for p in pages if p.label.startswith(wanted)]
        if not chosen:
            raise CommandError(f"no page {wanted!r}: see --list")
        for page in chosen:
            if page.error:
                self.stdout.write(f"{page.label}: {page.error}")
                continue
            client = self.clients[page.login]
            client.get(page.url)
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                client.get(page.url)
                total = (time.perf_counter() - t0) * 1000
            self.stdout.write(f"== {page.label} {page.url} as {page.login}: {total:.1f} ms, "
                              f"{len(ctx.captured_queries)} queries")
            for q in sorted(ctx.captured_queries, key=lambda q: -float(q["time"])):
                sql = q["sql"]
                self.stdout.write(f"\n-- {float(q['time']) * 1000:.1f} ms\n{sql}")
                if connection.vendor == "postgresql" and sql.lstrip(" (").upper().startswith(("SELECT", "WITH")):
                    with connection.cursor() as c:
                        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                        self.stdout.write("\n".join(row[0] for row in c.fetchall()))
