"""Visibility edges: what a login linked to one party (provider staff, employer admin, carrier analyst,
member) may see or do in the admin and through the services, beyond what tests/claims/test_admin.py
covers. The developer guide's rule: what a user may not see answers 404, through one
`*_visible_to(user)` selector per model; django-fsm transition permissions count only where the
service checks them.

Each login here is set up the way tests/claims/test_admin.py sets up its provider staff: a staff
user linked to its party, with the view permissions named in the test. The tests that fail are the
discrepancies found (see the audit report); the others guard what holds today.
"""
import datetime
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from claims.models import Accumulator, Claim, LineResult
from claims.services import claim_adjudicate, claim_appeal
from core.errors import NotFound
from funding import services as funding_services
from funding.models import Account, RemittanceAdvice
from parties import services as party_services
from parties.models import Member
from parties.services import user_link_party
from plans import services as plan_services
from tests.claims.helpers import adjudicate, build_world, day, fresh, new_npi, new_seq
from tests.factories import CarrierFactory, StopLossPolicyFactory, TpaFactory
from tests.funding.helpers import F, approved_claim, make_provider, make_sponsor

pytestmark = pytest.mark.django_db
User = get_user_model()
D = Decimal

CLAIM_VIEWS = ("claims.view_claim", "claims.view_lineresult", "claims.view_accumulator")
CLAIM_OPERATOR = ("claims.view_claim", "claims.change_claim", "claims.review_claim", "claims.appeal_claim")


def party_user(role: str, party, *perms: str):
    """A staff login linked to `party` in `role`, with the permissions named "app.codename"."""
    user = User.objects.create_user(username=f"party{new_seq()}", password="pw", is_staff=True)
    user_link_party(user=user, role=role, party=party)
    for perm in perms:
        app, codename = perm.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app, codename=codename))
    return User.objects.get(pk=user.pk)  # fresh: no stale permission cache


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_url(obj_or_model, view, *args) -> str:
    meta = obj_or_model._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}", args=args)


def listed(client, model, **params) -> set[int]:
    response = client.get(admin_url(model, "changelist"), params)
    assert response.status_code == 200, response.status_code
    return {obj.pk for obj in response.context["cl"].result_list}


@pytest.fixture
def worlds():
    """Two ASO sponsors (a, b) and an ASC sponsor (c, carrier c.plan.carrier), each with its claims.

    In a: alice (subscriber) and sam (her child, so family coverage); alice is treated by a.mercy,
    sam only by a.peds (a third, in-network provider); a.pended is alice's 30,000 surgery (pended),
    a.denied alice's visit at a.faraway (out of network, not covered: CARC 242).
    """
    a, b, c = build_world(), build_world(), build_world(funding="ASC")
    a.sam = a.add_member("sam", subscriber=a.alice)
    a.peds = party_services.provider_register(name=f"Peds {new_seq()}", npi=new_npi(), network="in")
    a.visit = a.submit(on="2026-03-02", service="2026-03-01", lines=[("99213", 200), ("70551", 2500)])
    a.sam_visit = a.submit(on="2026-03-02", service="2026-03-01", lines=[("70551", 2500)], member=a.sam,
                           provider=a.peds)
    a.pended = a.submit(on="2026-03-03", service="2026-03-02", lines=[("27447", 30000)])
    a.denied = a.submit(on="2026-03-03", service="2026-03-02", lines=[("99213", 200)], provider=a.faraway)
    b.visit = b.submit(on="2026-03-02", service="2026-03-01", lines=[("99213", 200), ("70551", 2500)])
    c.visit = c.submit(on="2026-03-02", service="2026-03-01", lines=[("70551", 2500)])
    adjudicate()
    states = {k: fresh(v).state for k, v in (("visit", a.visit), ("sam", a.sam_visit), ("pended", a.pended),
                                              ("denied", a.denied), ("b", b.visit), ("c", c.visit))}
    assert states == {"visit": "approved", "sam": "approved", "pended": "pended", "denied": "denied",
                      "b": "approved", "c": "approved"}
    return a, b, c


# === What holds (guards) =========================================================================

