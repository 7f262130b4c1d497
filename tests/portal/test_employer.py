"""The employer (plan sponsor) dashboard: claims spend by month and the plan year's net cost, funding
requests with "fund" (ASO), reimbursement invoices with "pay" (ASC), fees billed, the stop-loss
position, a CSV of each table; each figure to the cent, with money moved through the funding services.

The demo world (business date 2026-06-15): `employer` is Northwind Logistics (ASO, stop-loss with Great
Lakes: specific 75,000.00, aggregate 420,000.00 × 1.25), `employer2` is Bayshore Retail Group (ASC with
Keystone, which also writes its stop-loss: specific 50,000.00, Thomas Novak lasered at 125,000.00).
Once its pended claims are approved, Northwind's approved claims ask 11,437.00 (65.00 + 0.00 +
11,360.00 + 12.00) and Bayshore's 907.75 (100.00 + 60.00 + 135.00 + 612.75).
"""
import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from claims.models import Claim
from claims.services import claim_review, claims_adjudicate_pending
from funding import services as funding
from funding.models import Deposit, FeeBilling, FundingRequest, SponsorPayment
from parties.models import Member
from plans.models import StopLossPolicy
from portal.figures import figures_compute
from tests.funding.helpers import approved_claim
from tests.portal.helpers import DEMO_DATE, body_of, csv_rows, shown, table

pytestmark = pytest.mark.django_db
D = Decimal

PAGES = ["/employer/", "/employer/funding/", "/employer/invoices/", "/employer/fees/", "/employer/stop-loss/"]
CSVS = ["/employer/spend.csv", "/employer/net-cost.csv", "/employer/funding.csv", "/employer/invoices.csv",
        "/employer/fees.csv", "/employer/stop-loss.csv"]


# --- Reading the pages ---------------------------------------------------------------------------

