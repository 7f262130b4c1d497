"""One pass over an X12 file: each segment with its place in the 5010 map and the errors pyx12 found on it.

pyx12's `x12n_document` validates a whole file and reports at the end; an importer that must stream
(never hold all the claims) needs the segments and their errors as they come. `segments_checked`
drives a reader with pyx12's X12Reader's answers (`reader.X12Reader`: the same segments, counters,
envelope checks and errors, split faster), pyx12's map walker and segment validator in the order `x12n_document` does
(its loop, cut to what an 837 or 835 needs), with an error handler that also records each error flat,
with the segment, its position in the transaction set and the element.

Speed (pyx12 alone: about 1,000 claims/s): an 837 repeats its shape claim after claim, so three pure
answers are kept, each only where it is the same answer pyx12 would give (`remember=False` turns them
off and reads with pyx12's own reader; the tests compare both ways on broken files):
- the walk (`_MemoWalker`): from a map node, a segment of that id and qualifiers, with the loop and
  segment counts it reads in the same classes (none, some, over a max use), walks the same way; a walk
  that found no error is replayed, its count changes applied. A walk that finds an error is walked.
- each element's validator, by value (`_element_cache_install`);
- each segment's validator, by a key in which an element its validator passed counts only as present
  (`_segment_key`): a new member ID or charge does not make the segment new.
"""
import logging
from dataclasses import dataclass, field

import pyx12.error_handler
import pyx12.errors
import pyx12.map_if
import pyx12.map_index
import pyx12.params
import pyx12.segment
import pyx12.x12file
from pyx12.map_if import _segment as pyx12_segment
from pyx12.map_if._element import element_if
from pyx12.map_walker import apply_walk_errors, walk_tree

from .reader import X12Reader

logger = logging.getLogger(__name__)
# pyx12 logs every error it finds at ERROR; they are recorded here and acknowledged in the 999, and a
# broken file of 100,000 claims would otherwise write 100,000 log lines.
logging.getLogger("pyx12").setLevel(logging.CRITICAL)
SEGMENT_CACHE_SIZE = 50_000


class NotX12(ValueError):
    """The input is not an X12 interchange at all (no ISA envelope pyx12 can read)."""


@dataclass(slots=True)
class X12Error:
    """One error pyx12 (or the walk) found: where, what, and the value at fault."""
    level: str  # "isa", "gs", "st", "seg" or "ele"
    code: str  # the 999's IK3/IK4 (or IK5/AK9) error code
    message: str
    value: str | None = None
    seg_id: str = ""
    seg_pos: int = 0  # the segment's position in its transaction set (ST is 1)
    line: int = 0
    loop_id: str = ""
    ele_pos: int | None = None
    subele_pos: int | None = None
    ele_ref: str | None = None

    def text(self) -> str:
        """`SV1 #21 element 02: invalid character '1S0'`."""
        where = self.seg_id or self.level.upper()
        if self.seg_pos:
            where += f" #{self.seg_pos}"
        if self.ele_pos:
            where += f" element {self.ele_pos:02d}"
            if self.subele_pos:
                where += f"-{self.subele_pos}"
        message = self.message[:1].lower() + self.message[1:] if self.message else "error"
        if self.value not in (None, "") and repr(self.value) not in message and str(self.value) not in message:
            message += f" {self.value!r}"
        return f"{where}: {message}"[:300]


class _RecordingErrors(pyx12.error_handler.err_handler):
    """pyx12's error handler, also keeping each error flat (in `fresh`, emptied by the reader)."""

    def __init__(self):
        super().__init__()
        self.fresh: list[X12Error] = []
        self.total = 0

    def _seg_place(self) -> dict:
        node = self.cur_seg_node
        if isinstance(node, pyx12.error_handler.err_seg):
            return {"seg_id": node.seg_id or "", "seg_pos": node.seg_count or 0, "line": node.cur_line or 0,
                    "loop_id": node.ls_id or ""}
        return {}

    def _keep(self, error: X12Error) -> None:
        self.total += 1
        self.fresh.append(error)

    def isa_error(self, err_cde, err_str):
        super().isa_error(err_cde, err_str)
        self._keep(X12Error("isa", err_cde, err_str, seg_id="ISA"))

    def gs_error(self, err_cde, err_str):
        super().gs_error(err_cde, err_str)
        self._keep(X12Error("gs", err_cde, err_str, seg_id="GS"))

    def st_error(self, err_cde, err_str):
        super().st_error(err_cde, err_str)
        self._keep(X12Error("st", err_cde, err_str, seg_id="SE"))

    def seg_error(self, err_cde, err_str, err_value=None, src_line=None):
        super().seg_error(err_cde, err_str, err_value, src_line)
        place = self._seg_place()
        if src_line:
            place["line"] = src_line
        self._keep(X12Error("seg", err_cde, err_str, err_value, **place))

    def ele_error(self, err_cde, err_str, bad_value, refdes=None):
        super().ele_error(err_cde, err_str, bad_value, refdes)
        ele = self.cur_ele_node
        self._keep(X12Error("ele", err_cde, err_str, bad_value, ele_pos=ele.ele_pos, subele_pos=ele.subele_pos,
                            ele_ref=ele.ele_ref_num, **self._seg_place()))


