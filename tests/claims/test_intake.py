"""Intake edits (DOMAIN.md §3): a claim failing one is stored `rejected`, naming the field; malformed
input is refused with a ClaimError naming the field and writes nothing."""
import datetime
from decimal import Decimal

import pytest
from django_fsm_log.models import StateLog

from claims import services
from claims.models import Accumulator, Claim, ClaimLine, LineResult
from core import clock
from tests.claims.helpers import assert_only_billed, fresh, new_npi, transitions

D = Decimal


def _submit(world, *, member_id=None, npi=None, service="2026-01-10", lines=None, on="2026-01-15"):
    clock.clock_set(day=datetime.date.fromisoformat(on))
    return services.claim_submit(
        member_id=world.alice.member_id if member_id is None else member_id,
        npi=world.mercy.npi if npi is None else npi,
        service_date=service,
        lines=[{"code": "99213", "billed": "200"}] if lines is None else lines,
    )


def _assert_rejected(claim, *, field, billed):
    claim = fresh(claim)
    assert claim.state == "rejected"
    assert claim.rejection_field == field
    assert claim.rejection_message
    assert claim.billed == D(billed)
    assert_only_billed(claim)
    assert claim.reason_codes == ""
    assert claim.duplicate_key == ""
    # Rejected at once, with the field in the log; no adjudication, no accumulators.
    assert transitions(claim) == [("submitted", "rejected", "reject", None,
                                   f"intake edit failed on {field}: {claim.rejection_message}")]
    services.claims_adjudicate_pending()
    claim = fresh(claim)
    assert claim.state == "rejected"
    assert claim.adjudication_round == 0
    assert not LineResult.objects.filter(claim=claim).exists()
    assert not Accumulator.objects.exists()
    assert_only_billed(claim)


def test_a_clean_claim_passes_intake(world):
    claim = _submit(world)
    claim = fresh(claim)
    assert claim.state == "submitted"
    assert claim.rejection_field == ""
    assert claim.received_date == clock.today()
    assert claim.member_id == world.alice.pk and claim.provider_id == world.mercy.pk and claim.plan_id == world.plan.pk
    assert claim.billed == D("200.00")
    assert list(claim.lines.values_list("line_number", "procedure_code", "units", "billed")) == [(1, "99213", 1, D("200.00"))]


def test_unknown_member_id(world):
    claim = _submit(world, member_id="ZZZZZZZZZZ", lines=[{"code": "99213", "billed": "200"}, {"code": "70551", "billed": "50.5"}])
    _assert_rejected(claim, field="member_id", billed="250.50")
    assert fresh(claim).submitted_member_id == "ZZZZZZZZZZ"
    assert fresh(claim).member_id is None
    assert ClaimLine.objects.filter(claim=claim).count() == 2  # kept as sent


def test_unknown_provider(world):
    npi = new_npi()  # passes its check digit, registered nowhere
    claim = _submit(world, npi=npi)
    _assert_rejected(claim, field="npi", billed="200.00")
    assert fresh(claim).submitted_npi == npi
    assert fresh(claim).provider_id is None


def test_npi_failing_its_check_digit(world):
    good = world.mercy.npi
    bad = good[:9] + str((int(good[9]) + 1) % 10)
    claim = _submit(world, npi=bad)
    _assert_rejected(claim, field="npi", billed="200.00")
    assert "check digit" in fresh(claim).rejection_message


def test_no_lines(world):
    claim = _submit(world, lines=[])
    _assert_rejected(claim, field="lines", billed="0.00")


@pytest.mark.parametrize("billed", ["0", "0.00", "-5", "-0.01"])
def test_billed_not_greater_than_zero(world, billed):
    claim = _submit(world, lines=[{"code": "99213", "billed": "200"}, {"code": "70551", "billed": billed}])
    _assert_rejected(claim, field="lines[1].billed", billed=str(D("200") + D(billed)))


@pytest.mark.parametrize("lines", [[{"code": "99213", "billed": "-5"}],
                                   [{"code": "99213", "billed": "10"}, {"code": "70551", "billed": "-50"}]])
def test_negative_claim_total_is_rejected_too(world, lines):
    """A rejected claim keeps what was sent, a negative total included."""
    claim = _submit(world, lines=lines)
    total = sum(D(ln["billed"]) for ln in lines)
    assert total < 0
    _assert_rejected(claim, field=f"lines[{len(lines) - 1}].billed", billed=str(total))