def test_claim_changelist_shows_each_role_only_its_claims(worlds):
    a, b, c = worlds
    everything = set(Claim.objects.values_list("pk", flat=True))
    cases = {
        "provider a.mercy": (("provider_staff", a.mercy), {a.visit.pk, a.pended.pk}),
        "provider a.peds": (("provider_staff", a.peds), {a.sam_visit.pk}),
        "employer a": (("employer_admin", a.employer), {a.visit.pk, a.sam_visit.pk, a.pended.pk, a.denied.pk}),
        "carrier of c (ASC)": (("carrier_analyst", c.plan.carrier), {c.visit.pk}),
        "member alice (subscriber)": (("member", a.alice), {a.visit.pk, a.sam_visit.pk, a.pended.pk, a.denied.pk}),
        "member sam (dependent)": (("member", a.sam), {a.sam_visit.pk}),
        "examiner": (("claims_examiner", TpaFactory()), everything),
    }
    seen = {}
    for name, ((role, party), _) in cases.items():
        seen[name] = listed(login(party_user(role, party, "claims.view_claim")), Claim)
    assert seen == {name: want for name, (_, want) in cases.items()}


def test_eob_adjudicate_and_appeal_of_another_partys_claim_answer_404(worlds):
    a, b, c = worlds
    b_claim = b.submit(on="2026-03-04", service="2026-03-03", lines=[("99213", 200)])  # submitted
    b_denied = b.submit(on="2026-03-04", service="2026-03-03", lines=[("99213", 210)], provider=b.faraway)
    claim_adjudicate(claim_id=b_denied.pk)
    assert fresh(b_denied).state == "denied"
    for role, party in (("employer_admin", a.employer), ("carrier_analyst", c.plan.carrier), ("member", a.alice),
                        ("provider_staff", a.mercy)):
        client = login(party_user(role, party, *CLAIM_OPERATOR))
        codes = (client.get(reverse("admin:claims_claim_eob", args=[b.visit.pk])).status_code,
                 client.post(reverse("admin:claims_claim_adjudicate", args=[b_claim.pk])).status_code,
                 client.post(reverse("admin:claims_claim_appeal", args=[b_denied.pk])).status_code)
        assert codes == (404, 404, 404), role
    assert (fresh(b_claim).state, fresh(b_denied).state) == ("submitted", "denied")


def test_search_by_claim_number_or_member_id_finds_no_claim_of_another_sponsor(worlds):
    a, b, _ = worlds
    client = login(party_user("employer_admin", a.employer, *CLAIM_VIEWS))
    b_claims = set(Claim.objects.filter(plan=b.plan).values_list("pk", flat=True))
    b_lines = set(LineResult.objects.filter(claim__plan=b.plan).values_list("pk", flat=True))
    for term in (b.visit.claim_number, str(b.visit.pk), b.alice.member_id, b.mercy.npi):
        assert listed(client, Claim, q=term) & b_claims == set(), term
        assert listed(client, LineResult, q=term) & b_lines == set(), term  # (a numeric term may match a's codes)
    assert listed(client, Claim, q=a.visit.claim_number) == {a.visit.pk}


def test_accumulators_and_line_results_stay_within_the_sponsor(worlds):
    a, b, c = worlds
    client = login(party_user("employer_admin", a.employer, *CLAIM_VIEWS))
    assert listed(client, Accumulator) == set(Accumulator.objects.filter(plan=a.plan).values_list("pk", flat=True))
    assert listed(client, LineResult) == set(LineResult.objects.filter(claim__plan=a.plan).values_list("pk", flat=True))
    carrier = login(party_user("carrier_analyst", c.plan.carrier, *CLAIM_VIEWS))
    assert listed(carrier, Accumulator) == set(Accumulator.objects.filter(plan=c.plan).values_list("pk", flat=True))


def test_demo_logins_outside_the_tpa_cannot_open_the_admin():
    call_command("seed_demo", stdout=io.StringIO())
    for username in ("provider", "employer", "carrier", "member"):
        client = Client()
        assert client.login(username=username, password="demo"), username
        response = client.get(admin_url(Claim, "changelist"))
        assert response.status_code == 302 and "/login/" in response.url, username
    examiner = Client()
    assert examiner.login(username="examiner", password="demo")
    assert examiner.get(admin_url(Claim, "changelist")).status_code == 200


# === Scoping, and the admins closed to party logins =============================================

