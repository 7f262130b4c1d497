"""The carrier analyst dashboard: ASC claims paid for each sponsor and what each still owes, aged by
invoice date against the business date; its invoices; fully insured claims and premiums; stop-loss
reimbursements paid and the members nearest their attachment (member ID and initials only); a CSV of
each table. Money is moved through the funding services; each figure is asserted to the cent.

The `carrier` login is Keystone Mutual: the ASC carrier of Bayshore Retail Group and its stop-loss
carrier. Northwind (ASO) is self-funded with no carrier money (its stop-loss is Great Lakes'), and
Fabrikam's fully insured plan is Great Lakes': neither is Keystone's business.
"""
import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from claims.models import Claim
from claims.services import claim_review, claims_adjudicate_pending
from core import clock
from funding import services as funding
from funding.models import FeeBilling, ReimbursementInvoice, StopLossFiling
from parties.models import Member
from plans.models import FundingArrangement
from portal.figures import figures_compute
from tests.funding.helpers import approved_claim, make_sponsor
from tests.portal.helpers import DEMO_DATE, body_of, csv_rows, shown, table

pytestmark = pytest.mark.django_db
D = Decimal
KEYSTONE = "Keystone Mutual Health Insurance Co."

PAGES = ["/carrier/", "/carrier/invoices/", "/carrier/fully-insured/", "/carrier/premiums/", "/carrier/stop-loss/",
         "/carrier/attachment/"]
CSVS = ["/carrier/aging.csv", "/carrier/invoices.csv", "/carrier/fully-insured.csv", "/carrier/premiums.csv",
        "/carrier/stop-loss.csv", "/carrier/attachment.csv"]


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.fixture
def reviewed(demo):
    examiner = get_user_model().objects.get(username="examiner")
    for claim_id in Claim.objects.filter(state="pended").values_list("pk", flat=True):
        claim_review(claim_id=claim_id, decision="approve", user=examiner, note="reviewed")
    claims_adjudicate_pending(today=DEMO_DATE)
    return demo


def _bayshore_claim(demo, name: str, amount: str, received: str):
    return approved_claim(plan=demo["plans"]["asc"], member=Member.objects.get(name=name),
                          provider=demo["providers"][1], plan_paid=amount, received=received, service=received,
                          code="47562")


@pytest.fixture
def aged(demo):
    """Keystone's receivable from Bayshore over a summer, the business date moved to 2026-09-20:
    - Jun 15: the demo's approved Bayshore claims (100.00 + 60.00 + 135.00) paid, invoiced (295.00);
    - Jul 20: 1,000.00 paid and invoiced; Aug 15: 2,000.00; Sep 10: 4,000.00;
    - Sep 18: 8,000.00 paid, not invoiced yet; Sep 19: Bayshore pays 200.00 (to the oldest invoice).
    Aged on Sep 20: 95.00 over 90 days (Jun 15), 1,000.00 at 61–90 (Jul 20), 2,000.00 at 31–60 (Aug 15),
    4,000.00 at 0–30 (Sep 10); owed 15,095.00 of 15,295.00 paid."""
    funding.payment_cycle_run(today=DEMO_DATE)
    funding.reimbursement_billing_run(today=DEMO_DATE)
    for name, amount, paid_on in (("Marco Rossi", "1000.00", "2026-07-20"), ("Linda Park", "2000.00", "2026-08-15"),
                                  ("Samuel Adeyemi", "4000.00", "2026-09-10")):
        _bayshore_claim(demo, name, amount, paid_on)
        funding.payment_cycle_run(today=day(paid_on))
        funding.reimbursement_billing_run(today=day(paid_on))
    _bayshore_claim(demo, "Natalie Dubois", "8000.00", "2026-09-18")
    funding.payment_cycle_run(today=day("2026-09-18"))
    funding.sponsor_reimbursement_pay(employer=demo["employers"]["asc"], amount="200.00", today=day("2026-09-19"))
    clock.clock_set(day=day("2026-09-20"))
    return demo


# --- ASC receivables, aged -----------------------------------------------------------------------

