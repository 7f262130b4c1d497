"""The supervisor's summary figures (`portal.figures`): computed by the refresh job over every claim
(`claims.reports`), kept under the key "supervisor" and read by the dashboard in one query."""
from claims.reports import claim_report_for_supervisor
from core import clock

from ..figures import figures_register

KEY = "supervisor"


@figures_register(KEY)
def supervisor_figures(rest: str):
    """One set of figures for the whole TPA (a supervisor sees every claim): the key has no rest."""
    return lambda: claim_report_for_supervisor(today=clock.today())
