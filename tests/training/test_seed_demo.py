"""seed_demo: the demo world has what the brief asks, and a second run changes nothing."""
import io
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from parties.models import Employer, Member, PartyLink, Provider
from parties.validators import member_id_is_valid, npi_is_valid, validate_ein
from plans.models import CategoryBenefit, Coverage, FeeSchedule, Plan, StopLossPolicy

pytestmark = pytest.mark.django_db
User = get_user_model()
SCENARIO_NPIS = {"1234567893", "1000000004", "1987654328", "1230987657"}
CATEGORIES = {"office_visit", "preventive", "lab", "imaging", "emergency", "surgery", "inpatient", "cosmetic"}


def row_counts() -> dict:
    models = [*apps.get_app_config("parties").get_models(), *apps.get_app_config("plans").get_models(),
              *apps.get_app_config("claims").get_models(), User, User.user_permissions.through]
    return {m._meta.label: m.objects.count() for m in models}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded():
    return seed()


def test_seed_demo_is_idempotent(seeded):
    first = row_counts()
    member_ids = dict(Member.objects.values_list("name", "member_id"))
    link_rows = list(PartyLink.objects.order_by("pk").values())
    second_output = seed()
    assert row_counts() == first
    assert dict(Member.objects.values_list("name", "member_id")) == member_ids
    assert list(PartyLink.objects.order_by("pk").values()) == link_rows
    assert "members: 43" in second_output


def test_seed_demo_minimum_counts(seeded):
    counts = row_counts()
    assert counts["parties.Tpa"] == 1 and counts["parties.Carrier"] == 2 and counts["parties.Employer"] == 3
    assert counts["parties.Member"] >= 40 and counts["parties.Provider"] >= 8 and counts["plans.Plan"] == 3
    assert counts["plans.Coverage"] == counts["parties.Member"]
    assert "Demo world ready." in seeded and "password 'demo'" in seeded


def test_sponsors_plans_and_stop_loss(seeded):
    plans = {p.funding: p for p in Plan.objects.select_related("sponsor", "carrier")}
    assert set(plans) == {"ASO", "ASC", "FULLY_INSURED"}
    for plan in plans.values():
        validate_ein(plan.sponsor.ein)
        plan.full_clean()
        benefits = dict(plan.category_benefits.values_list("category", "treatment"))
        assert benefits["cosmetic"] == CategoryBenefit.Treatment.EXCLUDED
        assert benefits["preventive"] == CategoryBenefit.Treatment.COVERED_IN_FULL
        assert benefits["office_visit"] == CategoryBenefit.Treatment.COPAY
        assert plan.deductible_individual > 0 and plan.oop_max_individual > plan.deductible_individual
        assert plan.fee_schedule.name == "TPA Network Fee Schedule 2026"
    assert plans["ASO"].carrier is None and plans["ASC"].carrier and plans["FULLY_INSURED"].carrier
    assert plans["ASO"].admin_fee_pepm > 0 and plans["ASC"].admin_fee_pepm > 0
    assert plans["FULLY_INSURED"].premium_pepm > 0
    oon = [p for p in plans.values() if p.oon_covered]
    assert oon and all(p.oon_coinsurance > p.coinsurance for p in oon)
    aso_policy = StopLossPolicy.objects.get(plan=plans["ASO"])
    assert aso_policy.specific_attachment > 0
    assert aso_policy.aggregate_attachment or (aso_policy.expected_claims and aso_policy.aggregate_factor)
    asc_policy = StopLossPolicy.objects.get(plan=plans["ASC"])
    assert asc_policy.specific_attachment > 0 and asc_policy.lasers.count() == 1
    assert not StopLossPolicy.objects.filter(plan=plans["FULLY_INSURED"]).exists()


def test_fee_schedule(seeded):
    schedule = FeeSchedule.objects.get(name="TPA Network Fee Schedule 2026")
    entries = list(schedule.entries.all())
    assert len(entries) >= 30
    assert {e.category for e in entries} == CATEGORIES
    assert all(e.description and e.fee > 0 for e in entries)
    assert any(e.code[0].isalpha() for e in entries)  # HCPCS level II codes too


def test_members_families_and_coverage(seeded):
    members = list(Member.objects.all())
    assert all(member_id_is_valid(m.member_id) for m in members)
    dependents = [m for m in members if m.subscriber_id]
    assert {m.relationship for m in dependents} == {"spouse", "child"}
    for coverage in Coverage.objects.select_related("member", "plan"):
        assert coverage.plan.sponsor_id == coverage.member.employer_id
        if coverage.member.subscriber_id:
            assert (coverage.start, coverage.end) == (None, None)  # follows the subscriber
        else:
            assert coverage.start.isoformat() == "2026-01-01" and coverage.end is None
    for employer in Employer.objects.all():
        assert employer.members.filter(subscriber__isnull=False).exists()  # families everywhere


