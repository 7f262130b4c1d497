"""The money rules (DOMAIN.md §2, §5, §6) on edge cases the other funding tests leave out: each
test quotes the sentence it checks.
"""
import pytest

from funding import services
from funding.models import Account, FeeBilling, FundingRequest, ReimbursementInvoice, StopLossFiling
from plans.services import stop_loss_policy_create
from tests.factories import CarrierFactory, CoverageFactory, DependentFactory, MemberFactory, PlanFactory
from tests.funding.helpers import D, F, approved_claim, balance, day, make_provider, make_sponsor, state_of

pytestmark = pytest.mark.django_db
K = Account.Kind


def asc_and_fully_insured_with_one_carrier():
    """One sponsor with an ASC plan and a fully insured plan, both paid from the same carrier's account."""
    s = make_sponsor(F.ASC)
    fi_plan = PlanFactory(sponsor=s.employer, funding=F.FULLY_INSURED, carrier=s.carrier)
    insured = MemberFactory(employer=s.employer)
    CoverageFactory(member=insured, plan=fi_plan, start=day("2026-01-01"))
    return s, fi_plan, insured


def receivable(s):
    return balance(K.ASC_RECEIVABLE, employer=s.employer, carrier=s.carrier)


# --- One carrier paying a sponsor's ASC and fully insured claims on one remittance ----------------

def test_asc_receivable_kept_when_a_fully_insured_claim_follows_on_the_same_remittance():
    """DOMAIN.md §5: "`FULLY_INSURED` and `ASC`: every `approved` claim is paid at once from the carrier's
    account. Under ASC the carrier now holds a receivable from the sponsor for the same amount."
    ASC claim 100.00 then fully insured claim 50.00, same sponsor, carrier and provider: the receivable
    must be 100.00 and the sponsor must be able to pay its 100.00 invoice."""
    s, fi_plan, insured = asc_and_fully_insured_with_one_carrier()
    mercy = make_provider()
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00", received="2026-01-10")
    approved_claim(plan=fi_plan, member=insured, provider=mercy, plan_paid="50.00", received="2026-01-11")

    services.payment_cycle_run(today=day("2026-01-20"))

    assert balance(K.CARRIER, carrier=s.carrier) == D("-150.00")
    (invoice,) = services.reimbursement_billing_run(today=day("2026-01-26"))
    assert invoice.amount == D("100.00")
    assert receivable(s) == D("100.00")
    services.sponsor_reimbursement_pay(employer=s.employer, amount="100.00", today=day("2026-01-27"))
    invoice.refresh_from_db()
    assert invoice.open_amount == D("0.00")


def test_a_fully_insured_claim_on_the_same_remittance_is_not_the_sponsors_debt():
    """DOMAIN.md §5: "Under ASC the carrier now holds a receivable from the sponsor for the same amount."
    and §2: FULLY_INSURED claims are paid by the carrier "from its own funds" (the sponsor pays "a fixed
    premium PEPM; no claims"). Fully insured claim 50.00 then ASC claim 100.00, same sponsor, carrier and
    provider: the receivable must be 100.00, not 150.00."""
    s, fi_plan, insured = asc_and_fully_insured_with_one_carrier()
    mercy = make_provider()
    approved_claim(plan=fi_plan, member=insured, provider=mercy, plan_paid="50.00", received="2026-01-10")
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="100.00", received="2026-01-11")

    services.payment_cycle_run(today=day("2026-01-20"))

    assert balance(K.CARRIER, carrier=s.carrier) == D("-150.00")
    assert receivable(s) == D("100.00")
    assert balance(K.SPONSOR, employer=s.employer) == D("-100.00")


# --- Paying claims (ASO) -------------------------------------------------------------------------