def test_invisible_claim_object_pages_answer_404(worlds):
    """Guide: an object the user may not see answers 404. The admin's change and history views
    redirect to the admin index (302) when get_queryset hides the row."""
    a, b, _ = worlds
    client = login(party_user("provider_staff", a.mercy, *CLAIM_VIEWS))
    b_line = LineResult.objects.filter(claim=b.visit).first()
    b_acc = Accumulator.objects.filter(plan=b.plan).first()
    codes = {
        "claim change": client.get(admin_url(Claim, "change", b.visit.pk)).status_code,
        "claim history": client.get(admin_url(Claim, "history", b.visit.pk)).status_code,
        "line result change": client.get(admin_url(LineResult, "change", b_line.pk)).status_code,
        "accumulator change": client.get(admin_url(Accumulator, "change", b_acc.pk)).status_code,
    }
    assert codes == dict.fromkeys(codes, 404)


def test_sponsor_filter_lists_only_sponsors_the_login_may_see(worlds):
    """The plan__sponsor filter of the claim and accumulator lists offers a party login only the sponsors
    on rows it may see (none but its own; Django hides a filter with a single choice), TPA staff all."""
    a, b, c = worlds

    def offered(client, model):
        response = client.get(admin_url(model, "changelist"))
        specs = [s for s in response.context["cl"].filter_specs if s.field_path == "plan__sponsor"]
        return {name for spec in specs for _, name in spec.lookup_choices}

    provider = login(party_user("provider_staff", a.peds, *CLAIM_VIEWS))
    examiner = login(party_user("claims_examiner", TpaFactory(), *CLAIM_VIEWS))
    for model in (Claim, Accumulator):
        assert offered(provider, model) <= {a.employer.name}
        assert {a.employer.name, b.employer.name, c.employer.name} <= offered(examiner, model)


def test_accumulators_of_the_subscriber_leak_to_a_dependent_and_to_the_childs_provider(worlds):
    """accumulator_list_visible_to adds the subscriber of every visible claim's member: sam (a dependent,
    who may not see alice's claims) and a.peds (who only treated sam) see alice's own accumulator."""
    a, _, _ = worlds
    alice_own = Accumulator.objects.get(member=a.alice, scope="individual")
    sees_alice_own = {role: alice_own.pk in listed(login(party_user(role, party, *CLAIM_VIEWS)), Accumulator)
                      for role, party in (("member", a.sam), ("provider_staff", a.peds))}
    assert sees_alice_own == {"member": False, "provider_staff": False}


def test_carrier_sees_accumulators_of_an_aso_plan_its_member_moved_to(worlds):
    """The accumulator filter is by member only, not by the plan: a carrier sees a member's
    accumulators of another plan (here the sponsor's ASO plan) once it sees one claim of that member."""
    _, _, c = worlds
    aso = plan_services.plan_create(
        sponsor=c.employer, name=f"ASO {new_seq()}", funding="ASO", fee_schedule=c.schedule,
        year_start=datetime.date(2026, 1, 1), deductible_individual=D("500"), deductible_family=D("1000"),
        oop_max_individual=D("3000"), oop_max_family=D("6000"), coinsurance=D("0.10"),
    )
    plan_services.coverage_change(member=c.alice, end=day("2026-03-31"), set_end=True)
    plan_services.coverage_enroll(member=c.alice, plan=aso, start=day("2026-04-01"))
    later = c.submit(on="2026-05-02", service="2026-05-01", lines=[("70551", 2500)])
    adjudicate()
    assert fresh(later).plan_id == aso.pk and fresh(later).state == "approved"
    aso_rows = set(Accumulator.objects.filter(plan=aso).values_list("pk", flat=True))
    assert aso_rows
    client = login(party_user("carrier_analyst", c.plan.carrier, *CLAIM_VIEWS))
    assert later.pk not in listed(client, Claim)  # the claim itself is hidden...
    assert listed(client, Accumulator) & aso_rows == set()  # ...its accumulators are not


def test_carrier_recorded_on_an_aso_plan_sees_the_aso_sponsors_claims(worlds):
    """Plan validation lets an ASO plan name a carrier (it pays nothing: ASO claims are paid from the
    sponsor's account); claim_list_visible_to then shows that self-funded sponsor's claims to the carrier."""
    a, _, _ = worlds
    carrier = CarrierFactory()
    a.plan.carrier = carrier
    a.plan.full_clean()
    a.plan.save()
    client = login(party_user("carrier_analyst", carrier, *CLAIM_VIEWS))
    assert listed(client, Claim) == set()
    assert client.get(reverse("admin:claims_claim_eob", args=[a.visit.pk])).status_code == 404


