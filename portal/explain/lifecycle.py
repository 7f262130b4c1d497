"""The claim lifecycle as a picture, computed from the django-fsm declaration of `Claim.state` itself
(never drawn by hand: a transition added to the model appears here), laid out in layers: each state
in the column of its distance from the initial state, arrows labelled with the transitions' names.

A claim's path is its transition log (django-fsm-log, `claims.selectors.claim_transitions`): the
edges it took are drawn thicker, numbered in order, and listed in text; the current state is bold
and marked "now" (never colour alone).
"""
import functools
import itertools
from collections import defaultdict, deque
from dataclasses import dataclass, field

from claims.models import Claim

# The layout's measures (SVG user units).
BOX_W, BOX_H = 150, 40
COL_GAP, ROW_GAP = 190, 50
MARGIN = 24
TOP = 44  # below the legend line


@dataclass(frozen=True)
class Transition:
    name: str
    source: str
    target: str
    permission: str | None = None


@dataclass
class StateBox:
    state: str
    label: str
    column: int
    row: int
    x: int = 0
    y: int = 0
    current: bool = False
    visited: bool = False

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2

    @property
    def cy(self) -> float:
        return self.y + BOX_H / 2


@dataclass
class Edge:
    source: str
    target: str
    names: list[str]
    path: str = ""
    label_x: float = 0
    label_y: float = 0
    steps: list[int] = field(default_factory=list)  # where the claim's path took it (1, 2, ...)
    source_label: str = ""
    target_label: str = ""

    @property
    def label(self) -> str:
        return " / ".join(self.names)

    @property
    def on_path(self) -> bool:
        return bool(self.steps)


def state_field():
    return Claim._meta.get_field("state")


def claim_fsm_transitions() -> list[Transition]:
    """Every declared transition of Claim.state, one per (name, source), from django-fsm's metadata."""
    found = []
    for t in state_field().get_all_transitions(Claim):
        found.append(Transition(name=t.name, source=str(t.source), target=str(t.target), permission=t.permission))
    return sorted(found, key=lambda t: (t.name, t.source))


def claim_fsm_states() -> list[tuple[str, str]]:
    """(value, label) of the field's states, in their declared order."""
    return [(str(v), str(label)) for v, label in state_field().choices]


def initial_state() -> str:
    return str(state_field().get_default())


def _order_columns(columns: dict[int, list[str]], transitions: list[Transition], order: dict[str, int]) -> None:
    """Order each column, left to right, to keep arrows short: a state between the two it links within
    its column (pended between approved and denied), and near the states it links in the columns already
    placed (rows centred as they are drawn). Small columns are searched exhaustively, larger by barycentre."""
    tallest = max(len(v) for v in columns.values())
    position: dict[str, float] = {}
    links = [(t.source, t.target) for t in transitions]
    for c in sorted(columns):
        members = columns[c]
        offset = (tallest - len(members)) / 2

        def cost(perm, offset=offset):
            row = {s: i for i, s in enumerate(perm)}
            total = 0.0
            for a, b in links:
                if a in row and b in row and a != b:
                    total += 10 * (abs(row[a] - row[b]) - 1)
                elif a in row and b in position:
                    total += abs(row[a] + offset - position[b])
                elif b in row and a in position:
                    total += abs(row[b] + offset - position[a])
            return total, tuple(order[s] for s in perm)
        if len(members) <= 7:
            best = min(itertools.permutations(members), key=cost)
        else:
            best = sorted(members, key=lambda s: (cost([s])[0], order[s]))
        columns[c] = list(best)
        for i, s in enumerate(columns[c]):
            position[s] = i + offset


@functools.cache
def _layout() -> tuple[dict[str, StateBox], list[Edge], int, int]:
    """States in columns by their distance (in transitions) from the initial state; edges between each
    pair of states a transition joins, their names on them. Cached: the declaration is code."""
    states = claim_fsm_states()
    transitions = claim_fsm_transitions()
    start = initial_state()
    out_of = defaultdict(set)
    for t in transitions:
        out_of[t.source].add(t.target)
    distance = {start: 0}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for nxt in sorted(out_of[s]):
            if nxt not in distance:
                distance[nxt] = distance[s] + 1
                queue.append(nxt)
    unreachable = max(distance.values(), default=0) + 1  # a state no transition reaches: a column of its own
    order = {s: i for i, (s, _) in enumerate(states)}
    columns: dict[int, list[str]] = defaultdict(list)
    for s, _ in states:
        columns[distance.get(s, unreachable)].append(s)
    _order_columns(columns, transitions, order)
    labels = dict(states)
    tallest = max(len(v) for v in columns.values())
    boxes = {}
    for c, members in columns.items():
        offset = (tallest - len(members)) * (BOX_H + ROW_GAP) / 2  # centre a short column
        for i, s in enumerate(members):
            boxes[s] = StateBox(state=s, label=labels[s].replace("_", " "), column=c, row=i,
                                x=MARGIN + c * (BOX_W + COL_GAP), y=int(TOP + offset + i * (BOX_H + ROW_GAP)))
    pairs: dict[tuple[str, str], list[str]] = {}
    for t in transitions:
        names = pairs.setdefault((t.source, t.target), [])
        if t.name not in names:
            names.append(t.name)
    edges = [Edge(source=s, target=t, names=names) for (s, t), names in sorted(
        pairs.items(), key=lambda kv: (boxes[kv[0][0]].column, boxes[kv[0][0]].row, boxes[kv[0][1]].row))]
    placed = [(b.x, b.y, b.x + BOX_W, b.y + BOX_H) for b in boxes.values()]
    for e in edges:
        _route(e, boxes[e.source], boxes[e.target], both_ways=(e.target, e.source) in pairs, placed=placed)
    columns_n = max(columns) + 1
    width = MARGIN * 2 + columns_n * BOX_W + (columns_n - 1) * COL_GAP + 70  # room for a column's own arrows
    height = TOP + tallest * BOX_H + (tallest - 1) * ROW_GAP + MARGIN + 30
    return boxes, edges, width, height