def _path_key(xpath) -> str:
    """A path's text, kept on the map node's path object (they never change once the map is loaded)."""
    if isinstance(xpath, str):
        return xpath
    key = xpath.__dict__.get("_tpa_key")
    if key is None:
        key = xpath.__dict__["_tpa_key"] = xpath.format()
    return key


class _PathCounter:
    """pyx12's NodeCounter keyed by the path's text, not by X12Path objects: the same counts, without
    formatting every path on every hash (a third of the walk's time in pyx12 4.0.0).

    While `events` is a list, each read and change is recorded there (for `_MemoWalker`): a read as the
    class of the count the walker can tell apart (none, some, over each max use of that path)."""

    def __init__(self):
        self._dict: dict[str, int] = {}
        self.events: list | None = None
        self.thresholds: dict[str, tuple[int, ...]] = {}  # path -> the max uses of the nodes with that path

    def count_class(self, key: str, value: int):
        limits = self.thresholds.get(key)  # ascending
        if limits is None:
            return value  # a path no map node has: the exact count
        if value <= limits[0]:
            return (1 if value else 0, 0)
        return (1, sum(1 for m in limits if value > m))

    def reset_to_node(self, xpath) -> None:
        key = _path_key(xpath)
        if self.events is not None:
            self.events.append(("z", key))
        prefix = key + "/"
        for k in [k for k in self._dict if k.startswith(prefix)]:
            del self._dict[k]

    def increment(self, xpath) -> None:
        k = _path_key(xpath)
        if self.events is not None:
            self.events.append(("i", k))
        self._dict[k] = self._dict.get(k, 0) + 1

    def setCount(self, xpath, ct: int) -> None:  # noqa: N802 - pyx12's name
        k = _path_key(xpath)
        if self.events is not None:
            self.events.append(("s", k, ct))
        self._dict[k] = ct

    def get_count(self, xpath) -> int:
        k = _path_key(xpath)
        value = self._dict.get(k, 0)
        if self.events is not None:
            self.events.append(("r", k, self.count_class(k, value)))
        return value

    def getState(self):  # noqa: N802 - pyx12's name
        return dict(self._dict)

    def replay(self, events) -> bool:
        """Apply a recorded walk's changes if every read it made gives the same class now; else change
        nothing and answer False."""
        d = self._dict
        before = None
        for ev in events:
            kind, key = ev[0], ev[1]
            if kind == "r":
                if self.count_class(key, d.get(key, 0)) != ev[2]:
                    if before is not None:
                        d.clear()
                        d.update(before)
                    return False
                continue
            if before is None:
                before = dict(d)
            if kind == "i":
                d[key] = d.get(key, 0) + 1
            elif kind == "z":
                prefix = key + "/"
                for k in [k for k in d if k.startswith(prefix)]:
                    del d[k]
            else:
                d[key] = ev[2]
        return True


def _map_children(node) -> list:
    """A map node's children: a loop's (and the root's) by position, a segment's or composite's elements."""
    pos_map = getattr(node, "pos_map", None)
    if pos_map:
        return [child for ord1 in sorted(pos_map) for child in pos_map[ord1]]
    return list(getattr(node, "children", None) or [])


def _map_nodes(node):
    """Every loop and segment of a loaded map."""
    yield node
    for child in _map_children(node):
        if child.is_loop() or child.is_segment():
            yield from _map_nodes(child)


