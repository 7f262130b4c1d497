"""The member's dashboard: deductible and out-of-pocket bars (individual and family) to the cent, its
claims (a subscriber's family's, a dependent's own), a claim with its explanation of benefits and the
printable EOB, the printable ID card; another family's claim is a 404; the queries per page are bounded."""
import datetime
import re
from decimal import Decimal

import pytest
from django.test import Client

from claims.models import Accumulator, Claim
from claims.services import claim_submit, claims_adjudicate_pending
from parties.models import Member, PartyLink
from parties.services import user_create_with_role
from tests.portal.helpers import DEMO_DATE

pytestmark = pytest.mark.django_db
YEAR = datetime.date(2026, 1, 1)  # the demo plans' year
BAR = re.compile(
    r'<div class="bar" role="progressbar" aria-valuenow="([\d.]+)" aria-valuemin="0" aria-valuemax="([\d.]+)"\s+'
    r'aria-label="([^"]+)"[^>]*><span style="width: ([\d.]+)%"></span></div>\s*'
    r'<p class="meter-figures" data-bar="[^"]+">met <strong>([^<]+)</strong> of (\$[\d,]+\.\d\d), <strong>([^<]+)</strong> remaining</p>')


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def bars(html: str) -> dict[str, dict]:
    """The page's progress bars by their label: the aria figures and the text figures."""
    found = {}
    for now, top, label, width, met, limit, remaining in BAR.findall(html):
        found[label.replace("&#x27;", "'")] = {"now": Decimal(now), "max": Decimal(top), "width": width,
                                               "met": met, "limit": limit, "remaining": remaining}
    return found


def _expected(label: str, *, met: Decimal, limit: Decimal) -> dict:
    width = "100.0" if limit <= 0 else f"{min(met / limit * 100, Decimal(100)):.1f}"
    return {"now": met, "max": limit, "width": width, "met": _money(met), "limit": _money(limit),
            "remaining": _money(max(limit - met, Decimal("0.00")))}


def _accumulator(member: Member, scope: str) -> tuple[Decimal, Decimal]:
    row = Accumulator.objects.filter(member=member, scope=scope, plan_year_start=YEAR).first()
    return (row.deductible_met, row.oop_met) if row else (Decimal("0.00"), Decimal("0.00"))


def _family(demo) -> list[Member]:
    daniel = demo["members"][("aso", "Daniel Okafor")]
    return [daniel, *Member.objects.filter(subscriber=daniel).order_by("date_of_birth", "pk")]


def _claim_for(member: Member, code: str, billed: str, *, days_ago: int = 5, npi=None) -> Claim:
    npi = npi or PartyLink.objects.get(user__username="provider").provider.npi
    claim = claim_submit(member_id=member.member_id, npi=npi, service_date=DEMO_DATE - datetime.timedelta(days=days_ago),
                         lines=[{"code": code, "billed": billed}])
    claims_adjudicate_pending(today=DEMO_DATE)
    claim.refresh_from_db()
    return claim


@pytest.fixture
def emma_client(demo):
    """A login for Daniel Okafor's child Emma (a dependent), with a claim of her own adjudicated."""
    emma = demo["members"][("aso", "Emma Okafor")]
    user_create_with_role(username="emma", password="Emma-okafor-2026", role=PartyLink.Role.MEMBER, party=emma)
    claim = _claim_for(emma, "72148", "1100.00")
    client = Client()
    assert client.login(username="emma", password="Emma-okafor-2026")
    return client, emma, claim


# --- the bars ------------------------------------------------------------------------------------

def test_the_home_bars_give_daniels_familys_figures_to_the_cent(client_for, demo):
    plan = demo["plans"]["aso"]
    family = _family(demo)
    html = client_for("member").get("/member/").content.decode()
    shown = bars(html)
    daniel = family[0]
    fded, foop = _accumulator(daniel, "family")
    expected = {
        "Family deductible": _expected("", met=fded, limit=plan.deductible_family),
        "Family out-of-pocket": _expected("", met=foop, limit=plan.oop_max_family),
    }
    for m in family:
        ded, oop = _accumulator(m, "individual")
        expected[f"{m.name}: deductible"] = _expected("", met=ded, limit=plan.deductible_individual)
        expected[f"{m.name}: out-of-pocket"] = _expected("", met=oop, limit=plan.oop_max_individual)
    assert shown == expected
    # The demo's MRI went toward Daniel's deductible: the figures are not all zero.
    ded, oop = _accumulator(daniel, "individual")
    assert ded > 0 and oop >= ded and fded >= ded
    assert shown[f"{daniel.name}: deductible"]["met"] == _money(ded)
    assert f"{plan.name}" in html


