"""Bad input: a clear error of the app's own type that names the field, and nothing written.

The rule (README / DOMAIN.md): "Bad input gets a clear error that names the field, and changes
nothing: a malformed claim, scenario file or upload never leaves half-written rows." Each app raises
one ValidationError subclass whose message_dict names the field: claims.services.ClaimError,
plans.services.PlanError, parties.services.PartyError, funding.services.FundingError.

`refused(exc_type, fn, **kwargs)` calls fn and asserts it raised exactly the app's error type (any
other exception fails the test with that exception), returning the message_dict.
"""
import datetime
from decimal import Decimal

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_fsm_log.models import StateLog

from claims import services as claim_services
from claims.models import Claim, ClaimLine, LineResult
from claims.services import ClaimError
from core import clock
from core.money import to_money
from funding import services as funding_services
from funding.services import FundingError
from parties import services as party_services
from parties.models import Employer, Member, PartyLink, Provider
from parties.services import PartyError
from plans import services as plan_services
from plans.models import CategoryBenefit, FeeSchedule, Plan, StopLossLaser, StopLossPolicy
from plans.services import PlanError
from tests.claims.helpers import build_world, day, fresh
from tests.factories import (
    CarrierFactory,
    EmployerFactory,
    FeeScheduleFactory,
    MemberFactory,
    PlanFactory,
    login,
)
from tests.funding.helpers import F, approved_claim, make_provider, make_sponsor, snapshot
from tests.training.helpers import base_scenario
from training.demo import staff_permissions
from training.scenarios import ScenarioInvalid, scenario_load

pytestmark = pytest.mark.django_db
D = Decimal
User = get_user_model()
Y2026 = datetime.date(2026, 1, 1)


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def make_world(db):
    return build_world


def refused(exc_type, fn, **kwargs) -> dict:
    """fn(**kwargs) must raise exc_type (exactly the app's error, not a crash); its message_dict."""
    try:
        fn(**kwargs)
    except exc_type as exc:
        return exc.message_dict
    except Exception as exc:  # noqa: BLE001 - the point: any other exception is the discrepancy
        pytest.fail(f"expected {exc_type.__name__} naming the field, got {type(exc).__name__}: {exc}")
    pytest.fail(f"expected {exc_type.__name__}, but the call succeeded")


def claim_rows() -> tuple:
    return (Claim.objects.count(), ClaimLine.objects.count(), LineResult.objects.count(), StateLog.objects.count())


def superuser_client() -> Client:
    user = User.objects.create_superuser(username=f"root{User.objects.count()}", password="pw", email="r@example.com")
    client = Client()
    client.force_login(user)
    return client


def _submit(world, *, lines=None, service="2026-01-10", on="2026-01-15", member_id=None, npi=None):
    clock.clock_set(day=day(on))
    return claim_services.claim_submit(
        member_id=world.alice.member_id if member_id is None else member_id,
        npi=world.mercy.npi if npi is None else npi, service_date=service,
        lines=[{"code": "99213", "billed": "200"}] if lines is None else lines,
    )


# =================================================================================================
# config/money.py: to_money promises ValueError for anything that is not an amount
# =================================================================================================

@pytest.mark.parametrize("value", ["1e30", "9" * 30, "1E+26"])
def test_to_money_huge_exponent_is_a_value_error(value):
    with pytest.raises(ValueError):
        to_money(value)


@pytest.mark.parametrize("value", ["1,50", "1,0,0", "12,34,5"])
def test_to_money_refuses_misplaced_thousands_separators(value):
    """'1,50' is a European 1.50 or a typo; reading it as 150.00 (100x) is silent corruption."""
    with pytest.raises(ValueError):
        to_money(value)


@pytest.mark.parametrize("value", [None, "", "   ", "abc", "NaN", "-Infinity", "sNaN", "1.234", 1.5, True, [1],
                                   {"a": 1}, "0.001"])
def test_to_money_refuses_non_amounts_with_value_error(value):
    with pytest.raises(ValueError):
        to_money(value)


@pytest.mark.parametrize("value, expected", [("12", "12.00"), (" 1,234.50 ", "1234.50"), ("1.000", "1.00"),
                                             (D("5"), "5.00"), (7, "7.00"), ("-0.01", "-0.01")])
def test_to_money_accepts_amounts(value, expected):
    assert to_money(value) == D(expected)


# =================================================================================================
# claims.services.claim_submit
# =================================================================================================

@pytest.mark.parametrize("billed", ["1e30", "9" * 29])
def test_claim_submit_billed_with_huge_exponent_is_a_claim_error(world, billed):
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, lines=[{"code": "99213", "billed": billed}])
    assert list(errors) == ["lines[0].billed"]
    assert claim_rows() == before


@pytest.mark.parametrize("billed", ["1000000000000.00", "99999999999999"])
def test_claim_submit_billed_beyond_the_columns_digits_is_a_claim_error(world, billed):
    """ClaimLine.billed is NUMERIC(14, 2): 1,000,000,000,000.00 does not fit. PostgreSQL raises
    DataError (numeric field overflow); SQLite stores a claim the schema cannot hold."""
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, lines=[{"code": "99213", "billed": billed}])
    assert list(errors) == ["lines[0].billed"]
    assert claim_rows() == before


def test_claim_submit_total_beyond_the_columns_digits_is_a_claim_error(world):
    """Each line fits NUMERIC(14, 2); their sum, Claim.billed, does not."""
    before = claim_rows()
    line = {"code": "99213", "billed": "999999999999.99"}
    errors = refused(ClaimError, _submit, world=world, lines=[line, dict(line)])
    assert set(errors) & {"lines", "billed", "lines[1].billed"}
    assert claim_rows() == before


def test_claim_submit_units_beyond_an_integer_is_a_claim_error(world):
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, lines=[{"code": "99213", "billed": "200", "units": 2 ** 63}])
    assert list(errors) == ["lines[0].units"]
    assert claim_rows() == before


def test_claim_submit_oversized_billed_does_not_poison_the_adjudication_batch(world):
    """If claim_submit accepts a line of 1,000,000,000,000.00, the next batch must still run (on SQLite the
    stored NUMERIC(14, 2) value cannot be read back: every later claims_adjudicate_pending raises)."""
    try:
        _submit(world, lines=[{"code": "99213", "billed": "1000000000000.00"}])
    except ClaimError as exc:
        assert "lines[0].billed" in exc.message_dict
        return
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"claim_submit raised {type(exc).__name__}: {exc}")
    _submit(world, lines=[{"code": "99213", "billed": "200"}])  # an ordinary claim waits behind it
    try:
        claim_services.claims_adjudicate_pending()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"one oversized claim blocks every adjudication run: {type(exc).__name__}: {exc}")


