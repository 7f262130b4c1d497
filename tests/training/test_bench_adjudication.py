"""`bench_adjudication` builds what it says, adjudicates it through the production task, and prints
its figures in the line the issue fixes (run here with --here, small, in the test's transaction)."""
import re

import pytest
from django.core.management import call_command

from claims.models import Claim, LineResult


@pytest.mark.django_db
def test_bench_adjudication_reports_its_run_in_the_agreed_line(capsys):
    call_command("bench_adjudication", claims=400, members=300, providers=20, sample=5, here=True, keep=True)
    out = capsys.readouterr().out.strip().splitlines()
    match = re.fullmatch(
        r"adjudicated (\d+) claims in [\d.]+ s: [\d,]+ claims/s, single-claim path [\d,]+ claims/s, "
        r"peak RSS \d+ MiB", out[-1])
    assert match, out[-1]
    assert int(match.group(1)) == 400
    outcomes = dict(re.findall(r"(\w+) (\d+)", out[-2].removeprefix("outcomes: ")))
    # Realistic variety: approvals, denials (duplicates among them) and pends, and nothing left waiting.
    assert set(outcomes) == {"approved", "denied", "pended"}
    assert sum(int(v) for v in outcomes.values()) == 400  # counted before the single-claim sample
    assert Claim.objects.filter(plan__name__startswith="BENCH").count() == 400 + 5
    bench = Claim.objects.filter(plan__name__startswith="BENCH")
    assert bench.filter(state="submitted").count() == 0
    assert bench.filter(is_duplicate=True).exists()
    assert LineResult.objects.filter(claim__in=bench).count() == LineResult.objects.filter(
        claim__in=bench.exclude(state="pended")).count() > 400


@pytest.mark.django_db
def test_bench_adjudication_removes_its_world_unless_kept(capsys):
    call_command("bench_adjudication", claims=50, members=40, providers=5, sample=2, here=True)
    assert not Claim.objects.filter(plan__name__startswith="BENCH").exists()
