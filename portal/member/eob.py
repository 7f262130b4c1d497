"""A member's explanation of benefits: `claims.selectors.explanation_of_benefits` with each line's
service named in words, as the admin's EOB view (`claims/admin.py` `eob_view`) shows it.

The service names are looked up here rather than in `claims.selectors` (which another change is
appending to at the same time); the admin's view does the same lookup and could call a shared
selector once there is one.
"""
from claims.models import Claim, ClaimState
from claims.selectors import explanation_of_benefits
from plans.models import FeeScheduleEntry

S = ClaimState
UNPRICED_STATES = (S.SUBMITTED, S.PENDED, S.REJECTED)


def service_descriptions(*, schedule_id: int, codes: set[str]) -> dict[str, str]:
    """Procedure code -> the fee schedule's description of it (one query for the claim's codes)."""
    return dict(FeeScheduleEntry.objects.filter(schedule_id=schedule_id, code__in=codes)
                .values_list("code", "description"))


def eob_context(*, claim: Claim) -> dict:
    """The context of templates/claims/eob.html: `eob`, `claim`, `priced` (the claim has figures to show)."""
    eob = explanation_of_benefits(claim=claim)
    if claim.plan_id is not None and eob["lines"]:
        names = service_descriptions(schedule_id=claim.plan.fee_schedule_id, codes={ln["code"] for ln in eob["lines"]})
        for line in eob["lines"]:
            line["description"] = names.get(line["code"], "")
    priced = claim.state not in UNPRICED_STATES and claim.adjudication_round > 0
    return {"eob": eob, "claim": claim, "priced": priced}
