"""Broken 837 input (truncated, shuffled, wrong counts, bad dates, huge values) never crashes the importer
and never leaves half a claim."""
import random

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim, ClaimLine
from core.errors import DomainError
from interchange.models import InboundClaim, InboundFile
from interchange.x12.write_837 import text_837
from tests.interchange.helpers import claim837, import_text, segments


def _mutate(text: str, how: str, rnd: random.Random, value: str) -> str:
    lines = text.splitlines()
    if how == "truncate":
        return text[: rnd.randrange(len(text))]
    if how == "shuffle":
        body = lines[3:-3]
        i, j = rnd.randrange(len(body)), rnd.randrange(len(body))
        body[i], body[j] = body[j], body[i]
        return "\n".join(lines[:3] + body + lines[-3:])
    if how == "count":
        return text.replace("SE*", f"SE*{value[:5] or '0'}*", 1) if "SE*" in text else text
    if how == "date":
        return text.replace("D8*20260110", f"D8*{value[:8]}", 1)
    if how == "huge":
        return text.replace("*200*UN*", f"*{value}*UN*", 1)
    if how == "drop":
        del lines[rnd.randrange(3, len(lines) - 3)]
        return "\n".join(lines)
    return text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(["truncate", "shuffle", "count", "date", "huge", "drop"]), seed=st.integers(0, 10**6),
       value=st.sampled_from(["99999999999999999999", "1E+400", "-5", "0", "20261399", "abc", "9" * 60, "", "1.999"]))
def test_broken_input_never_crashes_nor_leaves_half_a_claim(world, how, seed, value):
    text = text_837([claim837(world, pcn=f"P{i}", lines=(("99213", "200", 1), ("80053", "40", 2)))
                     for i in range(3)])
    broken = _mutate(text, how, random.Random(seed), value)
    with transaction.atomic():
        try:
            inbound = import_text(broken)
        except DomainError as exc:
            assert "file" in exc.message_dict
            assert not InboundFile.objects.exists() and not Claim.objects.exists()
        else:
            assert Claim.objects.count() == inbound.claims_accepted
            assert InboundClaim.objects.exclude(outcome="refused").count() == inbound.claims_accepted
            for claim in Claim.objects.all():  # every claim with all its lines
                assert ClaimLine.objects.filter(claim=claim).count() == 2
            ak9 = segments(inbound.ack_999, "AK9")
            assert ak9 and ak9[0][1] == ("A" if inbound.status == "accepted" and inbound.errors_found == 0 else
                                         ak9[0][1])
            if inbound.claims_accepted == 0:
                assert ak9[0][1] == "R"
        transaction.set_rollback(True)
