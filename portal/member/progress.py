"""The member's progress toward its plan's deductible and out-of-pocket maximum, individual and family,
as the home page's bars show it (figures from `claims.selectors.accumulators_report_for`)."""
import datetime
from dataclasses import dataclass
from decimal import Decimal

from claims.selectors import accumulators_report_for
from parties.models import Member
from plans.models import Plan
from plans.periods import coverage_on
from plans.selectors import coverage_context_for_members

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class ProgressBar:
    """How much of a limit (a deductible, an out-of-pocket maximum) is met, for a <div role="progressbar">."""
    label: str
    met: Decimal
    limit: Decimal

    @property
    def remaining(self) -> Decimal:
        return max(self.limit - self.met, ZERO)

    @property
    def value_now(self) -> str:
        """aria-valuenow: a plain number ("1234.50"), never a formatted amount."""
        return f"{self.met:.2f}"

    @property
    def value_max(self) -> str:
        return f"{self.limit:.2f}"

    @property
    def percent(self) -> str:
        """The filled share of the bar, "0.0" to "100.0" (a met limit of zero is full)."""
        if self.limit <= 0:
            return "100.0"
        share = min(self.met / self.limit * 100, Decimal(100))
        return f"{share:.1f}"


def benefit_progress(*, member: Member, household: list[Member], today: datetime.date) -> dict:
    """The home page's bars: each of `household`'s own deductible and out-of-pocket, and (on family
    coverage) the family's, for the plan year holding `today`; `plan` None when `member` has no coverage
    then. Seven queries whatever the family."""
    periods, _, on_family = coverage_context_for_members(member_ids=[member.pk])
    _, period = coverage_on(periods=periods.get(member.pk, []), day=today)
    plan = Plan.objects.select_related("sponsor").filter(pk=period[0]).first() if period is not None else None
    if plan is None:
        return {"plan": None}
    report = accumulators_report_for(members=household, as_of=today)
    family_coverage = (member.subscriber_id or member.pk) in on_family
    individuals = []
    for m in household:
        figures = report[m.pk]
        individuals.append({
            "member": m,
            "deductible": ProgressBar(label=f"{m.name}: deductible", met=Decimal(figures["deductible_met"]),
                                      limit=plan.deductible_individual),
            "out_of_pocket": ProgressBar(label=f"{m.name}: out-of-pocket", met=Decimal(figures["out_of_pocket_met"]),
                                         limit=plan.oop_max_individual),
        })
    family = None
    if family_coverage:
        figures = report[member.pk]
        family = {
            "deductible": ProgressBar(label="Family deductible", met=Decimal(figures["family_deductible_met"]),
                                      limit=plan.deductible_family),
            "out_of_pocket": ProgressBar(label="Family out-of-pocket", met=Decimal(figures["family_out_of_pocket_met"]),
                                         limit=plan.oop_max_family),
        }
    return {"plan": plan, "plan_year": report[member.pk]["plan_year"], "individuals": individuals, "family": family}
