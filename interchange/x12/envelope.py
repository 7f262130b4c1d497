"""Writing X12: segments through pyx12's writer (it keeps SE, GE and IEA counts right), the envelope."""
import io

import pyx12.segment
import pyx12.x12file

from core import clock

SEG_TERM, ELE_TERM, SUBELE_TERM, REPEAT = "~", "*", ":", "^"


def x12_clean(value, width: int | None = None) -> str:
    """Text safe inside an element: no separators, no control characters, at most `width` characters."""
    text = "".join(ch for ch in str(value if value is not None else "") if ch.isprintable())
    for sep in (SEG_TERM, ELE_TERM, SUBELE_TERM, REPEAT):
        text = text.replace(sep, " ")
    text = text.strip()
    return text[:width] if width else text


def control_number(seed: int) -> str:
    return f"{seed % 1_000_000_000:09d}"


def isa(*, sender: str, receiver: str, control: str, usage: str = "P") -> str:
    now = clock.now()
    return ELE_TERM.join([
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", f"{x12_clean(sender, 15):<15}", "ZZ",
        f"{x12_clean(receiver, 15):<15}", now.strftime("%y%m%d"), now.strftime("%H%M"), REPEAT, "00501", control,
        "0", usage, SUBELE_TERM])


def gs(*, functional_id: str, sender: str, receiver: str, control: int, version: str) -> str:
    now = clock.now()
    return ELE_TERM.join(["GS", functional_id, x12_clean(sender, 15) or "TPA", x12_clean(receiver, 15) or "UNKNOWN",
                          now.strftime("%Y%m%d"), now.strftime("%H%M"), str(control), "X", version])


def x12_write(segments: list[str]) -> str:
    """The segments (text without terminators) written by pyx12's X12Writer, one a line; the writer
    counts each ST…SE set and each group and interchange, and rewrites SE01, GE01 and IEA01."""
    out = io.StringIO()
    writer = pyx12.x12file.X12Writer(out, SEG_TERM, ELE_TERM, SUBELE_TERM, "\n", REPEAT)
    for text in segments:
        writer.Write(pyx12.segment.Segment(text, SEG_TERM, ELE_TERM, SUBELE_TERM))
    writer.Close()
    return out.getvalue()