def _seg_value(seg, ele_idx: int, subele_idx: int | None = None):
    """`seg.get_value("NN" or "NN-M")` without parsing a reference designator (the walker's qualifiers)."""
    elements = seg.elements
    if ele_idx >= len(elements):
        return None
    ele = elements[ele_idx]
    if subele_idx is None:
        subs = getattr(ele, "elements", None)
        if subs is not None and len(subs) == 1:  # Composite.format() of one sub-element: its value
            return subs[0].value
        return ele.format()
    if not isinstance(ele, pyx12.segment.Composite):
        return seg.get_value(f"{ele_idx + 1:02d}-{subele_idx + 1}")
    return ele[subele_idx].format() if subele_idx < len(ele) else None


class _MemoWalker(walk_tree):
    """pyx12's walk_tree, remembering each walk that found no error: from the same map node, for a
    segment of the same id and qualifiers (every element any map node of that id matches on), with
    the counts it read in the same classes, the walk goes the same way; it is replayed (its count
    changes applied) instead of walked again. A walk that finds an error is always walked in full."""

    MAX_VARIANTS = 32

    def __init__(self):
        super().__init__()
        self.counter = _PathCounter()
        self._memo: dict = {}
        self._qualifiers: dict[str, list[tuple[int, int | None]]] = {}
        self._maps: set[int] = set()

    def learn_map(self, map_root) -> None:
        """Read from a loaded map the qualifier places per segment id and the max uses per path."""
        if id(map_root) in self._maps:
            return
        self._maps.add(id(map_root))
        limits: dict[str, set[int]] = {}
        for node in _map_nodes(map_root):
            if not (node.is_loop() or node.is_segment()):
                continue
            limits.setdefault(_path_key(node.x12path), set()).add(node.get_max_repeat())
            if node.is_segment():
                places = self._qualifiers.setdefault(node.id, [])
                key = node._resolve_unique_key_field(node.id, with_qual=False)
                if key is not None:
                    place = (key[1] - 1, key[2] - 1 if key[2] else None)
                    if place not in places:
                        places.append(place)
        thresholds = self.counter.thresholds
        for k, v in limits.items():
            merged = tuple(sorted(set(thresholds.get(k, ())) | v))
            if thresholds.get(k) != merged:
                thresholds[k] = merged
                # A count's class now means another thing: what was remembered with it is forgotten.
                self._memo.clear()

    def walk_errors(self, node, seg_data, seg_count, cur_line, ls_id):
        seg_id = seg_data.get_seg_id()
        places = self._qualifiers.get(seg_id)
        if places is None:  # a segment id no map knows: walk it (it is an error)
            return super().walk_errors(node, seg_data, seg_count, cur_line, ls_id)
        try:
            key = (id(node), seg_id, *(_seg_value(seg_data, e, s) for e, s in places))
        except Exception:  # noqa: BLE001 - a shape the fast read does not know: pyx12 walks it
            return super().walk_errors(node, seg_data, seg_count, cur_line, ls_id)
        variants = self._memo.get(key)
        if variants:
            for i, (events, result) in enumerate(variants):
                if self.counter.replay(events):
                    if i:
                        variants.insert(0, variants.pop(i))
                    return (*result, [])
        self.counter.events = []
        try:
            found = super().walk_errors(node, seg_data, seg_count, cur_line, ls_id)
        finally:
            events, self.counter.events = self.counter.events, None
        if found[0] is not None and not found[3]:
            variants = self._memo.setdefault(key, [])
            if len(variants) < self.MAX_VARIANTS:
                variants.insert(0, (tuple(events), (found[0], list(found[1]), list(found[2]))))
        return found


ELEMENT_CACHE_SIZE = 2_000  # per element of the map


def _element_cache_install(map_root) -> None:
    """Give each element of a loaded map a bounded cache of its pure validator's answers, keyed by
    the value (and the date format or type list it is checked against): a segment seen for the first
    time (a new member ID, charge) then re-checks only the elements whose value is new."""
    if getattr(map_root, "_tpa_element_cache", False):
        return
    map_root._tpa_element_cache = True
    stack = [map_root]
    while stack:
        node = stack.pop()
        for child in _map_children(node):
            if isinstance(child, element_if):
                child.is_valid_errors = _cached_validator(child.is_valid_errors)
            else:
                stack.append(child)


def _cached_validator(validate):
    cache: dict = {}

    def is_valid_errors(elem, type_list=None):
        if elem is not None and elem.is_composite():
            return validate(elem, type_list)
        key = (None if elem is None else elem.get_value(), tuple(type_list) if type_list else ())
        found = cache.get(key)
        if found is None:
            if len(cache) >= ELEMENT_CACHE_SIZE:
                cache.clear()
            found = cache[key] = validate(elem, type_list)
        return found

    return is_valid_errors


