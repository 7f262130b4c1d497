"""Our X12 reader (`interchange.x12.reader.X12Reader`) gives pyx12's X12Reader's segments, counters and
errors, segment by segment, on good files, broken ones, other separators and line breaks, and stops (or
refuses the file) where pyx12 does."""
import datetime
import io
import pathlib
import random
from decimal import Decimal

import pytest
import pyx12.errors
import pyx12.x12file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interchange.x12.reader import HLStack, X12Reader
from interchange.x12.write_837 import Claim837, text_837

pytestmark = pytest.mark.django_db  # the writer's ISA date comes from the business clock

SAMPLE = (pathlib.Path(__file__).parent / "files" / "sample_837p.txt").read_text()
NPIS = ("1234567893", "1245319599", "1003000126")


def _text(n: int, rnd: random.Random, *, npis=NPIS, alternate=False) -> str:
    claims = [Claim837(npi=npis[i % len(npis)] if alternate else rnd.choice(npis), member_id=f"M{rnd.randrange(10**6):07d}", patient_control_number=f"P{i}",
                       service_date=datetime.date(2026, 1, 1 + rnd.randrange(20)),
                       lines=tuple(("99213", Decimal(100 + rnd.randrange(50)), 1) for _ in range(rnd.randrange(1, 4))))
              for i in range(n)]
    return text_837(claims)


def _segment(seg) -> tuple:
    """Everything a consumer may read of a pyx12 Segment: its attributes and each element's."""
    attrs = {k: v for k, v in vars(seg).items() if k != "elements"}
    return (type(seg), attrs, [(type(c), {k: v for k, v in vars(c).items() if k != "elements"},
                                [(type(e), vars(e)) for e in c.elements]) for c in seg.elements])


def _read(cls, text: str) -> list:
    """Each segment with the reader's counters and errors after it, then the end's errors, or the
    error that stopped the reader (its type and message) where it stopped."""
    out = []
    try:
        reader = cls(io.StringIO(text))
    except (pyx12.errors.X12Error, IndexError) as exc:
        return [("refused", type(exc), str(exc))]
    reader.check_837_lx = True
    try:
        for seg in reader:
            out.append((_segment(seg), str(seg), reader.get_seg_count(), reader.get_cur_line(), reader.get_ls_id(),
                        reader.get_isa_id(), reader.get_gs_id(), reader.get_st_id(), list(reader.hl_stack),
                        reader.lx_count, reader.gs_count, reader.st_count, reader.hl_count, list(reader.loops),
                        reader.pop_errors()))
    except pyx12.errors.X12Error as exc:
        out.append(("stopped", str(exc), reader.pop_errors()))
        return out
    reader.cleanup()
    out.append(("end", reader.pop_errors(), reader.get_term()))
    return out


def assert_same(text: str) -> list:
    ours = _read(X12Reader, text)
    assert ours == _read(pyx12.x12file.X12Reader, text)
    return ours


def test_the_sample_file_reads_as_pyx12_reads_it():
    read = assert_same(SAMPLE)
    assert len(read) == SAMPLE.count("~") + 1
    assert read[-1] == ("end", [], ("~", "*", ":", "\n", "^"))
    assert all(not r[-1] for r in read[:-1])  # no error anywhere


def test_a_generated_file_of_many_providers():
    read = assert_same(_text(80, random.Random(5)))
    assert not any(r[-1] for r in read[:-1])


def test_cr_lf_line_breaks_and_none():
    text = _text(12, random.Random(2))
    for variant in (text.replace("~\n", "~\r\n"), text.replace("~\n", "~"), text.replace("~\n", "~\n\r\n"),
                    text.replace("~\n", "~\r")):
        read = assert_same(variant)
        assert len(read) == text.count("~") + 1 and read[-1][1] == []


@pytest.mark.parametrize("seps", ["|>!", "!:\n", "*\\'", "+:\x1d"])
def test_another_separator_set(seps):
    ele, sub, seg = seps
    text = _text(10, random.Random(3))
    table = str.maketrans({"*": ele, ":": sub, "~": seg})
    other = text.replace("~\n", "~").translate(table)
    read = assert_same(other)
    assert read[-1][0] == "end" and read[-1][2][:3] == (seg, ele, sub)
    assert [r[1] for r in read[:-1]] == [str(s) for s in pyx12.x12file.X12Reader(io.StringIO(other))]
    assert len(read) == text.count("~") + 1


@pytest.mark.parametrize("cut", [0, 1, 3, 50, 105])
def test_a_truncated_isa_is_refused_as_pyx12_refuses_it(cut):
    read = assert_same(SAMPLE[:cut])
    assert read[0][0] == "refused" and read[0][1] is pyx12.errors.X12Error


@pytest.mark.parametrize("text, refused", [
    (" " + SAMPLE, True), ("\ufeff" + SAMPLE, True), (SAMPLE.replace("00501", "00601", 1), True),
    ("GS*HC~" + SAMPLE, True), ("", True),
    (SAMPLE.replace("*T*:~", "*T*:", 1), False),  # the ISA's 106th character (a line break) is taken as the terminator
])
def test_a_wrong_start_as_pyx12_reads_it(text, refused):
    assert (assert_same(text)[0][0] == "refused") is refused