def test_aso_stop_is_per_sponsor_and_each_stopped_sponsor_gets_one_request_for_its_new_waits():
    """DOMAIN.md §5: "at the first claim it does not cover, the cycle stops paying, and that claim and every
    later one are `awaiting_funds`. One funding request is issued to the sponsor for the total of the claims
    that became `awaiting_funds` in this cycle." One sponsor stopping does not stop another."""
    a, b = make_sponsor(F.ASO), make_sponsor(F.ASO)
    p = make_provider()
    services.sponsor_deposit(employer=a.employer, amount="50.00", today=day("2026-01-02"))
    services.sponsor_deposit(employer=b.employer, amount="500.00", today=day("2026-01-02"))
    a1 = approved_claim(plan=a.plan, member=a.member(), provider=p, plan_paid="100.00", received="2026-01-10")
    b1 = approved_claim(plan=b.plan, member=b.member(), provider=p, plan_paid="100.00", received="2026-01-11")
    a2 = approved_claim(plan=a.plan, member=a.member(), provider=p, plan_paid="10.00", received="2026-01-12")
    b2 = approved_claim(plan=b.plan, member=b.member(), provider=p, plan_paid="100.00", received="2026-01-13")

    services.payment_cycle_run(today=day("2026-01-20"))

    assert state_of(a1, b1, a2, b2) == ["awaiting_funds", "paid", "awaiting_funds", "paid"]
    assert list(FundingRequest.objects.values_list("employer_id", "amount")) == [(a.employer.pk, D("110.00"))]
    assert balance(K.SPONSOR_CLAIMS, employer=a.employer) == D("50.00")
    assert balance(K.SPONSOR_CLAIMS, employer=b.employer) == D("300.00")


def test_an_uncovered_waiting_claim_stops_the_cycle_before_a_newer_smaller_claim_that_would_fit():
    """DOMAIN.md §5: "the sponsor's `awaiting_funds` and `approved` claims are paid from its claims account,
    in order, while the balance covers the next claim; at the first claim it does not cover, the cycle stops
    paying" and the funding request is "for the total of the claims that became `awaiting_funds` in this cycle"."""
    s = make_sponsor(F.ASO)
    p = make_provider()
    waiting = approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="70.00", received="2026-01-10")
    services.payment_cycle_run(today=day("2026-01-11"))
    services.sponsor_deposit(employer=s.employer, amount="30.00", today=day("2026-01-12"))  # does not cover 70
    newer = approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="20.00", received="2026-01-13")

    services.payment_cycle_run(today=day("2026-01-20"))

    assert state_of(waiting, newer) == ["awaiting_funds", "awaiting_funds"]
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("30.00")
    assert list(FundingRequest.objects.order_by("pk").values_list("amount", "open_amount")) == [
        (D("70.00"), D("40.00")), (D("20.00"), D("20.00"))]


def test_an_older_approved_claim_is_paid_before_a_newer_waiting_one():
    """DOMAIN.md §5: "The payment cycle takes the claims that wait for payment, oldest first (received date,
    then submission order)": an approved claim received earlier (e.g. approved late after review) goes before
    a newer `awaiting_funds` claim."""
    s = make_sponsor(F.ASO)
    p = make_provider()
    newer_waiting = approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="60.00",
                                   received="2026-01-12")
    services.payment_cycle_run(today=day("2026-01-13"))
    older = approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="60.00", received="2026-01-05")
    services._post([_stop_loss_like_credit(s, "60.00")])  # money that releases nothing by itself

    services.payment_cycle_run(today=day("2026-01-20"))

    assert state_of(older, newer_waiting) == ["paid", "awaiting_funds"]
    assert FundingRequest.objects.count() == 1  # newer_waiting was already waiting: no new request


def _stop_loss_like_credit(s, amount):
    acct = services.accounts_ensure(specs=[services.sponsor_claims_spec(s.employer.pk),
                                           services.sponsor_spec(s.employer.pk)])
    p = services.Posting(kind="deposit", date=day("2026-01-14"), key=f"audit-credit:{s.employer.pk}",
                         employer_id=s.employer.pk)
    p.move(source=acct[services.sponsor_spec(s.employer.pk)],
           target=acct[services.sponsor_claims_spec(s.employer.pk)], amount=D(amount))
    return p


def test_chunked_cycle_and_release_keep_the_stop_rule_and_zero_claims_across_chunks():
    """DOMAIN.md §5: "A claim whose `plan_paid` is 0.00 is `paid` with a zero payment under every arrangement,
    at once: it never stops the ASO cycle and never waits." and "A deposit by the sponsor releases the waiting
    claims by the same rule." Chunks of 2 claims must not change the outcome."""
    s = make_sponsor(F.ASO)
    p = make_provider()
    services.sponsor_deposit(employer=s.employer, amount="100.00", today=day("2026-01-02"))
    amounts = ["40.00", "40.00", "0.00", "30.00", "10.00", "0.00", "5.00"]
    cs = [approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid=a, received=f"2026-01-1{i}")
          for i, a in enumerate(amounts)]

    services.payment_cycle_run(today=day("2026-01-20"), chunk_size=2)

    assert state_of(*cs) == ["paid", "paid", "paid", "awaiting_funds", "awaiting_funds", "paid", "awaiting_funds"]
    assert FundingRequest.objects.get().amount == D("45.00")
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("20.00")

    services.sponsor_deposit(employer=s.employer, amount="25.00", today=day("2026-01-22"), chunk_size=2)

    assert set(state_of(*cs)) == {"paid"}
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("0.00")
    assert balance(K.PROVIDER, provider=p) == D("125.00")
    assert FundingRequest.objects.get().open_amount == D("20.00")