def test_claim_submit_nul_character_in_member_id_is_refused_or_rejected(world):
    """PostgreSQL text cannot hold NUL: psycopg raises ValueError before any edit runs."""
    before = claim_rows()
    try:
        claim = _submit(world, member_id="AB\x00CD")
    except ClaimError as exc:
        assert "member_id" in exc.message_dict
        assert claim_rows() == before
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"expected ClaimError or a rejected claim, got {type(exc).__name__}: {exc}")
    else:
        assert (fresh(claim).state, fresh(claim).rejection_field) == ("rejected", "member_id")


def test_claim_submit_nul_character_in_code_is_refused_or_rejected(world):
    before = claim_rows()
    try:
        claim = _submit(world, lines=[{"code": "992\x0013", "billed": "200"}])
    except ClaimError as exc:
        assert "lines[0].code" in exc.message_dict
        assert claim_rows() == before
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"expected ClaimError or a rejected claim, got {type(exc).__name__}: {exc}")
    else:
        assert (fresh(claim).state, fresh(claim).rejection_field) == ("rejected", "lines[0].code")


def test_claim_submit_service_date_in_year_one_does_not_poison_adjudication(make_world):
    """A plan year from July: a service date of 0001-03-01 is accepted at intake, and adjudicating it
    (claim_adjudicate, and every batch run after) crashes with ValueError: year 0 is out of range."""
    w = make_world(year_start=datetime.date(2026, 7, 1), coverage_start=datetime.date(2026, 7, 1))
    try:
        claim = _submit(w, service="0001-03-01", on="2026-07-15")
    except ClaimError as exc:
        assert "service_date" in exc.message_dict
        return
    try:
        claim_services.claim_adjudicate(claim_id=claim.pk)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the accepted claim cannot be adjudicated: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("kwargs, field", [
    ({"service": None}, "service_date"),
    ({"service": ""}, "service_date"),
    ({"service": "  "}, "service_date"),
    ({"service": 20260110}, "service_date"),
    ({"service": "2026-02-30"}, "service_date"),
    ({"lines": [{"code": "99213", "billed": "NaN"}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": "Infinity"}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": None}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": ["200"]}]}, "lines[0].billed"),
    ({"lines": [{"code": "99213", "billed": "200", "units": "2"}]}, "lines[0].units"),
    ({"lines": [{"code": "99213", "billed": "200", "units": 1.0}]}, "lines[0].units"),
    ({"lines": [{"code": "99213", "billed": "200", "units": True}]}, "lines[0].units"),
    ({"lines": [{"code": "   ", "billed": "200"}]}, "lines[0].code"),
    ({"lines": [None]}, "lines[0]"),
])
def test_claim_submit_more_malformed_input_is_a_claim_error(world, kwargs, field):
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, **kwargs)
    assert list(errors) == [field]
    assert claim_rows() == before


# =================================================================================================
# claims.services: review, appeal, adjudicate with a bad claim id
# =================================================================================================

@pytest.mark.parametrize("fn, extra", [
    (claim_services.claim_adjudicate, {}),
    (claim_services.claim_review, {"decision": "approve"}),
    (claim_services.claim_appeal, {}),
])
@pytest.mark.parametrize("claim_id", ["abc", "C000000001", [1]])
def test_claim_actions_with_a_non_numeric_claim_id_are_a_claim_error(world, fn, extra, claim_id):
    errors = refused(ClaimError, fn, claim_id=claim_id, **extra)
    assert "claim" in errors


@pytest.mark.parametrize("fn, extra", [
    (claim_services.claim_adjudicate, {}),
    (claim_services.claim_review, {"decision": "approve"}),
    (claim_services.claim_appeal, {}),
])
@pytest.mark.parametrize("claim_id", [None, -1, 0, 10 ** 12])
def test_claim_actions_with_an_unknown_claim_id_are_a_claim_error(world, fn, extra, claim_id):
    errors = refused(ClaimError, fn, claim_id=claim_id, **extra)
    assert list(errors) == ["claim"]


@pytest.mark.parametrize("decision, reason_code, field", [
    (None, None, "decision"), ("", None, "decision"), ("APPROVE", None, "decision"), (["approve"], None, "decision"),
    ("deny", "99", "reason_code"), ("deny", "  ", "reason_code"),
])
def test_claim_review_bad_decision_or_code_is_a_claim_error(world, decision, reason_code, field):
    claim = _submit(world, lines=[{"code": "27447", "billed": "30000"}])
    claim_services.claims_adjudicate_pending()
    assert fresh(claim).state == "pended"
    before = claim_rows()
    errors = refused(ClaimError, claim_services.claim_review, claim_id=claim.pk, decision=decision,
                     reason_code=reason_code)
    assert list(errors) == [field]
    assert claim_rows() == before and fresh(claim).state == "pended"


# =================================================================================================
# claims/admin.py: the examiner's forms, posted with bad values
# =================================================================================================

def _denied_claim(world):
    claim = _submit(world, service="2025-12-01", on="2026-01-15")  # before the coverage start: CARC 26
    claim_services.claims_adjudicate_pending()
    assert fresh(claim).state == "denied"
    return claim


def test_admin_appeal_with_an_overlong_reason_changes_nothing(world):
    """AppealForm.reason has max_length 200; an invalid form is ignored and the appeal recorded anyway
    (with no reason) instead of an error naming `reason`."""
    claim = _denied_claim(world)
    logs = StateLog.objects.count()
    response = superuser_client().post(reverse("admin:claims_claim_appeal", args=[claim.pk]),
                                       {"reason": "x" * 201}, follow=True)
    assert response.status_code == 200
    assert fresh(claim).state == "denied", "the appeal was recorded although its reason was refused"
    assert StateLog.objects.count() == logs
    text = " ".join(str(m) for m in response.context["messages"])
    assert "reason" in text.lower()


@pytest.mark.parametrize("data, field", [
    ({"decision": "maybe"}, "decision"),
    ({"decision": "deny", "reason_code": "99"}, "reason_code"),
    ({"decision": "approve", "note": "n" * 201}, "note"),
    ({}, "decision"),
])
def test_admin_review_with_bad_values_names_the_field_and_changes_nothing(world, data, field):
    claim = _submit(world, lines=[{"code": "27447", "billed": "30000"}])
    claim_services.claims_adjudicate_pending()
    assert fresh(claim).state == "pended"
    before = claim_rows()
    response = superuser_client().post(reverse("admin:claims_claim_review", args=[claim.pk]), data, follow=True)
    assert response.status_code == 200
    assert fresh(claim).state == "pended" and claim_rows() == before
    assert field in " ".join(str(m) for m in response.context["messages"])


@pytest.mark.parametrize("view", ["review", "appeal", "adjudicate"])
def test_admin_actions_on_an_out_of_range_claim_id_are_404(world, view):
    response = superuser_client().post(f"/admin/claims/claim/{10 ** 20}/{view}/", {"decision": "approve"})
    assert response.status_code == 404


@pytest.mark.parametrize("term", ["C999999999999999", "999999999999999", "c0", "C-1", "' OR 1=1 --", "\u00e9\u4e2d"])
def test_admin_claim_search_with_odd_terms_answers(world, term):
    response = superuser_client().get(reverse("admin:claims_claim_changelist"), {"q": term})
    assert response.status_code == 200


# =================================================================================================
# funding.services: deposits and reimbursements
# =================================================================================================

def _aso_employer():
    return make_sponsor(F.ASO).employer


def test_deposit_amount_with_huge_exponent_is_a_funding_error():
    employer = _aso_employer()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_deposit, employer=employer, amount="1e30")
    assert list(errors) == ["amount"]
    assert snapshot() == before