def test_providers(seeded):
    providers = list(Provider.objects.all())
    assert len(providers) >= 8
    assert all(npi_is_valid(p.npi) and p.tin for p in providers)
    assert not {p.npi for p in providers} & SCENARIO_NPIS
    assert {p.network for p in providers} == {"in", "out"}


def test_logins_roles_and_permissions(seeded):
    links = {link.user.username: link for link in PartyLink.objects.select_related("user")}
    assert set(links) == {"provider", "examiner", "supervisor", "employer", "carrier", "member", "admin",
                          "provider2", "employer2", "member2", "trainer"}
    assert links["trainer"].role == "trainer" and not links["trainer"].user.is_staff
    for username, link in links.items():
        assert link.user.check_password("demo"), username
        link.full_clean()
    assert links["provider"].role == "provider_staff" and links["provider"].provider.in_network
    assert links["examiner"].role == "claims_examiner" and links["supervisor"].role == "supervisor"
    assert links["employer"].role == "employer_admin"
    aso_sponsor = Plan.objects.get(funding="ASO").sponsor
    assert links["employer"].employer == aso_sponsor
    assert links["carrier"].role == "carrier_analyst"
    member = links["member"].member
    assert member.subscriber_id is None and member.employer == aso_sponsor and member.dependents.count() >= 2
    # The second logins of a kind are other parties: another provider, the ASC sponsor, another family.
    assert links["provider2"].provider != links["provider"].provider
    assert links["employer2"].employer == Plan.objects.get(funding="ASC").sponsor
    member2 = links["member2"].member
    assert member2.subscriber_id is None and member2.employer == links["employer2"].employer
    assert member2.dependents.exists()
    admin = links["admin"].user
    assert admin.is_superuser and admin.is_staff

    users = {u.username: u for u in User.objects.all()}
    examiner, supervisor = users["examiner"], users["supervisor"]
    assert examiner.is_staff and supervisor.is_staff
    for user in (examiner, supervisor):
        for perm in ("claims.view_claim", "claims.change_claim", "claims.review_claim", "parties.view_member",
                     "plans.view_plan"):
            assert user.has_perm(perm), (user.username, perm)
        assert not user.has_perm("parties.change_member")
    assert supervisor.has_perm("claims.appeal_claim") and not examiner.has_perm("claims.appeal_claim")
    for username in ("provider", "employer", "carrier", "member", "provider2", "employer2", "member2"):
        assert not users[username].is_staff and not users[username].get_all_permissions()


def test_seed_demo_pages_render_in_the_admin(seeded, admin_client):
    member = PartyLink.objects.get(user__username="member").member
    html = admin_client.get(f"/admin/parties/member/{member.pk}/change/").content.decode()
    assert member.member_id in html and "Northwind PPO 1000" in html and "Grace Okafor" in html


def test_demo_claims_in_every_state_an_examiner_meets(seeded):
    """Approved (copay; deductible and coinsurance), pended over the review threshold, denied (excluded
    category 96; exact duplicate 18), rejected at intake, and one still submitted for the batch; the
    second family's claims at the second provider: two approved, one pended, one denied 96."""
    from claims.models import Claim

    claims = {c.pk: c for c in Claim.objects.select_related("member")}
    by_state = {}
    for c in claims.values():
        by_state.setdefault(c.state, []).append(c)
    assert {k: len(v) for k, v in by_state.items()} == {
        "approved": 6, "pended": 2, "denied": 3, "rejected": 1, "submitted": 1}
    assert sorted(c.reason_codes for c in by_state["denied"]) == ["18", "96", "96"]
    second = {link.user.username: link for link in PartyLink.objects.filter(user__username__in=["provider2", "member2"])}
    family = [second["member2"].member.pk, *second["member2"].member.dependents.values_list("pk", flat=True)]
    assert sorted(c.state for c in claims.values() if c.member_id in family) == ["approved", "approved", "denied", "pended"]
    assert {c.provider_id for c in claims.values() if c.member_id in family and c.state != "denied"} == {
        second["provider2"].provider_id}
    assert by_state["rejected"][0].rejection_field == "lines[0].code"
    copay = next(c for c in by_state["approved"] if c.copay)
    assert (copay.copay, copay.plan_paid) == (Decimal("30.00"), Decimal("65.00"))  # 99213: fee 95.00
    assert "claims: 6 approved, 3 denied, 2 pended, 1 rejected, 1 submitted" in seeded