def test_home_ages_what_each_asc_sponsor_owes(aged, client_for):
    html = client_for("carrier").get("/carrier/").content.decode()
    assert table(html, "aging") == [
        ["Sponsor", "Claims paid", "Reimbursed", "Owed ↓", "0–30 days", "31–60 days", "61–90 days", "Over 90 days",
         "Not yet invoiced", "Oldest open invoice"],
        ["Bayshore Retail Group", "$15,295.00", "$200.00", "$15,095.00", "$4,000.00", "$2,000.00", "$1,000.00",
         "$95.00", "$8,000.00", "2026-06-15"],
        ["All ASC sponsors", "$15,295.00", "", "$15,095.00", "$4,000.00", "$2,000.00", "$1,000.00", "$95.00",
         "$8,000.00", ""],
    ]
    assert shown(html, "asc-paid") == "$15,295.00" and shown(html, "owed") == "$15,095.00"
    assert 'class="num overdue">$95.00' in html
    # Northwind is ASO (self-funded from its own account: no carrier money); Fabrikam is Great Lakes' business.
    assert "Northwind" not in html and "Fabrikam" not in html


@pytest.mark.parametrize(("days", "bucket"), [(-3, "days_0_30"), (0, "days_0_30"), (30, "days_0_30"),
                                             (31, "days_31_60"), (60, "days_31_60"), (61, "days_61_90"),
                                             (90, "days_61_90"), (91, "days_over_90"), (4000, "days_over_90")])
def test_aging_buckets_are_0_30_31_60_61_90_and_over_90_days(days, bucket):
    from funding.reports import aging_bucket

    assert aging_bucket(days=days) == bucket


def test_aging_csv_row_by_row(aged, client_for):
    assert csv_rows(client_for("carrier").get("/carrier/aging.csv")) == [
        ["Sponsor", "Claims paid", "Reimbursed", "Owed", "0–30 days", "31–60 days", "61–90 days", "Over 90 days",
         "Not yet invoiced", "Oldest open invoice"],
        ["Bayshore Retail Group", "15295.00", "200.00", "15095.00", "4000.00", "2000.00", "1000.00", "95.00",
         "8000.00", "2026-06-15"],
    ]


def test_the_receivable_is_the_ledgers(aged):
    """The page's owed figure is the scenario report's receivable (the ledger's ASC receivable account)."""
    from training.scenarios.report import money_report

    keystone = aged["carriers"]["keystone"]
    report = money_report(employers={}, carriers={"k": keystone}, providers={}, claims={})
    data = figures_compute(key=f"carrier:{keystone.pk}").data
    assert data["receivables"][0]["owed"] == report["carriers"]["k"]["receivable"] == "15095.00"


def test_invoices_page_ages_each_open_invoice_and_csv_row_by_row(aged, client_for):
    invoices = list(ReimbursementInvoice.objects.order_by("issued_on"))
    assert [i.open_amount for i in invoices] == [D("95.00"), D("1000.00"), D("2000.00"), D("4000.00")]
    client = client_for("carrier")
    html = client.get("/carrier/invoices/?status=open").content.decode()
    assert table(html, "invoices")[1:] == [
        [f"#{invoices[3].pk}", "Sep 10, 2026", "Bayshore Retail Group", "$4,000.00", "$0.00", "$4,000.00", "10",
         "0–30 days"],
        [f"#{invoices[2].pk}", "Aug 15, 2026", "Bayshore Retail Group", "$2,000.00", "$0.00", "$2,000.00", "36",
         "31–60 days"],
        [f"#{invoices[1].pk}", "Jul 20, 2026", "Bayshore Retail Group", "$1,000.00", "$0.00", "$1,000.00", "62",
         "61–90 days"],
        [f"#{invoices[0].pk}", "Jun 15, 2026", "Bayshore Retail Group", "$295.00", "$200.00", "$95.00", "97",
         "Over 90 days"],
    ]
    assert csv_rows(client.get("/carrier/invoices.csv?sort=issued")) == [
        ["Invoice", "Issued on", "Sponsor", "Amount", "Paid", "Open", "Age (days)", "Aging"],
        [str(invoices[0].pk), "2026-06-15", "Bayshore Retail Group", "295.00", "200.00", "95.00", "97", "Over 90 days"],
        [str(invoices[1].pk), "2026-07-20", "Bayshore Retail Group", "1000.00", "0.00", "1000.00", "62", "61–90 days"],
        [str(invoices[2].pk), "2026-08-15", "Bayshore Retail Group", "2000.00", "0.00", "2000.00", "36", "31–60 days"],
        [str(invoices[3].pk), "2026-09-10", "Bayshore Retail Group", "4000.00", "0.00", "4000.00", "10", "0–30 days"],
    ]
    sponsor = aged["employers"]["asc"].pk
    assert len(csv_rows(client.get(f"/carrier/invoices.csv?sponsor={sponsor}"))) == 5


