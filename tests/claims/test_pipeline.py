"""The pipelined batch (PostgreSQL, outside a caller's transaction: pricing runs ahead of a writer
thread on its own connection) gives exactly the figures of the chunk-after-chunk batch."""
import pytest
from django.db import transaction

from claims import services
from claims.models import Claim
from claims.services import adjudication
from core import clock
from tests.claims.helpers import day, fresh
from tests.claims.test_batch import SCRIPT, make_family_world, snapshot, submit_script

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("chunk_size", [1, 2, 5000])
def test_pipelined_batch_equals_the_sequential_batch(transactional_db, chunk_size):
    sequential = make_family_world()
    sequential_claims = submit_script(sequential)
    clock.clock_set(day=day("2026-02-06"))
    with transaction.atomic():  # inside a transaction: chunk after chunk, no writer thread
        assert services.claims_adjudicate_pending(chunk_size=3) == len(SCRIPT) - 1

    pipelined = make_family_world()
    pipelined_claims = submit_script(pipelined)
    clock.clock_set(day=day("2026-02-06"))
    assert services.claims_adjudicate_pending(chunk_size=chunk_size) == len(SCRIPT) - 1

    expected = snapshot(sequential, sequential_claims)
    assert snapshot(pipelined, pipelined_claims) == expected
    # Duplicates found across chunks that were not yet written (chunk_size 1 and 2).
    assert [fresh(pipelined_claims[i]).duplicate_of_id for i in (3, 6, 12)] == [
        pipelined_claims[0].pk, pipelined_claims[2].pk, pipelined_claims[1].pk]
    assert services.claims_adjudicate_pending(chunk_size=chunk_size) == 0  # nothing left, nothing changes
    assert Claim.objects.filter(state__in=["submitted", "appealed"]).count() == 0


def test_a_failing_write_raises_and_leaves_whole_chunks(transactional_db, monkeypatch):
    w = make_family_world()
    claims = submit_script(w)
    clock.clock_set(day=day("2026-02-06"))
    real_write = adjudication._adjudicate_write
    written = []

    def write_then_fail(writes):
        if written:
            raise RuntimeError("disk full")
        real_write(writes)
        written.append(writes.claims.rows)

    monkeypatch.setattr(adjudication, "_adjudicate_write", write_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        services.claims_adjudicate_pending(chunk_size=4)
    states = [fresh(c).state for c in claims]
    # The first chunk (4 claims) is written whole; every later claim is still waiting, untouched.
    assert written == [4]
    adjudicable = [c for c in claims if c.state == "submitted"]
    assert [fresh(c).state != "submitted" for c in adjudicable] == [True] * 4 + [False] * (len(adjudicable) - 4)
    assert states.count("rejected") == 1
    monkeypatch.setattr(adjudication, "_adjudicate_write", real_write)
    # The next run goes on from there and ends where a clean run would.
    assert services.claims_adjudicate_pending(chunk_size=4) == len(adjudicable) - 4


@pytest.mark.postgres
def test_a_review_or_single_claim_commit_waits_for_the_wal_the_batch_does_not(transactional_db):
    """An examiner was told the decision is recorded: only batch chunks commit without the WAL flush."""
    from django.db import connection

    def synchronous_commit() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    with transaction.atomic():
        adjudication._adjudication_lock()  # what claim_review and claim_adjudicate take
        assert synchronous_commit() == "on"
    with transaction.atomic():
        adjudication._commit_without_wal_wait()  # what each batch chunk takes
        assert synchronous_commit() == "off"
    assert synchronous_commit() == "on"  # SET LOCAL: only for that transaction


def test_the_batch_gives_the_garbage_collector_back_as_it_found_it(transactional_db, monkeypatch):
    """The pipelined batch sets the cyclic collector aside for its length (`_few_collections`): a worker
    process runs other jobs after it, so the threshold and the frozen objects are restored, on success
    and on failure alike."""
    import gc

    w = make_family_world()
    submit_script(w)
    clock.clock_set(day=day("2026-02-06"))
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    seen = []
    real_compute = adjudication._adjudicate_compute

    def compute_and_look(*args, **kwargs):
        seen.append((gc.get_threshold()[0], gc.get_freeze_count() > frozen))
        return real_compute(*args, **kwargs)

    monkeypatch.setattr(adjudication, "_adjudicate_compute", compute_and_look)
    assert services.claims_adjudicate_pending(chunk_size=5) == len(SCRIPT) - 1
    assert seen and set(seen) == {(50_000, True)}  # during the run: set aside
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)

    submit_script(w)

    def fail(*args, **kwargs):
        raise RuntimeError("pricing failed")

    monkeypatch.setattr(adjudication, "_adjudicate_compute", fail)
    with pytest.raises(RuntimeError, match="pricing failed"):
        services.claims_adjudicate_pending(chunk_size=5)
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