@pytest.mark.parametrize("amount", ["1000000000000.00", "99999999999999"])
def test_deposit_amount_beyond_the_columns_digits_is_a_funding_error(amount):
    """Deposit.amount and LedgerEntry.amount are NUMERIC(14, 2)."""
    employer = _aso_employer()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_deposit, employer=employer, amount=amount)
    assert list(errors) == ["amount"]
    assert snapshot() == before


def test_deposit_reference_beyond_its_max_length_is_a_funding_error():
    """Deposit.reference is varchar(60): PostgreSQL raises DataError; SQLite stores 61 characters."""
    employer = _aso_employer()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_deposit, employer=employer, amount="100",
                     reference="R" * 61)
    assert list(errors) == ["reference"]
    assert snapshot() == before


def test_deposit_reference_with_a_nul_character_is_a_funding_error():
    employer = _aso_employer()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_deposit, employer=employer, amount="100",
                     reference="AB\x00CD")
    assert list(errors) == ["reference"]
    assert snapshot() == before


@pytest.mark.parametrize("amount", [None, "", "  ", "abc", "NaN", "Infinity", "-5", "0", "0.00", "1.005", 10.5,
                                    [100], {"amount": 1}, True])
def test_deposit_bad_amounts_are_a_funding_error_naming_amount(amount):
    employer = _aso_employer()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_deposit, employer=employer, amount=amount)
    assert list(errors) == ["amount"]
    assert snapshot() == before


def test_deposit_for_a_sponsor_without_aso_is_a_funding_error_naming_employer():
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_deposit, employer=EmployerFactory(), amount="100")
    assert list(errors) == ["employer"]
    assert snapshot() == before


def _asc_with_debt(plan_paid="500.00"):
    sponsor = make_sponsor(F.ASC)
    provider = make_provider()
    approved_claim(plan=sponsor.plan, member=sponsor.member(), provider=provider, plan_paid=plan_paid)
    funding_services.payment_cycle_run(today=day("2026-01-20"))
    return sponsor


def test_reimbursement_reference_beyond_its_max_length_is_a_funding_error():
    sponsor = _asc_with_debt()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_reimbursement_pay, employer=sponsor.employer,
                     amount="100", reference="R" * 61)
    assert list(errors) == ["reference"]
    assert snapshot() == before


def test_reimbursement_amount_with_huge_exponent_is_a_funding_error():
    sponsor = _asc_with_debt()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_reimbursement_pay, employer=sponsor.employer,
                     amount="1E+40")
    assert list(errors) == ["amount"]
    assert snapshot() == before


@pytest.mark.parametrize("amount, field", [("600", "amount"), ("-1", "amount"), ("0", "amount"), ("x", "amount")])
def test_reimbursement_bad_amounts_are_a_funding_error(amount, field):
    sponsor = _asc_with_debt()
    before = snapshot()
    errors = refused(FundingError, funding_services.sponsor_reimbursement_pay, employer=sponsor.employer,
                     amount=amount)
    assert list(errors) == [field]
    assert snapshot() == before


# =================================================================================================
# funding/admin.py: the deposit form
# =================================================================================================

