"""Scenario files (docs/scenarios.md): read and check (`schema`), build the world (`world`), play the
events (`events`), report (`report`), compare with `expect` (`compare`).

Everything goes through the same services the web UI and the workers use; this package only
translates a file into calls. The whole run is one transaction, rolled back unless `keep`.
"""
from django.db import transaction

from core import clock

from .compare import expectations_compare
from .events import event_play
from .report import scenario_report
from .schema import Scenario, ScenarioInvalid, scenario_file_load, scenario_load
from .world import World, world_build

__all__ = [
    "Scenario", "ScenarioInvalid", "World", "expectations_compare", "scenario_file_load", "scenario_load",
    "scenario_play", "scenario_report", "scenario_run", "world_build",
]


def scenario_play(*, sc: Scenario) -> World:
    """Build the world and play the events on the simulated clock, in the caller's transaction."""
    clock.clock_set(day=sc.start)
    w = world_build(sc=sc)
    for i, event in enumerate(sc.events):
        event_play(w=w, event=event, path=f"events[{i}]")
    return w


def scenario_run(*, sc: Scenario, keep: bool = False) -> dict:
    """Build the world, play the events on the simulated clock, return the report.

    One transaction: rolled back unless `keep`, and always when the file turns out invalid.
    """
    with transaction.atomic():
        w = scenario_play(sc=sc)
        report = scenario_report(sc=sc, w=w)
        if not keep:
            transaction.set_rollback(True)
    return report
