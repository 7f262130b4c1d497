"""Adjudication (DOMAIN.md §3 steps 1–6, §4): the batch, one claim now, and an examiner's decision.

Every path runs `_adjudicate_compute` over a list of claim rows: it reads everything it needs in sets
(`_ChunkContext`), decides each claim with `claims.engine` (`_decide`), and returns the chunk's writes
already encoded (COPY and one UPDATE per table on PostgreSQL). Pricing is sequential by nature
(accumulators are applied in received order), so every pricing transaction holds one adjudication lock.
"""
import contextlib
import contextvars
import datetime
import gc
import queue
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.conf import settings
from django.db import connection, connections, transaction

from core import clock
from core.bulk import PreparedWrite, insert_prepare, update_prepare, upsert_prepare, write_prepared
from parties.models import Provider
from plans.models import CategoryBenefit, Plan
from plans.periods import coverage_on
from plans.selectors import coverage_context_for_members, fee_schedule_lookup

from .. import engine
from ..carc import DENIAL_MEANING
from ..fsm_log import transition_log_prepare
from ..models import Accumulator, Claim, ClaimLine, ClaimState, LineResult, claim_transition_target
from ..selectors import claim_duplicate_candidates

S = ClaimState
ADJUDICABLE = (S.SUBMITTED, S.APPEALED)
ZERO = Decimal("0.00")
ADJUDICATION_LOCK_ID = 7_311_001  # pg_advisory_(xact_)lock key for pricing

CLAIM_COLS = ("id", "state", "member_id", "provider_id", "plan_id", "service_date", "received_date",
              "duplicate_key", "billed", "adjudication_round")


class ClaimRow(NamedTuple):
    """One claim as adjudication reads it (CLAIM_COLS)."""

    id: int
    state: str
    member_id: int
    provider_id: int
    plan_id: int | None
    service_date: datetime.date
    received_date: datetime.date
    duplicate_key: str
    billed: Decimal
    adjudication_round: int


LINE_RESULT_FIELDS = ("claim_id", "line_id", "round", "category", "fee", "allowed", "deductible", "copay",
                      "coinsurance", "not_covered", "balance_billed", "provider_write_off", "plan_paid",
                      "reason_codes", "denial_code", "trace")