def test_a_sponsors_payment_shows_at_once_on_the_invoices(aged, client_for):
    funding.sponsor_reimbursement_pay(employer=aged["employers"]["asc"], amount=funding.REQUESTED)
    html = client_for("carrier").get("/carrier/invoices/?status=open").content.decode()
    assert table(html, "invoices")[1:] == [["No invoices match the filter."]]


def test_another_carriers_invoices_are_not_there(aged, client_for):
    other = make_sponsor(FundingArrangement.ASC)  # an ASC sponsor of another carrier
    approved_claim(plan=other.plan, member=other.member(), provider=aged["providers"][1], plan_paid="321.00",
                   received="2026-09-19")
    funding.payment_cycle_run(today=day("2026-09-20"))
    funding.reimbursement_billing_run(today=day("2026-09-20"))
    assert ReimbursementInvoice.objects.filter(carrier=other.carrier).exists()
    client = client_for("carrier")
    for url in ("/carrier/", "/carrier/invoices/", "/carrier/aging.csv", "/carrier/invoices.csv"):
        body = body_of(client.get(url))
        assert other.employer.name not in body and "321.00" not in body, url


# --- Fully insured -------------------------------------------------------------------------------

@pytest.fixture
def insured(demo):
    """A fully insured sponsor of Keystone (two subscribers, premium 512.25 a month): one claim of
    1,234.56 paid from Keystone's funds, June's premium billed (1,024.50). Fabrikam's (Great Lakes) too."""
    sponsor = make_sponsor(FundingArrangement.FULLY_INSURED, members=2, carrier=demo["carriers"]["keystone"],
                           premium_pepm=D("512.25"))
    approved_claim(plan=sponsor.plan, member=sponsor.member(), provider=demo["providers"][0], plan_paid="1234.56",
                   received="2026-06-10")
    funding.payment_cycle_run(today=DEMO_DATE)
    funding.fee_billing_run(today=DEMO_DATE)
    return sponsor


def test_fully_insured_claims_and_premiums(insured, client_for):
    client = client_for("carrier")
    html = client.get("/carrier/fully-insured/").content.decode()
    assert table(html, "fully-insured") == [
        ["Sponsor ↑", "Claims paid", "Premiums billed", "Loss ratio"],
        [insured.employer.name, "$1,234.56", "$1,024.50", "120.5 %"],
        ["All fully insured sponsors", "$1,234.56", "$1,024.50", ""],
    ]
    assert "Fabrikam" not in html
    assert csv_rows(client.get("/carrier/fully-insured.csv")) == [
        ["Sponsor", "Claims paid", "Premiums billed", "Loss ratio (%)"],
        [insured.employer.name, "1234.56", "1024.50", "120.5"]]
    home = client.get("/carrier/").content.decode()
    # Keystone also paid Bayshore's approved ASC claims in that cycle (295.00): those are not insured claims.
    assert shown(home, "insured-paid") == "$1,234.56" and shown(home, "asc-paid") == "$295.00"


def test_premiums_billed_page_and_csv(insured, client_for):
    client = client_for("carrier")
    html = client.get("/carrier/premiums/").content.decode()
    assert table(html, "premiums") == [
        ["Month ↓", "Sponsor", "Plan", "Subscribers", "Per subscriber", "Amount", "Billed on"],
        ["Jun 2026", insured.employer.name, insured.plan.name, "2", "$512.25", "$1,024.50", "Jun 15, 2026"]]
    # Bayshore's admin fee is the TPA's income, Fabrikam's premium Great Lakes'.
    assert FeeBilling.objects.count() == 4 and "231.00" not in html and "3,060.00" not in html
    assert csv_rows(client.get("/carrier/premiums.csv")) == [
        ["Month", "Sponsor", "Plan", "Subscribers", "PEPM", "Amount", "Billed on"],
        ["2026-06", insured.employer.name, insured.plan.name, "2", "512.25", "1024.50", "2026-06-15"]]


