"""The adjudication engine's trace TEXT as the engine wrote it before traces became records
(claims/engine.py at commit 21fbb8f): the oracle that `claims.engine.trace_render` must agree with,
word for word. Kept only for tests/claims/test_trace_records.py; the rules it prices by are the
engine's own, so figures are compared too."""
from decimal import ROUND_HALF_UP

from claims.carc import DENIAL_MEANING, DENIAL_OWED_BY
from claims.engine import CENT, ZERO, Accumulators, LineIn, LineOut, PlanTerms, percent_text
from core.money import fmt


def deny_line(line: LineIn, code: str, why: str | None = None) -> LineOut:
    """A denied line: allowed 0.00, only its denial code; billed goes where the table says."""
    owed_by = DENIAL_OWED_BY[code]
    out = LineOut(codes=(code,), denial_code=code)
    if owed_by == "member":
        out.not_covered = line.billed
        who = f"member owes {fmt(line.billed)} (not covered)"
    elif owed_by == "provider":
        out.provider_write_off = line.billed
        who = f"provider writes off {fmt(line.billed)}"
    else:
        who = "nothing is owed"
    out.trace = f"denied, CARC {code}: {why or DENIAL_MEANING[code]}\n{who}"
    return out


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
    steps = [f"fee {fmt(line.fee)} × {line.units} = {fmt(schedule_amount)}; "
             f"allowed = min(billed {fmt(billed)}, {fmt(schedule_amount)}) = {fmt(allowed)}"]
    excess = billed - allowed
    if excess:
        if in_network:
            out.provider_write_off = excess
            steps.append(f"in network: provider writes off {fmt(excess)} (CARC 45)")
        else:
            out.balance_billed = excess
            steps.append(f"out of network: {fmt(excess)} balance-billed to the member, counts toward no accumulator")

    # Step 4: remaining room.
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

    deductible = copay = coinsurance = ZERO
    if in_network and category in terms.covered_in_full:
        steps.append(f"{category} is covered in full in network: no cost sharing")
    elif in_network and category in terms.copays:
        c = terms.copays[category]
        copay = min(c, allowed, room)
        steps.append(f"{category} copay {fmt(c)}: copay = min({fmt(c)}, allowed {fmt(allowed)}, "
                     f"out-of-pocket remaining {fmt(room)}) = {fmt(copay)}; no deductible, no coinsurance")
    else:
        deductible = min(allowed, ded_left, room)
        steps.append(f"deductible remaining {fmt(ded_left)} of {fmt(terms.deductible_individual)}"
                     + (f" (family {fmt(terms.deductible_family)})" if acc.family else "")
                     + f"; applied {fmt(deductible)}")
        rate = terms.coinsurance if in_network else terms.oon_coinsurance
        raw = (rate * (allowed - deductible)).quantize(CENT, rounding=ROUND_HALF_UP)
        cap = room - deductible
        coinsurance = raw if raw < cap else cap
        steps.append(f"coinsurance {percent_text(rate)} % of {fmt(allowed - deductible)} = {fmt(raw)}; "
                     f"out-of-pocket remaining after deductible {fmt(cap)}; applied {fmt(coinsurance)}")

    out.deductible = deductible
    out.copay = copay
    out.coinsurance = coinsurance
    out.plan_paid = allowed - deductible - copay - coinsurance
    steps.append(f"plan pays {fmt(out.plan_paid)}")

    # Step 9: accumulators.
    cost_sharing = deductible + copay + coinsurance
    if cost_sharing:
        acc.deductible_met += deductible
        acc.oop_met += cost_sharing
        if acc.family:
            acc.family_deductible_met += deductible
            acc.family_oop_met += cost_sharing
        steps.append(f"out-of-pocket met now {fmt(acc.oop_met)} of {fmt(terms.oop_max_individual)}")

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
    out.trace = "\n".join(steps)  # one step per line
    return out
