"""Explanations that teach: the lifecycle diagram is the django-fsm declaration and a claim's path its
transition log; the money flows equal the ledger (per claim: ASO paid after a deposit, ASC reimbursed,
fully insured, a stop-loss reimbursement; per sponsor: sums by kind, a bounded number of queries); the
glossary is docs/domain.md §7; another party's claim or sponsor is a 404 on every new page."""
import datetime
import re
from collections import defaultdict
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.urls import reverse
from django_fsm_log.models import StateLog

from claims.models import Claim
from claims.selectors import claim_transitions
from claims.services import claim_review, claims_adjudicate_pending
from funding import services as funding
from funding.models import (
    Deposit,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    ReimbursementInvoiceClaim,
    SponsorPaymentAllocation,
    StopLossFiling,
)
from parties.models import Employer, PartyLink
from plans.models import StopLossLaser, StopLossPolicy
from portal.explain.glossary import glossary_parse, glossary_terms
from portal.explain.lifecycle import claim_fsm_transitions, lifecycle_diagram
from portal.explain.money_flow import claim_money_flow, sponsor_money_flow
from portal.templatetags.glossary import link_terms
from tests.portal.helpers import DEMO_DATE, ROLE_LOGINS, table

pytestmark = pytest.mark.django_db
ZERO = Decimal("0.00")
LATER = DEMO_DATE + datetime.timedelta(days=7)


def _user(username):
    return get_user_model().objects.get(username=username)


@pytest.fixture
def moved(demo):
    """A month of business: pended claims approved, adjudication, a payment cycle (ASO claims wait for
    funds), the ASO sponsor's deposit (which releases them), ASC reimbursement billing and the sponsor's
    payment, and a stop-loss evaluation after a laser of 1.00 on the ASO member whose claim was paid."""
    examiner = _user("examiner")
    for claim_id in Claim.objects.filter(state="pended").values_list("pk", flat=True):
        claim_review(claim_id=claim_id, decision="approve", user=examiner, note="reviewed")
    claims_adjudicate_pending(today=DEMO_DATE)
    funding.payment_cycle_run(today=DEMO_DATE)
    aso = Employer.objects.get(plans__funding="ASO")
    asc = Employer.objects.get(plans__funding="ASC")
    funding.sponsor_deposit(employer=aso, amount=funding.REQUESTED, today=DEMO_DATE, reference="wire-1")
    funding.reimbursement_billing_run(today=LATER)
    funding.sponsor_reimbursement_pay(employer=asc, amount=funding.REQUESTED, today=LATER, reference="ach-1")
    released = (Claim.objects.filter(plan__funding="ASO", state="paid", plan_paid__gt=0,
                                     payment__remittance__cycle__kind="release").order_by("pk").first())
    policy = StopLossPolicy.objects.get(plan=released.plan)
    StopLossLaser.objects.update_or_create(policy=policy, member=released.member,
                                           defaults={"attachment": Decimal("1.00")})
    funding.stop_loss_evaluate(today=LATER)
    return {"aso": aso, "asc": asc, "released": released}


# --- The lifecycle ---------------------------------------------------------------------------------

def test_the_diagram_has_every_state_and_transition_of_the_fsm():
    declared = Claim._meta.get_field("state").get_all_transitions(Claim)
    declared = {(t.name, str(t.source), str(t.target)) for t in declared}
    diagram = lifecycle_diagram()
    assert {(t["name"], t["source"], t["target"]) for t in diagram["transitions"]} == declared
    assert len(diagram["transitions"]) == len(declared) == 13
    drawn = {(name, e.source, e.target) for e in diagram["edges"] for name in e.names}
    assert drawn == declared
    assert {b.state for b in diagram["boxes"]} == {v for v, _ in Claim._meta.get_field("state").choices}
    columns = {b.state: b.column for b in diagram["boxes"]}
    assert columns["submitted"] == 0 and columns["approved"] == 1 and columns["paid"] == 2