@pytest.mark.parametrize("amount", ["", "abc", "NaN", "Infinity", "-1", "0", "0.001", "1e30", "1000000000000.00"])
def test_admin_deposit_form_refuses_bad_amounts_on_the_field(amount):
    employer = _aso_employer()
    before = snapshot()
    response = superuser_client().post(reverse("admin:funding_deposit_record"),
                                       {"employer": employer.pk, "amount": amount, "reference": ""})
    assert response.status_code == 200
    assert "amount" in response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize("data, field", [
    ({"employer": "abc", "amount": "10"}, "employer"),
    ({"employer": "999999999", "amount": "10"}, "employer"),
    ({"amount": "10", "reference": "R" * 61}, "reference"),
    ({"amount": "10", "reference": "AB\x00CD"}, "reference"),
])
def test_admin_deposit_form_refuses_bad_employer_and_reference(data, field):
    employer = _aso_employer()
    before = snapshot()
    response = superuser_client().post(reverse("admin:funding_deposit_record"), {"employer": employer.pk, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert snapshot() == before


# =================================================================================================
# plans.services
# =================================================================================================

def plan_spec(**overrides) -> dict:
    spec = {
        "sponsor": EmployerFactory(), "name": "Gold PPO", "funding": "ASO", "fee_schedule": FeeScheduleFactory(),
        "year_start": Y2026, "deductible_individual": D("1000.00"), "deductible_family": D("2000.00"),
        "oop_max_individual": D("4000.00"), "oop_max_family": D("8000.00"), "coinsurance": D("0.20"),
    }
    spec.update(overrides)
    return spec


@pytest.mark.parametrize("year_start", ["garbage", "2026-13-01", 20260101])
def test_plan_create_with_a_bad_year_start_is_a_plan_error_naming_it(year_start):
    errors = refused(PlanError, plan_services.plan_create, **plan_spec(year_start=year_start))
    assert "year_start" in errors
    assert Plan.objects.count() == 0 and CategoryBenefit.objects.count() == 0


@pytest.mark.parametrize("overrides, field", [
    ({"deductible_individual": D("1e12")}, "deductible_individual"),
    ({"deductible_individual": "abc"}, "deductible_individual"),
    ({"deductible_individual": None}, "deductible_individual"),
    ({"coinsurance": D("NaN")}, "coinsurance"),
    ({"coinsurance": "0.123456"}, "coinsurance"),
    ({"name": "N" * 201}, "name"),
    ({"timely_filing_days": -1}, "timely_filing_days"),
    ({"copays": {"office_visit": D("1e20")}}, "category_benefits.office_visit.copay"),
    ({"copays": {"office_visit": "ten"}}, "category_benefits.office_visit.copay"),
    ({"excluded": ["x" * 41]}, "category_benefits." + "x" * 41 + ".category"),
])
def test_plan_create_other_bad_values_are_a_plan_error_naming_the_field(overrides, field):
    errors = refused(PlanError, plan_services.plan_create, **plan_spec(**overrides))
    assert field in errors, errors
    assert Plan.objects.count() == 0 and CategoryBenefit.objects.count() == 0


def test_plan_create_copays_given_as_a_list_is_a_plan_error():
    errors = refused(PlanError, plan_services.plan_create, **plan_spec(copays=["office_visit"]))
    assert "copays" in errors
    assert Plan.objects.count() == 0


@pytest.mark.parametrize("entries, field", [
    ({"99213": {"fee": D("120")}}, "entries.99213.category"),
    ({"99213": {"category": "office_visit"}}, "entries.99213.fee"),
    ({"99213": "office_visit"}, "entries.99213"),
    ({"99213": None}, "entries.99213"),
])
def test_fee_schedule_create_with_a_malformed_entry_is_a_plan_error(entries, field):
    errors = refused(PlanError, plan_services.fee_schedule_create, name="Bad entries", entries=entries)
    assert any(k.startswith(field) for k in errors), errors
    assert not FeeSchedule.objects.filter(name="Bad entries").exists()


def test_fee_schedule_create_with_the_same_code_twice_is_a_plan_error():
    """99213 and "99213" both become code "99213": the UNIQUE(schedule, code) fails as IntegrityError."""
    entries = {99213: {"category": "office_visit", "fee": D("120")},
               "99213": {"category": "office_visit", "fee": D("130")}}
    errors = refused(PlanError, plan_services.fee_schedule_create, name="Twice", entries=entries)
    assert any("99213" in k for k in errors), errors
    assert not FeeSchedule.objects.filter(name="Twice").exists()


@pytest.mark.parametrize("entries, field", [
    ({"99213": {"category": "office_visit", "fee": D("1e13")}}, "entries.99213.fee"),
    ({"99213": {"category": "office_visit", "fee": "NaN"}}, "entries.99213.fee"),
    ({"99213": {"category": "office_visit", "fee": "1.005"}}, "entries.99213.fee"),
    ({"99213x99213": {"category": "office_visit", "fee": D("1")}}, "entries.99213x99213.code"),
    ({"": {"category": "office_visit", "fee": D("1")}}, "entries..code"),
])
def test_fee_schedule_create_bad_values_name_the_entry(entries, field):
    errors = refused(PlanError, plan_services.fee_schedule_create, name="Bad values", entries=entries)
    assert field in errors, errors
    assert not FeeSchedule.objects.filter(name="Bad values").exists()


@pytest.mark.parametrize("start", ["garbage", "2026-02-30"])
def test_coverage_enroll_with_a_bad_start_is_a_plan_error_naming_start(start):
    alice = MemberFactory()
    plan = PlanFactory(sponsor=alice.employer)
    errors = refused(PlanError, plan_services.coverage_enroll, member=alice, plan=plan, start=start)
    assert "start" in errors, errors
    assert not alice.coverages.exists()


def test_coverage_enroll_with_a_bad_start_next_to_an_existing_period_is_a_plan_error():
    """With another period on file, Coverage.clean() compares the unparsed string with a date."""
    alice = MemberFactory()
    plan = PlanFactory(sponsor=alice.employer)
    plan_services.coverage_enroll(member=alice, plan=plan, start=Y2026, end=datetime.date(2026, 6, 30))
    errors = refused(PlanError, plan_services.coverage_enroll, member=alice, plan=plan, start="2026-07-XX")
    assert "start" in errors, errors
    assert alice.coverages.count() == 1


def test_coverage_change_with_a_bad_end_is_a_plan_error_naming_end():
    alice = MemberFactory()
    plan = PlanFactory(sponsor=alice.employer)
    plan_services.coverage_enroll(member=alice, plan=plan, start=Y2026)
    errors = refused(PlanError, plan_services.coverage_change, member=alice, end="not a date", set_end=True)
    assert "end" in errors, errors
    assert alice.coverages.get().end is None


def test_stop_loss_policy_with_a_non_numeric_factor_is_a_plan_error_naming_it():
    plan = PlanFactory()
    errors = refused(PlanError, plan_services.stop_loss_policy_create, plan=plan, carrier=CarrierFactory(),
                     start=Y2026, contract="12/15", specific_attachment=D("100000"), expected_claims=D("800000"),
                     aggregate_factor="abc")
    assert "aggregate_factor" in errors, errors
    assert StopLossPolicy.objects.count() == 0


@pytest.mark.parametrize("overrides, field", [
    ({"specific_attachment": D("1e13")}, "specific_attachment"),
    ({"specific_attachment": None}, "specific_attachment"),
    ({"start": "garbage"}, "start"),
    ({"contract": None}, "contract"),
])
def test_stop_loss_policy_other_bad_values_name_the_field(overrides, field):
    spec = {"plan": PlanFactory(), "carrier": CarrierFactory(), "start": Y2026, "contract": "12/15",
            "specific_attachment": D("100000"), **overrides}
    errors = refused(PlanError, plan_services.stop_loss_policy_create, **spec)
    assert field in errors, errors
    assert StopLossPolicy.objects.count() == 0


def test_stop_loss_laser_with_a_bad_attachment_leaves_no_policy():
    plan = PlanFactory()
    alice = MemberFactory(employer=plan.sponsor)
    errors = refused(PlanError, plan_services.stop_loss_policy_create, plan=plan, carrier=CarrierFactory(),
                     start=Y2026, contract="12/15", specific_attachment=D("100000"), lasers={alice: "lots"})
    assert "lasers.attachment" in errors
    assert StopLossPolicy.objects.count() == 0 and StopLossLaser.objects.count() == 0


# =================================================================================================
# parties.services
# =================================================================================================

@pytest.mark.parametrize("dob", ["garbage", "1985-02-30", 19850402])
def test_member_create_with_a_bad_date_of_birth_is_a_party_error_naming_it(dob):
    employer = EmployerFactory()
    errors = refused(PartyError, party_services.member_create, employer=employer, name="Alice", date_of_birth=dob)
    assert "date_of_birth" in errors, errors
    assert not Member.objects.filter(employer=employer).exists()


@pytest.mark.parametrize("kwargs, field", [
    ({"name": "N" * 201}, "name"),
    ({"name": ""}, "name"),
    ({"name": None}, "name"),
    ({"date_of_birth": None}, "date_of_birth"),
    ({"date_of_birth": datetime.date(9999, 12, 31)}, "date_of_birth"),
    ({"relationship": "boss"}, "relationship"),
    ({"relationship": "child"}, "subscriber"),
])
def test_member_create_other_bad_values_name_the_field(kwargs, field):
    employer = EmployerFactory()
    spec = {"employer": employer, "name": "Alice", "date_of_birth": datetime.date(1985, 4, 2), **kwargs}
    errors = refused(PartyError, party_services.member_create, **spec)
    assert field in errors, errors
    assert not Member.objects.filter(employer=employer).exists()


def test_employer_create_with_a_nul_character_is_a_party_error_naming_name():
    """Model CharFields have no NUL check (forms do): PostgreSQL raises ValueError from psycopg."""
    before = Employer.objects.count()
    errors = refused(PartyError, party_services.employer_create, name="Acme\x00Corp")
    assert "name" in errors
    assert Employer.objects.count() == before


@pytest.mark.parametrize("kwargs, field", [
    ({"name": "E" * 201}, "name"),
    ({"name": ""}, "name"),
    ({"name": "Acme", "ein": "12-34567890"}, "ein"),
    ({"name": "Acme", "ein": "00-1234567"}, "ein"),
])
def test_employer_create_bad_values_name_the_field(kwargs, field):
    before = Employer.objects.count()
    errors = refused(PartyError, party_services.employer_create, **kwargs)
    assert field in errors, errors
    assert Employer.objects.count() == before


def test_employer_create_with_ein_none_is_a_party_error():
    """blank=True skips validation of None, then the NOT NULL column refuses it: IntegrityError."""
    before = Employer.objects.count()
    errors = refused(PartyError, party_services.employer_create, name="Acme", ein=None)
    assert "ein" in errors
    assert Employer.objects.count() == before


@pytest.mark.parametrize("kwargs, field", [
    ({"npi": None}, "npi"), ({"npi": 1234567893.0}, "npi"), ({"npi": "12345678901"}, "npi"),
    ({"network": "maybe"}, "network"), ({"tin": "12"}, "tin"),
    ({"name": "P" * 201}, "name"),
])
def test_provider_register_bad_values_name_the_field(kwargs, field):
    spec = {"name": "Clinic", "npi": "1234567893", **kwargs}
    errors = refused(PartyError, party_services.provider_register, **spec)
    assert field in errors, errors


@pytest.mark.parametrize("npi", ["\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19\uff13",
                                 "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0663"])
def test_provider_register_refuses_an_npi_of_non_ascii_digits(npi):
    """validate_npi uses \\d, which matches any Unicode digit: fullwidth '１２３４５６７８９３' passes the
    format and the Luhn check (int() reads it), so a provider is stored under an NPI no claim (ASCII) can match."""
    errors = refused(PartyError, party_services.provider_register, name="Clinic", npi=npi)
    assert "npi" in errors
    assert not Provider.objects.filter(npi=npi).exists()


def test_employer_create_refuses_an_ein_of_non_ascii_digits():
    ein = "\uff12\uff10-\uff11\uff12\uff13\uff14\uff15\uff16\uff17"  # "２０-１２３４５６７"
    errors = refused(PartyError, party_services.employer_create, name="Acme", ein=ein)
    assert "ein" in errors
    assert not Employer.objects.filter(ein=ein).exists()


@pytest.mark.parametrize("create, field", [
    (lambda: party_services.employer_create(name="   "), "name"),
    (lambda: party_services.carrier_create(name="\t\n"), "name"),
    (lambda: party_services.member_create(employer=EmployerFactory(), name="   ",
                                          date_of_birth=datetime.date(1985, 4, 2)), "name"),
    (lambda: plan_services.plan_create(**plan_spec(name="   ")), "name"),
    (lambda: plan_services.fee_schedule_create(name="  ", entries={}), "name"),
])
def test_whitespace_only_names_are_refused(create, field):
    """The admin forms strip and then require a name; the scenario loader refuses a blank one
    (`_str`); the services store '   '."""
    try:
        create()
    except ValidationError as exc:
        assert field in exc.message_dict
    else:
        pytest.fail("a whitespace-only name was stored")


def test_user_create_with_role_with_an_unknown_role_leaves_no_login_behind():
    """The login is created and saved before the link is refused, outside any transaction."""
    errors = refused(PartyError, party_services.user_create_with_role, username="half", password="pw",
                     role="boss", party=EmployerFactory())
    assert "role" in errors
    assert not User.objects.filter(username="half").exists(), "the refused call left its login row behind"


def test_user_create_with_role_with_the_wrong_party_leaves_no_login_behind():
    errors = refused(PartyError, party_services.user_create_with_role, username="half2", password="pw",
                     role="member", party=EmployerFactory())
    assert "member" in errors
    assert not User.objects.filter(username="half2").exists(), "the refused call left its login row behind"


def test_user_link_party_without_a_user_is_a_party_error():
    before = PartyLink.objects.count()
    errors = refused(PartyError, party_services.user_link_party, user=None, role="employer_admin",
                     party=EmployerFactory())
    assert "user" in errors
    assert PartyLink.objects.count() == before


@pytest.mark.parametrize("role, field", [(None, "role"), ("", "role"), ("admin", "role"), ("member", "member")])
def test_user_link_party_bad_role_or_party_names_the_field(role, field):
    user = User.objects.create_user(username="linkme", password="x")
    errors = refused(PartyError, party_services.user_link_party, user=user, role=role, party=EmployerFactory())
    assert field in errors
    assert not PartyLink.objects.filter(user=user).exists()


# =================================================================================================
# plans/admin.py: inline rows that clash, lasers on a new policy
# =================================================================================================

def _inline_management(prefix, total, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}


def test_admin_fee_schedule_with_the_same_code_twice_is_a_form_error():
    data = {"name": "Admin schedule", **_inline_management("entries", 2)}
    for i, fee in enumerate(("120.00", "130.00")):
        data.update({f"entries-{i}-code": "99213", f"entries-{i}-category": "office_visit",
                     f"entries-{i}-fee": fee, f"entries-{i}-description": ""})
    response = superuser_client().post(reverse("admin:plans_feeschedule_add"), data)
    assert response.status_code == 200  # the form again, with the error; not a 500
    assert not FeeSchedule.objects.filter(name="Admin schedule").exists()


def test_admin_plan_with_the_same_category_twice_is_a_form_error():
    sponsor, schedule = EmployerFactory(), FeeScheduleFactory()
    data = {"sponsor": sponsor.pk, "name": "Admin plan", "funding": "ASO", "fee_schedule": schedule.pk,
            "year_start": "2026-01-01", "deductible_individual": "1000", "deductible_family": "2000",
            "oop_max_individual": "4000", "oop_max_family": "8000", "coinsurance": "0.2",
            "timely_filing_days": "365", "review_threshold": "25000", "admin_fee_pepm": "0", "premium_pepm": "0",
            **_inline_management("category_benefits", 2)}
    for i in range(2):
        data.update({f"category_benefits-{i}-category": "lab", f"category_benefits-{i}-treatment": "excluded",
                     f"category_benefits-{i}-copay": ""})
    response = superuser_client().post(reverse("admin:plans_plan_add"), data)
    assert response.status_code == 200
    assert not Plan.objects.filter(name="Admin plan").exists()


def test_admin_new_stop_loss_policy_refuses_a_laser_on_another_sponsors_member():
    """StopLossLaser.clean() checks the member's employer only when policy_id is set; on the add page
    the policy is not saved yet, so a stranger's laser is stored."""
    plan = PlanFactory()
    stranger = MemberFactory()
    data = {"plan": plan.pk, "carrier": CarrierFactory().pk, "start": "2026-01-01", "contract": "12/15",
            "specific_attachment": "100000", "aggregate_attachment": "", "expected_claims": "",
            "aggregate_factor": "", **_inline_management("lasers", 0), **_inline_management("lasers-2", 1)}
    data.update({"lasers-2-0-member": stranger.pk, "lasers-2-0-attachment": "250000"})
    response = superuser_client().post(reverse("admin:plans_stoplosspolicy_add"), data)
    assert response.status_code in (200, 302)
    assert not StopLossLaser.objects.filter(member=stranger).exists(), "a laser for another sponsor's member was stored"


# =================================================================================================
# claims/scenarios.py: scenario files
# =================================================================================================

def _scenario_text(mutate) -> str:
    sc = base_scenario()
    sc.pop("expect")
    mutate(sc)
    return yaml.safe_dump(sc, sort_keys=False)


def _fee(value):
    def mutate(sc):
        sc["world"]["fee_schedule"]["99213"]["fee"] = value
    return mutate


def _billed(value):
    def mutate(sc):
        sc["events"][0]["submit_claim"]["lines"][0]["billed"] = value
    return mutate


def _deductible(value):
    def mutate(sc):
        sc["world"]["employers"][0]["plan"]["deductible"]["individual"] = value
    return mutate


@pytest.mark.parametrize("mutate, path", [
    (_fee("1e30"), "world.fee_schedule.99213.fee"),
    (_billed("1e30"), "events[0].submit_claim.lines[0].billed"),
    (_deductible("9" * 30), "world.employers[0].plan.deductible.individual"),
])
def test_scenario_with_a_huge_exponent_is_invalid_naming_the_path(mutate, path):
    text = _scenario_text(mutate)
    try:
        scenario_load(text=text)
    except ScenarioInvalid as exc:
        assert exc.path == path
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"expected ScenarioInvalid at {path}, got {type(exc).__name__}: {exc}")
    else:
        pytest.fail("a scenario with a 30-digit amount loaded as valid")


@pytest.mark.parametrize("mutate", [_billed("1000000000000.00"), _billed(99999999999999)])
def test_scenario_with_an_amount_beyond_the_columns_is_refused_and_writes_nothing(mutate):
    text = _scenario_text(mutate)
    before = claim_rows(), Employer.objects.count(), Plan.objects.count()
    from training.scenarios import scenario_run

    try:
        sc = scenario_load(text=text)
        scenario_run(sc=sc, keep=True)
    except ScenarioInvalid as exc:
        assert "billed" in exc.path
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"expected ScenarioInvalid naming the line's billed, got {type(exc).__name__}: {exc}")
    else:
        pytest.fail("a claim line of 1,000,000,000,000.00 (beyond NUMERIC(14, 2)) was played")
    assert (claim_rows(), Employer.objects.count(), Plan.objects.count()) == before


