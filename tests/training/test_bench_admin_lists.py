"""`bench_admin_lists` times the admin's lists on the kept benchmark world and prints one row a page."""
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from funding.models import Payment


@pytest.mark.django_db
def test_bench_admin_lists_prints_a_row_for_every_page(capsys):
    with pytest.raises(CommandError, match="no benchmark world"):
        call_command("bench_admin_lists", repeat=1)
    call_command("bench_adjudication", claims=300, providers=10, sample=2, here=True, keep=True)
    capsys.readouterr()
    call_command("bench_admin_lists", repeat=3, pay=True)
    out = capsys.readouterr().out.splitlines()
    assert Payment.objects.exists()
    rows = [line for line in out if re.fullmatch(r".{34} +\d+ +[\d.]+ +[\d.]+ +[\d.]+", line)]
    pages = {row[:34].strip() for row in rows}
    assert {"claim list", "claims by member ID", "claim by claim number", "claims approved", "line results",
            "payments", "payments by claim number"} <= pages
    # A paid world keeps its ledger (append-only): the benchmark says so rather than failing halfway.
    with pytest.raises(CommandError, match="was paid"):
        call_command("bench_adjudication", claims=10, providers=2, sample=1, here=True)
