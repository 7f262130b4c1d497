"""What every role's claim page shows the same way: the outcome per line (figures, CARCs with their
meanings, the steps of the trace) and the timeline of transitions. Four queries whatever the claim."""
from claims.carc import CARC_MEANING
from claims.models import Claim
from claims.selectors import claim_line_results, claim_transitions


def claim_outcome(*, claim: Claim) -> dict:
    """Context for templates/portal/_claim_outcome.html: `claim`, `outcome_lines`, `timeline`."""
    lines = []
    for r in claim_line_results(claim=claim):
        lines.append({
            "number": r.line.line_number, "code": r.line.procedure_code, "category": r.category,
            "units": r.line.units, "billed": r.line.billed, "fee": r.fee, "allowed": r.allowed,
            "deductible": r.deductible, "copay": r.copay, "coinsurance": r.coinsurance,
            "not_covered": r.not_covered, "balance_billed": r.balance_billed,
            "provider_write_off": r.provider_write_off, "plan_paid": r.plan_paid, "member_owes": r.member_owes,
            "denied": bool(r.denial_code),
            "codes": [(c, CARC_MEANING.get(c, "")) for c in r.reason_code_list],
            "steps": [s.strip() for s in r.trace_text.splitlines() if s.strip()],
        })
    return {"claim": claim, "outcome_lines": lines, "timeline": claim_transitions(claim=claim),
            "submitted_lines": list(claim.lines.order_by("line_number")) if not lines else []}