def test_no_fully_insured_business_says_so(demo, client_for):
    html = client_for("carrier").get("/carrier/fully-insured/").content.decode()
    assert "You carry no fully insured plan" in shown(html, "not-applicable")


# --- Stop-loss -----------------------------------------------------------------------------------

@pytest.fixture
def stop_loss_year(reviewed):
    """Bayshore's stop-loss (Keystone): Marco Rossi's 52,000.00 (2,000.00 over the 50,000.00 specific attachment,
    reimbursed), Thomas Novak's 70,000.00 on his 125,000.00 laser. Northwind's Priya Raman (Great Lakes'
    policy) 90,000.00, funded: another carrier's member."""
    _bayshore_claim(reviewed, "Marco Rossi", "52000.00", "2026-06-10")
    _bayshore_claim(reviewed, "Thomas Novak", "70000.00", "2026-06-10")
    approved_claim(plan=reviewed["plans"]["aso"], member=Member.objects.get(name="Priya Raman"),
                   provider=reviewed["providers"][4], plan_paid="90000.00", received="2026-06-10")
    funding.sponsor_deposit(employer=reviewed["employers"]["aso"], amount="90000.00", today=DEMO_DATE)
    funding.payment_cycle_run(today=DEMO_DATE)
    filings = funding.stop_loss_evaluate(today=DEMO_DATE)
    assert sorted((f.member.name, f.amount) for f in filings) == [("Marco Rossi", D("2000.00")),
                                                                 ("Priya Raman", D("15000.00"))]
    return reviewed


def test_stop_loss_reimbursements_paid_by_member_id_and_initials(stop_loss_year, client_for):
    marco = Member.objects.get(name="Marco Rossi")
    filing = StopLossFiling.objects.get(member=marco)
    client = client_for("carrier")
    html = client.get("/carrier/stop-loss/").content.decode()
    assert shown(html, "stop-loss-paid") == "$2,000.00"
    assert table(html, "filings") == [
        ["Filed on ↓", "Sponsor", "Plan", "Kind", "Member ID", "Initials", "Counted claims", "Attachment", "Reimbursed"],
        ["Jun 15, 2026", "Bayshore Retail Group", "Bayshore Choice PPO 1500", "Specific", marco.member_id, "M. R.",
         "$52,000.00", "$50,000.00", "$2,000.00"]]
    assert shown(html, "specific-reimbursed") == "$2,000.00"
    for secret in ("Rossi", "Novak", "Raman", "Northwind", "15,000.00", "47562", "99214"):
        assert secret not in html, secret
    assert csv_rows(client.get("/carrier/stop-loss.csv")) == [
        ["Filing", "Filed on", "Sponsor", "Plan", "Kind", "Member ID", "Initials", "Counted claims", "Attachment",
         "Reimbursed"],
        [str(filing.pk), "2026-06-15", "Bayshore Retail Group", "Bayshore Choice PPO 1500", "Specific",
         marco.member_id, "M. R.", "52000.00", "50000.00", "2000.00"]]
    assert shown(client.get("/carrier/").content.decode(), "stop-loss-paid") == "$2,000.00"