def _bezier(p0, p1, p2, p3, t: float) -> tuple[float, float]:
    u = 1 - t
    return tuple(u ** 3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t ** 3 * d for a, b, c, d in zip(p0, p1, p2, p3))


def _place_label(edge: Edge, curve, placed: list, *, below: bool = False) -> None:
    """The label at the first point along the arrow (middle first) where it overlaps no box or label."""
    w, h = 7 * len(edge.label) + 8, 16
    for t in (0.5, 0.38, 0.62, 0.28, 0.72, 0.2, 0.8):
        x, y = _bezier(*curve, t)
        y = y + 14 if below else y - 5
        rect = (x - w / 2, y - h + 4, x + w / 2, y + 4)
        if not any(rect[0] < r[2] and r[0] < rect[2] and rect[1] < r[3] and r[1] < rect[3] for r in placed):
            break
    placed.append(rect)
    edge.label_x, edge.label_y = x, y


def _route(edge: Edge, a: StateBox, b: StateBox, *, both_ways: bool, placed: list) -> None:
    """A forward edge leaves the right side for the left side of a later column (upper half: a backward
    edge arrives in the lower half, so the two never share a line); a backward edge leaves the left
    side for the right side of an earlier column; within a column, neighbours are joined by a straight
    vertical arrow and others by an arc out to the right."""
    if b.column != a.column:
        forward = b.column > a.column
        lift = -7 if forward else 9
        x1 = a.x + BOX_W if forward else a.x
        x2 = b.x if forward else b.x + BOX_W
        y1, y2 = a.cy + lift, b.cy + lift
        mx = (x1 + x2) / 2
        curve = ((x1, y1), (mx, y1), (mx, y2), (x2, y2))
        edge.path = f"M{x1:.0f},{y1:.0f} C{mx:.0f},{y1:.0f} {mx:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        _place_label(edge, curve, placed, below=not forward)
    elif abs(b.row - a.row) == 1:
        down = b.row > a.row
        x = a.cx + (8 if both_ways and down else -8 if both_ways else 0)
        y1, y2 = (a.y + BOX_H, b.y) if down else (a.y, b.y + BOX_H)
        edge.path = f"M{x:.0f},{y1:.0f} L{x:.0f},{y2:.0f}"
        edge.label_x, edge.label_y = x + 6 + 3.5 * len(edge.label), (y1 + y2) / 2 + 4
        placed.append((x, y2 - 16 if down else y1 - 16, x + 12 + 7 * len(edge.label), (y1 + y2) / 2 + 8))
    else:
        x1, y1, x2, y2 = a.x + BOX_W, a.cy, b.x + BOX_W, b.cy
        bow = a.x + BOX_W + 30 + 12 * abs(b.row - a.row)
        curve = ((x1, y1), (bow, y1), (bow, y2), (x2, y2))
        edge.path = f"M{x1:.0f},{y1:.0f} C{bow:.0f},{y1:.0f} {bow:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        _place_label(edge, curve, placed)


def lifecycle_diagram(*, timeline=None, current: str | None = None) -> dict:
    """What templates/portal/explain/_lifecycle.html draws: the boxes and edges (copies: the cached
    layout is never marked), the transitions listed, and — for a claim — its path: each step of its
    transition log (source, target, transition, when, by, why) and the edge it took.

    `timeline`: the claim's StateLog rows in order (`claim_transitions`); `current`: its state now."""
    boxes_c, edges_c, width, height = _layout()
    boxes = {s: StateBox(**{**b.__dict__}) for s, b in boxes_c.items()}
    edges = [Edge(source=e.source, target=e.target, names=list(e.names), path=e.path, label_x=e.label_x,
                  label_y=e.label_y) for e in edges_c]
    by_pair = {(e.source, e.target): e for e in edges}
    steps = []
    for row in timeline or ():
        step = {"number": len(steps) + 1, "source": row.source_state or "", "target": row.state,
                "transition": row.transition or "", "when": row.timestamp, "by": row.by,
                "description": row.description or ""}
        edge = by_pair.get((row.source_state, row.state)) if row.source_state else None
        step["edge_known"] = edge is not None or not row.source_state
        if edge is not None:
            edge.steps.append(step["number"])
        if row.source_state in boxes:
            boxes[row.source_state].visited = True
        if row.state in boxes:
            boxes[row.state].visited = True
        steps.append(step)
    if current in boxes:
        boxes[current].current = boxes[current].visited = True
    labels = {s: label.replace("_", " ") for s, label in claim_fsm_states()}
    for e in edges:
        e.source_label, e.target_label = labels[e.source], labels[e.target]
    for step in steps:
        step["source_label"] = labels.get(step["source"], step["source"])
        step["target_label"] = labels.get(step["target"], step["target"])
    transitions = [{"name": t.name, "source": t.source, "target": t.target, "permission": t.permission,
                    "source_label": labels[t.source], "target_label": labels[t.target]}
                   for t in claim_fsm_transitions()]
    return {
        "boxes": [boxes[s] for s, _ in claim_fsm_states()], "edges": edges, "width": width, "height": height,
        "transitions": transitions, "initial": initial_state(), "steps": steps, "current": current,
        "highlighted": current is not None, "box_w": BOX_W, "box_h": BOX_H,
        "initial_label": labels[initial_state()], "current_label": labels.get(current, current or ""),
    }
