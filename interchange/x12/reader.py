"""An X12 reader with pyx12's X12Reader's answers and less of its cost.

pyx12's RawX12File splits off one segment at a time (`buffer.split(term, 1)` copies the rest of an
8 KB buffer per segment) and X12Reader parses each reference designator (`get_value("HL01")`) through
an X12Path and keeps every HL of a set on a list it scans. `X12Reader` here is a subclass of pyx12's:
the same segment objects (pyx12.segment.Segment), counters, loops and error list, the same envelope
checks (ISA/GS/ST/SE/GE/IEA: pyx12's own code runs for those six), the same 8 KB reads (so a file
stops being read exactly where pyx12's stops), with
- a buffer split in one call per read, each segment built without re-checking its separators;
- the other segments' checks (empty, segment id, HL01 count, HL02 parent, 2400/LX01) inline;
- the stack of open HLs held as runs of consecutive numbers (`HLStack`): a billing provider's HL
  (2000A) has no parent and is never popped, so pyx12's list held two numbers a claim (memory growing
  with the file) and its `parent in stack` scanned them;
- the control numbers seen (ISA13, GS06, ST02) in sets as well as lists.
One deliberate difference: a segment of spaces alone makes pyx12 fail with an IndexError; here it is
an X12Error (the file is unreadable from there, as with any segment pyx12 cannot read).
"""
from __future__ import annotations

import sys
from array import array
from bisect import bisect_right

import pyx12.errors
import pyx12.x12file
from pyx12.rawx12file import DEFAULT_BUFSIZE, ISA_LEN
from pyx12.segment import Composite, Element, Segment

_CONTROL = frozenset(("ISA", "IEA", "GS", "GE", "ST", "SE"))
_new = object.__new__
_SEG_IDS_KEPT = 1_000  # answers of is_seg_id_valid kept (a broken file may have any number of ids)


class HLStack:
    """pyx12's stack of open HL numbers (a list it appends to, pops from the top and asks `in`), held as
    runs of consecutive numbers. The numbers pushed only grow within a set (each is the set's HL count),
    so a run is two integers: a file of any size whose billing providers each open a run costs 16 bytes
    a provider left open, not two list items a claim."""

    __slots__ = ("_starts", "_ends")

    def __init__(self, items=()):
        self._starts = array("q")
        self._ends = array("q")
        for value in items:
            self.append(value)

    def append(self, value: int) -> None:
        ends = self._ends
        if ends and ends[-1] == value - 1:
            ends[-1] = value
        else:
            self._starts.append(value)
            ends.append(value)

    def _run_of(self, value) -> int:
        """The index of the run holding `value`, else -1."""
        if not isinstance(value, int) or not self._ends:
            return -1
        i = bisect_right(self._starts, value) - 1
        return i if i >= 0 and value <= self._ends[i] else -1

    def __contains__(self, value) -> bool:
        return self._run_of(value) >= 0

    def pop_to(self, value) -> None:
        """pyx12's `while stack and value != stack[-1]: del stack[-1]`: down to `value`, or empty."""
        i = self._run_of(value)
        if i < 0:
            del self._starts[:]
            del self._ends[:]
            return
        self._ends[i] = value
        del self._starts[i + 1:]
        del self._ends[i + 1:]

    def __len__(self) -> int:
        return sum(e - s + 1 for s, e in zip(self._starts, self._ends, strict=True))

    def __iter__(self):
        for s, e in zip(self._starts, self._ends, strict=True):
            yield from range(s, e + 1)

    def runs(self) -> int:
        return len(self._ends)


class _SeenIds(list):
    """A list of control numbers (pyx12 appends and asks `in`) answering `in` from a set."""

    def __init__(self, items=()):
        super().__init__(items)
        self._seen = set(self)

    def append(self, value) -> None:
        super().append(value)
        self._seen.add(value)

    def __contains__(self, value) -> bool:
        return value in self._seen


def _list_property(name: str, kind):
    def get(self):
        return self.__dict__[name]

    def put(self, value) -> None:
        self.__dict__[name] = kind(value)

    return property(get, put)


