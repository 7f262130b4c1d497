"""Every claim and member of the demo world (all three funding arrangements, every claim state the
demo seeds) as FHIR: each EOB is its claim's, each Coverage names the right payor."""
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coverage import Coverage as FhirCoverage

from claims.models import Claim
from interchange.fhir import coverage_resource, eob_bundle
from parties.models import Member
from plans.selectors import plan_for_member
from tests.interchange.test_fhir import assert_eob_is_the_claims, assert_round_trip
from tests.portal.conftest import demo, demo_world  # noqa: F401  (the shared demo world)


def test_every_demo_claim_as_an_eob(demo):  # noqa: F811
    claims = list(Claim.objects.order_by("pk"))
    assert len({c.state for c in claims}) >= 3
    bundle = eob_bundle(claims=claims, base_url="https://tpa.example/fhir")
    assert_round_trip(Bundle, bundle)
    matches = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "match"]
    assert len(matches) == len(claims)
    for eob, claim in zip(matches, claims):
        assert_eob_is_the_claims(eob, claim)


def test_every_demo_member_has_its_coverage(demo):  # noqa: F811
    members = list(Member.objects.order_by("pk"))
    fundings = set()
    for member in members:
        resource = coverage_resource(member=member)
        assert_round_trip(FhirCoverage, resource)
        plan = plan_for_member(member=member)
        fundings.add(plan.funding)
        kind, party = ("carrier", plan.carrier) if plan.funding == "FULLY_INSURED" else ("employer", plan.sponsor)
        assert resource["payor"][0]["reference"] == f"Organization/{kind}-{party.pk}"
        assert resource["beneficiary"]["reference"] == f"Patient/{member.member_id}"
    assert fundings == {"ASO", "ASC", "FULLY_INSURED"}
