"""An 837P (005010X222A1) read as it streams: one claim at a time, with the X12 errors that touch it.

A claim is taken in only when no error of pyx12 falls in it or in the loops above it (its billing
provider 2000A, its subscriber 2000B, the transaction set's header); its errors name the segment, its
position in the set and the element. Errors after the claims (a wrong SE count, a GE or IEA control
number) are acknowledged in the 999 and cost no claim: each claim was whole and checked when it ended.

Each patient is sent as the subscriber (2000B) with the member ID on their card: the plan issues every
member an ID of their own. A patient loop (2000C) is refused, naming its HL.
"""
import datetime
import functools
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .stream import Checked, X12Error, segments_checked
from .stream import _seg_value as _val  # the hot loop's element reads (get_value parses its argument each time)

MAX_ERRORS_KEPT = 200  # per transaction set, for the 999 (every error is counted)


@dataclass(slots=True)
class LineRead:
    code: str = ""
    billed: str = ""
    units: object = 1
    service_date: datetime.date | None = None


@dataclass(slots=True)
class ClaimRead:
    position: int
    set_control: str
    seg_pos: int  # the CLM's position in its set
    set_index: int = 0  # its set's place in Reader837.sets
    patient_control_number: str = ""
    npi: str = ""
    member_id: str = ""
    charge: str = ""
    lines: list[LineRead] = field(default_factory=list)
    errors: list[X12Error] = field(default_factory=list)  # X12 errors in the claim or the loops above it
    problem: tuple[str, str] | None = None  # (field, message) the reader found (not pyx12)

    @property
    def service_date(self) -> datetime.date | None:
        return self.lines[0].service_date if self.lines else None

    def refusal(self) -> tuple[str, str] | None:
        """(field, message) of the first reason this claim cannot be taken in, else None."""
        if self.errors:
            e = self.errors[0]
            where = e.text().split(":", 1)[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return where[:60], (e.text() + more)[:300]
        return self.problem


@dataclass(slots=True)
class SetRead:
    """A transaction set (ST…SE): what the 999's AK2…IK5 says of it."""
    control: str
    set_id: str
    version: str
    errors: list[X12Error] = field(default_factory=list)
    error_count: int = 0
    claims_found: int = 0
    claims_taken: int = 0
    closed: bool = False

    def keep(self, errors: list[X12Error]) -> None:
        self.error_count += len(errors)
        room = MAX_ERRORS_KEPT - len(self.errors)
        if room > 0:
            self.errors.extend(errors[:room])


@dataclass(slots=True)
class Envelope:
    sender: str = ""
    receiver: str = ""
    isa_control: str = ""
    gs_control: str = ""
    gs_sender: str = ""
    gs_receiver: str = ""
    functional_id: str = ""
    version: str = ""
    errors: list[X12Error] = field(default_factory=list)  # ISA/GS/GE/IEA level, and the reader's giving up


@functools.lru_cache(maxsize=4096)  # a file's service dates are few; strptime is slow
def _date(text: str) -> datetime.date | None:
    try:
        return datetime.datetime.strptime(text[:8], "%Y%m%d").date()
    except (ValueError, TypeError):
        return None


def _units(text: str):
    """SV104 as intake takes units: a whole number (as an int), else the text as sent (intake names it)."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError):
        return text
    return int(value) if value == value.to_integral_value() and abs(value) < 10**9 else text


class Reader837:
    """`claims()` yields each ClaimRead as it ends; `sets` and `envelope` fill as the file is read."""

    def __init__(self, src):
        self.src = src
        self.sets: list[SetRead] = []
        self.envelope = Envelope()
        self.segments = 0

    def claims(self):
        position = 0
        cur_set: SetRead | None = None
        levels: dict[str, list[X12Error]] = {}  # "set", "20", "22", "23": errors of that level's segments
        npi = member_id = ""
        patient_loop = False
        claim: ClaimRead | None = None
        line: LineRead | None = None

        def context_errors():
            return [*levels.get("set", []), *levels.get("20", []), *levels.get("22", []), *levels.get("23", [])]

        def close():
            nonlocal claim, line
            done, claim, line = claim, None, None
            if done is not None:
                done.errors = context_errors() + done.errors
                if patient_loop and done.problem is None:
                    done.problem = ("HL", "a patient loop (2000C) is not taken: send the patient as the "
                                          "subscriber (2000B) with the member ID on their card")
                dates = {ln.service_date for ln in done.lines}
                if done.problem is None and len(dates) > 1:
                    done.problem = ("service_date", "the lines' service dates (DTP*472) differ: "
                                                    "send one claim per date of service")
                if done.problem is None and None in dates and done.lines:
                    done.problem = ("service_date", "a line has no readable service date (DTP*472)")
            return done

        def attach(errors: list[X12Error]):
            if not errors:
                return
            outer = [e for e in errors if e.level in ("isa", "gs")]
            if outer:
                self.envelope.errors.extend(outer[:MAX_ERRORS_KEPT - len(self.envelope.errors)])
                errors = [e for e in errors if e.level not in ("isa", "gs")]
                if not errors:
                    return
            if cur_set is not None and not cur_set.closed:
                cur_set.keep(errors)
            else:
                self.envelope.errors.extend(errors[:max(0, MAX_ERRORS_KEPT - len(self.envelope.errors))])
            if claim is not None:
                claim.errors.extend(errors)
            else:
                for level in ("23", "22", "20", "set"):
                    if level in levels:
                        levels[level].extend(errors)
                        break

        c: Checked
        for c in segments_checked(self.src):
            self.segments += 1
            sid, seg = c.seg_id, c.seg
            ends_claim = sid in ("CLM", "HL", "SE", "GE", "IEA", "ST", "")
            attach(c.walk)
            if ends_claim:
                done = close()
                if done is not None:
                    yield done
            if sid == "":
                if cur_set is not None and not cur_set.closed:
                    cur_set.keep([X12Error("st", "3", "transaction set ends without its SE trailer")])
                    cur_set.closed = True
                break
            if sid == "ISA":
                e = self.envelope
                e.sender, e.receiver = (seg.get_value("ISA06") or "").strip(), (seg.get_value("ISA08") or "").strip()
                e.isa_control = (seg.get_value("ISA13") or "").strip()
            elif sid == "GS":
                e = self.envelope
                e.gs_control, e.functional_id = seg.get_value("GS06") or "", seg.get_value("GS01") or ""
                e.gs_sender, e.gs_receiver = seg.get_value("GS02") or "", seg.get_value("GS03") or ""
                e.version = seg.get_value("GS08") or ""
            elif sid == "ST":
                if cur_set is not None and not cur_set.closed:
                    cur_set.keep([X12Error("st", "3", "transaction set ends without its SE trailer")])
                cur_set = SetRead(control=seg.get_value("ST02") or "", set_id=seg.get_value("ST01") or "",
                                  version=seg.get_value("ST03") or self.envelope.version)
                self.sets.append(cur_set)
                levels = {"set": []}
                npi = member_id = ""
                patient_loop = False
            elif sid == "SE":
                pass  # closed below, once its own errors (the count) are the set's
            elif sid == "HL":
                level = _val(seg, 2) or ""
                if level == "20":
                    levels = {"set": levels.get("set", []), "20": []}
                    npi = member_id = ""
                    patient_loop = False
                elif level == "22":
                    levels = {k: v for k, v in levels.items() if k in ("set", "20")} | {"22": []}
                    member_id = ""
                    patient_loop = False
                else:
                    levels = {k: v for k, v in levels.items() if k in ("set", "20", "22")} | {"23": []}
                    patient_loop = True
            elif sid == "NM1" and c.loop_id == "2010AA":
                npi = (_val(seg, 8) or "").strip()
            elif sid == "NM1" and c.loop_id == "2010BA":
                member_id = (_val(seg, 8) or "").strip()
            elif sid == "CLM" and cur_set is not None:
                position += 1
                cur_set.claims_found += 1
                claim = ClaimRead(position=position, set_control=cur_set.control, seg_pos=c.seg_pos,
                                  set_index=len(self.sets) - 1,
                                  patient_control_number=(_val(seg, 0) or "")[:38], npi=npi,
                                  member_id=member_id, charge=_val(seg, 1) or "")
            elif claim is not None:
                if sid == "LX":
                    line = LineRead()
                    claim.lines.append(line)
                elif sid == "SV1" and line is not None:
                    line.code = _val(seg, 0, 1) or ""
                    line.billed = _val(seg, 1) or ""
                    line.units = _units(_val(seg, 3) or "1")
                elif sid == "DTP" and line is not None and _val(seg, 0) == "472":
                    line.service_date = _date(_val(seg, 2) or "")
            attach(c.own)
            if sid == "SE" and cur_set is not None:
                cur_set.closed = True
