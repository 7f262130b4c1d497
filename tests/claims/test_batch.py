"""The batch and the single-claim paths, run-twice idempotence, chunking and query counts.

Each comparison builds the same world twice (two employers with identical plans, members,
providers) and plays the same claims on both, then compares figures claim by claim.
"""
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_fsm_log.models import StateLog

from claims import services
from claims.models import CLAIM_BUCKETS, Accumulator, Claim, LineResult
from core import clock
from tests.claims.helpers import build_world, day, fresh

D = Decimal

PLAN = {"deductible": ("500", "800"), "oop": ("1500", "2500"), "excluded": ["cosmetic"], "oon_coinsurance": "0.40"}

# (received, service, member, provider, lines)
SCRIPT = [
    ("2026-02-01", "2026-01-05", "alice", "in", [("99213", 200)]),  # copay
    ("2026-02-01", "2026-01-06", "alice", "in", [("70551", 2500)]),  # deductible + coinsurance
    ("2026-02-01", "2026-01-06", "sam", "out", [("70551", 2500)]),  # out of network, family deductible
    ("2026-02-02", "2026-01-05", "alice", "in", [("99213", 200)]),  # duplicate of 0
    ("2026-02-02", "2026-01-07", "bob", "in", [("27447", 30000)]),  # pended
    ("2026-02-02", "2026-01-08", "bob", "in", [("15780", 800), ("99213", 200)]),  # excluded + copay
    ("2026-02-03", "2026-01-06", "sam", "out", [("70551", 2500)]),  # duplicate of 2
    ("2026-02-03", "2026-01-09", "alice", "in", [("27447", 20000)]),  # coinsurance capped by OOP
    ("2026-02-03", "2026-02-10", "alice", "in", [("99213", 200)]),  # rejected: service after received
    ("2026-02-04", "2026-01-10", "sam", "in", [("99395", 250), ("80053", "33.30", 3)]),  # preventive + lab
    ("2026-02-04", "2026-01-11", "bob", "in", [("70551", 2500), ("99211", 25, 2)]),
    ("2026-02-05", "2026-01-12", "sam", "in", [("27447", 20000)]),  # family OOP cap
    ("2026-02-05", "2026-01-06", "alice", "in", [("70551", 2500)]),  # duplicate of 1
    ("2026-02-05", "2025-12-31", "bob", "in", [("99213", 200)]),  # before the start: 26
]


def make_family_world():
    w = build_world(**PLAN)
    w.add_member("sam", subscriber=w.alice)
    w.add_member("bob", start=day("2026-01-01"))
    w.members["alice"] = w.alice
    return w


def submit_script(w, script=SCRIPT) -> list[Claim]:
    return [
        w.submit(on=on, service=service, member=w.members[member], provider=w.mercy if prov == "in" else w.faraway,
                 lines=lines)
        for on, service, member, prov, lines in script
    ]


def snapshot(w, claims: list[Claim]) -> dict:
    """Everything adjudication decided, in world-independent terms (claim index, member name)."""
    index = {c.pk: i for i, c in enumerate(claims)}
    out = {"claims": [], "accumulators": {}}
    for c in claims:
        c = fresh(c)
        results = [
            (r.line.line_number, r.round, r.category, r.fee, r.allowed, r.deductible, r.copay, r.coinsurance,
             r.not_covered, r.balance_billed, r.provider_write_off, r.plan_paid, r.reason_codes, r.denial_code)
            for r in LineResult.objects.filter(claim=c).select_related("line").order_by("round", "line__line_number")
        ]
        out["claims"].append({
            "state": c.state, **{f: getattr(c, f) for f in CLAIM_BUCKETS}, "reason_codes": c.reason_codes,
            "is_duplicate": c.is_duplicate, "duplicate_of": index.get(c.duplicate_of_id),
            "family_coverage": c.family_coverage, "plan_year_start": c.plan_year_start,
            "round": c.adjudication_round, "rejection_field": c.rejection_field, "lines": results,
        })
    names = {m.pk: name for name, m in w.members.items()}
    for member_id, scope, year, ded, oop in Accumulator.objects.filter(plan=w.plan).values_list(
        "member_id", "scope", "plan_year_start", "deductible_met", "oop_met"
    ):
        out["accumulators"][(names[member_id], scope, year)] = (ded, oop)
    return out


