"""The fast paths of the 837 import give the answers of the plain ones: the remembered walk and
validators (`segments_checked(remember=True)`) the errors of pyx12 alone, and the import read in a
second process (`parallel=True`) the claims, outcomes and 999 of the import read in this one."""
import io
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.models import Claim, ClaimLine
from interchange.models import InboundClaim, InboundFile
from interchange.x12.services import inbound_837_import
from interchange.x12.stream import segments_checked
from interchange.x12.write_837 import text_837
from tests.interchange.helpers import claim837, segments

CODES = (("99213", "200"), ("80053", "40"), ("99214", "169.95"), ("81001", "21.2"))


def _file(world, n: int, rnd: random.Random) -> str:
    claims = []
    for i in range(n):
        lines = tuple((code, str(Decimal(billed) + rnd.randrange(3)), rnd.randrange(1, 3))
                      for code, billed in rnd.sample(CODES, rnd.randrange(1, 4)))
        claims.append(claim837(world, pcn=f"P{i}", lines=lines,
                               member=rnd.choice([world.alice.member_id, world.alice.member_id, "NOSUCH1"]),
                               npi=rnd.choice([world.mercy.npi, world.faraway.npi])))
    return text_837(claims)


def _broken(text: str, rnd: random.Random, how: str) -> str:
    lines = text.splitlines()
    i = rnd.randrange(len(lines) // 2, len(lines) - 3)  # late in the file: after the remembered answers
    if how == "drop":
        del lines[i]
    elif how == "duplicate":
        lines.insert(i, lines[i])
    elif how == "charge":
        lines = [ln.replace("*UN*", "*UN*x", 1) if j == i else ln for j, ln in enumerate(lines)]
    elif how == "value":
        parts = lines[i].split("*")
        k = rnd.randrange(1, len(parts)) if len(parts) > 1 else 0
        parts[k] = rnd.choice(["", "1S0", "X" * 90, "20261399", "ZZ", "-1"])
        lines[i] = "*".join(parts)
    elif how == "swap":
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
    elif how == "loops":  # many more lines than a claim may have (2400 repeats 50 times at most)
        j = next(k for k in range(i, 3, -1) if lines[k].startswith("LX*"))
        lines[j:j] = lines[j:j + 3] * 51
    return "\n".join(lines) + "\n"


def _checked(text: str, remember: bool) -> list[tuple]:
    return [(c.seg_id, c.loop_id, c.seg_pos, c.line, [_fields(e) for e in (*c.walk, *c.own)])
            for c in segments_checked(io.StringIO(text), remember=remember)]


def _fields(e) -> tuple:
    return (e.level, e.code, e.message, e.value, e.seg_id, e.seg_pos, e.line, e.loop_id, e.ele_pos, e.subele_pos,
            e.ele_ref)


def test_remembered_answers_are_pyx12s_on_a_good_file(world):
    text = _file(world, 60, random.Random(1))
    fast = _checked(text, True)
    assert fast == _checked(text, False)
    assert all(not errors for *_, errors in fast)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), how=st.sampled_from(["drop", "duplicate", "charge", "value", "swap", "loops"]))
def test_remembered_answers_are_pyx12s_on_broken_files(world, seed, how):
    rnd = random.Random(seed)
    text = _broken(_file(world, 25, rnd), rnd, how)
    assert _checked(text, True) == _checked(text, False)


def test_a_loop_repeated_past_its_max_use_is_found_after_remembered_walks(world):
    text = _broken(_file(world, 30, random.Random(3)), random.Random(3), "loops")
    errors = [e for *_, errs in _checked(text, True) for e in errs]
    assert any(e[0] == "seg" and e[1] == "4" and "2400" in e[2] for e in errors), errors