_VALID = object()  # in a segment's cache key: a non-empty element its validator passed


def _segment_plan(node) -> list:
    """Per element of a segment node: (its cached validator, the values it passed) when its answer alone
    decides its part of the segment's answer, else None (DTP's format and date, the 1250/1251 pair)."""
    plan = node.__dict__.get("_tpa_plan")
    if plan is None:
        plan = []
        for i in range(node.get_child_count()):
            child = node.get_child_node_by_idx(i)
            usable = (isinstance(child, element_if) and child.data_ele not in ("1250", "1251")
                      and not (node.id == "DTP" and i in (1, 2)))
            plan.append((child, set()) if usable else None)
        node.__dict__["_tpa_plan"] = plan
    return plan


def _segment_key(node, seg) -> tuple:
    """What the segment validator's answer depends on. An element its own validator passes counts only as
    present (the segment's syntax rules look at presence alone); any other keeps its text. Two segments
    with the same key get the same answer, so a new member ID or charge costs a few element checks, not
    the segment's."""
    plan = _segment_plan(node)
    n = len(plan)
    parts = []
    for i, ele in enumerate(seg.elements):
        subs = ele.elements  # pyx12 holds every element as a Composite; a real one has sub-elements
        if len(subs) > 1:
            parts.append(ele.format())
            continue
        value = subs[0].value
        check = plan[i] if value and i < n else None
        if check is not None:
            passed = check[1]
            if value in passed:
                parts.append(_VALID)
                continue
            ok, errors = check[0].is_valid_errors(ele)
            if ok and not errors:
                if len(passed) >= ELEMENT_CACHE_SIZE:
                    passed.clear()
                passed.add(value)
                parts.append(_VALID)
                continue
        parts.append(value)
    return tuple(parts)


def _segment_errors(node, seg, errh, *, remember: bool = True) -> bool:
    """`pyx12.map_if._segment.apply_segment_errors`, with the pure validator's answers kept."""
    if not remember:
        found = node.is_valid_errors(seg)
        return _errors_apply(found, errh)
    # Kept on the map node: a map is loaded per file, and a node's id may be another's once it is freed.
    answers = node.__dict__.get("_tpa_answers")
    if answers is None:
        answers = node.__dict__["_tpa_answers"] = {}
    key = _segment_key(node, seg)
    found = answers.get(key)
    if found is None:
        if len(answers) >= SEGMENT_CACHE_SIZE:
            answers.clear()
        found = answers[key] = node.is_valid_errors(seg)
    return _errors_apply(found, errh)


def _errors_apply(found, errh) -> bool:
    ok, errors = found
    prev = None
    for e in errors:
        if e.map_node is None:
            errh.seg_error("8", e.err_str, e.err_val)
            continue
        if e.map_node is not prev:
            errh.add_ele(e.map_node)
            prev = e.map_node
        errh.ele_error(e.err_cde, e.err_str, e.err_val, e.refdes)
    return ok


@dataclass(slots=True)
class Checked:
    """A segment as read: its id, the map node (None when nothing matched), the loop it is in, its
    position in the transaction set, and the errors found since the previous segment: `walk` (a
    mandatory segment missing before it, a loop repeated too often: about the segments before)
    and `own` (this segment's elements)."""
    seg: object
    seg_id: str
    node: object
    loop_id: str
    seg_pos: int
    line: int
    walk: list[X12Error] = field(default_factory=list)
    own: list[X12Error] = field(default_factory=list)


_params = None


def _pyx12_params():
    global _params
    if _params is None:
        _params = pyx12.params.params()
    return _params


def _loop_id(node) -> str:
    parent = node.get_parent() if node is not None else None
    return getattr(parent, "id", "") or ""


