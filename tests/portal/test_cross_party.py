"""Every role against every dashboard view and action, with objects of another party: 404, nothing changed.

The views are read from the URL conf (every `portal:<role>-...` name), so a page added later is walked
too. For each login, its role's pages are requested with, in every object argument, an object of
another party of its kind (another provider's claim and remittance, the other sponsor's requests and
invoices, another family's claim and member, a carrier's competitor's business) or, where the demo has no
such object, an id that does not exist: the answer must be 404 for a GET and for a POST alike, and no
row of the database may change.
"""
import datetime

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, reverse

from claims.models import Claim
from claims.services import claim_review, claims_adjudicate_pending
from funding import services as funding
from funding.models import FeeBilling, FundingRequest, Payment, ReimbursementInvoice, RemittanceAdvice
from parties.models import Member, PartyLink
from portal import urls as portal_urls
from tests.portal.helpers import DEMO_DATE

pytestmark = pytest.mark.django_db
MISSING = 987_654_321


def _patterns(resolvers, prefix=""):
    for p in resolvers:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern) and p.name:
            yield p.name, p.pattern.converters.keys()


PAGES = sorted({(name, tuple(kwargs)) for name, kwargs in _patterns(portal_urls.urlpatterns)})
OBJECT_PAGES = [(name, kwargs) for name, kwargs in PAGES if kwargs]
LOGIN_OF_ROLE = {"provider": "provider", "examiner": "examiner", "supervisor": "supervisor", "employer": "employer",
                 "carrier": "carrier", "member": "member"}
# The pages each login opens: its role's; a supervisor also works the examiner's queue.
LOGIN_ROLES = {"provider": ["provider"], "provider2": ["provider"], "employer": ["employer"],
               "employer2": ["employer"], "member": ["member"], "member2": ["member"], "carrier": ["carrier"],
               "examiner": ["examiner"], "supervisor": ["supervisor", "examiner"]}


def _row_counts() -> dict:
    skip = {"sessions.session", "axes.accessattempt", "axes.accesslog", "portal.dashboardfigures"}
    return {m._meta.label_lower: m.objects.count() for m in apps.get_models()
            if m._meta.label_lower not in skip and not m._meta.proxy}


@pytest.fixture
def money_moved(demo):
    """The demo world after a month of business: the pended claims approved, a payment cycle (ASO claims wait
    for funds: a funding request), reimbursement billing (ASC invoices) and fee billing (fees, premiums)."""
    examiner = PartyLink.objects.get(user__username="examiner").user
    for claim_id in Claim.objects.filter(state="pended").values_list("pk", flat=True):
        claim_review(claim_id=claim_id, decision="approve", user=examiner, note="reviewed")
    claims_adjudicate_pending(today=DEMO_DATE)
    funding.payment_cycle_run(today=DEMO_DATE)
    later = DEMO_DATE + datetime.timedelta(days=7)
    funding.reimbursement_billing_run(today=later)
    funding.fee_billing_run(today=datetime.date(2026, 7, 1))
    return demo