class X12Reader(pyx12.x12file.X12Reader):
    """pyx12.x12file.X12Reader's interface and answers (see the module's docstring)."""

    hl_stack = _list_property("_tpa_hl_stack", HLStack)
    isa_ids = _list_property("_tpa_isa_ids", _SeenIds)
    gs_ids = _list_property("_tpa_gs_ids", _SeenIds)
    st_ids = _list_property("_tpa_st_ids", _SeenIds)

    def __init__(self, src_file_obj) -> None:
        self.need_to_close = False
        try:
            _ = src_file_obj.closed
            self.fd_in = src_file_obj
        except AttributeError:
            if src_file_obj == "-":
                self.fd_in = sys.stdin
            else:
                self.fd_in = open(src_file_obj, encoding="ascii")  # noqa: SIM115 - closed by close()
                self.need_to_close = True
        pyx12.x12file.X12Base.__init__(self)
        # RawX12File's reading of the ISA: its fixed width gives the separators.
        line = self.fd_in.read(ISA_LEN)
        if line[:3] != "ISA":
            raise pyx12.errors.X12Error(f"First line does not begin with 'ISA': {line[:3]}")
        if len(line) != ISA_LEN:
            raise pyx12.errors.X12Error(f"ISA line is only {len(line)} characters")
        self.icvn = line[84:89]
        if self.icvn not in ("00401", "00501"):
            raise pyx12.errors.X12Error(
                f"ISA Interchange Control Version Number is unknown: {self.icvn} for {line}")
        self.seg_term = line[-1]
        self.ele_term = line[3]
        self.subele_term = line[-2]
        self.repetition_term = line[82] if self.icvn == "00501" else None
        self._buffer = line + self.fd_in.read(DEFAULT_BUFSIZE)
        self._seg_ids: dict[str, bool] = {}

    def get_ls_id(self):
        """pyx12 never opens an LS loop (its LS/LE handling is commented out), so it never finds one: the
        answer without scanning the open loops, twice a segment."""
        return None

    def _lines(self):
        """RawX12File's iteration: the text between terminators, CR/LF stripped from its front, until a
        read of 8 KB finds no terminator or a segment is empty. Each read's segments are split at once."""
        term, read = self.seg_term, self.fd_in.read
        buffer, self._buffer = self._buffer, ""
        while True:
            parts = buffer.split(term)
            if len(parts) == 1:
                buffer += read(DEFAULT_BUFSIZE)
                parts = buffer.split(term)
                if len(parts) == 1:
                    return
            buffer = parts.pop()
            for line in parts:
                line = line.lstrip("\n\r")
                if line == "":
                    return
                yield line

    def _segment(self, line: str) -> Segment:
        """pyx12.segment.Segment(line, seg_term, ele_term, subele_term), built directly."""
        ele_term, sub = self.ele_term, self.subele_term
        parts = line.split(ele_term)
        if parts[0] == "ISA":  # its elements are never split (ISA16 is the sub-element separator)
            return Segment(line, self.seg_term, ele_term, sub)
        seg = _new(Segment)
        seg.seg_term = seg.seg_term_orig = self.seg_term
        seg.ele_term = seg.ele_term_orig = ele_term
        seg.subele_term = seg.subele_term_orig = sub
        seg.repetition_term = "^"
        seg.seg_id = parts[0]
        elements = []
        for text in parts[1:]:
            comp = _new(Composite)
            comp.subele_term = comp.subele_term_orig = sub
            if sub in text:
                subs = []
                for piece in text.split(sub):
                    e = _new(Element)
                    e.value = piece
                    subs.append(e)
                comp.elements = subs
            else:
                e = _new(Element)
                e.value = text
                comp.elements = [e]
            elements.append(comp)
        seg.elements = elements
        return seg

    def __iter__(self):
        self.err_list = []
        ele_term = self.ele_term
        for line in self._lines():
            if line.startswith(" "):
                self._seg_error("1", "Segment contains a leading space", None, src_line=self.cur_line + 1)
                line = line.lstrip()
                if not line:
                    raise pyx12.errors.X12Error(f"segment {self.cur_line + 1} holds only spaces")
            if line[-1] == ele_term:
                self._seg_error("SEG1", "Segment contains trailing element terminators", None,
                                src_line=self.cur_line + 1)
            seg = self._segment(line)
            self._parse_segment(seg)
            yield seg

    def _parse_segment(self, seg_data: Segment) -> None:
        seg_id = seg_data.seg_id
        if seg_id in _CONTROL:
            pyx12.x12file.X12Reader._parse_segment(self, seg_data)
            return
        # X12Base._parse_segment for every other segment, its get_value calls read directly.
        elements = seg_data.elements
        if not any(e.value for comp in elements for e in comp.elements):
            self._seg_error("8", f'Segment "{seg_data}" is empty', None, src_line=self.cur_line + 1)
        valid = self._seg_ids.get(seg_id)
        if valid is None:
            valid = seg_data.is_seg_id_valid()
            if len(self._seg_ids) < _SEG_IDS_KEPT:
                self._seg_ids[seg_id] = valid
        if not valid:
            self._seg_error("1", f'Segment identifier "{seg_id}" is invalid', None, src_line=self.cur_line + 1)
        if seg_id == "HL":
            self.hl_count += 1
            hl_count = elements[0].format() if elements else None
            if self.hl_count != self._int(hl_count):
                self._seg_error("HL1", f"My HL count {self.hl_count:d} does not match your HL count {hl_count}")
            stack = self.hl_stack
            parent = elements[1].format() if len(elements) > 1 else None
            if parent != "":
                hl_parent = self._int(parent)
                if hl_parent not in stack:
                    self._seg_error("HL2", f"HL parent ({hl_parent}) is not a valid parent")
                stack.pop_to(hl_parent)
            stack.append(self.hl_count)
        elif self.check_837_lx and seg_id == "CLM":
            self.lx_count = 0
        elif self.check_837_lx and seg_id == "LX":
            self.lx_count += 1
            lx01 = elements[0].format() if elements else None
            if lx01 != f"{self.lx_count:d}":
                self._seg_error("LX", f"Your 2400/LX01 Service Line Number {lx01} does not match my count of "
                                      f"{self.lx_count:d}")
        self.seg_count += 1
        self.cur_line += 1
