"""Writes for claims: submission (intake edits), auto-adjudication, examiner review, appeal.

Batch and single-claim adjudication run the same function, `_adjudicate_rows`, over a list of
claim rows: it reads everything it needs in sets, applies `claims.engine`, and writes in sets
(COPY and one UPDATE per table on PostgreSQL). Pricing is sequential by nature (accumulators are
applied in received order), so every pricing transaction holds one adjudication lock.
"""
import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from config import clock
from config.bulk import PreparedWrite, insert_prepare, update_prepare, upsert_prepare, write_prepared
from config.money import MONEY_LIMIT, to_money
from parties.models import Member, Provider
from parties.selectors import user_is_outside_tpa
from parties.validators import npi_is_valid
from plans.models import CategoryBenefit, FeeScheduleEntry, Plan
from plans.selectors import coverage_context_for_members, coverage_on, fee_schedule_lookup, plan_for_member

from . import engine
from .fsm_log import buffered_transition_log, transition_log_flush, transition_log_prepare
from .models import Accumulator, Claim, ClaimLine, ClaimState, LineResult, claim_transition_target
from .selectors import claim_duplicate_candidates, claim_get_visible_to

S = ClaimState
ADJUDICABLE = (S.SUBMITTED, S.APPEALED)
ZERO = Decimal("0.00")
ADJUDICATION_LOCK_ID = 7_311_001  # pg_advisory_xact_lock key for pricing
MAX_UNITS = 9_999
EARLIEST_SERVICE_DATE = datetime.date(1900, 1, 1)  # before it, plan-year arithmetic leaves the calendar


class ClaimError(ValidationError):
    """The claims app's one error type: a ValidationError whose dict names the field."""


class ClaimConflict(ClaimError):
    """The claim is no longer in the state the action expected (someone else acted first)."""


# --- Submission ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SubmittedLine:
    code: str
    units: int
    billed: Decimal