def test_stop_loss_money_settles_no_funding_request_and_a_deposit_touches_only_its_own_sponsor():
    """DOMAIN.md §5: "A deposit settles the sponsor's open funding requests, oldest first, and releases
    `awaiting_funds` claims only (an `approved` claim waits for the next cycle). Money from stop-loss releases
    nothing." """
    s = make_sponsor(F.ASO)
    other = make_sponsor(F.ASO)
    policy = stop_loss_policy_create(plan=s.plan, carrier=CarrierFactory(), start=day("2026-01-01"),
                                     contract="12/12", specific_attachment=D("1000.00"))
    p = make_provider()
    services.sponsor_deposit(employer=s.employer, amount="1500.00", today=day("2026-01-02"))
    big = approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="1500.00", received="2026-01-05")
    services.payment_cycle_run(today=day("2026-01-06"))
    waiting = approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="300.00", received="2026-01-07")
    theirs = approved_claim(plan=other.plan, member=other.member(), provider=p, plan_paid="80.00",
                            received="2026-01-07")
    services.payment_cycle_run(today=day("2026-01-08"))
    assert state_of(big, waiting, theirs) == ["paid", "awaiting_funds", "awaiting_funds"]

    (filing,) = services.stop_loss_evaluate(today=day("2026-01-09"))

    assert (filing.policy_id, filing.amount) == (policy.pk, D("500.00"))
    assert services.funding_request_open_amount(employer=s.employer) == D("300.00")
    assert state_of(waiting) == ["awaiting_funds"]

    services.sponsor_deposit(employer=other.employer, amount="1000.00", today=day("2026-01-10"))
    assert state_of(waiting, theirs) == ["awaiting_funds", "paid"]
    assert services.funding_request_open_amount(employer=s.employer) == D("300.00")
    assert services.funding_request_open_amount(employer=other.employer) == D("0.00")


# --- ASC reimbursement ---------------------------------------------------------------------------

def test_a_payment_beyond_the_open_invoices_reduces_the_receivable_and_goes_to_the_next_invoice():
    """DOMAIN.md §5: "ASC: the carrier's receivable from the sponsor arises when the carrier pays, and is
    reduced by the sponsor's reimbursement payments, invoiced or not yet." and "A payment by the sponsor
    settles its oldest open invoices first." """
    s = make_sponsor(F.ASC)
    p = make_provider()
    approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="100.00", received="2026-03-02")
    services.payment_cycle_run(today=day("2026-03-03"))
    (first,) = services.reimbursement_billing_run(today=day("2026-03-09"))
    approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="200.00", received="2026-03-10")
    services.payment_cycle_run(today=day("2026-03-11"))
    assert receivable(s) == D("300.00")

    payment = services.sponsor_reimbursement_pay(employer=s.employer, amount="250.00", today=day("2026-03-12"))

    first.refresh_from_db()
    assert (first.open_amount, payment.unapplied_amount) == (D("0.00"), D("150.00"))
    assert receivable(s) == D("50.00")
    (second,) = services.reimbursement_billing_run(today=day("2026-03-16"))
    assert (second.amount, second.open_amount) == (D("200.00"), D("50.00"))
    assert services.reimbursement_open_amount(employer=s.employer) == receivable(s) == D("50.00")
    assert ReimbursementInvoice.objects.count() == 2


# --- Fee billing ---------------------------------------------------------------------------------