def test_scenario_with_a_nul_in_a_name_is_refused_and_writes_nothing():
    def mutate(sc):
        sc["world"]["employers"][0]["name"] = "Glo\x00bex"
    text = _scenario_text(mutate)
    before = claim_rows(), Employer.objects.count(), Plan.objects.count()
    from training.scenarios import scenario_run

    try:
        sc = scenario_load(text=text)
        with transaction.atomic():
            scenario_run(sc=sc, keep=False)
    except ScenarioInvalid as exc:
        assert exc.path.startswith("world.employers[0]")
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"expected ScenarioInvalid naming the employer, got {type(exc).__name__}: {exc}")
    assert (claim_rows(), Employer.objects.count(), Plan.objects.count()) == before


# =================================================================================================
# The list: bad input never gives a server error. Each gets a clear refusal that names the
# field (the services: `message_dict`; the admin: a 400, its "incorrect lookup" redirect to ?e=1, or
# a message naming the field) and nothing is written. The admin is asked as a superuser and as a
# claims examiner (seed_demo's grants), through a client that answers a crash with a 500.
# =================================================================================================

BIG_INT = 10 ** 5000  # str() and repr() refuse ints of more than 4,300 digits (ValueError)
ASTRAL = "\U000f0000"  # a private-use character: repr() spells it in 10 characters
TEN_MB = 10 * 1024 * 1024


