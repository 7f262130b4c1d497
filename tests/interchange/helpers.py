"""Building 837 files for the tests and reading the 999s and 835s back with pyx12."""
import datetime
import io
from decimal import Decimal

from interchange.x12.services import inbound_837_import
from interchange.x12.stream import segments_checked
from interchange.x12.write_837 import Claim837

D = Decimal
SERVICE = datetime.date(2026, 1, 10)


def claim837(world, *, pcn="PCN1", member=None, npi=None, lines=(("99213", "200", 1),), charge=None, service=SERVICE):
    return Claim837(npi=npi or world.mercy.npi, member_id=member or world.alice.member_id, patient_control_number=pcn,
                    service_date=service, lines=tuple((c, D(b), u) for c, b, u in lines),
                    charge=D(charge) if charge is not None else None)


def import_text(text: str, *, user=None, name="test.837"):
    return inbound_837_import(src=io.StringIO(text), name=name, size=len(text), uploaded_by=user)


def x12_errors(text: str) -> list[str]:
    """Every error pyx12 finds in `text` against its map (the 837, 835 or 999 guide its GS08 names)."""
    return [e.text() for c in segments_checked(io.StringIO(text)) for e in (*c.walk, *c.own)]


def segments(text: str, seg_id: str) -> list[list[str]]:
    out = []
    for raw in text.replace("\n", "").split("~"):
        parts = raw.strip().split("*")
        if parts and parts[0] == seg_id:
            out.append(parts)
    return out
