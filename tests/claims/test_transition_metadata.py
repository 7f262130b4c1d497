"""The batch paths apply transitions through django-fsm's metadata (claim_transition_target);
it must agree with the transition methods for every declared (transition, source) pair."""
import pytest
from django_fsm import TransitionNotAllowed

from claims.fsm_log import buffered_transition_log
from claims.models import Claim, ClaimState, claim_transition_target

TRANSITIONS = ("reject", "approve", "deny", "pend", "review_approve", "review_deny", "appeal", "await_funds", "pay")


@pytest.mark.parametrize("name", TRANSITIONS)
@pytest.mark.parametrize("source", [s.value for s in ClaimState])
def test_metadata_target_equals_the_method(name, source):
    claim = Claim(state=source)
    method = getattr(claim, name)
    kwargs = {"paid_on": None} if name == "pay" else {}
    try:
        with buffered_transition_log() as rows:
            method(by=None, description="test", **kwargs)
        assert [(r[2], r[3], r[4]) for r in rows] == [(source, claim.state, name)]  # and it was logged
    except TransitionNotAllowed:
        with pytest.raises(TransitionNotAllowed):
            claim_transition_target(name, source)
        return
    assert claim_transition_target(name, source) == claim.state


def test_the_graph_is_domain_md_section_3():
    allowed = set()
    for name in TRANSITIONS:
        for source in ClaimState:
            try:
                allowed.add((source.value, claim_transition_target(name, source.value)))
            except TransitionNotAllowed:
                pass
    assert allowed == {
        ("submitted", "rejected"), ("submitted", "approved"), ("submitted", "denied"), ("submitted", "pended"),
        ("pended", "approved"), ("pended", "denied"), ("denied", "appealed"), ("appealed", "approved"),
        ("appealed", "denied"), ("appealed", "pended"), ("approved", "paid"), ("approved", "awaiting_funds"),
        ("awaiting_funds", "paid"),
    }