def test_the_lifecycle_page_draws_every_transition_for_every_role(demo, client_for):
    declared = claim_fsm_transitions()
    for username in ROLE_LOGINS:
        page = client_for(username).get(reverse("portal:explain-lifecycle"))
        html = page.content.decode()
        assert page.status_code == 200, username
        assert "<svg" in html and "<title id=\"lifecycle-title\">" in html
        drawn = {(name, s, t) for s, t, names in re.findall(
            r'data-source="(\w+)" data-target="(\w+)" data-transitions="([\w ]+)"', html) for name in names.split()}
        assert drawn == {(t.name, t.source, t.target) for t in declared}
        assert len(table(html, "lifecycle-transitions")) == len(declared) + 1
        assert "on-path" not in html and "▶ now" not in html  # the whole lifecycle: no claim highlighted


def _path_of(html):
    return [(s, t, name) for name, s, t in re.findall(
        r'<li data-step="\d+" data-transition="(\w*)" data-source="(\w*)" data-target="(\w+)"', html)]


def test_the_highlighted_path_is_the_claims_transition_log(moved, client_for):
    claim = moved["released"]  # submitted -> approved -> awaiting_funds -> paid
    log = claim_transitions(claim=claim)
    assert len(log) >= 3
    expected = [(r.source_state or "", r.state, r.transition) for r in log]
    for username, name in (("examiner", "examiner-claim"), ("supervisor", "examiner-claim"),
                           ("employer", "employer-claim-explained"), ("member", "member-claim"),
                           ("examiner", "examiner-claim-explained")):
        html = client_for(username).get(reverse(f"portal:{name}", kwargs={"claim_id": claim.pk})).content.decode()
        assert _path_of(html) == expected, (username, name)
        on_path = dict(re.findall(r'class="edge on-path" data-source="(\w+)" data-target="(\w+)"', html))
        steps = {(s, t) for s, t, _ in expected if s}
        assert set(on_path.items()) == steps
        assert re.search(rf'class="state current visited" data-state="{claim.state}"', html)
        assert html.count("▶ now") == 1


# --- The money ---------------------------------------------------------------------------------------

def _entry(txn_id, account_id) -> Decimal:
    return LedgerEntry.objects.filter(transaction_id=txn_id, account_id=account_id).aggregate(t=Sum("amount"))["t"]


def _assert_arrows_are_the_ledger(flow):
    """Every arrow is a leg of its transaction: into the target that amount, out of the source the same."""
    into = defaultdict(lambda: ZERO)
    for a in flow["arrows"]:
        assert _entry(a.transaction_id, a.target) == a.amount
        assert _entry(a.transaction_id, a.source) == -a.amount
        into[a.transaction_id] += a.amount
    for txn_id, total in into.items():  # no leg left out
        positive = LedgerEntry.objects.filter(transaction_id=txn_id, amount__gt=0).aggregate(t=Sum("amount"))["t"]
        assert positive == total


def test_an_aso_claim_paid_after_a_deposit(moved, client_for):
    claim = moved["released"]
    payment = Payment.objects.select_related("remittance").get(claim=claim)
    deposit = Deposit.objects.get(release=payment.remittance.cycle)
    flow = claim_money_flow(claim=claim, user=_user("examiner"))
    _assert_arrows_are_the_ledger(flow)
    kinds = {a.transaction_id: a.kind for a in flow["arrows"]}
    assert kinds[payment.remittance.transaction_id] == "claim_payment"
    assert kinds[deposit.transaction_id] == "deposit"
    paid = next(a for a in flow["arrows"] if a.kind == "claim_payment")
    assert paid.share == payment.amount == claim.plan_paid
    assert paid.source_node.kind == "sponsor_claims" and paid.target_node.kind == "provider"
    dep = next(a for a in flow["arrows"] if a.kind == "deposit")
    assert dep.amount == deposit.amount and dep.source_node.kind == "sponsor"
    html = client_for("examiner").get(reverse("portal:examiner-claim", kwargs={"claim_id": claim.pk})).content.decode()
    rows = table(html, "claim-money-table")[1:]
    assert len(rows) == len(flow["arrows"])
    assert {r[3] for r in rows} >= {f"${payment.remittance.amount:,.2f}", f"${deposit.amount:,.2f}"}


