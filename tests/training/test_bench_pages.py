"""`bench_pages` times every dashboard page of every role on the kept benchmark world: one row a page
(read from the URL conf, so a page added later is timed too), and the last line the issue fixes."""
import logging
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count
from django.urls import URLPattern, URLResolver

from claims.models import Claim
from parties.models import PartyLink
from portal import urls as portal_urls

ROLES = ("provider", "examiner", "supervisor", "employer", "carrier", "member")
LABEL = 58  # the table's first column
ROW = re.compile(rf"(?P<label>.{{{LABEL}}}) +(?P<p50>\d+\.\d) +(?P<p95>\d+\.\d) +(?P<queries>\d+)")
DOWNLOADS = re.compile(r"downloads \(CSV, [^)]*\): (?P<n>\d+), worst p95 (?P<p95>\d+\.\d) ms \((?P<page>.+)\)")
LAST = re.compile(r"pages: (?P<n>\d+) pages, worst p95 (?P<p95>\d+\.\d) ms \((?P<page>.+)\), most queries (?P<q>\d+)")


def _portal_names() -> set[str]:
    def walk(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns)
            elif isinstance(p, URLPattern) and p.name and p.name.split("-", 1)[0] in ROLES:
                yield p.name
    return set(walk(portal_urls.urlpatterns))


def _url_name(label: str) -> str:
    """"provider-claims ?state=pended" and "employer-invoice (employer2)" are variants of their URL name."""
    return label.split(" ", 1)[0]


@pytest.mark.django_db
def test_bench_pages_times_every_page_of_every_role(capsys):
    with pytest.raises(CommandError, match="no benchmark world"):
        call_command("bench_pages", repeat=1)
    call_command("bench_adjudication", claims=300, providers=10, sample=2, here=True, keep=True)
    capsys.readouterr()

    call_command("bench_pages", "--list")
    listed = capsys.readouterr().out.splitlines()
    actions = {line.split()[0] for line in listed if line.endswith("not timed")}

    levels = {name: logging.getLogger(name).level for name in ("django.request", "axes", "celery.app.trace")}
    call_command("bench_pages", repeat=2)
    out = capsys.readouterr().out.splitlines()
    # The command quiets the loggers while it works and puts them back (the rest of a test run needs them).
    assert {name: logging.getLogger(name).level for name in levels} == levels
    assert not [line for line in out if " ERROR " in line], "\n".join(out)
    last = LAST.fullmatch(out[-1])
    assert last, out[-1]  # no ", E errors": every page answered 200
    rows = {m["label"].strip(): m for m in map(ROW.fullmatch, out) if m}
    pages = {label: row for label, row in rows.items() if not _url_name(label).endswith("-csv")}
    downloads = DOWNLOADS.fullmatch(out[-2])
    assert downloads, out[-2]  # the CSV exports, on a line of their own
    assert int(downloads["n"]) == len(rows) - len(pages) > 0
    assert float(downloads["p95"]) == max(float(r["p95"]) for label, r in rows.items() if label not in pages)
    assert int(last["n"]) == len(pages) > 0
    assert last["page"] in pages and float(last["p95"]) == max(float(r["p95"]) for r in pages.values())
    assert int(last["q"]) == max(int(r["queries"]) for r in pages.values())
    for row in rows.values():
        assert 0 < float(row["p50"]) <= float(row["p95"]) and int(row["queries"]) > 0

    timed = {_url_name(label) for label in rows}
    assert {name.split("-", 1)[0] for name in timed} == set(ROLES)  # rows for every role
    # Every page of the URL conf is timed, unless it is an action (a POST, or a GET that redirects).
    assert _portal_names() - timed == actions - timed
    assert not actions & timed
    # The list pages are timed filtered, sorted and deep as well.
    assert any("?page=40" in label for label in rows)
    assert any("?sort=" in label for label in rows)

    # The demo logins act for the world's largest parties.
    links = {link.user.username: link for link in PartyLink.objects.select_related("user", "member")}
    busiest = (Claim.objects.filter(plan__name__startswith="BENCH").values("provider_id").annotate(n=Count("id"))
               .order_by("-n", "provider_id").first())
    assert links["provider"].provider_id == busiest["provider_id"]
    assert links["examiner"].tpa_id == links["supervisor"].tpa_id is not None
    assert links["employer"].employer.plans.get().funding in ("ASO", "ASC")
    assert links["member"].member.subscriber_id is None and links["member"].member.dependents.exists()
    assert Claim.objects.filter(plan__carrier_id=links["carrier"].carrier_id).exists()


@pytest.mark.django_db
def test_bench_pages_role_restricts_the_pages(capsys):
    call_command("bench_adjudication", claims=100, members=50, providers=5, sample=1, here=True, keep=True)
    capsys.readouterr()
    call_command("bench_pages", repeat=1, role=["member"])
    out = capsys.readouterr().out.splitlines()
    rows = [m["label"].strip() for m in map(ROW.fullmatch, out) if m]
    assert rows and all(label.startswith("member-") for label in rows)
    assert LAST.fullmatch(out[-1]), out[-1]
