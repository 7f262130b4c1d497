"""Who holds a claim of the examiners' queue (claims.services.assignment): take, release, and the hold
respected by the decisions (review, re-adjudication), ended when the claim leaves the queue; two
examiners taking the same claim at once on PostgreSQL: one holds it, the other is told who does."""
import threading

import pytest
from django.db import connection
from django_fsm_log.models import StateLog

from claims import services
from claims.models import ClaimAssignment, LineResult
from core import clock
from core.errors import Forbidden, NotFound
from tests.claims.helpers import build_world, day, fresh
from tests.factories import login

ON = "2026-02-01"


def _pended(w, *, billed=30000, service="2026-01-15"):
    claim = w.submit(on=ON, service=service, lines=[("27447", billed)])
    services.claim_adjudicate(claim_id=claim.pk)
    assert fresh(claim).state == "pended"
    return claim


def _examiner(name):
    return login("claims_examiner", username=name, first_name=name.capitalize(), last_name="Examiner")


@pytest.fixture
def queue(db):
    """A world with one pended claim and two examiners, ann and ben."""
    w = build_world()
    return w, _pended(w), _examiner("ann"), _examiner("ben")


def test_taking_a_claim_holds_it_and_a_second_take_by_the_holder_is_the_same_hold(queue):
    _, claim, ann, _ = queue
    first = services.claim_take(claim_id=claim.pk, user=ann)
    again = services.claim_take(claim_id=str(claim.pk), user=ann)
    assert again.pk == first.pk and first.examiner_id == ann.pk and first.taken_at.date() == day(ON)
    assert ClaimAssignment.objects.filter(claim=claim).count() == 1


def test_a_claim_held_by_one_examiner_cannot_be_taken_by_another_who_is_told_who_holds_it(queue):
    _, claim, ann, ben = queue
    services.claim_take(claim_id=claim.pk, user=ann)
    with pytest.raises(services.ClaimConflict) as refused:
        services.claim_take(claim_id=claim.pk, user=ben)
    assert "held by Ann Examiner" in refused.value.text()
    assert ClaimAssignment.objects.get(claim=claim).examiner_id == ann.pk


def test_only_queue_claims_can_be_taken_and_only_by_a_role_that_reviews(queue):
    w, claim, ann, _ = queue
    approved = w.submit(on=ON, service="2026-01-20", lines=[("99213", 150)])
    services.claim_adjudicate(claim_id=approved.pk)
    with pytest.raises(services.ClaimConflict, match="approved, not in the examiners' queue"):
        services.claim_take(claim_id=approved.pk, user=ann)
    with pytest.raises(NotFound):
        services.claim_take(claim_id=987654321, user=ann)
    provider = login("provider_staff", w.mercy)  # sees its own claim, may not review it
    with pytest.raises(Forbidden):
        services.claim_take(claim_id=claim.pk, user=provider)
    stranger = login("provider_staff", w.faraway)  # not its claim: not there for it
    with pytest.raises(NotFound):
        services.claim_take(claim_id=claim.pk, user=stranger)
    with pytest.raises(services.ClaimError, match="not a claim id"):
        services.claim_take(claim_id="C12; drop", user=ann)
    assert not ClaimAssignment.objects.exists()


def test_release_by_the_holder_or_a_supervisor_and_by_no_one_else(queue):
    _, claim, ann, ben = queue
    services.claim_take(claim_id=claim.pk, user=ann)
    with pytest.raises(services.ClaimConflict, match="only they or a supervisor may release it"):
        services.claim_release(claim_id=claim.pk, user=ben)
    services.claim_release(claim_id=claim.pk, user=ann)
    assert not ClaimAssignment.objects.exists()
    services.claim_release(claim_id=claim.pk, user=ann)  # a double click: nothing left to release
    services.claim_take(claim_id=claim.pk, user=ben)
    services.claim_release(claim_id=claim.pk, user=login("supervisor"))
    assert not ClaimAssignment.objects.exists()


def test_a_held_claim_is_decided_only_by_its_holder_and_the_decision_ends_the_hold(queue):
    _, claim, ann, ben = queue
    services.claim_take(claim_id=claim.pk, user=ann)
    logged = StateLog.objects.count()
    for decision in ("approve", "deny"):
        with pytest.raises(services.ClaimConflict, match="held by Ann Examiner"):
            services.claim_review(claim_id=claim.pk, decision=decision, user=ben, reason_code="50")
    assert fresh(claim).state == "pended" and StateLog.objects.count() == logged
    assert not LineResult.objects.filter(claim=claim).exists()
    decided = services.claim_review(claim_id=claim.pk, decision="approve", user=ann, note="records reviewed")
    assert decided.state == "approved" and decided.plan_paid > 0
    assert not ClaimAssignment.objects.exists()