def test_an_asc_claim_reimbursed(moved, client_for):
    item = ReimbursementInvoiceClaim.objects.filter(invoice__employer=moved["asc"], amount__gt=0).first()
    claim = item.claim
    allocation = SponsorPaymentAllocation.objects.get(invoice=item.invoice)
    payment = Payment.objects.select_related("remittance").get(claim=claim)
    for username in ("examiner", "employer2", "carrier"):  # employer2 is the ASC sponsor's admin
        flow = claim_money_flow(claim=claim, user=_user(username))
        _assert_arrows_are_the_ledger(flow)
        by_txn = defaultdict(set)
        for a in flow["arrows"]:
            by_txn[a.transaction_id].add((a.source_node.kind, a.target_node.kind))
        assert by_txn[payment.remittance.transaction_id] == {("carrier", "provider"), ("sponsor", "asc_receivable")}
        assert by_txn[allocation.payment.transaction_id] == {("asc_receivable", "carrier")}
        owed = next(a for a in flow["arrows"] if a.target_node.kind == "asc_receivable")
        assert owed.amount == _entry(payment.remittance.transaction_id, owed.target)
        assert f"invoice {item.invoice_id}" in " ".join(flow["notes"])
    provider = _provider_user(claim)  # the provider sees its payment only: not the sponsor's invoice
    assert {a.kind for a in claim_money_flow(claim=claim, user=provider)["arrows"]} == {"claim_payment"}


def _provider_user(claim):
    """A login of the claim's provider (made here when the demo has none for it)."""
    from tests.factories import login

    link = PartyLink.objects.filter(provider_id=claim.provider_id).first()
    return link.user if link else login("provider_staff", claim.provider, username=f"office-{claim.provider_id}")


def test_a_fully_insured_claim(moved):
    claim = Claim.objects.filter(plan__funding="FULLY_INSURED", state="paid", plan_paid__gt=0).first()
    flow = claim_money_flow(claim=claim, user=_user("carrier"))
    _assert_arrows_are_the_ledger(flow)
    assert [(a.source_node.kind, a.target_node.kind) for a in flow["arrows"]] == [("carrier", "provider")]
    assert flow["arrows"][0].share == claim.plan_paid


def test_a_stop_loss_reimbursement_the_claim_counted_toward(moved):
    claim = moved["released"]
    filing = StopLossFiling.objects.get(kind="specific", member=claim.member)
    assert filing.amount > 0
    flow = claim_money_flow(claim=claim, user=_user("examiner"))
    _assert_arrows_are_the_ledger(flow)
    stop = [a for a in flow["arrows"] if a.kind == "stop_loss"]
    assert [(a.transaction_id, a.amount) for a in stop] == [(filing.transaction_id, filing.amount)]
    assert stop[0].source_node.kind == "stop_loss" and stop[0].target_node.kind == "sponsor_claims"
    # The sponsor sees it too; the provider its payment only; a member no money section at all.
    assert {a.kind for a in claim_money_flow(claim=claim, user=_user("employer"))["arrows"]} == {
        "claim_payment", "deposit", "stop_loss"}
    assert {a.kind for a in claim_money_flow(claim=claim, user=_provider_user(claim))["arrows"]} == {"claim_payment"}
    assert claim_money_flow(claim=claim, user=_user("member")) is None


def _ledger_by_kind(employer, start, end):
    return {k: t for k, t in LedgerEntry.objects.filter(
        transaction__employer=employer, transaction__date__gte=start, transaction__date__lte=end, amount__gt=0,
    ).values("transaction__kind").annotate(t=Sum("amount")).values_list("transaction__kind", "t")}


@pytest.mark.parametrize("sponsor", ["aso", "asc"])
def test_the_sponsor_picture_sums_are_the_ledgers(moved, sponsor):
    employer = moved[sponsor]
    funding.fee_billing_run(today=LATER)
    flow = sponsor_money_flow(employer=employer, today=LATER)
    expected = _ledger_by_kind(employer, flow["start"], LATER)
    assert expected and {t["kind"]: t["amount"] for t in flow["totals"]} == expected
    arrows = defaultdict(lambda: ZERO)
    for a in flow["arrows"]:
        arrows[a.kind] += a.amount
    assert dict(arrows) == expected
    for t in flow["totals"]:
        assert t["transactions"] == LedgerTransaction.objects.filter(
            employer=employer, kind=t["kind"], date__gte=flow["start"], date__lte=LATER).count()


