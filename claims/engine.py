"""The adjudication rules of DOMAIN.md §3–4 as pure functions over plain data.

No database here: `claims.services` loads a chunk of claims into these structures, calls
`adjudicate` / `price_claim_lines`, and writes the results in sets. Tests (hypothesis among
them) call the same functions directly.
"""
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from core.money import fmt
from plans.periods import plan_year_start_for  # the one plan-year rule

from .carc import DENIAL_MEANING, DENIAL_OWED_BY

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

_PERCENT_TEXT: dict = {}


def percent_text(rate: Decimal) -> str:
    """0.20 -> "20"; 0.125 -> "12.5" (a plan has one or two rates: remembered)."""
    text = _PERCENT_TEXT.get(rate)
    if text is None:
        text = _PERCENT_TEXT[rate] = f"{rate * 100:.2f}".rstrip("0").rstrip(".")
    return text


@dataclass(slots=True)
class PlanTerms:
    id: int
    year_start_month: int
    year_start_day: int
    deductible_individual: Decimal
    deductible_family: Decimal
    oop_max_individual: Decimal
    oop_max_family: Decimal
    coinsurance: Decimal
    oon_covered: bool
    oon_coinsurance: Decimal | None
    timely_filing_days: int
    review_threshold: Decimal
    fee_schedule_id: int
    excluded: frozenset = frozenset()
    covered_in_full: frozenset = frozenset()
    copays: dict = field(default_factory=dict)

    def plan_year_start(self, day: datetime.date) -> datetime.date:
        return plan_year_start_for(plan_year_anchor=datetime.date(2001, self.year_start_month, self.year_start_day),
                                   day=day)


@dataclass(slots=True)
class Accumulators:
    """What the member (and, on family coverage, the family) has met in the plan year. Mutated by pricing."""

    deductible_met: Decimal = ZERO
    oop_met: Decimal = ZERO
    family_deductible_met: Decimal = ZERO
    family_oop_met: Decimal = ZERO
    family: bool = False


@dataclass(slots=True)
class LineIn:
    billed: Decimal
    units: int
    code: str
    category: str | None  # None: the code is not in the plan's fee schedule
    fee: Decimal | None


@dataclass(slots=True)
class LineOut:
    allowed: Decimal = ZERO
    deductible: Decimal = ZERO
    copay: Decimal = ZERO
    coinsurance: Decimal = ZERO
    not_covered: Decimal = ZERO
    balance_billed: Decimal = ZERO
    provider_write_off: Decimal = ZERO
    plan_paid: Decimal = ZERO
    codes: tuple = ()
    denial_code: str = ""
    trace: str = ""  # a trace record (TRACE_MARK ...): `trace_render` writes out its steps


# A line's trace is kept as a short record of the figures pricing used that the line's own figures do
# not hold (the room and deductible left, the plan's terms then, the accumulator after); `trace_render`
# turns it into the steps a person reads. Formatting a dozen amounts per line would cost more than
# pricing it, and their text more to store than the line's figures. A record starts with TRACE_MARK;
# a trace that does not is text written as it is (rows from before records).
TRACE_MARK = "~"


def deny_line(line: LineIn, code: str, why: str | None = None) -> LineOut:
    """A denied line: allowed 0.00, only its denial code; billed goes where the table says."""
    owed_by = DENIAL_OWED_BY[code]
    out = LineOut(codes=(code,), denial_code=code)
    if owed_by == "member":
        out.not_covered = line.billed
    elif owed_by == "provider":
        out.provider_write_off = line.billed
    out.trace = "~X" if not why or why == DENIAL_MEANING[code] else "~X|" + why
    return out


def remaining_room(*, terms: PlanTerms, acc: Accumulators) -> tuple[Decimal, Decimal]:
    """Step 4: (out-of-pocket room, deductible left), the family's where it is smaller, never below 0
    (an administrator may lower a maximum mid-year below what a member has met)."""
    room = terms.oop_max_individual - acc.oop_met
    ded_left = terms.deductible_individual - acc.deductible_met
    if acc.family:
        fam_room = terms.oop_max_family - acc.family_oop_met
        if fam_room < room:
            room = fam_room
        fam_ded_left = terms.deductible_family - acc.family_deductible_met
        if fam_ded_left < ded_left:
            ded_left = fam_ded_left
    if room < ZERO:
        room = ZERO
    if ded_left < ZERO:
        ded_left = ZERO
    return room, ded_left