def _outcome(inbound: InboundFile) -> dict:
    ack = inbound.ack_999.replace("\n", "").split("~")
    body = [s for s in ack if s.split("*")[0] not in ("ISA", "GS", "GE", "IEA")]  # control numbers differ
    rows = list(InboundClaim.objects.filter(file=inbound).order_by("position").values_list(
        "position", "set_control", "patient_control_number", "outcome", "field", "message", "claim__state",
        "claim__member_id", "claim__provider_id", "claim__billed", "claim__rejection_field"))
    lines = sorted(ClaimLine.objects.filter(claim__inbound__file=inbound).values_list(
        "claim__inbound__position", "line_number", "procedure_code", "units", "billed"))
    return {"ack": body, "status": inbound.status, "counts": (inbound.claims_found, inbound.claims_accepted,
                                                            inbound.claims_refused, inbound.errors_found),
            "rows": rows, "lines": lines}


def _import(text: str, parallel: bool) -> InboundFile:
    return inbound_837_import(src=io.StringIO(text), name="t.837", size=len(text), parallel=parallel)


def test_the_import_read_in_a_second_process_is_the_same_import(world):
    rnd = random.Random(7)
    text = _broken(_file(world, 2_300, rnd), rnd, "value")  # more than two chunks, one of them cut short
    serial = _outcome(_import(text, False))
    parallel = _outcome(_import(text, True))
    assert parallel == serial
    assert serial["counts"][0] == 2_300 and len(serial["rows"]) == 2_300
    assert {r[3] for r in serial["rows"]} >= {"submitted", "rejected"}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), how=st.sampled_from(["drop", "duplicate", "charge", "value", "swap"]))
def test_broken_files_import_the_same_in_a_second_process(world, seed, how):
    rnd = random.Random(seed)
    text = _broken(_file(world, 12, rnd), rnd, how)
    assert _outcome(_import(text, True)) == _outcome(_import(text, False))


def test_a_file_that_is_not_x12_is_refused_whole_in_a_second_process(world):
    from core.errors import DomainError
    try:
        _import("hello, this is not X12\n" * 10, True)
    except DomainError as exc:
        assert "file" in exc.message_dict
    else:
        raise AssertionError("not refused")
    assert not InboundFile.objects.exists() and not Claim.objects.exists()


def test_999_of_a_parallel_import_acknowledges_each_set(world):
    text = _file(world, 5, random.Random(2))
    inbound = _import(text, True)
    assert segments(inbound.ack_999, "AK9")[0][1] in ("A", "E")
    assert len(segments(inbound.ack_999, "AK2")) == 1


def _many_sets(world, sets: int, per_set: int, rnd: random.Random) -> str:
    """One interchange of `sets` transaction sets (ST02 0001, 0002, …) of `per_set` claims each."""
    head = tail = None
    bodies = []
    for k in range(sets):
        lines = _file(world, per_set, rnd).splitlines()
        head, tail = lines[:2], lines[-2:]
        body = lines[2:-2]
        control = f"{k + 1:04d}"
        body[0] = body[0].replace("*0001*", f"*{control}*", 1)
        body[-1] = body[-1].replace("*0001~", f"*{control}~", 1)
        bodies += body
    tail[0] = tail[0].replace("GE*1*", f"GE*{sets}*", 1)
    return "\n".join(head + bodies + tail) + "\n"


def test_a_file_of_many_sets_imports_the_same_in_a_second_process(world):
    rnd = random.Random(11)
    text = _many_sets(world, 40, 60, rnd)  # 2,400 claims: sets closed and open across chunk boundaries
    text = text.replace("SE*", "SE*9", 1)  # the first set's count wrong
    serial = _outcome(_import(text, False))
    assert len(segments(serial["ack"] and "~".join(serial["ack"]), "AK2")) == 40
    assert _outcome(_import(text, True)) == serial


def test_an_hl_parent_that_is_not_open_is_found_as_pyx12_finds_it(world):
    text = _file(world, 30, random.Random(5))
    lines = text.splitlines()
    i = max(k for k, ln in enumerate(lines) if ln.startswith("HL*") and ln.endswith("*22*0~"))
    parts = lines[i].split("*")
    parts[2] = "999"  # no such HL
    lines[i] = "*".join(parts)
    broken = "\n".join(lines) + "\n"
    fast = _checked(broken, True)
    assert fast == _checked(broken, False)
    assert any("HL parent (999)" in e[2] for *_, errs in fast for e in errs)