def test_fee_billing_counts_a_subscriber_for_the_plan_whose_coverage_is_in_force_on_the_run_date():
    """DOMAIN.md §5: "each plan is billed once for that calendar month ... for every subscriber whose coverage
    is in force on that date: `admin_fee_pepm` (ASO, ASC) or `premium_pepm` (FULLY_INSURED)." A subscriber
    who moved from the ASO plan to the ASC plan on 2026-02-10 counts only for the ASC plan on 2026-02-15."""
    s = make_sponsor(F.ASO, members=0, admin_fee_pepm=D("10.00"))
    other = PlanFactory(sponsor=s.employer, funding=F.ASC, admin_fee_pepm=D("7.00"), premium_pepm=D("99.00"))
    m = MemberFactory(employer=s.employer)
    CoverageFactory(member=m, plan=s.plan, start=day("2026-01-01"), end=day("2026-02-09"))
    CoverageFactory(member=m, plan=other, start=day("2026-02-10"))

    services.fee_billing_run(today=day("2026-02-15"))

    assert dict(FeeBilling.objects.values_list("plan_id", "subscribers")) == {s.plan.pk: 0, other.pk: 1}
    assert dict(FeeBilling.objects.values_list("plan_id", "amount")) == {s.plan.pk: D("0.00"), other.pk: D("7.00")}
    assert balance(K.ADMIN_FEES) == D("7.00")


# --- Stop-loss -----------------------------------------------------------------------------------

def test_stop_loss_12_12_from_january_31_specific_per_member_and_aggregate_capped():
    """DOMAIN.md §6: "the paid-through date, the start + 12 (or 15) months (a month added to the 29th–31st
    falls on the last day of a shorter month)"; "Specific: per member"; "Aggregate: counted claims, each
    member's share capped at its specific attachment (or laser), over the aggregate attachment point ...
    the excess is reimbursed once, at the first evaluation on or after the paid-through date." """
    s = make_sponsor(F.ASO)
    child = DependentFactory(subscriber=s.member())
    CoverageFactory(member=child, plan=s.plan, start=None)
    policy = stop_loss_policy_create(plan=s.plan, carrier=CarrierFactory(), start=day("2026-01-31"),
                                     contract="12/12", specific_attachment=D("1000"), aggregate_attachment=D("1500"))
    assert services.stop_loss_window(policy=policy) == (day("2026-01-31"), day("2027-01-31"), day("2027-01-31"))
    p = make_provider()
    services.sponsor_deposit(employer=s.employer, amount="10000.00", today=day("2026-02-01"))
    approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="1200.00", received="2026-02-01")
    approved_claim(plan=s.plan, member=child, provider=p, plan_paid="900.00", received="2026-02-01")
    services.payment_cycle_run(today=day("2026-02-02"))

    filings = services.stop_loss_evaluate(today=day("2026-02-03"))
    assert [(f.kind, f.member_id, f.amount) for f in filings] == [("specific", s.member().pk, D("200.00"))]

    approved_claim(plan=s.plan, member=child, provider=p, plan_paid="50.00", service="2027-01-30",
                   received="2027-01-30")
    services.payment_cycle_run(today=day("2027-01-31"))  # paid on the paid-through date: does not count
    assert services.stop_loss_evaluate(today=day("2027-01-30")) == []
    filings = services.stop_loss_evaluate(today=day("2027-01-31"))
    assert [(f.kind, f.counted_claims, f.attachment, f.amount) for f in filings] == [
        ("aggregate", D("1900.00"), D("1500.00"), D("400.00"))]
    assert sum(StopLossFiling.objects.values_list("amount", flat=True), D("0")) == D("600.00")


def test_asc_claim_counts_from_the_carriers_paid_date_though_reimbursed_after_the_paid_through_date():
    """DOMAIN.md §6: "Under ASC a claim counts from the date the carrier paid it, reimbursed by the sponsor
    or not." The carrier paid on 2026-12-30 (12/12 from 2026-01-01); the sponsor reimburses in 2027."""
    s = make_sponsor(F.ASC)
    stop_loss_policy_create(plan=s.plan, carrier=CarrierFactory(), start=day("2026-01-01"), contract="12/12",
                            specific_attachment=D("1000.00"))
    p = make_provider()
    approved_claim(plan=s.plan, member=s.member(), provider=p, plan_paid="1300.00", received="2026-12-29")
    services.payment_cycle_run(today=day("2026-12-30"))
    services.reimbursement_billing_run(today=day("2027-01-04"))
    services.sponsor_reimbursement_pay(employer=s.employer, amount="1300.00", today=day("2027-01-05"))

    (filing,) = services.stop_loss_evaluate(today=day("2027-01-06"))

    assert (filing.counted_claims, filing.amount) == (D("1300.00"), D("300.00"))
    assert balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("300.00")
