"""Every checklist step of the scenario library can be done by a trainee, and is done only then.

Each library file is played (kept, inside the test's transaction), then each step is performed as a
trainee would: through the same services the dashboards call (the examiner's review, the provider's
appeal, the employer's deposit or invoice payment, each with a login of that role and party), or, for
the trainer's clock, by moving the business clock day by day and running the due jobs
(`helpers.clock_advance`). Before a step its `done_when` does not match the session's report; after it,
it does.
"""
import datetime
import uuid

import pytest

from claims import services as claim_services
from core import clock
from funding import services as funding
from tests.factories import login
from tests.training.helpers import clock_advance, scenario_library
from training.scenarios import (
    expectations_compare,
    scenario_file_load,
    scenario_report,
    scenario_run,
    world_build,
)
from training.scenarios.events import event_play

pytestmark = pytest.mark.django_db
D = datetime.date.fromisoformat


class Session:
    """A training session on a played scenario: its world, and a login per `as` of the checklist."""

    def __init__(self, sc):
        self.sc = sc
        clock.clock_set(day=sc.start)
        self.w = world_build(sc=sc)
        for i, event in enumerate(sc.events):
            event_play(w=self.w, event=event, path=f"events[{i}]")
        self._logins = {}

    def report(self) -> dict:
        return scenario_report(sc=self.sc, w=self.w)

    def login(self, who: str):
        if who not in self._logins:
            kind, _, key = who.partition(":")
            if kind == "examiner":
                self._logins[who] = login("claims_examiner")
            elif kind == "supervisor":
                self._logins[who] = login("supervisor")
            elif kind == "provider":
                self._logins[who] = login("provider_staff", self.w.providers[key])
            elif kind == "employer":
                self._logins[who] = login("employer_admin", self.w.employers[key])
            else:
                raise AssertionError(f"no trainee action for {who!r} in this test")
        return self._logins[who]


# What a trainee does for a step: a callable of (session, the step's `as` login).

def approve(claim: str):
    def act(s: Session, user):
        claim_id = s.w.claims[claim].pk
        claim_services.claim_take(claim_id=claim_id, user=user)  # the queue's "take", then the decision
        claim_services.claim_review(claim_id=claim_id, decision="approve", user=user, note="reviewed in training")
    return act


def appeal(claim: str):
    def act(s: Session, user):
        claim_services.claim_appeal(claim_id=s.w.claims[claim].pk, user=user, reason="please reconsider")
    return act


def deposit(employer: str):
    def act(s: Session, user):
        made = funding.sponsor_deposit(employer=s.w.employers[employer], amount=funding.REQUESTED,
                                       idempotency_key=uuid.uuid4().hex, by=user)
        assert made is not None, "the funding page had nothing open to deposit for"
    return act


def pay_invoices(employer: str):
    def act(s: Session, user):
        made = funding.sponsor_reimbursement_pay(employer=s.w.employers[employer], amount=funding.REQUESTED,
                                                 idempotency_key=uuid.uuid4().hex, by=user)
        assert made is not None, "the invoices page had nothing open to pay"
    return act


def advance(*, days: int | None = None, to: str | None = None):
    def act(s: Session, user):
        clock_advance(days=days, to=D(to) if to else None)
    return act


SOLUTIONS = {
    "aggregate_stop_loss_12_15": [deposit("soylent"), advance(days=1)],
    "asc_partial_reimbursement": [pay_invoices("initrode"), advance(to="2026-02-23"), pay_invoices("initrode")],
    "asc_reimbursement": [advance(days=1), advance(to="2026-04-06"), pay_invoices("initech"),
                          advance(to="2026-05-01")],
    "aso_cost_sharing": [advance(days=1), deposit("globex")],
    "aso_funding_shortfall": [deposit("vandelay"), advance(days=1)],
    "duplicates": [advance(days=1), pay_invoices("initech")],
    "eligibility_timely_filing": [appeal("e2"), advance(days=1)],
    "examiner_pend_and_deny": [approve("k3"), advance(days=7), appeal("k1"), advance(days=1)],
    "family_embedded_deductible": [approve("f5"), advance(days=1)],
    "fees_and_premiums": [advance(to="2026-05-01"), deposit("globex")],
    "fully_insured": [advance(days=1), advance(to="2026-03-01")],
    "out_of_network": [approve("o6"), advance(days=1), appeal("o4")],
    "specific_stop_loss": [approve("s3"), advance(days=1), deposit("hooli"), advance(days=1)],
    "stop_loss_laser": [approve("l3"), advance(days=1), pay_invoices("piedpiper"), advance(to="2026-03-16")],
}
LIBRARY = scenario_library()


def test_every_library_file_has_its_solutions():
    assert set(SOLUTIONS) == {p.stem for p in LIBRARY}


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_each_checklist_step_is_done_by_the_trainees_action(path):
    sc = scenario_file_load(path=path)
    solutions = SOLUTIONS[path.stem]
    assert len(solutions) == len(sc.checklist), f"{path.name}: one solution per checklist step"
    kept = scenario_run(sc=sc, keep=True)  # what run_scenario --keep leaves for the session
    s = Session(sc)  # the same file played again on the kept database: a session of its own
    report = s.report()
    assert report == kept
    for i, (step, act) in enumerate(zip(sc.checklist, solutions)):
        before = expectations_compare(expected=step["done_when"], actual=report)
        assert before, f"{path.name} checklist[{i}] is done before anyone acted: {step['do']}"
        act(s, s.login(step["as"]))
        report = s.report()
        after = expectations_compare(expected=step["done_when"], actual=report)
        assert after == [], f"{path.name} checklist[{i}] ({step['as']}: {step['do']}) not done:\n" + "\n".join(after)


def test_the_pend_and_deny_scenario_is_the_browser_tests():
    """The lead's browser test: approve the pended claim, then a week of the clock pays it."""
    sc = scenario_file_load(path=next(p for p in LIBRARY if p.stem == "examiner_pend_and_deny"))
    first, second = sc.checklist[:2]
    assert first["as"] == "examiner" and "approve" in first["do"].lower()
    assert first["done_when"]["claims"]["k3"]["state"] == "approved"
    assert second["done_when"]["claims"]["k3"]["state"] == "paid" and second["done_when"]["claims"]["k3"]["paid_on"]
    report = scenario_run(sc=sc)
    assert report["claims"]["k3"]["state"] == "pended"