def token_of(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


# --- Worlds --------------------------------------------------------------------------------------

@pytest.fixture
def reviewed(demo):
    """The demo's pended claims approved and its submitted claim adjudicated: every claim waits for payment."""
    examiner = get_user_model().objects.get(username="examiner")
    for claim_id in Claim.objects.filter(state="pended").values_list("pk", flat=True):
        claim_review(claim_id=claim_id, decision="approve", user=examiner, note="reviewed")
    claims_adjudicate_pending(today=DEMO_DATE)
    return demo


def _member(name: str) -> Member:
    return Member.objects.get(name=name)


def _big_claims(demo, *specs):
    """Approved claims of Northwind members (name, plan_paid), received 2026-06-10, paid by the next cycle."""
    plan = demo["plans"]["aso"]
    provider = demo["providers"][4]  # Harborview Orthopedic Surgery Center
    return [approved_claim(plan=plan, member=_member(name), provider=provider, plan_paid=amount, received="2026-06-10",
                           service="2026-06-01", code="47562") for name, amount in specs]


@pytest.fixture
def northwind_year(reviewed):
    """Northwind's plan year so far: 125,000.00 deposited; two large claims (Priya Raman 80,000.00, Michael
    Brennan 45,000.00) paid by the cycle of 2026-06-15, which then stops at the demo's claims (a funding
    request of 11,437.00), funded; June's admin fee (8 subscribers × 45.00); the stop-loss evaluation
    reimburses Priya's 5,000.00 over the 75,000.00 specific attachment."""
    _big_claims(reviewed, ("Priya Raman", "80000.00"), ("Michael Brennan", "45000.00"))
    employer = reviewed["employers"]["aso"]
    funding.sponsor_deposit(employer=employer, amount="125000.00", today=DEMO_DATE, reference="wire-1")
    funding.payment_cycle_run(today=DEMO_DATE)
    assert FundingRequest.objects.get(employer=employer).amount == D("11437.00")
    funding.sponsor_deposit(employer=employer, amount=funding.REQUESTED, today=DEMO_DATE, reference="wire-2")
    funding.fee_billing_run(today=DEMO_DATE)
    (filing,) = funding.stop_loss_evaluate(today=DEMO_DATE)
    assert filing.member.name == "Priya Raman" and filing.amount == D("5000.00")
    return reviewed


# --- Spend by month and the net cost -------------------------------------------------------------

def test_home_shows_spend_by_month_and_the_plan_years_net_cost_to_the_cent(northwind_year, client_for):
    paid = Claim.objects.filter(plan__sponsor=northwind_year["employers"]["aso"], state="paid")
    assert paid.count() == 6 and sum(c.plan_paid for c in paid) == D("136437.00")
    html = client_for("employer").get("/employer/").content.decode()
    assert table(html, "spend") == [
        ["Month", "Claims paid", "Plan paid"],
        ["Jan 2026", "0", "$0.00"], ["Feb 2026", "0", "$0.00"], ["Mar 2026", "0", "$0.00"],
        ["Apr 2026", "0", "$0.00"], ["May 2026", "0", "$0.00"], ["Jun 2026", "6", "$136,437.00"],
        ["Plan year to date", "6", "$136,437.00"],
    ]
    # claims 136,437.00 + admin fee 360.00 − stop-loss 5,000.00
    assert table(html, "net-cost-table") == [
        ["Item", "Amount"],
        ["Claims paid, self-funded (plan paid)", "$136,437.00"],
        ["Admin fees billed", "$360.00"],
        ["Premiums billed", "$0.00"],
        ["Less stop-loss reimbursements received", "-$5,000.00"],
        ["Net cost", "$131,797.00"],
    ]
    assert shown(html, "net-cost") == "$131,797.00" and shown(html, "claims-paid") == "$136,437.00"
    assert shown(html, "open-requested") == "$0.00"
    assert '"data": ["0.00", "0.00", "0.00", "0.00", "0.00", "136437.00"]' in html  # the chart, as strings
    assert 'data-chart="spend-chart"' in html and "chart-4.6.1.umd.min.js" in html


def test_the_net_cost_is_the_scenario_reports(northwind_year):
    """The page's figure is docs/scenarios.md's `net_cost` (the plan year holds all of this world's money)."""
    from training.scenarios.report import money_report

    employer = northwind_year["employers"]["aso"]
    report = money_report(employers={"nw": employer}, carriers={}, providers={}, claims={})
    data = figures_compute(key=f"employer:{employer.pk}").data
    assert data["net_cost"]["net_cost"] == report["employers"]["nw"]["net_cost"] == "131797.00"
    assert data["net_cost"]["stop_loss_received"] == report["employers"]["nw"]["stop_loss_received"] == "5000.00"


def test_an_asc_sponsors_net_cost_counts_the_carriers_payments_it_owes_back(reviewed, client_for):
    funding.payment_cycle_run(today=DEMO_DATE)
    funding.fee_billing_run(today=DEMO_DATE)
    funding.fee_billing_run(today=datetime.date(2026, 7, 1))  # after the business date: not in the year to date
    html = client_for("employer2").get("/employer/").content.decode()
    assert table(html, "spend")[-2:] == [["Jun 2026", "4", "$907.75"], ["Plan year to date", "4", "$907.75"]]
    assert table(html, "net-cost-table")[1:] == [
        ["Claims paid, self-funded (plan paid)", "$907.75"], ["Admin fees billed", "$231.00"],
        ["Premiums billed", "$0.00"], ["Less stop-loss reimbursements received", "$0.00"],
        ["Net cost", "$1,138.75"]]
    assert shown(html, "open-invoiced") == "$0.00"  # paid by the carrier, not invoiced yet
    assert "Open funding requests" not in html


def test_spend_and_net_cost_csv_row_by_row(northwind_year, client_for):
    client = client_for("employer")
    assert csv_rows(client.get("/employer/spend.csv")) == [
        ["Month", "Claims paid", "Plan paid"],
        ["2026-01", "0", "0.00"], ["2026-02", "0", "0.00"], ["2026-03", "0", "0.00"], ["2026-04", "0", "0.00"],
        ["2026-05", "0", "0.00"], ["2026-06", "6", "136437.00"],
    ]
    assert csv_rows(client.get("/employer/net-cost.csv")) == [
        ["Plan year start", "Item", "Amount"],
        ["2026-01-01", "Claims paid, self-funded (plan paid)", "136437.00"],
        ["2026-01-01", "Admin fees billed", "360.00"],
        ["2026-01-01", "Premiums billed", "0.00"],
        ["2026-01-01", "Less stop-loss reimbursements received", "-5000.00"],
        ["2026-01-01", "Net cost", "131797.00"],
    ]


# --- Funding requests and the fund action (ASO) --------------------------------------------------

def test_nothing_open_before_a_cycle_asks(reviewed, client_for):
    html = client_for("employer").get("/employer/funding/").content.decode()
    assert "Nothing open" in shown(html, "nothing-open") and 'action="/employer/funding/fund/"' not in html
    assert table(html, "requests")[1:] == [["No funding requests."]]


def test_fund_records_one_deposit_under_a_double_post(reviewed, client_for):
    employer = reviewed["employers"]["aso"]
    funding.payment_cycle_run(today=DEMO_DATE)
    request = FundingRequest.objects.get(employer=employer)
    client = client_for("employer")
    html = client.get("/employer/funding/").content.decode()
    assert shown(html, "open-requested") == "$11,437.00"
    assert table(html, "requests") == [
        ["Request", "Requested on ↓", "Amount", "Settled", "Open", "Payment cycle"],
        [f"#{request.pk}", "Jun 15, 2026", "$11,437.00", "$0.00", "$11,437.00", f"#{request.cycle_id}"]]
    assert "data-once" in html and "<button type=\"submit\">Fund $11,437.00</button>" in html
    token = token_of(html)

    first = client.post("/employer/funding/fund/", {"token": token})
    second = client.post("/employer/funding/fund/", {"token": token})  # the double click
    assert first.status_code == second.status_code == 302 and first.url == "/employer/funding/"
    (deposit,) = Deposit.objects.filter(employer=employer)
    assert deposit.amount == D("11437.00") and deposit.received_on == DEMO_DATE
    assert deposit.release.claims_paid == 3
    request.refresh_from_db()
    assert request.open_amount == 0
    assert sorted(Claim.objects.filter(plan__sponsor=employer).values_list("state", flat=True)) == [
        "denied", "denied", "paid", "paid", "paid", "paid", "rejected"]
    page = client.get("/employer/funding/").content.decode()
    assert f"Deposit {deposit.pk} of $11,437.00 recorded on Jun 15, 2026; 3 waiting claims paid from it." in page
    assert "Nothing open" in shown(page, "nothing-open")
    assert table(page, "requests")[1] == [f"#{request.pk}", "Jun 15, 2026", "$11,437.00", "$11,437.00", "$0.00",
                                          f"#{request.cycle_id}"]
    # The same form sent again after a new request opened is still the one deposit: the token names it.
    _big_claims(reviewed, ("Aisha Bello", "100.00"))
    funding.payment_cycle_run(today=DEMO_DATE)
    assert client.post("/employer/funding/fund/", {"token": token}).status_code == 302
    assert Deposit.objects.filter(employer=employer).count() == 1
    assert FundingRequest.objects.filter(employer=employer, open_amount=D("100.00")).count() == 1
    fresh = client.get("/employer/funding/").content.decode()
    assert "<button type=\"submit\">Fund $100.00</button>" in fresh and token_of(fresh) != token
    assert client.post("/employer/funding/fund/", {"token": token_of(fresh)}).status_code == 302
    assert list(Deposit.objects.filter(employer=employer).order_by("pk").values_list("amount", flat=True)) == [
        D("11437.00"), D("100.00")]

    # A new form when nothing is open records nothing and says so.
    assert "Nothing open" in shown(client.get("/employer/funding/").content.decode(), "nothing-open")
    again = client.post("/employer/funding/fund/", {"token": "another-form"}, follow=True)
    assert "Nothing open: no funding request waits for a deposit, so none was recorded." in again.content.decode()
    assert Deposit.objects.filter(employer=employer).count() == 2


def test_funding_requests_filter_sort_and_csv_row_by_row(reviewed, client_for):
    employer = reviewed["employers"]["aso"]
    funding.payment_cycle_run(today=DEMO_DATE)
    first = FundingRequest.objects.get(employer=employer)
    funding.sponsor_deposit(employer=employer, amount=funding.REQUESTED, today=DEMO_DATE)
    _big_claims(reviewed, ("Hannah Schultz", "250.50"))
    later = DEMO_DATE + datetime.timedelta(days=1)
    funding.payment_cycle_run(today=later)
    second = FundingRequest.objects.exclude(pk=first.pk).get(employer=employer)
    client = client_for("employer")
    html = client.get("/employer/funding/?status=open").content.decode()
    assert table(html, "requests")[1:] == [
        [f"#{second.pk}", "Jun 16, 2026", "$250.50", "$0.00", "$250.50", f"#{second.cycle_id}"]]
    assert csv_rows(client.get("/employer/funding.csv?sort=amount")) == [
        ["Request", "Requested on", "Amount", "Settled", "Open", "Payment cycle"],
        [str(second.pk), "2026-06-16", "250.50", "0.00", "250.50", str(second.cycle_id)],
        [str(first.pk), "2026-06-15", "11437.00", "11437.00", "0.00", str(first.cycle_id)],
    ]
    assert csv_rows(client.get("/employer/funding.csv?status=settled"))[1:] == [
        [str(first.pk), "2026-06-15", "11437.00", "11437.00", "0.00", str(first.cycle_id)]]


def test_an_asc_sponsor_has_no_funding_requests_and_cannot_fund(reviewed, client_for):
    funding.payment_cycle_run(today=DEMO_DATE)  # Northwind's request of 11,437.00 is open
    client = client_for("employer2")
    html = client.get("/employer/funding/").content.decode()
    assert "has no ASO plan, so there are no funding requests" in shown(html, "not-applicable")
    assert "11,437.00" not in html and 'data-testid="requests"' not in html
    assert csv_rows(client.get("/employer/funding.csv")) == [
        ["Request", "Requested on", "Amount", "Settled", "Open", "Payment cycle"]]
    refused = client.post("/employer/funding/fund/", {"token": "t-1"})
    assert refused.status_code == 200
    assert "employer: Bayshore Retail Group has no ASO plan" in shown(refused.content.decode(), "action-error")
    assert not Deposit.objects.exists()


# --- Reimbursement invoices and the pay action (ASC) ---------------------------------------------

def test_pay_settles_the_open_invoices_once_under_a_double_post(reviewed, client_for):
    employer = reviewed["employers"]["asc"]
    funding.payment_cycle_run(today=DEMO_DATE)
    (invoice,) = funding.reimbursement_billing_run(today=DEMO_DATE)
    client = client_for("employer2")
    html = client.get("/employer/invoices/").content.decode()
    assert shown(html, "open-invoiced") == "$907.75"
    assert table(html, "invoices") == [
        ["Invoice", "Issued on ↓", "Carrier", "Amount", "Paid", "Open", "Age (days)"],
        [f"#{invoice.pk}", "Jun 15, 2026", "Keystone Mutual Health Insurance Co.", "$907.75", "$0.00", "$907.75", "0"]]
    token = token_of(html)
    assert client.post("/employer/invoices/pay/", {"token": token}).status_code == 302
    assert client.post("/employer/invoices/pay/", {"token": token}).status_code == 302
    (payment,) = SponsorPayment.objects.filter(employer=employer)
    assert payment.amount == D("907.75") and payment.unapplied_amount == 0
    invoice.refresh_from_db()
    assert invoice.open_amount == 0
    page = client.get("/employer/invoices/").content.decode()
    assert (f"Payment {payment.pk} of $907.75 to Keystone Mutual Health Insurance Co. recorded on Jun 15, 2026"
            in page)
    assert "Nothing open" in shown(page, "nothing-open")
    assert table(page, "invoices")[1] == [f"#{invoice.pk}", "Jun 15, 2026", "Keystone Mutual Health Insurance Co.",
                                          "$907.75", "$907.75", "$0.00", "paid"]
    assert csv_rows(client.get("/employer/invoices.csv")) == [
        ["Invoice", "Issued on", "Carrier", "Amount", "Paid", "Open", "Age (days)"],
        [str(invoice.pk), "2026-06-15", "Keystone Mutual Health Insurance Co.", "907.75", "907.75", "0.00", ""]]
    # The same form sent again after a new invoice is still the one payment.
    approved_claim(plan=reviewed["plans"]["asc"], member=_member("Marco Rossi"), provider=reviewed["providers"][1],
                   plan_paid="40.25", received="2026-06-12")
    funding.payment_cycle_run(today=DEMO_DATE)
    (later,) = funding.reimbursement_billing_run(today=DEMO_DATE)
    assert client.post("/employer/invoices/pay/", {"token": token}).status_code == 302
    assert SponsorPayment.objects.filter(employer=employer).count() == 1
    later.refresh_from_db()
    assert later.open_amount == D("40.25")
    assert "<button type=\"submit\">Pay $40.25</button>" in client.get("/employer/invoices/").content.decode()


def test_employer2_sees_its_invoices_and_not_northwinds_requests(reviewed, client_for):
    funding.payment_cycle_run(today=DEMO_DATE)
    (invoice,) = funding.reimbursement_billing_run(today=DEMO_DATE + datetime.timedelta(days=3))
    client = client_for("employer2")
    assert csv_rows(client.get("/employer/invoices.csv"))[1:] == [
        [str(invoice.pk), "2026-06-18", "Keystone Mutual Health Insurance Co.", "907.75", "0.00", "907.75", "0"]]
    northwind = client_for("employer")
    html = northwind.get("/employer/invoices/").content.decode()
    assert "has no ASC plan" in shown(html, "not-applicable") and "907.75" not in html
    assert csv_rows(northwind.get("/employer/invoices.csv"))[1:] == []
    refused = northwind.post("/employer/invoices/pay/", {"token": "t-1"})
    assert refused.status_code == 200 and "has no ASC plan" in shown(refused.content.decode(), "action-error")
    assert not SponsorPayment.objects.exists()


# --- Fees billed ---------------------------------------------------------------------------------

def test_fees_billed_page_and_csv_row_by_row(demo, client_for):
    funding.fee_billing_run(today=datetime.date(2026, 5, 1))
    funding.fee_billing_run(today=DEMO_DATE)
    client = client_for("employer")
    html = client.get("/employer/fees/").content.decode()
    assert table(html, "fees") == [
        ["Month ↓", "Kind", "Plan", "Subscribers", "Per subscriber", "Amount", "Billed on"],
        ["Jun 2026", "Admin fee", "Northwind PPO 1000", "8", "$45.00", "$360.00", "Jun 15, 2026"],
        ["May 2026", "Admin fee", "Northwind PPO 1000", "8", "$45.00", "$360.00", "May 1, 2026"],
    ]
    assert "Bayshore" not in html and "231.00" not in html and "3,060.00" not in html
    assert csv_rows(client.get("/employer/fees.csv?sort=month")) == [
        ["Month", "Kind", "Plan", "Subscribers", "PEPM", "Amount", "Billed on"],
        ["2026-05", "Admin fee", "Northwind PPO 1000", "8", "45.00", "360.00", "2026-05-01"],
        ["2026-06", "Admin fee", "Northwind PPO 1000", "8", "45.00", "360.00", "2026-06-15"],
    ]
    assert csv_rows(client.get("/employer/fees.csv?kind=premium"))[1:] == []
    assert csv_rows(client_for("employer2").get("/employer/fees.csv"))[1:] == [
        ["2026-06", "Admin fee", "Bayshore Choice PPO 1500", "6", "38.50", "231.00", "2026-06-15"],
        ["2026-05", "Admin fee", "Bayshore Choice PPO 1500", "6", "38.50", "231.00", "2026-05-01"],
    ]


# --- The stop-loss position ----------------------------------------------------------------------

def test_stop_loss_position_by_member_id_and_initials_only(northwind_year, client_for):
    priya, michael, daniel = _member("Priya Raman"), _member("Michael Brennan"), _member("Daniel Okafor")
    html = client_for("employer").get("/employer/stop-loss/").content.decode()
    assert table(html, "stop-loss-members") == [
        ["Member ID", "Initials", "Plan", "Counted claims", "Attachment", "Share of attachment ↓", "To attachment",
         "Reimbursed", "Flag"],
        [priya.member_id, "P. R.", "Northwind PPO 1000", "$80,000.00", "$75,000.00", "106.7 %", "$0.00", "$5,000.00",
         "Past attachment"],
        [michael.member_id, "M. B.", "Northwind PPO 1000", "$45,000.00", "$75,000.00", "60.0 %", "$30,000.00", "$0.00",
         "Past 50 %"],
        [daniel.member_id, "D. O.", "Northwind PPO 1000", "$11,437.00", "$75,000.00", "15.2 %", "$63,563.00", "$0.00",
         ""],
    ]
    # Never a name, never a procedure code (the claims' lines: 47562, 99213, 72148, 27447, 99223, 80053).
    for secret in ("Priya", "Raman", "Brennan", "Okafor", "47562", "99213", "72148", "27447", "99223", "80053"):
        assert secret not in html, secret
    assert shown(html, "members-flagged") == "2"
    assert shown(html, "specific-reimbursed") == "$5,000.00"
    # The aggregate: 75,000.00 (Priya, capped) + 45,000.00 + 11,437.00 of 525,000.00 (420,000.00 × 1.25).
    assert shown(html, "aggregate").startswith(
        "$131,437.00 counted (each member capped at its attachment) of the $525,000.00 attachment point: 25.0 %, "
        "$393,563.00 to go.")
    assert "12/15: claims incurred Jan 1, 2026 to Dec 31, 2026, paid by Mar 31, 2027" in html

    flagged = client_for("employer").get("/employer/stop-loss/?flagged=on&sort=member").content.decode()
    assert [r[0] for r in table(flagged, "stop-loss-members")[1:]] == sorted([priya.member_id, michael.member_id])


def test_stop_loss_csv_row_by_row(northwind_year, client_for):
    priya, michael, daniel = _member("Priya Raman"), _member("Michael Brennan"), _member("Daniel Okafor")
    response = client_for("employer").get("/employer/stop-loss.csv")
    rows = csv_rows(response)
    assert rows == [
        ["Plan", "Member ID", "Initials", "Counted claims", "Attachment", "Laser", "Share of attachment (%)",
         "To attachment", "Over attachment", "Reimbursed", "Past 50 %"],
        ["Northwind PPO 1000", priya.member_id, "P. R.", "80000.00", "75000.00", "no", "106.7", "0.00", "5000.00",
         "5000.00", "yes"],
        ["Northwind PPO 1000", michael.member_id, "M. B.", "45000.00", "75000.00", "no", "60.0", "30000.00", "0.00",
         "0.00", "yes"],
        ["Northwind PPO 1000", daniel.member_id, "D. O.", "11437.00", "75000.00", "no", "15.2", "63563.00", "0.00",
         "0.00", "no"],
    ]
    assert "Raman" not in body_of(response)


def test_a_laser_replaces_the_attachment_on_the_asc_sponsors_page(reviewed, client_for):
    plan = reviewed["plans"]["asc"]
    novak = _member("Thomas Novak")
    approved_claim(plan=plan, member=novak, provider=reviewed["providers"][4], plan_paid="70000.00",
                   received="2026-06-10", service="2026-06-01")
    funding.payment_cycle_run(today=DEMO_DATE)
    html = client_for("employer2").get("/employer/stop-loss/").content.decode()
    rows = table(html, "stop-loss-members")
    # 70,000.00 + the demo's 100.00 of 125,000.00 (his laser), flagged past half of it
    assert rows[1] == [novak.member_id, "T. N.", "Bayshore Choice PPO 1500", "$70,100.00", "$125,000.00 (laser)",
                       "56.1 %", "$54,900.00", "$0.00", "Past 50 %"]
    assert "Novak" not in html
    assert "$600,000.00 attachment point" in shown(html, "aggregate")


def test_a_sponsor_without_stop_loss_says_so(demo, client_for):
    StopLossPolicy.objects.filter(plan__sponsor=demo["employers"]["aso"]).update(start=datetime.date(2027, 1, 1))
    html = client_for("employer").get("/employer/stop-loss/").content.decode()
    assert "has no stop-loss policy in force" in shown(html, "not-applicable")


# --- Bounded queries, refusals, bad input --------------------------------------------------------

def _queries(client, url, count_queries) -> int:
    with count_queries() as q:
        assert client.get(url).status_code == 200
    return len(q)


def test_queries_per_page_do_not_grow_with_the_data(reviewed, client_for, count_queries):
    employer = reviewed["employers"]["aso"]
    funding.payment_cycle_run(today=DEMO_DATE)
    funding.fee_billing_run(today=DEMO_DATE)
    client = client_for("employer")
    for url in PAGES + CSVS:
        client.get(url)  # the summary figures computed once
    before = {url: _queries(client, url, count_queries) for url in PAGES + CSVS}
    for day in range(1, 6):  # five more cycles, each asking for one more claim; five more months billed
        _big_claims(reviewed, ("Aisha Bello", f"{day}00.00"))
        funding.payment_cycle_run(today=DEMO_DATE + datetime.timedelta(days=day))
        funding.fee_billing_run(today=datetime.date(2026, 6 + day, 1))
    funding.sponsor_deposit(employer=employer, amount="100.00", today=DEMO_DATE)
    assert FundingRequest.objects.filter(employer=employer).count() == 6
    assert FeeBilling.objects.filter(plan__sponsor=employer).count() == 6
    figures_compute(key=f"employer:{employer.pk}")
    after = {url: _queries(client, url, count_queries) for url in PAGES + CSVS}
    assert after == before
    assert max(before.values()) <= 12


def test_lists_page_without_counting_the_table(reviewed, client_for):
    employer = reviewed["employers"]["aso"]
    for day in range(0, 27):
        _big_claims(reviewed, ("Aisha Bello", "10.00"))
        funding.payment_cycle_run(today=datetime.date(2026, 5, 1) + datetime.timedelta(days=day))
    assert FundingRequest.objects.filter(employer=employer).count() == 27
    client = client_for("employer")
    first = client.get("/employer/funding/").content.decode()
    assert len(table(first, "requests")) == 1 + 25 and 'rel="next"' in first
    second = client.get("/employer/funding/?page=2").content.decode()
    assert len(table(second, "requests")) == 1 + 2 and 'rel="next"' not in second and 'rel="prev"' in second


@pytest.mark.parametrize("username", ["provider", "examiner", "supervisor", "carrier", "member"])
def test_other_roles_are_refused(demo, client_for, username):
    client = client_for(username)
    for url in PAGES + CSVS:
        assert client.get(url).status_code == 403, url
    for url in ("/employer/funding/fund/", "/employer/invoices/pay/"):
        assert client.post(url, {"token": "t-1"}).status_code == 403, url
    assert not Deposit.objects.exists() and not SponsorPayment.objects.exists()


def test_anonymous_goes_to_the_login_page(demo):
    from django.test import Client

    response = Client().get("/employer/funding/")
    assert response.status_code == 302 and response.url == "/login/?next=/employer/funding/"


def test_the_actions_are_posts(demo, client_for):
    client = client_for("employer")
    assert client.get("/employer/funding/fund/").status_code == 405
    assert client.get("/employer/invoices/pay/").status_code == 405


@pytest.mark.parametrize("query", ["?page=abc", "?page=-3", "?page=99999999999999999999", "?sort=zzz", "?sort=-",
                                   "?status=bogus", "?kind=bogus", "?status=%00", "?flagged=%00", "?sort=%00&page=%00",
                                   "?status=" + "x" * 5000])
def test_bad_query_strings_answer_200(reviewed, client_for, query):
    funding.payment_cycle_run(today=DEMO_DATE)
    client = client_for("employer")
    for url in PAGES + CSVS:
        assert client.get(url + query).status_code == 200, url + query
    bad_status = client.get("/employer/funding/?status=bogus").content.decode()
    assert "Status: Select a valid choice. bogus is not one of the available choices." in bad_status
    assert len(table(bad_status, "requests")) == 2  # the filter's default: every request


@pytest.mark.parametrize("token", ["", "\x00", "x" * 65])
def test_a_bad_form_token_is_named_and_records_nothing(reviewed, client_for, token):
    funding.payment_cycle_run(today=DEMO_DATE)
    response = client_for("employer").post("/employer/funding/fund/", {"token": token})
    assert response.status_code == 200
    assert shown(response.content.decode(), "action-error").startswith("token: ")
    assert not Deposit.objects.exists()
    assert FundingRequest.objects.get().open_amount == D("11437.00")


def test_a_10_mb_form_or_query_is_refused_without_a_server_error(reviewed, client_for):
    funding.payment_cycle_run(today=DEMO_DATE)
    client = client_for("employer")
    response = client.post("/employer/funding/fund/", {"token": "x" * (10 * 1024 * 1024)})
    assert response.status_code in (200, 400)
    assert client.get("/employer/funding/?status=" + "x" * (1024 * 1024)).status_code == 200
    assert not Deposit.objects.exists()


def test_a_fully_insured_sponsors_net_cost_is_its_premiums(demo):
    """Fabrikam (fully insured with Great Lakes): the carrier's claims are shown apart, the cost is the premium."""
    from django.test import Client

    from parties.models import PartyLink
    from parties.services import user_create_with_role

    fabrikam = demo["employers"]["fi"]
    link = user_create_with_role(username="fabrikam", password="Fabrikam-admin-2026", role=PartyLink.Role.EMPLOYER_ADMIN,
                                 party=fabrikam, email="fabrikam@demo.example")
    funding.payment_cycle_run(today=DEMO_DATE)  # the demo's emergency visit: 140.00 from Great Lakes' funds
    funding.fee_billing_run(today=DEMO_DATE)  # 5 subscribers × 612.00
    client = Client()
    client.force_login(link.user)
    html = client.get("/employer/").content.decode()
    assert table(html, "spend")[-1] == ["Plan year to date", "1", "$140.00"]
    assert table(html, "net-cost-table")[1:] == [
        ["Claims paid, self-funded (plan paid)", "$0.00"], ["Admin fees billed", "$0.00"],
        ["Premiums billed", "$3,060.00"], ["Less stop-loss reimbursements received", "$0.00"],
        ["Net cost", "$3,060.00"]]
    assert "Your carrier also paid $140.00 of fully insured claims" in html
    assert "has no ASO plan" in client.get("/employer/funding/").content.decode()
    assert "has no ASC plan" in client.get("/employer/invoices/").content.decode()
    stop_loss = client.get("/employer/stop-loss/").content.decode()
    assert "A fully insured plan needs none: the carrier bears the risk." in stop_loss
    assert table(client.get("/employer/fees/").content.decode(), "fees")[1] == [
        "Jun 2026", "Premium", "Fabrikam HMO 500", "5", "$612.00", "$3,060.00", "Jun 15, 2026"]