def _foreign_objects(username: str) -> dict[str, int]:
    """Per object argument, an object another party owns (or an id nothing has)."""
    link = PartyLink.objects.get(user__username=username)
    claims, remittances = Claim.objects.all(), RemittanceAdvice.objects.all()
    requests, invoices, fees = FundingRequest.objects.all(), ReimbursementInvoice.objects.all(), FeeBilling.objects.all()
    payments, members = Payment.objects.all(), Member.objects.all()
    if link.role == "provider_staff":
        claims = claims.exclude(provider_id=link.provider_id)
        remittances = remittances.exclude(provider_id=link.provider_id)
        payments = payments.exclude(remittance__provider_id=link.provider_id)
        members = members.none()
        requests, invoices, fees = requests.none(), invoices.none(), fees.none()
    elif link.role == "employer_admin":
        claims = claims.exclude(plan__sponsor_id=link.employer_id)
        requests = requests.exclude(employer_id=link.employer_id)
        invoices = invoices.exclude(employer_id=link.employer_id)
        fees = fees.exclude(plan__sponsor_id=link.employer_id)
        members = members.exclude(employer_id=link.employer_id)
        remittances, payments = remittances.none(), payments.none()
    elif link.role == "member":
        family = link.member.subscriber_id or link.member.pk
        claims = claims.exclude(member__subscriber_id=family).exclude(member_id=family)
        members = members.exclude(subscriber_id=family).exclude(pk=family)
        remittances, payments, requests, invoices, fees = (qs.none() for qs in (remittances, payments, requests,
                                                                                 invoices, fees))
    elif link.role == "carrier_analyst":
        claims = claims.exclude(plan__carrier_id=link.carrier_id, plan__funding__in=["ASC", "FULLY_INSURED"])
        invoices = invoices.exclude(carrier_id=link.carrier_id)
        fees = fees.exclude(plan__carrier_id=link.carrier_id)
        members = members.exclude(coverages__plan__carrier_id=link.carrier_id)
        remittances, payments = remittances.none(), payments.none()
    else:  # TPA staff see every object: only ids that do not exist
        claims, remittances, requests, invoices, fees, payments, members = (
            qs.none() for qs in (claims, remittances, requests, invoices, fees, payments, members))

    def first(qs):
        return qs.order_by("-pk").values_list("pk", flat=True).first() or MISSING
    return {"claim_id": first(claims), "remittance_id": first(remittances), "payment_id": first(payments),
            "funding_request_id": first(requests), "invoice_id": first(invoices), "fee_billing_id": first(fees),
            "member_pk": first(members), "cycle_id": MISSING, "job_id": MISSING}


CASES = [(username, name, kwargs) for username, roles in LOGIN_ROLES.items()
         for name, kwargs in OBJECT_PAGES if name.split("-", 1)[0] in roles]


def test_every_object_page_is_walked():
    """The sweep covers something on every role that has object pages (a guard against an empty walk)."""
    assert {name.split("-", 1)[0] for name, _ in OBJECT_PAGES} >= {"provider", "examiner", "member"}


@pytest.mark.parametrize(("username", "name", "kwargs"), CASES, ids=[f"{u}:{n}" for u, n, _ in CASES])
def test_another_partys_object_is_404_and_nothing_changes(money_moved, client_for, username, name, kwargs):
    foreign = _foreign_objects(username)
    unknown = set(kwargs) - set(foreign)
    assert not unknown, f"{name}: object argument(s) {sorted(unknown)} not known to this test: add them"
    url = reverse(f"portal:{name}", kwargs={k: foreign[k] for k in kwargs})
    client = client_for(username)
    before = _row_counts()
    states = dict(Claim.objects.values_list("pk", "state"))
    got = client.get(url)
    assert got.status_code in (404, 405), (url, got.status_code)
    posted = client.post(url, {"reason": "x", "decision": "approve", "note": "x", "amount": "1.00",
                               "reason_code": "50", "token": "t-1"})
    assert posted.status_code == 404, (url, posted.status_code)
    assert _row_counts() == before
    assert dict(Claim.objects.values_list("pk", "state")) == states


PLAIN_PAGES = [name for name, kwargs in PAGES if not kwargs and "-" in name
               and name.split("-", 1)[0] in LOGIN_OF_ROLE]
ROLE_CASES = [(username, name) for username in LOGIN_ROLES for name in PLAIN_PAGES]


@pytest.mark.parametrize(("username", "name"), ROLE_CASES, ids=[f"{u}:{n}" for u, n in ROLE_CASES])
def test_every_page_and_action_answers_its_own_role_only(money_moved, client_for, username, name):
    """A role's own page answers 200 (or 405: an action is a POST); another role's page or action is 403
    (a POST to a page that takes none may be 405 first), and changes nothing."""
    url = reverse(f"portal:{name}")
    client = client_for(username)
    own = name.split("-", 1)[0] in LOGIN_ROLES[username]
    got = client.get(url)
    if own:
        assert got.status_code in (200, 405), (url, got.status_code)
        return
    before = _row_counts()
    assert got.status_code == 403, (url, got.status_code)
    posted = client.post(url, {"token": "t-2", "amount": "1.00", "member_id": "X", "reason": "x"})
    assert posted.status_code in (403, 405), (url, posted.status_code)  # 405: a GET-only page says so first
    assert _row_counts() == before
