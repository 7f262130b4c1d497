"""The 999 implementation acknowledgment (005010X231A1) of an imported 837.

Per transaction set (AK2): an IK3 for each segment in error (its id, position in the set, loop) with an
IK4 for the element at fault (position, data element number, error code, the bad value); IK5 A when
every claim of the set was taken in and nothing was wrong, E when it was taken in part or with errors
noted, R when no claim of it was taken in. AK9 likewise for the group: A, E (errors noted, every set
taken), P (a set rejected, another taken), R (nothing taken). Claims rejected by an intake edit were
taken in (they are stored, rejected, as any claim): the 999 answers for the file's form, the claims'
outcomes are the import's record.
"""
from .envelope import ELE_TERM, SUBELE_TERM, control_number, gs, isa, x12_clean, x12_write
from .read_837 import Envelope, SetRead
from .stream import X12Error

ACK_VERSION = "005010X231A1"


def _ik3_ik4(error: X12Error) -> list[str]:
    if error.level not in ("seg", "ele") or not error.seg_id:
        return []
    code = "8" if error.level == "ele" else (x12_clean(error.code, 3) or "8")
    ik3 = ["IK3", x12_clean(error.seg_id, 3), str(max(error.seg_pos, 1)), x12_clean(error.loop_id, 4), code]
    out = [ELE_TERM.join(ik3).rstrip(ELE_TERM)]
    if error.level == "ele" and error.ele_pos:
        pos = str(error.ele_pos) + (f"{SUBELE_TERM}{error.subele_pos}" if error.subele_pos else "")
        ik4 = ["IK4", pos, x12_clean(error.ele_ref or "", 4), x12_clean(error.code, 3) or "6",
               x12_clean(error.value or "", 99)]
        out.append(ELE_TERM.join(ik4).rstrip(ELE_TERM))
    return out


def set_ack_code(s: SetRead) -> str:
    if s.claims_taken == 0 and (s.claims_found > 0 or s.error_count > 0):
        return "R"
    if s.claims_taken < s.claims_found or s.error_count > 0:
        return "E"
    return "A"


def group_ack_code(sets: list[SetRead], envelope: Envelope) -> str:
    codes = [set_ack_code(s) for s in sets]
    if not codes or all(c == "R" for c in codes):
        return "R"
    if any(c == "R" for c in codes):
        return "P"
    if any(c == "E" for c in codes) or envelope.errors:
        return "E"
    return "A"


def ack_999(*, envelope: Envelope, sets: list[SetRead], seed: int) -> str:
    """The 999 text for a file read by `Reader837`, its counts filled by the import."""
    control = control_number(seed)
    segs = [
        isa(sender=envelope.receiver or "TPA", receiver=envelope.sender or "UNKNOWN", control=control),
        gs(functional_id="FA", sender=envelope.gs_receiver or envelope.receiver or "TPA",
           receiver=envelope.gs_sender or envelope.sender or "UNKNOWN", control=seed % 1_000_000_000 or 1,
           version=ACK_VERSION),
        ELE_TERM.join(["ST", "999", "0001", ACK_VERSION]),
        ELE_TERM.join(["AK1", x12_clean(envelope.functional_id, 2) or "HC", x12_clean(envelope.gs_control, 9) or "0",
                       x12_clean(envelope.version, 12) or "005010X222A1"]),
    ]
    for s in sets:
        segs.append(ELE_TERM.join(["AK2", x12_clean(s.set_id, 3) or "837", x12_clean(s.control, 9) or "0",
                                   x12_clean(s.version, 35) or "005010X222A1"]))
        for error in s.errors:
            segs.extend(_ik3_ik4(error))
        code = set_ack_code(s)
        reasons = []
        for e in s.errors:
            if e.level == "st" and e.code not in reasons and x12_clean(e.code, 3):
                reasons.append(x12_clean(e.code, 3))
        if code != "A" and any(e.level in ("seg", "ele") for e in s.errors) and "5" not in reasons:
            reasons.append("5")  # one or more segments in error
        segs.append(ELE_TERM.join(["IK5", code, *reasons[:5]]))
    taken = sum(1 for s in sets if set_ack_code(s) != "R")
    segs.append(ELE_TERM.join(["AK9", group_ack_code(sets, envelope), str(len(sets)), str(len(sets)), str(taken)]))
    return x12_write(segs)
