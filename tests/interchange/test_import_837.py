"""An 837P in: validated with pyx12 as it streams, every claim through intake, a 999 for every file."""
import pytest

from claims.models import Claim, ClaimLine
from core.errors import DomainError
from interchange.models import InboundClaim, InboundFile
from interchange.x12.write_837 import text_837
from tests.interchange.helpers import D, claim837, import_text, segments, x12_errors


def test_a_clean_file_is_taken_whole(world):
    bob = world.add_member("bob", start=world.plan.year_start)
    text = text_837([claim837(world, pcn="A1", lines=(("99213", "200", 1), ("80053", "50.25", 2))),
                     claim837(world, pcn="A2", member=bob.member_id)])
    assert x12_errors(text) == []
    inbound = import_text(text)
    assert (inbound.status, inbound.claims_found, inbound.claims_accepted, inbound.claims_refused) == ("accepted", 2, 2, 0)
    claims = list(Claim.objects.order_by("pk"))
    assert [c.state for c in claims] == ["submitted", "submitted"]
    assert claims[0].billed == D("250.25") and claims[0].member == world.alice and claims[0].provider == world.mercy
    assert list(claims[0].lines.values_list("procedure_code", "units", "billed")) == [
        ("99213", 1, D("200.00")), ("80053", 2, D("50.25"))]
    assert claims[1].member == bob
    assert list(InboundClaim.objects.values_list("patient_control_number", "outcome", "claim_id")) == [
        ("A1", "submitted", claims[0].pk), ("A2", "submitted", claims[1].pk)]
    ack = inbound.ack_999
    assert segments(ack, "IK5") == [["IK5", "A"]]
    assert segments(ack, "AK9") == [["AK9", "A", "1", "1", "1"]]
    assert segments(ack, "AK1")[0][1:] == ["HC", "1", "005010X222A1"]
    assert x12_errors(ack) == []  # the 999 passes pyx12's 999 map


def test_the_shared_sample_file_is_read(world, settings):
    from pathlib import Path

    text = (Path(__file__).parent / "files" / "sample_837p.txt").read_text()
    inbound = import_text(text)
    # Nobody of the sample is known here: intake rejects it, naming the member; it was taken in.
    assert (inbound.claims_found, inbound.claims_accepted) == (1, 1)
    claim = Claim.objects.get()
    assert (claim.state, claim.rejection_field, claim.submitted_member_id, claim.billed) == (
        "rejected", "member_id", "MEM123456789", D("250.00"))
    assert claim.lines.count() == 2


def test_our_checks_reject_at_intake_naming_the_field(world):
    bad_npi = world.mercy.npi[:9] + str((int(world.mercy.npi[9]) + 1) % 10)
    text = text_837([
        claim837(world, pcn="SUM", charge="999"),
        claim837(world, pcn="NPI", npi=bad_npi),
        claim837(world, pcn="MEM", member="ZZZZZZZZZZ"),
        claim837(world, pcn="OK"),
    ])
    inbound = import_text(text)
    assert inbound.claims_accepted == 4 and inbound.status == "accepted"
    got = {ic.patient_control_number: (ic.outcome, ic.field) for ic in InboundClaim.objects.all()}
    assert got == {"SUM": ("rejected", "claim_charge"), "NPI": ("rejected", "npi"), "MEM": ("rejected", "member_id"),
                   "OK": ("submitted", "")}
    assert "not the sum of its lines" in Claim.objects.get(inbound__patient_control_number="SUM").rejection_message
    assert Claim.objects.filter(state="rejected").count() == 3


def test_a_bad_element_refuses_that_claim_only_and_names_it(world):
    text = text_837([claim837(world, pcn="GOOD1"), claim837(world, pcn="BAD", lines=(("99213", "150", 1),)),
                     claim837(world, pcn="GOOD2")])
    text = text.replace("SV1*HC:99213*150*", "SV1*HC:99213*1S0*")
    inbound = import_text(text)
    assert (inbound.status, inbound.claims_found, inbound.claims_accepted, inbound.claims_refused) == ("partial", 3, 2, 1)
    bad = InboundClaim.objects.get(patient_control_number="BAD")
    assert bad.outcome == "refused" and bad.claim is None
    assert bad.field == "SV1 #27 element 02"
    assert bad.message.startswith("SV1 #27 element 02: ") and "invalid character" in bad.message and "1S0" in bad.message
    assert Claim.objects.count() == 2 == ClaimLine.objects.count()
    ack = inbound.ack_999
    assert segments(ack, "IK3") == [["IK3", "SV1", "27", "2400", "8"]]
    assert segments(ack, "IK4") == [["IK4", "2", "782", "6", "1S0"]]
    assert segments(ack, "IK5") == [["IK5", "E", "5"]]
    assert segments(ack, "AK9")[0][1] == "E"
    assert x12_errors(ack) == []


def test_a_missing_mandatory_segment_refuses_its_claim(world):
    text = text_837([claim837(world, pcn="A"), claim837(world, pcn="B", service=world.plan.year_start)])
    text = text.replace("DTP*472*D8*20260101~\n", "")
    inbound = import_text(text)
    b = InboundClaim.objects.get(patient_control_number="B")
    assert b.outcome == "refused" and b.message.startswith("DTP #") and "missing" in b.message
    assert inbound.claims_accepted == 1
    assert Claim.objects.get().inbound.patient_control_number == "A"


def test_every_claim_bad_rejects_the_file(world):
    text = text_837([claim837(world, pcn="X")]).replace("SV1*HC:99213*200*", "SV1*HC:99213*2x0*")
    inbound = import_text(text)
    assert (inbound.status, inbound.claims_accepted) == ("rejected", 0)
    assert segments(inbound.ack_999, "IK5")[0][:2] == ["IK5", "R"]
    assert segments(inbound.ack_999, "AK9") == [["AK9", "R", "1", "1", "0"]]
    assert not Claim.objects.exists()


def test_a_wrong_segment_count_is_acknowledged_and_costs_no_claim(world):
    text = text_837([claim837(world, pcn="A")])
    se = segments(text, "SE")[0]
    text = text.replace(f"SE*{se[1]}*0001", f"SE*{int(se[1]) + 5}*0001")
    inbound = import_text(text)
    assert inbound.claims_accepted == 1 and inbound.errors_found >= 1
    assert segments(inbound.ack_999, "IK5") == [["IK5", "E", "4"]]


@pytest.mark.parametrize("junk", ["", "hello, world", "%PDF-1.7\n\x00\x01binary", "ISA*00*short~", "<x12/>" * 100])
def test_not_x12_is_refused_whole_and_writes_nothing(world, junk):
    with pytest.raises(DomainError) as refused:
        import_text(junk, name="junk.txt")
    assert "junk.txt is not an X12 837 file" in str(refused.value.message_dict["file"])
    assert not InboundFile.objects.exists() and not Claim.objects.exists()


def test_provider_staff_import_only_their_own_npi(world):
    from tests.factories import login

    staff = login("provider_staff", world.mercy)
    text = text_837([claim837(world, pcn="MINE"), claim837(world, pcn="THEIRS", npi=world.faraway.npi)])
    inbound = import_text(text, user=staff)
    assert (inbound.claims_accepted, inbound.claims_refused, inbound.status) == (1, 1, "partial")
    theirs = InboundClaim.objects.get(patient_control_number="THEIRS")
    assert theirs.outcome == "refused" and theirs.field == "npi" and world.mercy.npi in theirs.message
    assert Claim.objects.get().submitted_by == staff
    assert inbound.uploaded_by == staff and inbound.provider == world.mercy