def test_envelope_checks_over_several_interchanges_groups_and_sets():
    text = _text(4, random.Random(1))
    body = text.split("\n")
    gs, st_ = body.index(next(s for s in body if s.startswith("GS*"))), body.index(next(s for s in body if s.startswith("ST*")))
    se = body.index(next(s for s in body if s.startswith("SE*")))
    one_set = body[st_:se + 1]
    doubled = body[:se + 1] + one_set + one_set[:5] + body[se + 1:]  # a second ST with the same 0001, a third unended
    read = assert_same("\n".join(doubled + body[:gs + 1] + body[gs:]))  # another ISA and GS, the same numbers
    codes = [e[1] for r in read[:-1] for e in r[-1]] + [e[1] for e in read[-1][1]]
    # a set number twice, an unended set, the GE count, an ISA and a GS number twice, the unended GS, the IEA count
    assert {"23", "3", "5", "025", "6", "024", "021"} <= set(codes)


def test_a_segment_longer_than_a_read_stops_both_at_the_same_place():
    text = SAMPLE.replace("NM1*41*2*ACME CLEARINGHOUSE", "NM1*41*2*" + "A" * 20_000, 1)
    read = assert_same(text)
    assert read[-1][0] == "end" and any(e[1] == "2" for e in read[-1][1])  # SE missing: reading stopped


MUTATIONS = ["truncate", "drop", "duplicate", "swap", "hl", "hl_parent", "lx", "empty", "space", "trailing",
             "control", "count", "lower", "noterm", "blank"]


def _mutated(text: str, rnd: random.Random, how: str) -> str:
    segs = text.split("~\n")
    i = rnd.randrange(1, len(segs) - 2)
    if how == "truncate":
        return text[:rnd.randrange(106, len(text))]
    if how == "drop":
        del segs[i]
    elif how == "duplicate":
        segs.insert(i, segs[i])
    elif how == "swap":
        segs[i], segs[i + 1] = segs[i + 1], segs[i]
    elif how in ("hl", "hl_parent", "lx"):
        prefix = {"hl": "HL*", "hl_parent": "HL*", "lx": "LX*"}[how]
        where = [k for k, s in enumerate(segs) if s.startswith(prefix)]
        k = rnd.choice(where)
        parts = segs[k].split("*")
        field = 2 if how == "hl_parent" else 1
        parts[field] = rnd.choice(["", "0", "x", "99", "1", "2:3", "-1"])
        segs[k] = "*".join(parts)
    elif how == "empty":
        segs.insert(i, rnd.choice(["", "\r\n", "NM1*", "NM1", "*"]))
    elif how == "space":
        segs[i] = rnd.choice([" ", "  ", "\t "]) + segs[i]
    elif how == "trailing":
        segs[i] += "*"
    elif how == "control":
        k = rnd.choice([k for k, s in enumerate(segs) if s[:3] in ("ST*", "SE*", "GS*", "GE*", "IEA")])
        parts = segs[k].split("*")
        parts[-1] = rnd.choice(["", "0002", "999999999", "X"])
        segs[k] = "*".join(parts)
    elif how == "count":
        k = rnd.choice([k for k, s in enumerate(segs) if s[:3] in ("SE*", "GE*", "IEA")])
        parts = segs[k].split("*")
        parts[1] = rnd.choice(["", "0", "2", "abc", "12345"])
        segs[k] = "*".join(parts)
    elif how == "lower":
        segs[i] = segs[i].lower()
    elif how == "noterm":
        segs[i] += segs.pop(i + 1)
    elif how == "blank":
        segs[i] = "   "
    return "~\n".join(segs)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), how=st.sampled_from(MUTATIONS))
def test_broken_files_give_pyx12s_errors(seed, how):
    rnd = random.Random(seed)
    text = _mutated(_text(6, rnd), rnd, how)
    if how == "blank":  # pyx12 fails on a segment of spaces alone (IndexError); ours stops reading there
        ours = _read(X12Reader, text)
        assert ours[-1][0] == "stopped" and "only spaces" in ours[-1][1]
        return
    assert_same(text)


def test_a_segment_of_spaces_alone_stops_the_reading_with_an_x12_error():
    text = SAMPLE.replace("~\nPER*", "~\n   ~\nPER*", 1)
    with pytest.raises(IndexError):
        list(pyx12.x12file.X12Reader(io.StringIO(text)))
    with pytest.raises(pyx12.errors.X12Error, match="only spaces"):
        list(X12Reader(io.StringIO(text)))


@settings(max_examples=80, deadline=None)
@given(ops=st.lists(st.one_of(st.tuples(st.just("push"), st.integers(1, 4)),
                              st.tuples(st.just("pop_to"), st.one_of(st.none(), st.integers(-2, 200))),
                              st.tuples(st.just("in"), st.one_of(st.none(), st.integers(-2, 200), st.just(10**30)))),
                    max_size=60))
def test_the_hl_stack_answers_as_pyx12s_list(ops):
    model, stack, count = [], HLStack(), 0
    for op, value in ops:
        if op == "push":  # pushed values only grow (each is the set's HL count)
            count += value
            model.append(count)
            stack.append(count)
        elif op == "pop_to":
            while model and value != model[-1]:
                del model[-1]
            stack.pop_to(value)
        else:
            assert (value in stack) == (value in model)
        assert list(stack) == model and len(stack) == len(model)


def test_the_hl_stack_stays_small_when_every_claim_has_its_own_billing_provider():
    """pyx12 never pops a billing provider's HL: its list grew by two numbers a claim."""
    reader = X12Reader(io.StringIO(_text(3_000, random.Random(9), npis=NPIS[:2], alternate=True)))
    for _ in reader:
        pass
    assert not reader.pop_errors()
    assert len(reader.hl_stack) == 6_000  # what pyx12 holds: each claim's 2000A and 2000B
    assert reader.hl_stack.runs() == 1  # what is held