CLAIM_UPDATE_FIELDS = ("state", "plan_id", "adjudication_round", "is_duplicate", "duplicate_of_id",
                       "family_coverage", "plan_year_start", "adjudicated_on", "reason_codes",
                       "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                       "plan_paid", "member_responsibility", "provider_write_off")
ZERO_TOTALS = dict.fromkeys((*engine.SUM_FIELDS, "member_responsibility"), ZERO)


def _adjudication_lock() -> None:
    """Serialise pricing (accumulators are applied in received order) for this transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADJUDICATION_LOCK_ID])


def _commit_without_wal_wait() -> None:
    """Batch adjudication moves no money and has no effect outside the database: its commit need not
    wait for the WAL flush. A crash loses at most whole, recent chunks, whose claims are still
    `submitted` and are adjudicated again by the next run. (Not for a review or a single claim: a
    person was told it is done.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def plan_terms_for(*, plan_ids) -> dict[int, engine.PlanTerms]:
    """plan id -> PlanTerms, in two queries."""
    terms = {}
    for (pid, ys, di, df, oi, of, co, oonc, oonr, tf, rt, fs) in Plan.objects.filter(pk__in=set(plan_ids)).values_list(
        "id", "year_start", "deductible_individual", "deductible_family", "oop_max_individual", "oop_max_family",
        "coinsurance", "oon_covered", "oon_coinsurance", "timely_filing_days", "review_threshold", "fee_schedule_id",
    ):
        terms[pid] = engine.PlanTerms(
            id=pid, year_start_month=ys.month, year_start_day=ys.day, deductible_individual=di,
            deductible_family=df, oop_max_individual=oi, oop_max_family=of, coinsurance=co, oon_covered=oonc,
            oon_coinsurance=oonr, timely_filing_days=tf, review_threshold=rt, fee_schedule_id=fs,
        )
    excluded, in_full, copays = defaultdict(set), defaultdict(set), defaultdict(dict)
    for pid, category, treatment, copay in CategoryBenefit.objects.filter(plan_id__in=terms).values_list(
        "plan_id", "category", "treatment", "copay"
    ):
        if treatment == CategoryBenefit.Treatment.EXCLUDED:
            excluded[pid].add(category)
        elif treatment == CategoryBenefit.Treatment.COVERED_IN_FULL:
            in_full[pid].add(category)
        else:
            copays[pid][category] = copay
    for pid, t in terms.items():
        t.excluded = frozenset(excluded[pid])
        t.covered_in_full = frozenset(in_full[pid])
        t.copays = copays[pid]
    return terms


ACCUMULATOR_KEY = ("plan_id", "member_id", "scope", "plan_year_start")


class _AccumulatorBook:
    """Accumulators read once per member, updated in memory, written as absolute figures.

    One book may serve every chunk of a run: a member's rows are read when one of its family's claims
    is first priced in the run; from then on the book is the truth, because the run holds the
    adjudication lock. A member not seen for `KEEP_CHUNKS` chunks is forgotten (read again if seen
    later): by then its figures are committed (the pipelined writer is at most two chunks behind), and
    the book's size follows a chunk's members, not the run's.
    """

    KEEP_CHUNKS = 3

    def __init__(self):
        self.rows: dict[int, dict[tuple, list]] = {}  # member -> (plan, scope, year) -> [deductible met, OOP met]
        self.seen: dict[int, int] = {}  # member -> the last chunk that needed it
        self.dirty: set = set()  # (plan, member, scope, year) changed since the last take_writes
        self.chunk = 0

    def ensure(self, member_ids) -> None:
        """Start a chunk that needs these members' rows."""
        self.chunk += 1
        member_ids = set(member_ids)
        for member_id in member_ids:
            self.seen[member_id] = self.chunk
        stale = [m for m, last in self.seen.items() if last <= self.chunk - self.KEEP_CHUNKS]
        for member_id in stale:
            del self.seen[member_id]
            self.rows.pop(member_id, None)
        missing = member_ids - self.rows.keys()
        if not missing:
            return
        for member_id in missing:
            self.rows[member_id] = {}
        for plan_id, member_id, scope, year, ded, oop in Accumulator.objects.filter(member_id__any=missing).values_list(
            *ACCUMULATOR_KEY, "deductible_met", "oop_met"
        ):
            self.rows[member_id][(plan_id, scope, year)] = [ded, oop]

    def _row(self, plan_id, member_id, scope, year):
        rows = self.rows[member_id]
        row = rows.get((plan_id, scope, year))
        if row is None:
            row = rows[(plan_id, scope, year)] = [ZERO, ZERO]
        return row

    def load(self, *, plan_id, member_id, family_id, family: bool, year) -> engine.Accumulators:
        ind = self._row(plan_id, member_id, "individual", year)
        acc = engine.Accumulators(deductible_met=ind[0], oop_met=ind[1], family=family)
        if family:
            fam = self._row(plan_id, family_id, "family", year)
            acc.family_deductible_met, acc.family_oop_met = fam[0], fam[1]
        return acc

    def store(self, *, plan_id, member_id, family_id, year, acc: engine.Accumulators) -> None:
        ind = self._row(plan_id, member_id, "individual", year)
        if (ind[0], ind[1]) != (acc.deductible_met, acc.oop_met):
            ind[0], ind[1] = acc.deductible_met, acc.oop_met
            self.dirty.add((plan_id, member_id, "individual", year))
        if acc.family:
            fam = self._row(plan_id, family_id, "family", year)
            if (fam[0], fam[1]) != (acc.family_deductible_met, acc.family_oop_met):
                fam[0], fam[1] = acc.family_deductible_met, acc.family_oop_met
                self.dirty.add((plan_id, family_id, "family", year))

    def take_writes(self) -> list[tuple]:
        """The rows changed since the last call, as (plan, member, scope, year, deductible met, OOP met)."""
        out = [(plan, member, scope, year, *self.rows[member][(plan, scope, year)])
               for plan, member, scope, year in self.dirty]
        self.dirty = set()
        return out


@dataclass(slots=True, order=True)
class _Candidate:
    """A claim an exact duplicate can be a copy of, in received order."""

    received: datetime.date
    id: int
    is_duplicate: bool = field(compare=False)
    adjudicated: bool = field(compare=False)  # adjudicated before this run read it


class _Line(NamedTuple):
    id: int
    code: str
    units: int
    billed: Decimal


class _DuplicateIndex:
    """The claims an exact duplicate (CARC 18) can be a copy of, by duplicate key, in received order.

    DOMAIN.md §3 step 3: the original is a claim received earlier (received date, then submission
    order) that is not rejected and not itself a duplicate. A claim that had already been adjudicated
    when another is adjudicated for the first time counts as earlier than it (ids are taken before
    commit: a submission that became visible late is the copy, else both would be paid). A
    re-adjudication after an appeal keeps the claim's original place: only received order counts.
    """

    def __init__(self, rows: list[ClaimRow], recent_flags):
        self.entries: dict[str, list[_Candidate]] = defaultdict(list)  # duplicate key -> in received order
        for cid, received, key, is_dup, state, *_ in claim_duplicate_candidates(
                member_dates={(r.member_id, r.service_date) for r in rows}):
            for flags in recent_flags:  # chunks of this run whose rows may not be written yet
                if cid in flags:
                    is_dup = flags[cid]
            self.entries[key].append(_Candidate(received, cid, is_dup, state != S.SUBMITTED))
        for entries in self.entries.values():
            entries.sort()

    def original_of(self, row: ClaimRow) -> int | None:
        first_adjudication = row.state == S.SUBMITTED
        place = (row.received_date, row.id)
        for c in self.entries.get(row.duplicate_key, ()):
            if c.id != row.id and not c.is_duplicate and (
                    (c.received, c.id) < place or (first_adjudication and c.adjudicated)):
                return c.id
        return None

    def mark_duplicate(self, row: ClaimRow) -> None:
        for c in self.entries.get(row.duplicate_key, ()):
            if c.id == row.id:
                c.is_duplicate = True


@dataclass
class _ChunkContext:
    """Everything a chunk's claims need, read in sets (a fixed number of queries whatever its size)."""

    lines_by_claim: dict[int, list[_Line]]
    periods: dict
    family_of: dict
    on_family: set
    terms_by_plan: dict
    fees: dict
    network: dict
    duplicates: _DuplicateIndex | None

    @classmethod
    def load(cls, rows: list[ClaimRow], *, book: _AccumulatorBook, mode: str, recent_flags) -> "_ChunkContext":
        lines_by_claim: dict[int, list[_Line]] = defaultdict(list)
        for claim_id, line_id, code, units, billed in ClaimLine.objects.filter(
                claim_id__any=[r.id for r in rows]).order_by("claim_id", "line_number").values_list(
                "claim_id", "id", "procedure_code", "units", "billed"):
            lines_by_claim[claim_id].append(_Line(line_id, code, units, billed))
        member_ids = {r.member_id for r in rows}
        periods, subscriber_of, on_family = coverage_context_for_members(member_ids=member_ids)
        plan_ids = {p[0] for ps in periods.values() for p in ps} | {r.plan_id for r in rows if r.plan_id}
        terms_by_plan = plan_terms_for(plan_ids=plan_ids)
        family_of = {m: (s or m) for m, s in subscriber_of.items()}
        book.ensure(member_ids | set(family_of.values()))
        return cls(
            lines_by_claim=lines_by_claim, periods=periods, family_of=family_of, on_family=on_family,
            terms_by_plan=terms_by_plan,
            fees=fee_schedule_lookup(schedule_ids={t.fee_schedule_id for t in terms_by_plan.values()}),
            network=dict(Provider.objects.filter(pk__any={r.provider_id for r in rows}).values_list("pk", "network")),
            duplicates=_DuplicateIndex(rows, recent_flags) if mode == "auto" else None,
        )

    def lines_in(self, row: ClaimRow, terms: engine.PlanTerms | None) -> list[engine.LineIn]:
        out = []
        for line in self.lines_by_claim[row.id]:
            cat_fee = self.fees.get((terms.fee_schedule_id, line.code)) if terms else None
            out.append(engine.LineIn(billed=line.billed, units=line.units, code=line.code,
                                     category=cat_fee[0] if cat_fee else None, fee=cat_fee[1] if cat_fee else None))
        return out


@dataclass(slots=True)
class _Decision:
    """What adjudication decided for one claim, and under which plan, year and coverage."""

    outcome: engine.Outcome
    plan_id: int | None
    terms: engine.PlanTerms | None
    family: bool
    year: datetime.date | None
    duplicate_of: int | None
    lines_in: list


def _screen(row: ClaimRow, ctx: _ChunkContext, lines_in, terms, status: str) -> tuple[engine.Outcome | None, int | None]:
    """Steps 1–4 (eligibility, timely filing, duplicate, review): a claim-level outcome, or None to price.
    `status`: the coverage on the service date (`plans.periods.coverage_on`)."""
    duplicate_of = ctx.duplicates.original_of(row)
    code, why = engine.screen_claim(
        service_date=row.service_date, received_date=row.received_date, coverage=status, terms=terms,
        duplicate=duplicate_of is not None, billed_total=row.billed,
    )
    if code != "18":
        duplicate_of = None  # denied (or pended) before the duplicate step: a copy of nothing
    if code == "pend":
        return engine.Outcome(transition="pend", lines=[], description=f"pended for review: {why}"), None
    if code:
        return engine.deny_claim(lines_in, code, why + (f" (claim C{duplicate_of:09d})" if duplicate_of else "")), duplicate_of
    return None, None


def _decide(row: ClaimRow, ctx: _ChunkContext, *, book: _AccumulatorBook, mode: str, deny_code: str,
            note: str) -> _Decision:
    plan_id, status = row.plan_id, None
    if mode == "auto":  # the plan is the one whose coverage holds the service date (or the nearest)
        status, period = coverage_on(periods=ctx.periods.get(row.member_id, []), day=row.service_date)
        if period is not None:
            plan_id = period[0]
    terms = ctx.terms_by_plan.get(plan_id)
    family_id = ctx.family_of.get(row.member_id, row.member_id)
    family = family_id in ctx.on_family
    lines_in = ctx.lines_in(row, terms)
    outcome, duplicate_of = None, None
    if mode == "auto":
        outcome, duplicate_of = _screen(row, ctx, lines_in, terms, status)
    elif mode == "deny":
        outcome = engine.deny_claim(lines_in, deny_code, note or DENIAL_MEANING[deny_code])
        outcome.description = f"examiner denied, CARC {deny_code}" + (f": {note}" if note else "")
    year = None
    if outcome is None:  # step 5: price the lines on the accumulators as they are now
        year = terms.plan_year_start(row.service_date)
        if any(li.category is None for li in lines_in):  # the plan's schedule lost a code since intake
            outcome = engine.deny_claim(lines_in, "96", "procedure code not in the plan's fee schedule")
        else:
            acc = book.load(plan_id=plan_id, member_id=row.member_id, family_id=family_id, family=family, year=year)
            outcome = engine.price_claim_lines(lines_in, terms=terms, in_network=ctx.network.get(row.provider_id) == "in",
                                               acc=acc)
            book.store(plan_id=plan_id, member_id=row.member_id, family_id=family_id, year=year, acc=acc)
    elif terms is not None:
        year = terms.plan_year_start(row.service_date)
    return _Decision(outcome=outcome, plan_id=plan_id, terms=terms, family=family, year=year,
                     duplicate_of=duplicate_of, lines_in=lines_in)


@dataclass
class _ChunkWrites:
    """Everything one chunk's adjudication writes, already encoded (`core.bulk.PreparedWrite`);
    `_adjudicate_write` sends it, in one transaction."""

    line_results: PreparedWrite
    claims: PreparedWrite
    accumulators: PreparedWrite
    transitions: PreparedWrite


def _adjudicate_write(w: _ChunkWrites) -> None:
    for write in (w.line_results, w.claims, w.accumulators, w.transitions):
        write_prepared(write)


def _adjudicate_rows(rows: list[tuple], **options) -> dict[int, str]:
    """Adjudicate claim rows and write the results in the caller's transaction; return id -> new state."""
    writes, states, _ = _adjudicate_compute(rows, book=_AccumulatorBook(), **options)
    _adjudicate_write(writes)
    return states


def _adjudicate_compute(rows: list[tuple], *, today: datetime.date, book: _AccumulatorBook, by=None,
                        mode: str = "auto", deny_code: str = "", note: str = "",
                        recent_flags=()) -> tuple[_ChunkWrites, dict[int, str], dict[int, bool]]:
    """Adjudicate claim rows (CLAIM_COLS, in received order) in memory: what to write, id -> new state,
    and id -> whether it is a duplicate. Reads in sets; writes nothing.

    `recent_flags`: duplicate flags of claims adjudicated earlier in this run whose rows may not be
    written yet (the pipelined batch); the database's flag counts for every other claim.

    mode "auto": DOMAIN.md §3 steps 1–6 (submitted and appealed claims).
    mode "approve": an examiner approved a pended claim: steps 5–6 now.
    mode "deny": an examiner denied a pended claim: every line denied with `deny_code`.
    """
    rows = [ClaimRow._make(r) for r in rows]
    ctx = _ChunkContext.load(rows, book=book, mode=mode, recent_flags=recent_flags)
    result_rows, claim_rows, new_states, log_rows = [], [], {}, []
    by_id = getattr(by, "pk", None)
    for row in rows:
        d = _decide(row, ctx, book=book, mode=mode, deny_code=deny_code, note=note)
        outcome = d.outcome
        transition = outcome.transition if mode == "auto" else "review_" + outcome.transition
        target = claim_transition_target(transition, row.state)
        log_rows.append((Claim, row.id, row.state, target, transition, by_id, outcome.description))
        new_states[row.id] = target
        rnd = row.adjudication_round
        totals = ZERO_TOTALS
        if outcome.lines:
            rnd += 1
            for line, li, lo in zip(ctx.lines_by_claim[row.id], d.lines_in, outcome.lines):
                result_rows.append((
                    row.id, line.id, rnd, li.category or "", li.fee, lo.allowed, lo.deductible, lo.copay,
                    lo.coinsurance, lo.not_covered, lo.balance_billed, lo.provider_write_off, lo.plan_paid,
                    ",".join(lo.codes), lo.denial_code, lo.trace,
                ))
            totals = engine.claim_totals(outcome.lines)
        if outcome.duplicate:
            ctx.duplicates.mark_duplicate(row)
        claim_rows.append((
            row.id, target, d.plan_id, rnd, outcome.duplicate, d.duplicate_of, d.family, d.year, today,
            outcome.reason_codes, totals["allowed"], totals["deductible"], totals["copay"], totals["coinsurance"],
            totals["not_covered"], totals["balance_billed"], totals["plan_paid"], totals["member_responsibility"],
            totals["provider_write_off"],
        ))
    flags = {row[0]: row[4] for row in claim_rows}
    writes = _ChunkWrites(
        line_results=insert_prepare(LineResult, LINE_RESULT_FIELDS, result_rows),
        claims=update_prepare(Claim, "id", CLAIM_UPDATE_FIELDS, claim_rows),
        accumulators=upsert_prepare(Accumulator, conflict=ACCUMULATOR_KEY,
                                    fields=(*ACCUMULATOR_KEY, "deductible_met", "oop_met"),
                                    update=("deductible_met", "oop_met"), rows=book.take_writes()),
        transitions=transition_log_prepare(log_rows, timestamp=clock.now()),
    )
    return writes, new_states, flags


def claims_adjudicate_pending_run(*, chunk_size: int | None = None, today: datetime.date | None = None, by=None) -> int:
    """Adjudicate every `submitted` and `appealed` claim in received order, a chunk per transaction.

    Running it again finds nothing to do: adjudicated claims have left those states. On PostgreSQL,
    outside a caller's transaction, chunk N+1 is adjudicated while chunk N is being written
    (`_adjudicate_pipelined`); otherwise chunk after chunk, each read, priced and written in turn.
    """
    chunk_size = chunk_size or settings.ADJUDICATION_CHUNK_SIZE
    today = today or clock.today()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _adjudicate_pipelined(chunk_size=chunk_size, today=today, by=by)
    done = 0
    while True:
        with transaction.atomic():
            _adjudication_lock()
            _commit_without_wal_wait()  # the batch only: an examiner's decision waits for the WAL flush
            rows = list(
                Claim.objects.filter(state__in=ADJUDICABLE).order_by("received_date", "id")
                .select_for_update().values_list(*CLAIM_COLS)[:chunk_size]
            )
            if not rows:
                return done
            _adjudicate_rows(rows, today=today, by=by)
            done += len(rows)


@contextlib.contextmanager
def _few_collections():
    """The batch makes millions of short-lived objects and almost no reference cycles; at the cyclic
    collector's default threshold (a collection every 700 allocations) the collector took 15–20 % of
    the run (measured at 100,000 and 1,000,000 claims). For the run's length: the objects already there (Django, the modules) are set aside
    (`gc.freeze`) and the youngest generation is collected every 50,000 allocations."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, *threshold[1:])
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


_NEXT_CHUNK_SQL = (
    "SELECT " + ", ".join(CLAIM_COLS) + " FROM claims_claim "
    "WHERE state IN ('submitted', 'appealed') AND (received_date, id) > (%s, %s) "
    "ORDER BY received_date, id LIMIT %s"
)


def _adjudicate_pipelined(*, chunk_size: int, today: datetime.date, by=None) -> int:
    """The batch on PostgreSQL, with the database and Python working at the same time.

    This thread reads and prices chunk after chunk, in received order; a writer thread, on a
    connection of its own, writes each chunk in one transaction, in the same order. The run holds
    the adjudication lock for its whole length (a session lock), which is what makes it safe for
    pricing to run ahead of the writes: nobody else prices a claim meanwhile, the accumulator book
    carries the run's figures from chunk to chunk, and the duplicate flags of chunks not yet written
    are kept in memory. A chunk is whole or absent: if anything fails, the chunks already handed to
    the writer are written, nothing else is, and the error is raised; the next run goes on from there.
    """
    handoff: queue.Queue = queue.Queue(maxsize=1)
    failures: list = []

    def write_chunks() -> None:
        try:
            while (writes := handoff.get()) is not None:
                if failures:
                    continue  # drain: the reader must never block on a dead writer
                try:
                    with transaction.atomic():
                        _commit_without_wal_wait()
                        _adjudicate_write(writes)
                except BaseException as exc:  # noqa: BLE001 - handed to the reader, which raises it
                    failures.append(exc)
        finally:
            connections.close_all()

    # The writer runs in a copy of this context: whatever names the database (a training session's
    # sandbox, say) is the same for both threads.
    writer = threading.Thread(target=contextvars.copy_context().run, args=(write_chunks,),
                              name="adjudication-writer", daemon=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADJUDICATION_LOCK_ID])
    writer.start()
    done = 0
    try:
        with _few_collections():
            book = _AccumulatorBook()
            recent_flags: deque = deque(maxlen=2)  # chunks that may be unwritten: the writer's, the queued one
            after = (datetime.date.min, 0)
            while not failures:
                with connection.cursor() as cursor:
                    cursor.execute(_NEXT_CHUNK_SQL, [after[0], after[1], chunk_size])
                    rows = cursor.fetchall()
                if not rows:
                    break
                writes, _, flags = _adjudicate_compute(rows, today=today, by=by, book=book, recent_flags=recent_flags)
                recent_flags.append(flags)
                handoff.put(writes)
                done += len(rows)
                after = (rows[-1][6], rows[-1][0])
    finally:
        handoff.put(None)
        writer.join()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADJUDICATION_LOCK_ID])
    if failures:
        raise failures[0]
    return done