def _pay_more_claims(employer, count: int, day):
    """`count` more paid claims of the sponsor, to several providers, through intake, adjudication, a
    payment cycle and (ASO) the deposit that releases them."""
    from claims.services.intake import claim_submit
    from parties.models import Member, Provider

    members = list(Member.objects.filter(employer=employer, subscriber__isnull=True).order_by("pk"))
    providers = list(Provider.objects.filter(network="in").order_by("pk"))
    for i in range(count):
        claim_submit(member_id=members[i % len(members)].member_id, npi=providers[i % len(providers)].npi,
                     service_date=day - datetime.timedelta(days=1 + i % 20),
                     lines=[{"code": "99213", "billed": f"{150 + i}.00"}])
    claims_adjudicate_pending(today=day)
    funding.payment_cycle_run(today=day)
    funding.sponsor_deposit(employer=employer, amount=funding.REQUESTED, today=day, reference=f"wire-{count}")


def test_the_sponsor_picture_reads_a_bounded_number_of_queries(moved, count_queries):
    """The same queries for a sponsor with a few claims paid and with ten times as many (sums in the database)."""
    aso = moved["aso"]
    with count_queries() as few:
        small = sponsor_money_flow(employer=aso, today=LATER)
    paid_before = Claim.objects.filter(plan__sponsor=aso, state="paid").count()
    _pay_more_claims(aso, 30, LATER)
    assert Claim.objects.filter(plan__sponsor=aso, state="paid").count() >= paid_before + 15
    with count_queries() as many:
        big = sponsor_money_flow(employer=aso, today=LATER)
    assert len(many) == len(few) <= 2  # the plan year, the sums
    assert big["totals"] != small["totals"]
    assert {t["kind"]: t["amount"] for t in big["totals"]} == _ledger_by_kind(aso, big["start"], LATER)


def test_the_employer_home_shows_its_money_flow(moved, client_for):
    html = client_for("employer").get(reverse("portal:employer-home")).content.decode()
    rows = table(html, "sponsor-money-kinds")[1:]
    flow = sponsor_money_flow(employer=moved["aso"], today=DEMO_DATE)
    assert [[r[0], r[1]] for r in rows] == [[t["reason"], f"${t['amount']:,.2f}"] for t in flow["totals"]]
    assert 'href="/glossary/#aso"' in html


# --- The glossary --------------------------------------------------------------------------------

NINE = {"tpa": "TPA", "carrier": "Carrier", "aso": "ASO", "asc": "ASC", "fully-insured": "Fully insured",
        "self-insured": "Self-insured", "stop-loss": "Stop-loss", "peo": "PEO", "cost-sharing": "Cost sharing"}


def test_the_glossary_has_the_nine_terms_of_the_domain_doc(demo, client_for):
    terms = {t.slug: t for t in glossary_terms()}
    assert {slug: t.name for slug, t in terms.items()} == NINE
    assert terms["aso"].definition == "the employer bears the full cost of covered claims; the administrator only administers"
    assert terms["stop-loss"].short == "the sponsor's cover against very large claims (specific) or a bad year (aggregate)"
    assert terms["fully-insured"].definition == "a fixed premium to a carrier that covers the claims"
    assert terms["self-insured"].definition == "paying the claims and fees out of current revenue"
    assert terms["asc"].definition.startswith("ASC differs from ASO only in that claims are paid from a bank account")
    for username in ROLE_LOGINS:
        html = client_for(username).get(reverse("portal:glossary")).content.decode()
        for slug in NINE:
            assert f'<dt id="{slug}">' in html, (username, slug)
    assert "<dd data-term=\"aso\">The employer bears the full cost of covered claims; the administrator only administers.</dd>" in html