def test_members_approaching_attachment(stop_loss_year, client_for):
    marco, novak = Member.objects.get(name="Marco Rossi"), Member.objects.get(name="Thomas Novak")
    keisha, jordan = Member.objects.get(name="Keisha Washington"), Member.objects.get(name="Jordan Washington")
    priya = Member.objects.get(name="Priya Raman")
    client = client_for("carrier")
    html = client.get("/carrier/attachment/").content.decode()
    assert table(html, "stop-loss-members") == [
        ["Member ID", "Initials", "Sponsor", "Plan", "Counted claims", "Attachment", "Share of attachment ↓",
         "To attachment", "Reimbursed", "Flag"],
        [marco.member_id, "M. R.", "Bayshore Retail Group", "Bayshore Choice PPO 1500", "$52,000.00", "$50,000.00",
         "104.0 %", "$0.00", "$2,000.00", "Past attachment"],
        [novak.member_id, "T. N.", "Bayshore Retail Group", "Bayshore Choice PPO 1500", "$70,100.00",
         "$125,000.00 (laser)", "56.1 %", "$54,900.00", "$0.00", "Past 50 %"],
        [keisha.member_id, "K. W.", "Bayshore Retail Group", "Bayshore Choice PPO 1500", "$672.75", "$50,000.00",
         "1.3 %", "$49,327.25", "$0.00", ""],
        [jordan.member_id, "J. W.", "Bayshore Retail Group", "Bayshore Choice PPO 1500", "$135.00", "$50,000.00",
         "0.3 %", "$49,865.00", "$0.00", ""],
    ]
    for secret in ("Rossi", "Novak", "Washington", "Raman", priya.member_id, "47562", "99214"):
        assert secret not in html, secret
    flagged = client.get("/carrier/attachment/?flagged=on").content.decode()
    assert [r[0] for r in table(flagged, "stop-loss-members")[1:]] == [marco.member_id, novak.member_id]
    assert csv_rows(client.get("/carrier/attachment.csv?flagged=on")) == [
        ["Sponsor", "Plan", "Member ID", "Initials", "Counted claims", "Attachment", "Laser", "Share of attachment (%)",
         "To attachment", "Over attachment", "Reimbursed", "Past 50 %"],
        ["Bayshore Retail Group", "Bayshore Choice PPO 1500", marco.member_id, "M. R.", "52000.00", "50000.00", "no",
         "104.0", "0.00", "2000.00", "2000.00", "yes"],
        ["Bayshore Retail Group", "Bayshore Choice PPO 1500", novak.member_id, "T. N.", "70100.00", "125000.00", "yes",
         "56.1", "54900.00", "0.00", "0.00", "yes"],
    ]


# --- Bounded queries, refusals, bad input --------------------------------------------------------

def _queries(client, url, count_queries) -> int:
    with count_queries() as q:
        assert client.get(url).status_code == 200
    return len(q)


def test_queries_per_page_do_not_grow_with_the_data(demo, insured, client_for, count_queries):
    keystone = insured.carrier
    funding.reimbursement_billing_run(today=DEMO_DATE)
    client = client_for("carrier")
    for url in PAGES + CSVS:
        client.get(url)
    before = {url: _queries(client, url, count_queries) for url in PAGES + CSVS}
    for n in range(1, 6):  # five more invoices, premium months, filings; a second insured sponsor
        paid_on = DEMO_DATE + datetime.timedelta(days=n)
        _bayshore_claim(demo, "Marco Rossi", f"{n}1000.00", paid_on.isoformat())
        funding.payment_cycle_run(today=paid_on)
        funding.reimbursement_billing_run(today=paid_on)
        funding.fee_billing_run(today=datetime.date(2026, 6 + n, 1))
        funding.stop_loss_evaluate(today=paid_on)
    make_sponsor(FundingArrangement.FULLY_INSURED, members=1, carrier=keystone, premium_pepm=D("100.00"))
    assert ReimbursementInvoice.objects.filter(carrier=keystone).count() == 6
    assert StopLossFiling.objects.filter(policy__carrier=keystone).count() >= 3
    figures_compute(key=f"carrier:{keystone.pk}")
    after = {url: _queries(client, url, count_queries) for url in PAGES + CSVS}
    # The filings' list finds its page's ids, then reads those filings: one query more once there are any.
    assert after == {**before, "/carrier/stop-loss/": before["/carrier/stop-loss/"] + 1}
    assert max(after.values()) <= 12


@pytest.mark.parametrize("username", ["provider", "examiner", "supervisor", "employer", "employer2", "member"])
def test_other_roles_are_refused(demo, client_for, username):
    client = client_for(username)
    for url in PAGES + CSVS:
        assert client.get(url).status_code == 403, (username, url)


@pytest.mark.parametrize("query", ["?page=abc", "?page=0", "?page=99999999999999999999", "?sort=zzz", "?sort=-",
                                   "?status=bogus", "?sponsor=abc", "?sponsor=99999999999999999999", "?kind=%00",
                                   "?owing=%00", "?flagged=x", "?sort=%00&page=%00", "?sponsor=" + "9" * 5000])
def test_bad_query_strings_answer_200(aged, client_for, query):
    client = client_for("carrier")
    for url in PAGES + CSVS:
        assert client.get(url + query).status_code == 200, url + query
    bad = client.get("/carrier/invoices/?sponsor=abc").content.decode()
    assert "Sponsor: Select a valid choice. abc is not one of the available choices." in bad
    assert len(table(bad, "invoices")) == 1 + 4  # the filter's default: every invoice
