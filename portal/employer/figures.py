"""The employer's summary figures (`portal.figures`, key "employer:<sponsor id>"): the plan year's
claims spend by month and net cost, and the stop-loss position. They read every paid claim of the
sponsor (the stop-loss counts), so a job computes them and the pages read them in one query."""
from core import clock
from funding.reports import (
    sponsor_net_cost,
    sponsor_plan_year,
    sponsor_spend_by_month,
    stop_loss_policies_in_force,
    stop_loss_position,
)
from parties.models import Employer
from portal.figures import figures_register

from .tables import plain


def employer_figures_key(*, employer: Employer) -> str:
    return f"employer:{employer.pk}"


def employer_figures(*, employer: Employer) -> dict:
    today = clock.today()
    year = sponsor_plan_year(employer=employer, today=today)
    if year is None:
        return plain({"today": today, "plan_year": None, "spend": [], "net_cost": None, "stop_loss": []})
    start, end = year
    positions = [stop_loss_position(policy=p, today=today)
                 for p in stop_loss_policies_in_force(today=today, employer=employer)]
    return plain({
        "today": today,
        "plan_year": {"start": start, "end": end},
        "spend": sponsor_spend_by_month(employer=employer, start=start, end=end, today=today),
        "net_cost": sponsor_net_cost(employer=employer, start=start, end=end, today=today),
        "stop_loss": positions,
    })


@figures_register("employer")
def employer_figures_for(rest: str):
    def compute() -> dict:
        employer = Employer.objects.filter(pk=int(rest)).first() if rest.isdecimal() else None
        return employer_figures(employer=employer) if employer is not None else {}
    return compute