def test_provider_staff_with_the_review_permission_approves_its_own_pended_claim(worlds):
    """Only examiners and supervisors review; claim_review checks the permission, never the role."""
    a, _, _ = worlds
    client = login(party_user("provider_staff", a.mercy, "claims.view_claim", "claims.review_claim"))
    client.post(reverse("admin:claims_claim_review", args=[a.pended.pk]), {"decision": "approve"})
    assert fresh(a.pended).state == "pended"


def test_appeal_service_refuses_provider_staff_another_providers_claim_as_not_found(worlds):
    """claim_appeal checks that the claim is the provider's: another provider's claim is not there for it."""
    a, b, _ = worlds
    stranger = party_user("provider_staff", b.mercy)  # no permissions, another sponsor's provider
    with pytest.raises(NotFound):
        claim_appeal(claim_id=a.denied.pk, user=stranger, reason="not mine")
    assert fresh(a.denied).state == "denied"


def test_member_admin_shows_another_employers_members(worlds):
    """Members have no visible-to selector in the admin: a party login is refused the member admin, its
    pages, its ID cards and the member autocomplete, whatever view permissions its user row carries."""
    a, b, _ = worlds
    client = login(party_user("employer_admin", a.employer, "parties.view_member", "plans.view_coverage"))
    codes = {
        "changelist": client.get(admin_url(Member, "changelist")).status_code,
        "change page": client.get(admin_url(Member, "change", b.alice.pk)).status_code,
        "id card": client.get(reverse("admin:parties_member_id_card", args=[b.alice.pk])).status_code,
        "autocomplete": client.get(reverse("admin:autocomplete"), {
            "app_label": "plans", "model_name": "coverage", "field_name": "member", "term": b.alice.member_id,
        }).status_code,
    }
    assert codes == dict.fromkeys(codes, 403)
    # TPA staff keep the admin as it was.
    examiner = login(party_user("claims_examiner", TpaFactory(), "parties.view_member"))
    assert b.alice.pk in listed(examiner, Member)


def test_money_pages_show_other_parties_remittances_accounts_and_stop_loss():
    """The funding and stop-loss admins have no visible-to selector: a provider with view_remittanceadvice
    and a carrier with view_account and view_stoplosspolicy are refused them (403)."""
    sponsor = make_sponsor(F.ASO)
    mine, theirs = make_provider(), make_provider()
    approved_claim(plan=sponsor.plan, member=sponsor.member(), provider=mine, plan_paid="10.00")
    approved_claim(plan=sponsor.plan, member=sponsor.member(), provider=theirs, plan_paid="20.00")
    funding_services.sponsor_deposit(employer=sponsor.employer, amount="100.00", today=day("2026-01-16"))
    funding_services.payment_cycle_run(today=day("2026-01-20"))
    their_advice = RemittanceAdvice.objects.get(provider=theirs)
    policy = StopLossPolicyFactory(plan=sponsor.plan)
    claims_account = Account.objects.get(kind=Account.Kind.SPONSOR_CLAIMS, employer=sponsor.employer)

    provider = login(party_user("provider_staff", mine, "funding.view_remittanceadvice"))
    carrier = login(party_user("carrier_analyst", CarrierFactory(), "funding.view_account",
                               "plans.view_stoplosspolicy"))
    codes = {
        "remittances": provider.get(admin_url(RemittanceAdvice, "changelist")).status_code,
        "other provider's remittance": provider.get(admin_url(RemittanceAdvice, "change", their_advice.pk)).status_code,
        "accounts": carrier.get(admin_url(Account, "changelist")).status_code,
        "ASO sponsor's claims account": carrier.get(admin_url(Account, "change", claims_account.pk)).status_code,
        "stop-loss policy": carrier.get(admin_url(type(policy), "change", policy.pk)).status_code,
    }
    assert codes == dict.fromkeys(codes, 403)
    # The admin index lists none of those models to them.
    index = provider.get(reverse("admin:index"))
    assert index.status_code == 200
    assert [m["object_name"] for app in index.context["app_list"] for m in app["models"]] == []