def test_editing_the_doc_changes_the_glossary(tmp_path):
    doc = tmp_path / "domain.md"
    doc.write_text("# Rules\n\n## 7. Glossary (from the source material)\n- TPA vs carrier: someone else.\n"
                   "- Widget: a new word,\n  on two lines.\n\n## 8. Other\n- Not: a term.\n")
    terms = glossary_terms(path=doc)
    assert [(t.slug, t.definition) for t in terms] == [
        ("tpa", "someone else"), ("carrier", "someone else"), ("widget", "a new word, on two lines")]
    assert glossary_parse("no glossary here") == []


def test_the_filter_links_the_first_use_of_a_term_outside_links(demo):
    html = link_terms('<p>An ASO plan: ASO again. <a href="/x">stop-loss</a> then Stop-loss.</p>'
                      '<button>TPA</button> the TPA')
    assert html.count('href="/glossary/#aso"') == 1
    assert '<a class="term" href="/glossary/#stop-loss" title="the sponsor&#x27;s cover' in html
    assert 'Stop-loss</a>.' in html and '<a href="/x">stop-loss</a>' in html
    assert "<button>TPA</button> the <a class=\"term\" href=\"/glossary/#tpa\"" in html


# --- Who sees what ---------------------------------------------------------------------------------

EXPLAINED = {"provider": "provider-claim-explained", "provider2": "provider-claim-explained",
             "examiner": "examiner-claim-explained", "supervisor": "examiner-claim-explained",
             "employer": "employer-claim-explained", "employer2": "employer-claim-explained",
             "carrier": "carrier-claim-explained", "member": "member-claim-explained",
             "member2": "member-claim-explained"}


def test_every_role_opens_its_claims_explained_and_another_partys_is_404(moved, client_for):
    from claims.selectors import claim_list_visible_to

    for username, name in EXPLAINED.items():
        user = _user(username)
        client = client_for(username)
        mine = claim_list_visible_to(user=user).filter(state="paid").order_by("pk").first()
        assert mine is not None, username
        page = client.get(reverse(f"portal:{name}", kwargs={"claim_id": mine.pk}))
        assert page.status_code == 200, username
        assert 'data-testid="lifecycle-path"' in page.content.decode()
        theirs = Claim.objects.exclude(pk__in=claim_list_visible_to(user=user).values("pk")).order_by("-pk").first()
        missing = theirs.pk if theirs is not None else 987_654_321
        url = reverse(f"portal:{name}", kwargs={"claim_id": missing})
        before = StateLog.objects.count()
        assert client.get(url).status_code == 404, username
        assert client.post(url, {"x": "1"}).status_code == 404, username
        assert StateLog.objects.count() == before


def test_the_sponsor_money_page_is_staff_and_the_sponsors_own(moved, client_for):
    aso, asc = moved["aso"], moved["asc"]
    url = reverse("portal:explain-sponsor-money", kwargs={"employer_id": aso.pk})
    assert client_for("supervisor").get(url).status_code == 200
    assert client_for("examiner").get(url).status_code == 200
    assert client_for("employer").get(url).status_code == 200
    assert client_for("employer2").get(url).status_code == 404
    assert client_for("employer2").post(url).status_code == 404
    assert client_for("examiner").get(reverse("portal:explain-sponsor-money", kwargs={"employer_id": 987_654})).status_code == 404
    for username in ("provider", "member", "carrier"):
        assert client_for(username).get(url).status_code == 403
    assert client_for("employer2").get(reverse("portal:explain-sponsor-money", kwargs={"employer_id": asc.pk})).status_code == 200


def test_every_claim_page_shows_the_lifecycle_and_the_glossary_link(moved, client_for):
    claim = moved["released"]
    for username, name in (("examiner", "examiner-claim"), ("member", "member-claim")):
        html = client_for(username).get(reverse(f"portal:{name}", kwargs={"claim_id": claim.pk})).content.decode()
        assert 'data-testid="lifecycle"' in html and 'href="/glossary/"' in html
    member_html = client_for("member").get(reverse("portal:member-claim", kwargs={"claim_id": claim.pk})).content.decode()
    assert 'data-testid="claim-money"' not in member_html