def test_the_script_exercises_what_it_says(db):
    w = make_family_world()
    claims = submit_script(w)
    services.claims_adjudicate_pending()
    states = [fresh(c).state for c in claims]
    assert states == ["approved", "approved", "approved", "denied", "pended", "approved", "denied", "approved",
                      "rejected", "approved", "approved", "approved", "denied", "denied"]
    dups = (claims[3], claims[6], claims[12])
    assert [fresh(c).duplicate_of_id for c in dups] == [claims[0].pk, claims[2].pk, claims[1].pk]
    assert fresh(claims[13]).reason_codes == "26"
    assert fresh(claims[11]).coinsurance > 0


def test_batch_and_single_claim_paths_give_the_same_figures(db):
    single_world = make_family_world()
    single = submit_script(single_world)
    order = sorted((c for c in single if fresh(c).state == "submitted"), key=lambda c: (c.received_date, c.pk))
    assert len(order) == len(SCRIPT) - 1
    clock.clock_set(day=day("2026-02-06"))
    for claim in order:
        services.claim_adjudicate(claim_id=claim.pk)

    batch_world = make_family_world()
    batch = submit_script(batch_world)
    clock.clock_set(day=day("2026-02-06"))
    assert services.claims_adjudicate_pending() == len(SCRIPT) - 1

    assert snapshot(single_world, single) == snapshot(batch_world, batch)
    # And the snapshot is not trivially empty.
    assert len(snapshot(batch_world, batch)["accumulators"]) == 4  # alice, sam, bob, alice's family (bob: single)


def test_running_the_adjudication_twice_changes_nothing(db):
    w = make_family_world()
    claims = submit_script(w)
    clock.clock_set(day=day("2026-02-06"))
    assert services.claims_adjudicate_pending() == len(SCRIPT) - 1
    counts = (StateLog.objects.count(), LineResult.objects.count(), Accumulator.objects.count())
    rows = list(Claim.objects.order_by("pk").values())
    accumulators = list(Accumulator.objects.order_by("pk").values())
    assert services.claims_adjudicate_pending() == 0
    assert (StateLog.objects.count(), LineResult.objects.count(), Accumulator.objects.count()) == counts
    assert list(Claim.objects.order_by("pk").values()) == rows
    assert list(Accumulator.objects.order_by("pk").values()) == accumulators
    assert len(claims) == len(rows)


@pytest.mark.parametrize("chunk_size", [1, 3, 4])
def test_chunking_gives_the_same_figures(db, chunk_size):
    small = make_family_world()
    small_claims = submit_script(small)
    clock.clock_set(day=day("2026-02-06"))
    assert services.claims_adjudicate_pending(chunk_size=chunk_size) == len(SCRIPT) - 1

    whole = make_family_world()
    whole_claims = submit_script(whole)
    clock.clock_set(day=day("2026-02-06"))
    assert services.claims_adjudicate_pending(chunk_size=5000) == len(SCRIPT) - 1

    assert snapshot(small, small_claims) == snapshot(whole, whole_claims)


# --- Query counts ----------------------------------------------------------------------------

CODES = [("99213", 200), ("70551", 2500), ("99395", 250), ("80053", "33.30"), ("15780", 800), ("99211", 25)]


def _world_with_claims(n: int):
    w = build_world(**PLAN)
    members = [w.alice]
    for i in range(7):
        s = w.add_member(f"s{i}", start=day("2026-01-01"))
        members += [s, w.add_member(f"d{i}", subscriber=s)]
    for i in range(n):
        code, billed = CODES[i % len(CODES)]
        w.submit(on="2026-03-01", service=day("2026-01-01").replace(day=1 + i % 28), member=members[i % len(members)],
                 provider=w.faraway if i % 5 == 4 else w.mercy, lines=[(code, billed, 1 + i // 28 % 3)])
    clock.clock_set(day=day("2026-03-02"))
    return w


def _queries(**kwargs) -> int:
    ContentType.objects.get_for_model(Claim)  # warm the content-type cache
    with CaptureQueriesContext(connection) as ctx:
        done = services.claims_adjudicate_pending(**kwargs)
    assert done > 0
    return len(ctx.captured_queries)


def test_queries_do_not_grow_with_the_number_of_claims(db):
    _world_with_claims(10)
    ten = _queries()
    _world_with_claims(200)
    two_hundred = _queries()
    print(f"queries: 10 claims {ten}, 200 claims {two_hundred}")
    assert abs(two_hundred - ten) <= 3, (ten, two_hundred)
    assert ten < 40


def test_queries_are_bounded_per_chunk(db):
    _world_with_claims(10)
    one_chunk = _queries()
    _world_with_claims(200)
    four_chunks = _queries(chunk_size=50)
    assert four_chunks <= 4 * one_chunk, (one_chunk, four_chunks)
    assert Claim.objects.filter(state="submitted").count() == 0