def test_the_bars_move_when_a_claim_is_adjudicated(client_for, demo):
    client = client_for("member")
    grace = demo["members"][("aso", "Grace Okafor")]
    claims_adjudicate_pending(today=DEMO_DATE)  # the demo's claim still waiting (Daniel's) first
    before = bars(client.get("/member/").content.decode())
    claim = _claim_for(grace, "72148", "1100.00")
    assert claim.state == "approved" and claim.deductible > 0
    after = bars(client.get("/member/").content.decode())
    label = "Grace Okafor: deductible"
    assert after[label]["now"] == before[label]["now"] + claim.deductible
    assert after["Family deductible"]["now"] == before["Family deductible"]["now"] + claim.deductible
    assert after["Daniel Okafor: deductible"] == before["Daniel Okafor: deductible"]


def test_a_dependent_sees_its_own_figures_and_claims_only(emma_client, demo):
    client, emma, emma_claim = emma_client
    plan = demo["plans"]["aso"]
    html = client.get("/member/").content.decode()
    shown = bars(html)
    ded, oop = _accumulator(emma, "individual")
    fded, foop = _accumulator(demo["members"][("aso", "Daniel Okafor")], "family")
    assert ded == emma_claim.deductible > 0
    assert shown == {
        "Emma Okafor: deductible": _expected("", met=ded, limit=plan.deductible_individual),
        "Emma Okafor: out-of-pocket": _expected("", met=oop, limit=plan.oop_max_individual),
        "Family deductible": _expected("", met=fded, limit=plan.deductible_family),
        "Family out-of-pocket": _expected("", met=foop, limit=plan.oop_max_family),
    }
    assert "Daniel Okafor" not in html and "Grace Okafor" not in html
    listed = client.get("/member/claims/").content.decode()
    assert re.findall(r'data-claim="(\d+)"', listed) == [str(emma_claim.pk)]
    assert 'name="patient"' not in listed  # nobody else to filter by
    assert client.get(f"/member/claims/{emma_claim.pk}/").status_code == 200
    dads = Claim.objects.filter(member=demo["members"][("aso", "Daniel Okafor")]).first()
    assert client.get(f"/member/claims/{dads.pk}/").status_code == 404
    assert client.get(f"/member/claims/{dads.pk}/eob/").status_code == 404
    card = client.get("/member/id-card/").content.decode()
    assert emma.member_id in card and 'name="card_of"' not in card


# --- the claims ----------------------------------------------------------------------------------

def test_the_subscriber_lists_its_familys_claims_and_filters_them(client_for, demo):
    client = client_for("member")
    family = _family(demo)
    liam = family[-1]
    liams = _claim_for(liam, "99213", "150.00")
    family_claims = set(Claim.objects.filter(member__in=family).values_list("pk", flat=True))
    listed = {int(pk) for pk in re.findall(r'data-claim="(\d+)"', client.get("/member/claims/").content.decode())}
    assert listed == family_claims and liams.pk in listed
    only_liam = client.get(f"/member/claims/?patient={liam.pk}").content.decode()
    assert re.findall(r'data-claim="(\d+)"', only_liam) == [str(liams.pk)]
    denied = {int(pk) for pk in re.findall(r'data-claim="(\d+)"', client.get("/member/claims/?state=denied").content.decode())}
    assert denied == set(Claim.objects.filter(member__in=family, state="denied").values_list("pk", flat=True)) != set()


@pytest.mark.parametrize("query, field", [
    ("patient=abc", "Family member"), ("patient=99999999999999999999", "Family member"), ("state=bogus", "State"),
    ("patient=%00", "Family member"), ("sort=zzz&page=abc", None),
])
def test_a_bad_filter_is_named_and_not_applied(client_for, demo, query, field):
    client = client_for("member")
    response = client.get(f"/member/claims/?{query}")
    html = response.content.decode()
    assert response.status_code == 200
    if field:
        assert f"<p>{field}: Select a valid choice." in html
    everyone = set(Claim.objects.filter(member__in=_family(demo)).values_list("pk", flat=True))
    assert {int(pk) for pk in re.findall(r'data-claim="(\d+)"', html)} == everyone