def segments_checked(src_file, *, remember: bool = True):
    """Yield a `Checked` for every segment of `src_file` (a path or a text stream), then one last with
    seg_id "" carrying the errors found at the end (trailers missing). Raises NotX12 when the input
    is not an X12 interchange. `remember=False`: pyx12's reader, walk and validators alone, nothing kept
    (the same answers, slower: the tests compare the two)."""
    param = _pyx12_params()
    errh = _RecordingErrors()
    try:
        src = (X12Reader if remember else pyx12.x12file.X12Reader)(src_file)
    except (pyx12.errors.X12Error, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise NotX12(f"not an X12 interchange: {exc}"[:300]) from None
    map_file = "x12.control.00501.xml" if src.icvn == "00501" else "x12.control.00401.xml"
    control_map = pyx12.map_if.load_map_file(map_file, param, None)
    map_index_if = pyx12.map_index.map_index(None)
    node = control_map.getnodebypath("/ISA_LOOP/ISA")
    if remember:
        walker = _MemoWalker()
        walker.learn_map(control_map)
    else:
        walker = walk_tree()
        walker.counter = _PathCounter()
    icvn = None
    try:
        for seg in src:
            orig_node = node
            seg_id = seg.get_seg_id()
            if seg_id == "ISA":
                node = control_map.getnodebypath("/ISA_LOOP/ISA")
                walker.forceWalkCounterToLoopStart("/ISA_LOOP", "/ISA_LOOP/ISA")
            elif seg_id == "GS":
                node = control_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
                walker.forceWalkCounterToLoopStart("/ISA_LOOP/GS_LOOP", "/ISA_LOOP/GS_LOOP/GS")
            else:
                node, _pop, _push, walk_errors = walker.walk_errors(
                    node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
                apply_walk_errors(errh, walk_errors)
            walk, errh.fresh = errh.fresh, []
            matched = node is not None
            if node is None:
                node = orig_node
            else:
                if seg_id == "ISA":
                    errh.add_isa_loop(seg, src)
                    icvn = seg.get_value("ISA12")
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "IEA":
                    errh.handle_errors(src.pop_errors())
                    errh.close_isa_loop(node, seg, src)
                elif seg_id == "GS":
                    fic, vriic = seg.get_value("GS01"), seg.get_value("GS08")
                    map_file_new = map_index_if.get_filename(icvn, vriic, fic)
                    if map_file_new is None:
                        raise NotX12(f"GS: no 5010 map for version {vriic!r} of functional group {fic!r}")
                    if map_file != map_file_new:
                        map_file = map_file_new
                        cur_map = pyx12.map_if.load_map_file(map_file, param, None)
                        if remember:
                            walker.learn_map(cur_map)
                            _element_cache_install(cur_map)
                        src.check_837_lx = cur_map.id == "837"
                    node = cur_map.getnodebypath("/ISA_LOOP/GS_LOOP/GS")
                    errh.add_gs_loop(seg, src)
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "GE":
                    errh.handle_errors(src.pop_errors())
                    errh.close_gs_loop(node, seg, src)
                elif seg_id == "ST":
                    errh.add_st_loop(seg, src)
                    errh.handle_errors(src.pop_errors())
                elif seg_id == "SE":
                    errh.handle_errors(src.pop_errors())
                    errh.close_st_loop(node, seg, src)
                else:
                    errh.add_seg(node, seg, src.get_seg_count(), src.get_cur_line(), src.get_ls_id())
                    errh.handle_errors(src.pop_errors())
                if isinstance(node, pyx12_segment.segment_if):
                    _segment_errors(node, seg, errh, remember=remember)
            own, errh.fresh = errh.fresh, []
            loop_id = _loop_id(node) if matched else ""
            for e in own:
                if e.level in ("seg", "ele") and loop_id[:1].isdigit():
                    e.loop_id = loop_id  # the map's loop (2400), not pyx12's LS loop id
                elif e.level in ("seg", "ele"):
                    e.loop_id = ""
            yield Checked(seg=seg, seg_id=seg_id, node=node if matched else None,
                          loop_id=loop_id, seg_pos=src.get_seg_count(),
                          line=src.get_cur_line(), walk=walk, own=own)
        src.cleanup()
        errh.handle_errors(src.pop_errors())
    except pyx12.errors.X12Error as exc:  # the reader gave up (e.g. a segment terminator it cannot find)
        errh.fresh.append(X12Error("isa", "024", f"unreadable: {exc}"[:200]))
    except pyx12.errors.EngineError as exc:
        errh.fresh.append(X12Error("isa", "024", f"cannot be walked: {exc}"[:200]))
    finally:
        try:
            src.close()
        except Exception:  # noqa: BLE001 - closing a stream we did not open
            pass
    yield Checked(seg=None, seg_id="", node=None, loop_id="", seg_pos=0, line=0, walk=errh.fresh, own=[])