def admin_client(who: str) -> Client:
    if who == "superuser":
        user = User.objects.create_superuser(username=f"root{User.objects.count()}", password="pw",
                                             email="r@example.com")
    else:
        user = login("claims_examiner", is_staff=True)
        user.user_permissions.add(*staff_permissions(supervisor=False))
    client = Client(raise_request_exception=False)  # a crash is the 500 the assertions look for
    client.force_login(user)
    return client


def assert_refused(response) -> None:
    """A changelist's clear refusal of a query string: a 400, or the admin's redirect to ?e=1."""
    assert response.status_code != 500, "server error"
    if response.status_code == 302:
        assert response["Location"].endswith("?e=1"), response["Location"]
    else:
        assert response.status_code == 400, response.status_code


def messages_text(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def _pended_claim(world):
    claim = _submit(world, lines=[{"code": "27447", "billed": "30000"}])
    claim_services.claims_adjudicate_pending()
    assert fresh(claim).state == "pended"
    return claim


WHO = ["superuser", "examiner"]
CLAIM_LIST = "/admin/claims/claim/"


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("query", ["member__any=abc", "id__any=1,2", "member__id__any=abc", "member__any="])
def test_admin_claim_list_refuses_the_any_lookup(world, who, query):
    """`__any` is the code's set lookup (core.bulk.AnyLookup): with "abc" it reads the characters
    'a', 'b', 'c' as ids (PostgreSQL: DataError, a 500)."""
    client = admin_client(who)
    claim = _submit(world)
    assert claim.claim_number in client.get(CLAIM_LIST).content.decode()  # the list itself answers
    assert_refused(client.get(f"{CLAIM_LIST}?{query}"))


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("query", ["service_date__year=99999", "received_date__year=99999", "service_date__year=0",
                                   "service_date__year__gte=99999", "adjudicated_on__year=-1",
                                   "service_date__gte=notadate", "id=99999999999999999999",
                                   "member__in=99999999999999999999", "plan__sponsor__exact=99999999999999999999",
                                   "billed__gte=1e999999", "state__regex=(", "id__range=1,2"])
def test_admin_claim_list_refuses_values_no_column_can_hold(world, who, query):
    """Before: a year 99999 or 0 was already refused; `member__in` and `plan__sponsor__exact` past a
    bigint crashed on SQLite (OverflowError binding it), a regex on both, a `__range` on both (one
    string read as its characters)."""
    client = admin_client(who)
    _submit(world)
    assert_refused(client.get(f"{CLAIM_LIST}?{query}"))


@pytest.mark.parametrize("who", WHO)
def test_admin_claim_list_with_a_good_year_still_answers(world, who):
    claim = _submit(world)
    response = admin_client(who).get(f"{CLAIM_LIST}?service_date__year=2026")
    assert response.status_code == 200
    assert [c.pk for c in response.context["cl"].result_list] == [claim.pk]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("source, field_name", [("plans.coverage", "member"), ("parties.partylink", "member"),
                                                ("plans.plan", "sponsor"), ("parties.member", "subscriber")])
def test_admin_autocomplete_with_a_nul_in_the_term_finds_nothing(world, who, source, field_name):
    """PostgreSQL cannot compare text holding NUL (psycopg raises ValueError: a 500)."""
    client = admin_client(who)
    app_label, model_name = source.split(".")
    base = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    term = world.employer.name[:4] if field_name == "sponsor" else world.alice.name[:3]
    found = client.get("/admin/autocomplete/", {**base, "term": term})
    assert found.status_code == 200 and found.json()["results"], "the term without a NUL finds the row"
    for bad in (f"{term}\x00", "\x00", f"\x00{term}"):
        response = client.get("/admin/autocomplete/", {**base, "term": bad})
        assert response.status_code == 200, bad
        assert response.json()["results"] == []


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("note", ["ok\x00", "\x00" * 3])
def test_admin_review_with_a_nul_in_the_note_changes_nothing(world, who, note):
    claim = _pended_claim(world)
    before = claim_rows()
    response = admin_client(who).post(reverse("admin:claims_claim_review", args=[claim.pk]),
                                      {"decision": "approve", "note": note}, follow=True)
    assert response.status_code == 200
    assert fresh(claim).state == "pended" and claim_rows() == before
    assert "note" in messages_text(response)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("reason", ["wrong code\x00", "\x00"])
def test_admin_appeal_with_a_nul_in_the_reason_changes_nothing(world, who, reason):
    claim = _denied_claim(world)
    before = claim_rows()
    response = admin_client(who).post(reverse("admin:claims_claim_appeal", args=[claim.pk]), {"reason": reason},
                                      follow=True)
    assert response.status_code == 200
    assert fresh(claim).state == "denied" and claim_rows() == before
    assert "reason" in messages_text(response)


# --- the services -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"npi": "1" * 275}, "npi"),
    ({"npi": "9" * TEN_MB}, "npi"),
    ({"npi": BIG_INT}, "npi"),
    ({"npi": "12345\ud800"}, "npi"),
    ({"member_id": "M" * 275}, "member_id"),
    ({"member_id": BIG_INT}, "member_id"),
    ({"member_id": "AB\udfff"}, "member_id"),
], ids=["npi-275", "npi-10MB", "npi-int-5000-digits", "npi-surrogate", "member_id-275", "member_id-int-5000-digits",
        "member_id-surrogate"])