def price_line(line: LineIn, *, terms: PlanTerms, in_network: bool, acc: Accumulators) -> LineOut:
    """DOMAIN.md §4 steps 1–9 for one line; updates `acc` (step 9)."""
    category = line.category
    if category in terms.excluded:
        return deny_line(line, "96", f"category {category} is excluded by the plan")
    if not in_network and not terms.oon_covered:
        return deny_line(line, "242")

    billed = line.billed
    schedule_amount = line.fee * line.units
    allowed = billed if billed < schedule_amount else schedule_amount
    out = LineOut(allowed=allowed)
    excess = billed - allowed
    if excess:
        if in_network:
            out.provider_write_off = excess
        else:
            out.balance_billed = excess
    room, ded_left = remaining_room(terms=terms, acc=acc)

    deductible = copay = coinsurance = ZERO
    if in_network and category in terms.covered_in_full:
        record = "~F"
    elif in_network and category in terms.copays:
        c = terms.copays[category]
        copay = min(c, allowed, room)
        record = f"~C|{c}|{room}"
    else:
        deductible = min(allowed, ded_left, room)
        rate = terms.coinsurance if in_network else terms.oon_coinsurance
        raw = (rate * (allowed - deductible)).quantize(CENT, rounding=ROUND_HALF_UP)
        cap = room - deductible
        coinsurance = raw if raw < cap else cap
        family_deductible = terms.deductible_family if acc.family else ""
        record = f"~D|{ded_left}|{terms.deductible_individual}|{family_deductible}|{rate}|{room}"

    out.deductible = deductible
    out.copay = copay
    out.coinsurance = coinsurance
    out.plan_paid = allowed - deductible - copay - coinsurance

    # Step 9: accumulators.
    cost_sharing = deductible + copay + coinsurance
    if cost_sharing:
        acc.deductible_met += deductible
        acc.oop_met += cost_sharing
        if acc.family:
            acc.family_deductible_met += deductible
            acc.family_oop_met += cost_sharing
        record += f"|{acc.oop_met}|{terms.oop_max_individual}"
    out.trace = record

    codes = []
    if deductible:
        codes.append("1")
    if coinsurance:
        codes.append("2")
    if copay:
        codes.append("3")
    if out.provider_write_off:
        codes.append("45")
    out.codes = tuple(codes)
    return out


def trace_render(record: str, *, line: LineIn, out) -> str:
    """The steps of a line's pricing as a person reads them, one per line of text, from its trace
    record and its figures (`out`: a LineOut, or a stored line result with the same fields)."""
    if not record.startswith(TRACE_MARK):
        return record  # a trace written as text
    kind, *parts = record[1:].split("|", 1 if record.startswith("~X") else -1)
    if kind == "X":
        return _trace_denied(line=line, code=out.denial_code, why=parts[0] if parts else "")
    billed, allowed = line.billed, out.allowed
    schedule_amount = line.fee * line.units
    steps = [f"fee {fmt(line.fee)} × {line.units} = {fmt(schedule_amount)}; "
             f"allowed = min(billed {fmt(billed)}, {fmt(schedule_amount)}) = {fmt(allowed)}"]
    excess = billed - allowed
    if excess:
        if out.provider_write_off == excess:
            steps.append(f"in network: provider writes off {fmt(excess)} (CARC 45)")
        else:
            steps.append(f"out of network: {fmt(excess)} balance-billed to the member, counts toward no accumulator")
    numbers = [Decimal(p) if p else None for p in parts]
    if kind == "F":
        steps.append(f"{line.category} is covered in full in network: no cost sharing")
        met = ()
    elif kind == "C":
        c, room, *met = numbers
        steps.append(f"{line.category} copay {fmt(c)}: copay = min({fmt(c)}, allowed {fmt(allowed)}, "
                     f"out-of-pocket remaining {fmt(room)}) = {fmt(out.copay)}; no deductible, no coinsurance")
    else:
        ded_left, ded_individual, ded_family, rate, room, *met = numbers
        deductible = out.deductible
        steps.append(f"deductible remaining {fmt(ded_left)} of {fmt(ded_individual)}"
                     + (f" (family {fmt(ded_family)})" if ded_family is not None else "")
                     + f"; applied {fmt(deductible)}")
        raw = (rate * (allowed - deductible)).quantize(CENT, rounding=ROUND_HALF_UP)
        steps.append(f"coinsurance {percent_text(rate)} % of {fmt(allowed - deductible)} = {fmt(raw)}; "
                     f"out-of-pocket remaining after deductible {fmt(room - deductible)}; applied {fmt(out.coinsurance)}")
    steps.append(f"plan pays {fmt(out.plan_paid)}")
    if met:
        oop_met, oop_max = met
        steps.append(f"out-of-pocket met now {fmt(oop_met)} of {fmt(oop_max)}")
    return "\n".join(steps)