def test_another_familys_member_is_no_filter_choice(client_for, demo):
    keisha = demo["members"][("asc", "Keisha Washington")]
    html = client_for("member").get(f"/member/claims/?patient={keisha.pk}").content.decode()
    assert "<p>Family member: Select a valid choice." in html and "Keisha" not in html


def test_another_familys_claim_is_404_for_every_method(client_for, demo):
    client = client_for("member")
    theirs = Claim.objects.filter(member__subscriber__name="Keisha Washington").first() or Claim.objects.filter(
        member__name="Keisha Washington").first()
    for url in (f"/member/claims/{theirs.pk}/", f"/member/claims/{theirs.pk}/eob/"):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert client.get("/member/claims/987654321/").status_code == 404
    assert client_for("member2").get(f"/member/claims/{theirs.pk}/").status_code == 200


def test_a_claim_page_shows_its_eob_outcome_and_timeline(client_for, demo):
    daniel = demo["members"][("aso", "Daniel Okafor")]
    mri = Claim.objects.get(member=daniel, lines__procedure_code="72148")
    response = client_for("member").get(f"/member/claims/{mri.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "This is not a bill." in html and "MRI lumbar spine without contrast" in html
    assert f'href="/member/claims/{mri.pk}/eob/"' in html
    assert "Outcome per line" in html and "Timeline" in html
    assert f"You may owe<strong>{mri.member_responsibility:,.2f}</strong>" in html


def test_the_printable_eob_and_id_card_render(client_for, demo):
    client = client_for("member")
    daniel = demo["members"][("aso", "Daniel Okafor")]
    plan = demo["plans"]["aso"]
    for claim in Claim.objects.filter(member=daniel):  # every state the demo has: priced or not
        response = client.get(f"/member/claims/{claim.pk}/eob/")
        html = response.content.decode()
        assert response.status_code == 200 and "This is not a bill." in html and claim.claim_number in html
        assert 'onclick="window.print()"' in html
    pended = Claim.objects.get(member=daniel, state="pended")
    assert "This claim is being reviewed." in client.get(f"/member/claims/{pended.pk}/eob/").content.decode()
    card = client.get("/member/id-card/").content.decode()
    assert daniel.member_id in card and plan.name in card
    # The deductible and the out-of-pocket maximum, individual / family.
    assert f"Deductible</span> ${plan.deductible_individual} / ${plan.deductible_family}" in card
    assert f"OOP max</span> ${plan.oop_max_individual} / ${plan.oop_max_family}" in card
    grace = demo["members"][("aso", "Grace Okafor")]
    graces = client.get(f"/member/id-card/?card_of={grace.pk}").content.decode()
    assert f'data-card="{grace.member_id}"' in graces
    keisha = demo["members"][("asc", "Keisha Washington")]
    refused = client.get(f"/member/id-card/?card_of={keisha.pk}").content.decode()
    assert "<p>Card of: Select a valid choice." in refused and keisha.member_id not in refused
    assert f'data-card="{daniel.member_id}"' in refused


# --- the queries ---------------------------------------------------------------------------------

def test_the_queries_per_page_do_not_grow_with_the_claims(client_for, demo, count_queries):
    client = client_for("member")
    family = _family(demo)
    mri = Claim.objects.get(member=family[0], lines__procedure_code="72148")
    pages = ["/member/", "/member/claims/", f"/member/claims/?patient={family[1].pk}&state=approved",
             f"/member/claims/{mri.pk}/", f"/member/claims/{mri.pk}/eob/", "/member/id-card/",
             f"/member/id-card/?card_of={family[2].pk}"]

    def counts():
        out = {}
        for url in pages:
            with count_queries() as q:
                assert client.get(url).status_code == 200, url
            out[url] = len(q)
        return out
    before = counts()
    for i, m in enumerate(family * 10):  # 40 more claims, some for every member
        claim_submit(member_id=m.member_id, npi=PartyLink.objects.get(user__username="provider").provider.npi,
                     service_date=DEMO_DATE - datetime.timedelta(days=30 + i), lines=[{"code": "99213", "billed": "150.00"}])
    claims_adjudicate_pending(today=DEMO_DATE)
    after = counts()
    assert after == before
    assert max(before.values()) <= 15, before