def test_claim_submit_ids_no_column_can_hold_are_a_claim_error(world, kwargs, field):
    """A 275-character NPI was a DataError on PostgreSQL (varchar(40), and the rejection message
    quoting it outgrew varchar(300)); an int of 5,000 digits a ValueError from str(); a lone
    surrogate (JSON's "\\ud800") a UnicodeEncodeError on both databases."""
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, **kwargs)
    assert list(errors) == [field]
    assert len(" ".join(errors[field])) < 200, "the refusal does not echo the input back"
    assert claim_rows() == before


def test_claim_submit_an_npi_whose_rejection_outgrows_its_column_is_stored_within_it(world):
    """40 characters fit the NPI column, but the rejection message quotes the NPI's repr, 10
    characters each: 428 characters for a varchar(300) (PostgreSQL: DataError; SQLite kept them)."""
    before = claim_rows()
    try:
        claim = _submit(world, npi=ASTRAL * 40)
    except ClaimError as exc:
        assert list(exc.message_dict) == ["npi"]
        assert claim_rows() == before
        return
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"expected a rejected claim or ClaimError naming npi, got {type(exc).__name__}: {exc}")
    claim = fresh(claim)
    assert (claim.state, claim.rejection_field) == ("rejected", "npi")
    assert 0 < len(claim.rejection_message) <= Claim._meta.get_field("rejection_message").max_length


@pytest.mark.parametrize("code", ["9" * TEN_MB, "9" * (TEN_MB - 1) + "\x00", BIG_INT, "99\ud800"],
                         ids=["10MB", "10MB-with-NUL", "int-5000-digits", "surrogate"])