def _trace_denied(*, line: LineIn, code: str, why: str) -> str:
    owed_by = DENIAL_OWED_BY[code]
    if owed_by == "member":
        who = f"member owes {fmt(line.billed)} (not covered)"
    elif owed_by == "provider":
        who = f"provider writes off {fmt(line.billed)}"
    else:
        who = "nothing is owed"
    return f"denied, CARC {code}: {why or DENIAL_MEANING[code]}\n{who}"


def claim_reason_codes(lines: list[LineOut]) -> str:
    codes = set()
    for line in lines:
        codes.update(line.codes)
    return ",".join(sorted(codes, key=int))


SUM_FIELDS = ("allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
              "provider_write_off", "plan_paid")


def member_owes(figures) -> Decimal:
    """What the member owes for a line or a claim (DOMAIN.md §4 "Claim totals"): its cost sharing, what
    is not covered and what is balance-billed. `figures` is anything with those five attributes."""
    return (figures.deductible + figures.copay + figures.coinsurance + figures.not_covered
            + figures.balance_billed)


def claim_totals(lines: list[LineOut]) -> dict[str, Decimal]:
    """The claim's buckets: the sums of its lines', and what the member owes in all."""
    allowed = deductible = copay = coinsurance = not_covered = balance_billed = write_off = plan_paid = ZERO
    for ln in lines:
        allowed += ln.allowed
        deductible += ln.deductible
        copay += ln.copay
        coinsurance += ln.coinsurance
        not_covered += ln.not_covered
        balance_billed += ln.balance_billed
        write_off += ln.provider_write_off
        plan_paid += ln.plan_paid
    sums = LineOut(allowed=allowed, deductible=deductible, copay=copay, coinsurance=coinsurance,
                   not_covered=not_covered, balance_billed=balance_billed, provider_write_off=write_off,
                   plan_paid=plan_paid)
    return {
        "allowed": allowed, "deductible": deductible, "copay": copay, "coinsurance": coinsurance,
        "not_covered": not_covered, "balance_billed": balance_billed, "provider_write_off": write_off,
        "plan_paid": plan_paid, "member_responsibility": member_owes(sums),
    }


@dataclass(slots=True)
class Outcome:
    """What adjudication decided for one claim."""

    transition: str  # approve | deny | pend
    lines: list  # LineOut per line, empty when pended
    reason_codes: str = ""
    duplicate: bool = False
    description: str = ""


def screen_claim(*, service_date: datetime.date, received_date: datetime.date, coverage: str,
                 terms: PlanTerms | None, duplicate: bool, billed_total: Decimal) -> tuple[str | None, str]:
    """Steps 1–4: a claim-level denial code, or "pend", or None to price the lines."""
    if coverage == "before":
        return "26", "service date before the coverage start"
    if coverage == "after":
        return "27", "service date after the coverage end"
    days = (received_date - service_date).days
    if days > terms.timely_filing_days:
        return "29", f"received {days} days after service; the plan allows {terms.timely_filing_days}"
    if duplicate:
        return "18", DENIAL_MEANING["18"]
    if billed_total >= terms.review_threshold:
        return "pend", f"billed {fmt(billed_total)} is at least the review threshold {fmt(terms.review_threshold)}"
    return None, ""


def price_claim_lines(lines: list[LineIn], *, terms: PlanTerms, in_network: bool, acc: Accumulators) -> Outcome:
    """Steps 5–6: price every line in order, then approve unless every line is denied."""
    outs = [price_line(line, terms=terms, in_network=in_network, acc=acc) for line in lines]
    all_denied = all(o.denial_code for o in outs)
    codes = claim_reason_codes(outs)
    return Outcome(
        transition="deny" if all_denied else "approve", lines=outs, reason_codes=codes,
        description=("every line denied" if all_denied else "approved") + (f"; CARC {codes}" if codes else ""),
    )


def deny_claim(lines: list[LineIn], code: str, why: str) -> Outcome:
    outs = [deny_line(line, code, why) for line in lines]
    return Outcome(transition="deny", lines=outs, reason_codes=code, duplicate=(code == "18"),
                   description=f"denied, CARC {code}: {why}")