def test_a_claim_nobody_holds_is_decided_by_any_examiner_as_before(queue):
    _, claim, _, ben = queue
    decided = services.claim_review(claim_id=claim.pk, decision="deny", user=ben, reason_code="50")
    assert decided.state == "denied" and decided.reason_codes == "50"


def test_an_appealed_claim_is_re_adjudicated_by_its_holder_only_and_a_new_appeal_starts_unheld(db):
    w = build_world(excluded=["cosmetic"])
    ann, ben = _examiner("ann"), _examiner("ben")
    claim = w.submit(on=ON, service="2026-01-15", lines=[("15780", 900)])
    services.claim_adjudicate(claim_id=claim.pk)
    assert fresh(claim).state == "denied"
    services.claim_appeal(claim_id=claim.pk, reason="reconstructive, not cosmetic")
    services.claim_take(claim_id=claim.pk, user=ann)
    with pytest.raises(services.ClaimConflict, match="held by Ann Examiner"):
        services.claim_adjudicate(claim_id=claim.pk, by=ben)
    assert fresh(claim).state == "appealed"
    assert services.claim_adjudicate(claim_id=claim.pk, by=ann).state == "denied"  # left the queue
    assert not ClaimAssignment.objects.exists()
    # A hold the batch left behind (it re-adjudicates appealed claims without looking at holds) does
    # not survive the next appeal: that is new work for any examiner.
    services.claim_appeal(claim_id=claim.pk, reason="second look")
    services.claim_take(claim_id=claim.pk, user=ann)
    services.claims_adjudicate_pending()
    assert fresh(claim).state == "denied"
    services.claim_appeal(claim_id=claim.pk, reason="third look")
    assert not ClaimAssignment.objects.exists()
    services.claim_take(claim_id=claim.pk, user=ben)


def test_re_adjudication_that_pends_again_keeps_the_hold(db):
    w = build_world(excluded=["cosmetic"])
    ann = _examiner("ann")
    claim = w.submit(on=ON, service="2026-01-15", lines=[("15780", 900)])
    services.claim_adjudicate(claim_id=claim.pk)
    services.claim_appeal(claim_id=claim.pk, reason="reconstructive")
    services.claim_take(claim_id=claim.pk, user=ann)
    w.plan.review_threshold = 500  # the plan now reviews claims this large: re-adjudication pends it
    w.plan.save(update_fields=["review_threshold"])
    assert services.claim_adjudicate(claim_id=claim.pk, by=ann).state == "pended"
    assert ClaimAssignment.objects.get(claim=claim).examiner_id == ann.pk


# --- PostgreSQL: two examiners at once, each on its own connection ---------------------------

def _race(*calls):
    """Run the calls at the same moment, one thread (and one DB connection) each."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", call())
        except Exception as exc:  # reported to the test
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_examiners_taking_the_same_claim_at_once_one_holds_it_the_other_is_told_who():
    w = build_world()
    ann, ben = _examiner("ann"), _examiner("ben")
    claims = [_pended(w, billed=30000 + i, service=f"2026-01-{10 + i}") for i in range(5)]
    clock.clock_set(day=day("2026-02-02"))
    for claim in claims:
        results = _race(lambda claim=claim: services.claim_take(claim_id=claim.pk, user=ann),
                        lambda claim=claim: services.claim_take(claim_id=claim.pk, user=ben))
        kinds = [kind for kind, _ in results]
        assert sorted(kinds) == ["error", "ok"], results
        winner = kinds.index("ok")
        refused = results[1 - winner][1]
        assert isinstance(refused, services.ClaimConflict), refused
        assert f"held by {('Ann', 'Ben')[winner]} Examiner" in refused.text()
        assert list(ClaimAssignment.objects.filter(claim=claim).values_list("examiner_id", flat=True)) == [
            (ann, ben)[winner].pk]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_take_racing_another_examiners_approval_one_of_them_wins_whole():
    w = build_world()
    ann, ben = _examiner("ann"), _examiner("ben")
    claims = [_pended(w, billed=30000 + i, service=f"2026-01-{10 + i}") for i in range(5)]
    for claim in claims:
        results = _race(lambda claim=claim: services.claim_take(claim_id=claim.pk, user=ann),
                        lambda claim=claim: services.claim_review(claim_id=claim.pk, decision="approve", user=ben))
        kinds = [kind for kind, _ in results]
        assert sorted(kinds) == ["error", "ok"], results
        assert isinstance(results[kinds.index("error")][1], services.ClaimConflict)
        c = fresh(claim)
        if kinds[0] == "ok":  # ann holds it; ben's approval was refused
            assert c.state == "pended" and ClaimAssignment.objects.get(claim=c).examiner_id == ann.pk
        else:  # ben approved it first; ann finds it out of the queue
            assert c.state == "approved" and not ClaimAssignment.objects.filter(claim=c).exists()
