"""Writing an 837P (005010X222A1), for test files and the benchmark: claims grouped by billing provider,
each patient as the subscriber with the member ID on their card. Streams: one claim's segments at a time."""
import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal

from .envelope import ELE_TERM, SEG_TERM, SUBELE_TERM, isa

VERSION = "005010X222A1"


@dataclass(frozen=True, slots=True)
class Claim837:
    npi: str
    member_id: str
    patient_control_number: str
    service_date: datetime.date
    lines: tuple  # of (code, billed Decimal, units int)
    charge: Decimal | None = None  # CLM02; the lines' sum unless given


def _m(value: Decimal) -> str:
    text = f"{Decimal(value):.2f}"
    return text.rstrip("0").rstrip(".")


def lines_837(claims: Iterable[Claim837], *, control: int = 1, sender: str = "CLEARINGHSE01",
              receiver: str = "TPAPLAN001") -> Iterator[str]:
    """The file's segments, one a line (with its terminator); SE01 counts them."""
    ctl = f"{control % 1_000_000_000:09d}"
    yield isa(sender=sender, receiver=receiver, control=ctl, usage="T") + SEG_TERM
    yield ELE_TERM.join(["GS", "HC", sender, receiver, "20260115", "1030", str(control), "X", VERSION]) + SEG_TERM
    body = [
        ["ST", "837", "0001", VERSION],
        ["BHT", "0019", "00", f"B{ctl}", "20260115", "1030", "CH"],
        ["NM1", "41", "2", "ACME CLEARINGHOUSE", "", "", "", "", "46", "CLH12345"],
        ["PER", "IC", "EDI SUPPORT", "TE", "8005551212"],
        ["NM1", "40", "2", "EXAMPLE EMPLOYER HEALTH PLAN", "", "", "", "", "46", receiver],
    ]
    count = 0
    for seg in body:
        count += 1
        yield ELE_TERM.join(seg) + SEG_TERM
    hl = 0
    billing_hl = None
    current_npi = None
    for c in claims:
        segs = []
        if c.npi != current_npi:
            hl += 1
            billing_hl, current_npi = hl, c.npi
            segs += [["HL", str(hl), "", "20", "1"],
                     ["NM1", "85", "2", "BILLING PROVIDER", "", "", "", "", "XX", c.npi],
                     ["N3", "100 MAIN STREET"], ["N4", "SPRINGFIELD", "IL", "627011234"], ["REF", "EI", "371234567"]]
        hl += 1
        charge = c.charge if c.charge is not None else sum((Decimal(b) for _, b, _ in c.lines), Decimal("0"))
        segs += [["HL", str(hl), str(billing_hl), "22", "0"],
                 ["SBR", "P", "18", "GRP12345", "", "", "", "", "", "CI"],
                 ["NM1", "IL", "1", "PATIENT", "PAT", "", "", "", "MI", c.member_id],
                 ["NM1", "PR", "2", "EXAMPLE EMPLOYER HEALTH PLAN", "", "", "", "", "PI", receiver],
                 ["CLM", c.patient_control_number, _m(charge), "", "", f"11{SUBELE_TERM}B{SUBELE_TERM}1", "Y", "A",
                  "Y", "Y"],
                 ["HI", f"ABK{SUBELE_TERM}J069"]]
        for i, (code, billed, units) in enumerate(c.lines, 1):
            segs += [["LX", str(i)], ["SV1", f"HC{SUBELE_TERM}{code}", _m(billed), "UN", str(units), "", "", "1"],
                     ["DTP", "472", "D8", c.service_date.strftime("%Y%m%d")]]
        for seg in segs:
            count += 1
            yield ELE_TERM.join(seg) + SEG_TERM
    yield ELE_TERM.join(["SE", str(count + 1), "0001"]) + SEG_TERM
    yield ELE_TERM.join(["GE", "1", str(control)]) + SEG_TERM
    yield ELE_TERM.join(["IEA", "1", ctl]) + SEG_TERM


def text_837(claims: Iterable[Claim837], **kwargs) -> str:
    return "\n".join(lines_837(claims, **kwargs)) + "\n"