def test_claim_submit_a_procedure_code_no_column_can_hold_is_a_claim_error(world, code):
    """A 10 MB code is refused on its length (before any scan of its characters), in a message that
    does not quote it."""
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, lines=[{"code": "99213", "billed": "100"},
                                                              {"code": code, "billed": "200"}])
    assert list(errors) == ["lines[1].code"]
    assert len(" ".join(errors["lines[1].code"])) < 200
    assert claim_rows() == before


@pytest.mark.parametrize("count", [40_000, 1_000])
def test_claim_submit_more_lines_than_a_claim_has_is_a_claim_error(world, count):
    """ClaimLine.line_number is a smallint (32,767 at most on PostgreSQL): 40,000 lines were a
    DataError there after the claim row was written. An 837I carries at most 999 lines. (One line
    dict repeated: the refusal must come before any line is read, so the test stays fast.)"""
    before = claim_rows()
    line = {"code": "99213", "billed": "1"}
    errors = refused(ClaimError, _submit, world=world, lines=[line] * count)
    assert list(errors) == ["lines"]
    assert f"{count:,}" in errors["lines"][0]
    assert claim_rows() == before


def test_claim_submit_999_lines_is_a_claim(world):
    claim = _submit(world, lines=[{"code": "99213", "billed": "1"}] * 999)
    assert fresh(claim).lines.count() == 999
    assert max(fresh(claim).lines.values_list("line_number", flat=True)) == 999


@pytest.mark.parametrize("units", [BIG_INT, -BIG_INT, 2 ** 63], ids=["5000-digits", "minus-5000-digits", "2**63"])
def test_claim_submit_units_no_column_can_hold_are_a_claim_error(world, units):
    before = claim_rows()
    errors = refused(ClaimError, _submit, world=world, lines=[{"code": "99213", "billed": "200", "units": units}])
    assert list(errors) == ["lines[0].units"]
    assert claim_rows() == before


@pytest.mark.parametrize("note", ["ok\x00", "\x00", "a\ud800", "n" * 501, "n" * TEN_MB],
                         ids=["NUL-at-end", "NUL", "surrogate", "501-chars", "10MB"])
def test_claim_review_with_a_note_no_column_can_hold_is_a_claim_error(world, note):
    examiner = login("claims_examiner")
    claim = _pended_claim(world)
    before = claim_rows()
    for decision in ("approve", "deny"):
        errors = refused(ClaimError, claim_services.claim_review, claim_id=claim.pk, decision=decision,
                         user=examiner, note=note)
        assert list(errors) == ["note"]
    assert fresh(claim).state == "pended" and claim_rows() == before


@pytest.mark.parametrize("reason", ["wrong code\x00", "\x00", "a\udfff", "r" * 501, "r" * TEN_MB],
                         ids=["NUL-at-end", "NUL", "surrogate", "501-chars", "10MB"])
def test_claim_appeal_with_a_reason_no_column_can_hold_is_a_claim_error(world, reason):
    claim = _denied_claim(world)
    before = claim_rows()
    for user in (None, login("claims_examiner")):
        errors = refused(ClaimError, claim_services.claim_appeal, claim_id=claim.pk, user=user, reason=reason)
        assert list(errors) == ["reason"]
    assert fresh(claim).state == "denied" and claim_rows() == before


@pytest.mark.parametrize("fn, extra", [
    (claim_services.claim_adjudicate, {}),
    (claim_services.claim_review, {"decision": "approve"}),
    (claim_services.claim_appeal, {}),
])
@pytest.mark.parametrize("claim_id", [BIG_INT, -BIG_INT, "9" * 5000, "0" * 30 + "1" * 25, 2 ** 63],
                         ids=["int-5000-digits", "minus-5000-digits", "str-5000-digits", "str-25-digits", "2**63"])
def test_claim_actions_with_a_claim_id_beyond_any_column_are_a_claim_error(world, fn, extra, claim_id):
    """str() of an int of 5,000 digits, and int() of a string of them, raise ValueError."""
    before = claim_rows()
    errors = refused(ClaimError, fn, claim_id=claim_id, **extra)
    assert list(errors) == ["claim"]
    assert len(" ".join(errors["claim"])) < 200
    assert claim_rows() == before


def test_claim_actions_take_an_id_with_leading_zeros(world):
    claim = _pended_claim(world)
    done = claim_services.claim_review(claim_id="0" * 30 + str(claim.pk), decision="approve")
    assert done.pk == claim.pk and fresh(claim).state == "approved"


@pytest.mark.parametrize("decision, reason_code, field", [
    (BIG_INT, None, "decision"), ("deny", BIG_INT, "reason_code"), ("deny", [50], "reason_code"),
    ("deny", 99, "reason_code"),
], ids=["decision-5000-digits", "code-5000-digits", "code-list", "code-99"])
def test_claim_review_decision_or_code_no_one_can_print_is_a_claim_error(world, decision, reason_code, field):
    claim = _pended_claim(world)
    before = claim_rows()
    errors = refused(ClaimError, claim_services.claim_review, claim_id=claim.pk, decision=decision,
                     reason_code=reason_code)
    assert list(errors) == [field]
    assert fresh(claim).state == "pended" and claim_rows() == before


def test_claim_review_takes_a_reason_code_given_as_a_number(world):
    claim = _pended_claim(world)
    claim_services.claim_review(claim_id=claim.pk, decision="deny", reason_code=50)
    assert fresh(claim).state == "denied"


# --- core.bulk.AnyLookup: the code's set lookup takes a collection, never a string -----------------

@pytest.mark.parametrize("rhs", ["12", b"12", 12, None])
def test_any_lookup_refuses_what_is_not_a_collection_of_values(rhs):
    """Before: "12" was read as its characters, ["1", "2"] (ids 1 and 2 on both databases); 12 and
    None raised TypeError while compiling."""
    EmployerFactory.create_batch(2)
    with pytest.raises(ValueError, match="__any takes a list of values"):
        list(Employer.objects.filter(pk__any=rhs))


@pytest.mark.django_db
def test_no_query_string_filters_logins_by_their_password_hash():
    """Django lets a changelist filter on any of a model's own fields: `?password__startswith=` would let
    anyone who may list logins read a password hash out, a character at a time."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    User = get_user_model()
    root = User.objects.create_superuser(username="root-pw", password="a-long-enough-password", email="r@example.com")
    client = Client(raise_request_exception=False)
    client.force_login(root)
    prefix = root.password[:10]
    for query in ({"password__startswith": prefix}, {"password": root.password}, {"password__regex": "^p"}):
        response = client.get("/admin/auth/user/", query)
        assert response.status_code == 400, (query, response.status_code)