def test_unknown_procedure_code(world):
    claim = _submit(world, lines=[{"code": "99213", "billed": "200"}, {"code": "00000", "billed": "10"}])
    _assert_rejected(claim, field="lines[1].code", billed="210.00")
    assert "00000" in fresh(claim).rejection_message


def test_code_in_another_plans_schedule_is_unknown(make_world):
    """The fee schedule that counts is the member's plan's."""
    mine = make_world(fees={"99213": ("office_visit", "120.00")})
    make_world(fees={"70551": ("imaging", "1500.00")})
    claim = _submit(mine, lines=[{"code": "70551", "billed": "2500"}])
    _assert_rejected(claim, field="lines[0].code", billed="2500.00")


def test_service_date_after_received_date(world):
    claim = _submit(world, service="2026-01-16", on="2026-01-15")
    _assert_rejected(claim, field="service_date", billed="200.00")


def test_service_date_on_received_date_is_fine(world):
    claim = _submit(world, service="2026-01-15", on="2026-01-15")
    assert fresh(claim).state == "submitted"


# --- Malformed input: ClaimError naming the field, nothing written -----------------------------

@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lines": [{"code": "99213", "billed": "abc"}]}, "lines[0].billed"),
        ({"lines": [{"code": "99213", "billed": "200"}, {"code": "70551", "billed": "1.234"}]}, "lines[1].billed"),
        ({"lines": [{"code": "99213", "billed": 200.0}]}, "lines[0].billed"),  # a float says no cent
        ({"lines": [{"code": "99213"}]}, "lines[0].billed"),
        ({"lines": [{"code": "99213", "billed": "200", "units": 0}]}, "lines[0].units"),
        ({"lines": [{"billed": "200"}]}, "lines[0].code"),
        ({"lines": ["99213"]}, "lines[0]"),
        ({"service": "2026-13-01"}, "service_date"),
        ({"service": "yesterday"}, "service_date"),
        ({"lines": "99213"}, "lines"),
        ({"lines": {"code": "99213", "billed": "200"}}, "lines"),
    ],
)
def test_malformed_input_is_refused_and_writes_nothing(world, kwargs, field):
    before = (Claim.objects.count(), ClaimLine.objects.count(), StateLog.objects.count())
    with pytest.raises(services.ClaimError) as exc:
        _submit(world, **kwargs)
    assert list(exc.value.message_dict) == [field]
    assert (Claim.objects.count(), ClaimLine.objects.count(), StateLog.objects.count()) == before


def test_the_code_edit_reads_the_fee_schedule_of_the_plan_covering_the_service_date(db):
    """DOMAIN.md §3 intake: "a line's procedure code is not in the fee schedule": the schedule of the plan the claim will be
    adjudicated under, i.e. the coverage on the service date, not the member's latest plan."""
    from plans import services as plan_services
    from tests.claims.helpers import build_world, day

    w = build_world(coverage_end=day("2026-03-31"))  # plan A's schedule has 99213
    lab_only = plan_services.fee_schedule_create(
        name="lab only", entries={"80053": {"category": "lab", "fee": D("33.30")}})
    plan_b = plan_services.plan_create(
        sponsor=w.employer, name="Plan B", funding="ASO", fee_schedule=lab_only, year_start=day("2026-01-01"),
        deductible_individual=D("0"), deductible_family=D("0"), oop_max_individual=D("1000"),
        oop_max_family=D("2000"), coinsurance=D("0"),
    )
    plan_services.coverage_enroll(member=w.alice, plan=plan_b, start=day("2026-04-01"))

    march = w.submit(on="2026-04-05", service="2026-03-10", lines=[("99213", 200)])
    april = w.submit(on="2026-04-05", service="2026-04-02", lines=[("99213", 200)])
    assert (fresh(march).state, fresh(march).plan_id) == ("submitted", w.plan.pk)
    assert (fresh(april).state, fresh(april).rejection_field) == ("rejected", "lines[0].code")
    services.claims_adjudicate_pending()
    march = fresh(march)
    assert (march.state, march.plan_id, march.copay, march.plan_paid) == ("approved", w.plan.pk, D("30.00"), D("90.00"))