def _parse_date(value, field: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ClaimError({field: [f"not a date (YYYY-MM-DD): {value!r}"]})


def claim_lines_parse(lines) -> list[SubmittedLine]:
    """Check the shape of submitted lines; a malformed one is an error naming it (nothing is written)."""
    if lines is None:
        lines = []
    if not isinstance(lines, (list, tuple)):
        raise ClaimError({"lines": ["must be a list of lines"]})
    out = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ClaimError({f"lines[{i}]": ["must be a mapping with code, billed and units"]})
        code = line.get("code", line.get("procedure_code"))
        if code is None or str(code).strip() == "":
            raise ClaimError({f"lines[{i}].code": ["a procedure code is required"]})
        units = line.get("units", 1)
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            raise ClaimError({f"lines[{i}].units": [f"must be a whole number from 1 to {MAX_UNITS:,}, got {units!r}"]})
        if "billed" not in line:
            raise ClaimError({f"lines[{i}].billed": ["a billed amount is required"]})
        try:
            billed = to_money(line["billed"])
        except ValueError as exc:
            raise ClaimError({f"lines[{i}].billed": [str(exc)]}) from None
        if "\x00" in str(code):
            raise ClaimError({f"lines[{i}].code": ["must not contain a NUL character"]})
        out.append(SubmittedLine(code=str(code).strip(), units=units, billed=billed))
    if sum((ln.billed for ln in out), ZERO) >= MONEY_LIMIT:
        raise ClaimError({"lines": [f"the claim's total billed must stay under {MONEY_LIMIT:,}"]})
    return out


def claim_id_parse(value) -> int:
    """A claim's id as given to an action: an int, or its digits ("123"); anything else names the claim."""
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdecimal():
        raise ClaimError({"claim": [f"not a claim id: {value!r}"]})
    claim_id = int(str(value).strip())
    if claim_id >= 2**63:  # beyond the id column: no such claim, and no query to overflow
        raise ClaimError({"claim": [f"no claim {claim_id}"]})
    return claim_id


def duplicate_key_for(*, provider_id: int, member_id: int, service_date: datetime.date,
                      lines: list[SubmittedLine]) -> str:
    """Same provider, member, service date and multiset of (code, units, billed) -> same key."""
    multiset = sorted(f"{ln.code}x{ln.units}@{ln.billed}" for ln in lines)
    raw = f"{provider_id}|{member_id}|{service_date.isoformat()}|{'|'.join(multiset)}"
    return hashlib.sha1(raw.encode()).hexdigest()


def _intake_edits(*, member, provider, npi: str, service_date, received_date, lines, codes_known):
    """DOMAIN.md §3 intake edits, in order: (field, message) of the first that fails, else None."""
    if member is None:
        return "member_id", "unknown member ID"
    if not npi_is_valid(npi):
        return "npi", f"NPI {npi!r} fails its check digit"
    if provider is None:
        return "npi", f"unknown provider NPI {npi!r}"
    if not lines:
        return "lines", "the claim has no lines"
    for i, line in enumerate(lines):
        if line.billed <= 0:
            return f"lines[{i}].billed", f"billed amount must be greater than 0, got {line.billed}"
    for i, line in enumerate(lines):
        if line.code not in codes_known:
            return f"lines[{i}].code", f"procedure code {line.code!r} is not in the fee schedule"
    if service_date > received_date:
        return "service_date", f"service date {service_date} is after the received date {received_date}"
    return None


def claim_submit(*, member_id: str, npi: str, service_date, lines, submitted_by=None) -> Claim:
    """Receive a claim. Malformed input raises ClaimError (nothing written); a claim that fails an
    intake edit is stored and `rejected`, with the field and the reason."""
    member_id = str(member_id or "").strip()
    npi = str(npi or "").strip()
    for field, value in (("member_id", member_id), ("npi", npi)):
        if "\x00" in value:
            raise ClaimError({field: ["must not contain a NUL character"]})
    service_date = _parse_date(service_date, "service_date")
    if not EARLIEST_SERVICE_DATE <= service_date:
        raise ClaimError({"service_date": [f"must be on or after {EARLIEST_SERVICE_DATE}, got {service_date}"]})
    parsed = claim_lines_parse(lines)
    received_date = clock.today()

    member = Member.objects.filter(member_id=member_id).first() if member_id else None
    provider = Provider.objects.filter(npi=npi).first() if npi else None
    plan = plan_for_member(member=member, on=service_date) if member else None  # the plan adjudication will use
    if plan is not None:
        codes_known = set(FeeScheduleEntry.objects.filter(schedule_id=plan.fee_schedule_id, code__in=[ln.code for ln in parsed])
                          .values_list("code", flat=True))
    else:
        codes_known = set(FeeScheduleEntry.objects.filter(code__in=[ln.code for ln in parsed]).values_list("code", flat=True))
    failed = _intake_edits(member=member, provider=provider, npi=npi, service_date=service_date,
                           received_date=received_date, lines=parsed, codes_known=codes_known)
    with transaction.atomic(), buffered_transition_log() as log_rows:
        claim = Claim(
            submitted_member_id=member_id[:40], submitted_npi=npi[:40], member=member, provider=provider, plan=plan,
            service_date=service_date, received_date=received_date, submitted_by=submitted_by,
            billed=sum((ln.billed for ln in parsed), ZERO),
        )
        if failed is None:
            claim.duplicate_key = duplicate_key_for(provider_id=provider.pk, member_id=member.pk,
                                                    service_date=service_date, lines=parsed)
        else:
            # Rejected before the first save: the row never holds a state its figures contradict.
            field, message = failed
            claim.rejection_field, claim.rejection_message = field, message
            claim.reject(by=submitted_by, description=f"intake edit failed on {field}: {message}")
        claim.save()
        ClaimLine.objects.bulk_create([
            ClaimLine(claim=claim, line_number=i + 1, procedure_code=ln.code[:10], units=ln.units, billed=ln.billed)
            for i, ln in enumerate(parsed)
        ])
        transition_log_flush(log_rows)
    return claim


# --- Adjudication ----------------------------------------------------------------------------

CLAIM_COLS = ("id", "state", "member_id", "provider_id", "plan_id", "service_date", "received_date",
              "duplicate_key", "billed", "adjudication_round")
LINE_RESULT_FIELDS = ("claim_id", "line_id", "round", "category", "fee", "allowed", "deductible", "copay",
                      "coinsurance", "not_covered", "balance_billed", "provider_write_off", "plan_paid",
                      "reason_codes", "denial_code", "trace")
CLAIM_UPDATE_FIELDS = ("state", "plan_id", "adjudication_round", "is_duplicate", "duplicate_of_id",
                       "family_coverage", "plan_year_start", "adjudicated_on", "reason_codes",
                       "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                       "plan_paid", "member_responsibility", "provider_write_off")


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

    One book may serve every chunk of a run: a member's rows are read the first time one of its
    family's claims is priced in the run; from then on the book is the truth, because the run holds
    the adjudication lock. Its size follows the members touched, not the claims.
    """

    def __init__(self):
        self.rows: dict[tuple, list] = {}  # (plan, member, scope, year) -> [deductible met, OOP met]
        self.loaded: set = set()
        self.dirty: set = set()

    def ensure(self, member_ids) -> None:
        missing = set(member_ids) - self.loaded
        if not missing:
            return
        for plan_id, member_id, scope, year, ded, oop in Accumulator.objects.filter(member_id__any=missing).values_list(
            *ACCUMULATOR_KEY, "deductible_met", "oop_met"
        ):
            self.rows[(plan_id, member_id, scope, year)] = [ded, oop]
        self.loaded |= missing

    def _row(self, key):
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [ZERO, ZERO]
        return row

    def load(self, *, plan_id, member_id, family_id, family: bool, year) -> engine.Accumulators:
        ind = self._row((plan_id, member_id, "individual", year))
        acc = engine.Accumulators(deductible_met=ind[0], oop_met=ind[1], family=family)
        if family:
            fam = self._row((plan_id, family_id, "family", year))
            acc.family_deductible_met, acc.family_oop_met = fam[0], fam[1]
        return acc

    def store(self, *, plan_id, member_id, family_id, year, acc: engine.Accumulators) -> None:
        key = (plan_id, member_id, "individual", year)
        ind = self._row(key)
        if (ind[0], ind[1]) != (acc.deductible_met, acc.oop_met):
            ind[0], ind[1] = acc.deductible_met, acc.oop_met
            self.dirty.add(key)
        if acc.family:
            key = (plan_id, family_id, "family", year)
            fam = self._row(key)
            if (fam[0], fam[1]) != (acc.family_deductible_met, acc.family_oop_met):
                fam[0], fam[1] = acc.family_deductible_met, acc.family_oop_met
                self.dirty.add(key)

    def take_writes(self) -> list[tuple]:
        """The rows changed since the last call, as (plan, member, scope, year, deductible met, OOP met)."""
        out = [(*key, *self.rows[key]) for key in self.dirty]
        self.dirty = set()
        return out


@dataclass
class _ChunkWrites:
    """Everything one chunk's adjudication writes, already encoded (`config.bulk.PreparedWrite`);
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
    claim_ids = [r[0] for r in rows]
    lines_by_claim: dict[int, list] = defaultdict(list)
    for claim_id, line_id, code, units, billed in ClaimLine.objects.filter(claim_id__any=claim_ids).order_by(
        "claim_id", "line_number"
    ).values_list("claim_id", "id", "procedure_code", "units", "billed"):
        lines_by_claim[claim_id].append((line_id, code, units, billed))

    member_ids = {r[2] for r in rows}
    periods, subscriber_of, on_family = coverage_context_for_members(member_ids=member_ids)
    plan_ids = {p[0] for ps in periods.values() for p in ps} | {r[4] for r in rows if r[4]}
    terms_by_plan = plan_terms_for(plan_ids=plan_ids)
    fees = fee_schedule_lookup(schedule_ids={t.fee_schedule_id for t in terms_by_plan.values()})
    network = dict(Provider.objects.filter(pk__any={r[3] for r in rows}).values_list("pk", "network"))
    family_of = {m: (s or m) for m, s in subscriber_of.items()}
    book.ensure(member_ids | set(family_of.values()))

    # duplicate key -> [[received, id, is_duplicate, decided]], in received order. "decided": adjudicated
    # by an earlier run. Such a claim is the original even when its copy was submitted first but
    # committed after it had been adjudicated (ids are taken before commit): else both would be paid.
    earlier: dict[str, list] = defaultdict(list)
    if mode == "auto":
        for cid, received, key, is_dup, e_state, *_ in claim_duplicate_candidates(
                member_dates={(r[2], r[5]) for r in rows}):
            for flags in recent_flags:
                if cid in flags:
                    is_dup = flags[cid]
            earlier[key].append([received, cid, is_dup, e_state not in ADJUDICABLE])
        for entries in earlier.values():
            entries.sort()

    result_rows, claim_rows, new_states, log_rows = [], [], {}, []
    by_id = getattr(by, "pk", None)
    for cid, state, member_id, provider_id, plan_id, service_date, received, dkey, billed_total, rnd in rows:
        raw_lines = lines_by_claim[cid]
        family_id = family_of.get(member_id, member_id)
        family = family_id in on_family
        duplicate_of = None
        if mode == "auto":
            status, period = coverage_on(periods=periods.get(member_id, []), day=service_date)
            if period is not None:
                plan_id = period[0]
        terms = terms_by_plan.get(plan_id)
        lines_in = []
        for _, code, units, billed in raw_lines:
            cat_fee = fees.get((terms.fee_schedule_id, code)) if terms else None
            lines_in.append(engine.LineIn(billed=billed, units=units, code=code,
                                          category=cat_fee[0] if cat_fee else None,
                                          fee=cat_fee[1] if cat_fee else None))
        outcome = None
        if mode == "auto":
            for e_received, e_id, e_dup, e_decided in earlier.get(dkey, ()):
                if e_id != cid and not e_dup and ((e_received, e_id) < (received, cid) or e_decided):
                    duplicate_of = e_id
                    break
            code, why = engine.screen_claim(
                service_date=service_date, received_date=received, coverage=status, terms=terms,
                duplicate=duplicate_of is not None, billed_total=billed_total,
            )
            if code != "18":
                duplicate_of = None  # denied (or pended) before the duplicate step: a copy of nothing
            if code == "pend":
                outcome = engine.Outcome(transition="pend", lines=[], description=f"pended for review: {why}")
            elif code:
                outcome = engine.deny_claim(lines_in, code, why + (f" (claim C{duplicate_of:09d})" if duplicate_of else ""))
        elif mode == "deny":
            outcome = engine.deny_claim(lines_in, deny_code, note or engine.DENIAL_MEANING[deny_code])
            outcome.description = f"examiner denied, CARC {deny_code}" + (f": {note}" if note else "")
        year = None
        if outcome is None:
            year = terms.plan_year_start(service_date)
            acc = book.load(plan_id=plan_id, member_id=member_id, family_id=family_id, family=family, year=year)
            if any(li.category is None for li in lines_in):  # the plan's schedule lost a code since intake
                outcome = engine.deny_claim(lines_in, "96", "procedure code not in the plan's fee schedule")
            else:
                outcome = engine.price_claim_lines(lines_in, terms=terms, in_network=network.get(provider_id) == "in",
                                                   acc=acc)
                book.store(plan_id=plan_id, member_id=member_id, family_id=family_id, year=year, acc=acc)

        transition = outcome.transition if mode == "auto" else "review_" + outcome.transition
        target = claim_transition_target(transition, state)
        log_rows.append((Claim, cid, state, target, transition, by_id, outcome.description))
        new_states[cid] = target

        if outcome.lines:
            rnd += 1
            for (line_id, *_), li, lo in zip(raw_lines, lines_in, outcome.lines):
                result_rows.append((
                    cid, line_id, rnd, li.category or "", li.fee, lo.allowed, lo.deductible, lo.copay,
                    lo.coinsurance, lo.not_covered, lo.balance_billed, lo.provider_write_off, lo.plan_paid,
                    ",".join(lo.codes), lo.denial_code, lo.trace,
                ))
            totals = engine.claim_totals(outcome.lines)
        else:
            totals = dict.fromkeys((*engine.SUM_FIELDS, "member_responsibility"), ZERO)
        if outcome.duplicate:
            for entry in earlier.get(dkey, ()):
                if entry[1] == cid:
                    entry[2] = True
        claim_rows.append((
            cid, target, plan_id, rnd, outcome.duplicate, duplicate_of, family,
            year or (terms.plan_year_start(service_date) if terms else None), today, outcome.reason_codes,
            totals["allowed"], totals["deductible"], totals["copay"], totals["coinsurance"],
            totals["not_covered"], totals["balance_billed"], totals["plan_paid"],
            totals["member_responsibility"], totals["provider_write_off"],
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


def claims_adjudicate_pending(*, chunk_size: int | None = None, today: datetime.date | None = None, by=None) -> int:
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
    import queue
    import threading
    from collections import deque

    from django.db import connections

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

    writer = threading.Thread(target=write_chunks, name="adjudication-writer", daemon=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ADJUDICATION_LOCK_ID])
    writer.start()
    done = 0
    try:
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


def claim_adjudicate(*, claim_id: int, today: datetime.date | None = None, by=None) -> Claim:
    """Adjudicate one submitted or appealed claim now (the same rules and writes as the batch)."""
    claim_id = claim_id_parse(claim_id)
    today = today or clock.today()
    with transaction.atomic():
        _adjudication_lock()
        rows = list(Claim.objects.filter(pk=claim_id).select_for_update().values_list(*CLAIM_COLS))
        if not rows:
            raise ClaimError({"claim": [f"no claim {claim_id}"]})
        if rows[0][1] not in ADJUDICABLE:
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is {rows[0][1]}, not submitted or appealed"]})
        _adjudicate_rows(rows, today=today, by=by)
    return Claim.objects.get(pk=claim_id)


def claim_review(*, claim_id: int, decision: str, user=None, reason_code: str | None = None, note: str = "",
                 today: datetime.date | None = None) -> Claim:
    """An examiner approves (priced now) or denies (every line, with a reason code) a pended claim.

    Two examiners at once: the second finds the claim no longer pended and gets ClaimConflict.
    """
    if user is not None and (not user.has_perm("claims.review_claim") or user_is_outside_tpa(user=user)):
        # Examiners and supervisors review; a permission granted to a provider's login does not make it one.
        raise ClaimError({"user": ["You may not review claims."]})
    claim_id = claim_id_parse(claim_id)
    if decision not in ("approve", "deny"):
        raise ClaimError({"decision": [f"must be approve or deny, got {decision!r}"]})
    if decision == "deny":
        reason_code = str(reason_code or "50")
        if reason_code not in engine.EXAMINER_DENIAL_CODES:
            raise ClaimError({"reason_code": [f"must be one of {', '.join(engine.EXAMINER_DENIAL_CODES)}"]})
    today = today or clock.today()
    with transaction.atomic():
        _adjudication_lock()
        rows = list(Claim.objects.filter(pk=claim_id).select_for_update().values_list(*CLAIM_COLS))
        if not rows:
            raise ClaimError({"claim": [f"no claim {claim_id}"]})
        if rows[0][1] != S.PENDED:
            raise ClaimConflict({"claim": [f"claim C{claim_id:09d} is {rows[0][1]}, no longer pended"]})
        _adjudicate_rows(rows, today=today, by=user, mode=decision, deny_code=reason_code or "", note=note)
    return Claim.objects.get(pk=claim_id)


def claim_appeal(*, claim_id: int, user=None, reason: str = "") -> Claim:
    """Record an appeal of a denied claim; the next adjudication run re-adjudicates it."""
    if user is not None and not (user.has_perm("claims.appeal_claim") or user.has_perm("claims.review_claim")
                                 or getattr(getattr(user, "party_link", None), "role", None) == "provider_staff"):
        raise ClaimError({"user": ["You may not appeal claims."]})
    claim_id = claim_id_parse(claim_id)
    with transaction.atomic():
        claim = Claim.objects.select_for_update().filter(pk=claim_id).first()
        if claim is None or (user is not None and user_is_outside_tpa(user=user)
                             and claim_get_visible_to(user=user, claim_id=claim_id) is None):
            raise ClaimError({"claim": [f"no claim {claim_id}"]})  # one it may not see is one that is not there
        if claim.state != S.DENIED:
            raise ClaimConflict({"claim": [f"claim {claim.claim_number} is {claim.state}, not denied"]})
        claim.appeal(by=user, description=f"appeal: {reason}" if reason else "appeal received")
        claim.save(update_fields=["state"])
    return claim

