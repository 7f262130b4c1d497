"""837 in, adjudicated, paid, 835 out: read back with pyx12 and compared figure by figure with the claims."""
import datetime
import io
from decimal import Decimal

from django.core.management import call_command

from claims.models import Claim
from claims.services import claims_adjudicate_pending
from core import clock
from funding.models import RemittanceAdvice
from funding.services import payment_cycle_run
from interchange.x12 import remittance_835
from interchange.x12.stream import segments_checked
from interchange.x12.write_837 import text_837
from tests.claims.helpers import build_world
from tests.interchange.helpers import claim837, import_text, x12_errors

D = Decimal


def _read_835(text: str) -> dict:
    """The 835 as pyx12 reads it, loop by loop: BPR02, and per claim CLP and per line SVC with its CAS."""
    out = {"claims": []}
    claim = line = None
    for c in segments_checked(io.StringIO(text)):
        seg = c.seg
        if c.seg_id == "BPR":
            out["total"] = D(seg.get_value("BPR02"))
        elif c.seg_id == "CLP":
            claim = {"pcn": seg.get_value("CLP01"), "status": seg.get_value("CLP02"),
                     "billed": D(seg.get_value("CLP03")), "paid": D(seg.get_value("CLP04")),
                     "patient": D(seg.get_value("CLP05") or "0"), "number": seg.get_value("CLP07"), "lines": []}
            out["claims"].append(claim)
        elif c.seg_id == "SVC":
            line = {"code": seg.get_value("SVC01-2"), "billed": D(seg.get_value("SVC02")),
                    "paid": D(seg.get_value("SVC03")), "cas": []}
            claim["lines"].append(line)
        elif c.seg_id == "CAS":
            for i in range(2, 20, 3):
                reason = seg.get_value(f"CAS{i:02d}")
                if reason:
                    line["cas"].append((seg.get_value("CAS01"), reason, D(seg.get_value(f"CAS{i + 1:02d}"))))
    return out


def test_837_in_adjudicated_paid_835_out(db):
    clock.clock_set(day=datetime.date(2026, 2, 1))
    w = build_world(funding="ASC", oon_coinsurance="0.40", excluded=["cosmetic"])
    text = text_837([
        claim837(w, pcn="VISIT", lines=(("99213", "200", 1), ("80053", "50", 1))),  # copay, write-off
        claim837(w, pcn="MRI", lines=(("70551", "2500", 1),)),  # deductible, coinsurance, write-off
        claim837(w, pcn="COSMETIC", lines=(("15780", "900", 1), ("99213", "100", 1))),  # one line denied 96
    ] + [claim837(w, pcn="OON", npi=w.faraway.npi, lines=(("99213", "300", 1),))])  # balance billed
    inbound = import_text(text)
    assert inbound.claims_accepted == 4
    claims_adjudicate_pending()
    assert sorted(Claim.objects.values_list("state", flat=True)) == ["approved"] * 4
    payment_cycle_run()
    assert set(Claim.objects.values_list("state", flat=True)) == {"paid"}
    remittances = list(RemittanceAdvice.objects.order_by("pk"))
    assert len(remittances) == 2
    carcs_seen = set()
    for remittance in remittances:
        text_835 = remittance_835(remittance=remittance)
        assert x12_errors(text_835) == []  # pyx12's 005010X221A1 map
        read = _read_835(text_835)
        claims = {c.claim_number: c for c in Claim.objects.filter(provider=remittance.provider)}
        assert read["total"] == remittance.amount == sum(c["paid"] for c in read["claims"])
        assert {c["number"] for c in read["claims"]} == set(claims)
        for rc in read["claims"]:
            claim = claims[rc["number"]]
            assert rc["pcn"] == claim.inbound.patient_control_number
            assert (rc["billed"], rc["paid"], rc["patient"]) == (claim.billed, claim.plan_paid, claim.member_responsibility)
            adjustments = [a for ln in rc["lines"] for a in ln["cas"]]
            assert rc["billed"] - sum(a[2] for a in adjustments) == rc["paid"]
            assert rc["patient"] == sum(a[2] for a in adjustments if a[0] == "PR")
            by = {}
            for group, reason, amount in adjustments:
                by[(group, reason)] = by.get((group, reason), D("0")) + amount
                carcs_seen.add((group, reason))
            want = {("PR", "1"): claim.deductible, ("PR", "2"): claim.coinsurance, ("PR", "3"): claim.copay,
                    ("CO", "45"): claim.provider_write_off, ("PR", "243"): claim.balance_billed,
                    ("PR", "96"): claim.not_covered}
            assert {k: v for k, v in by.items()} == {k: v for k, v in want.items() if v}
            lines = list(claim.lines.order_by("line_number"))
            results = {r.line_id: r for r in claim.line_results.filter(round=claim.adjudication_round)}
            for rl, line in zip(rc["lines"], lines, strict=True):
                assert (rl["code"], rl["billed"], rl["paid"]) == (line.procedure_code, line.billed, results[line.pk].plan_paid)
                assert rl["billed"] - sum(a[2] for a in rl["cas"]) == rl["paid"]
    assert carcs_seen == {("PR", "1"), ("PR", "2"), ("PR", "3"), ("CO", "45"), ("PR", "96"), ("PR", "243")}


def test_export_835_command_prints_it(db):
    clock.clock_set(day=datetime.date(2026, 2, 1))
    w = build_world(funding="ASC")
    import_text(text_837([claim837(w, pcn="ONE")]))
    claims_adjudicate_pending()
    payment_cycle_run()
    remittance = RemittanceAdvice.objects.get()
    out = io.StringIO()
    call_command("export_835", str(remittance.pk), stdout=out)
    assert out.getvalue() == remittance_835(remittance=remittance)
    assert "CLP*ONE*1*200*" in out.getvalue()
