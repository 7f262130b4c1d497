"""The carrier's summary figures (`portal.figures`, key "carrier:<carrier id>"): what each ASC sponsor
owes it, aged; its fully insured claims and premiums; what it paid on stop-loss and the members
nearest their attachment on the policies it wrote. They read ledger sums and every counted claim of
those policies, so a job computes them and the pages read them in one query."""
from core import clock
from funding.reports import (
    STOP_LOSS_MEMBERS,
    carrier_fully_insured,
    carrier_receivables,
    carrier_stop_loss_paid,
    stop_loss_policies_in_force,
    stop_loss_position,
)
from parties.models import Carrier
from portal.employer.tables import plain
from portal.figures import figures_register


def carrier_figures_key(*, carrier: Carrier) -> str:
    return f"carrier:{carrier.pk}"


def _nearness(member: dict) -> tuple:
    """Nearest first when sorted in reverse: an attachment of 0 (reached at once), then the larger share."""
    return (member["percent"] is None, member["percent"] or 0, member["counted"])


def carrier_figures(*, carrier: Carrier) -> dict:
    today = clock.today()
    positions, members = [], []
    for policy in stop_loss_policies_in_force(today=today, carrier=carrier):
        position = stop_loss_position(policy=policy, today=today)
        members += [{**m, "plan": position["plan"], "sponsor": position["sponsor"]} for m in position.pop("members")]
        positions.append(position)
    members.sort(key=_nearness, reverse=True)  # across its policies
    return plain({
        "today": today,
        "receivables": carrier_receivables(carrier=carrier, today=today),
        "fully_insured": carrier_fully_insured(carrier=carrier),
        "stop_loss_paid": carrier_stop_loss_paid(carrier=carrier),
        "positions": positions,
        "members": members[:STOP_LOSS_MEMBERS],
    })


@figures_register("carrier")
def carrier_figures_for(rest: str):
    def compute() -> dict:
        carrier = Carrier.objects.filter(pk=int(rest)).first() if rest.isdecimal() else None
        return carrier_figures(carrier=carrier) if carrier is not None else {}
    return compute
