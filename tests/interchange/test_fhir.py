"""FHIR R4 ExplanationOfBenefit (CARIN Blue Button shape), its searchset Bundle, and Coverage: the
figures are the claim's, every resource validates with the R4B models, the categories are CARIN's."""
import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coverage import Coverage as FhirCoverage
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit

from claims.models import Claim
from claims.selectors import claim_line_results, claim_list_visible_to, explanation_of_benefits
from core import clock
from core.errors import NotFound
from funding.selectors import claim_payment_for
from funding.services.deposits import sponsor_deposit
from funding.services.payments import payment_cycle_run
from interchange.fhir import coverage_resource, eob_bundle, eob_resource
from parties import services as party_services
from plans.selectors import member_id_card_for
from tests.claims.helpers import appeal, build_world, day, review, run
from tests.factories import login

D = Decimal
HL7 = "http://terminology.hl7.org/CodeSystem/adjudication"
C4BB = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
# The CARIN Blue Button adjudication amount categories and the code system each belongs to.
CARIN_AMOUNTS = {
    "submitted": HL7, "eligible": HL7, "deductible": HL7, "copay": HL7, "benefit": HL7,
    "coinsurance": C4BB, "noncovered": C4BB, "memberliability": C4BB, "paidtoprovider": C4BB, "priorpayerpaid": C4BB,
}
CLAIM_FIELD = {"submitted": "billed", "eligible": "allowed", "deductible": "deductible", "copay": "copay",
               "coinsurance": "coinsurance", "noncovered": "not_covered", "benefit": "plan_paid",
               "memberliability": "member_responsibility"}
LINE_FIELD = {**CLAIM_FIELD, "memberliability": "member_owes"}


# --- Readers of the resources -------------------------------------------------------------------

def cents(value) -> Decimal:
    """A FHIR decimal (a JSON number) as money."""
    return D(str(value)).quantize(D("0.01"))


def amounts(adjudications: list[dict]) -> dict[str, Decimal]:
    """category code -> amount of the amount categories (not the CARC adjustments)."""
    return {a["category"]["coding"][0]["code"]: cents(a["amount"]["value"]) for a in adjudications
            if a["category"]["coding"][0]["system"] != DISCRIMINATOR}


def adjustments(adjudications: list[dict]) -> list[tuple[str, str, Decimal]]:
    """(group-CARC as the text says it, CARC code, amount) of an item's adjustment reasons."""
    return [(a["reason"]["text"], a["reason"]["coding"][0]["code"], cents(a["amount"]["value"]))
            for a in adjudications if a["category"]["coding"][0]["code"] == "adjustmentreason"]


def totals(eob: dict) -> dict[str, Decimal]:
    return {t["category"]["coding"][0]["code"]: cents(t["amount"]["value"]) for t in eob["total"]}


def assert_round_trip(model, resource: dict) -> None:
    assert model.model_validate(resource).model_dump(mode="json", exclude_none=True) == resource


def assert_carin_categories(eob: dict) -> None:
    for item in eob["item"]:
        for a in item["adjudication"]:
            (cat,) = a["category"]["coding"]
            if cat["system"] == DISCRIMINATOR:
                assert cat["code"] == "adjustmentreason", cat
                (reason,) = a["reason"]["coding"]
                assert reason["system"] == CARC and reason["code"].isdigit(), reason
            else:
                assert CARIN_AMOUNTS.get(cat["code"]) == cat["system"], cat
                assert a["amount"]["currency"] == "USD"
    for t in eob["total"]:
        (cat,) = t["category"]["coding"]
        assert CARIN_AMOUNTS.get(cat["code"]) == cat["system"], cat


def assert_eob_is_the_claims(eob: dict, claim: Claim) -> None:
    """Validates; CARIN categories; totals = the sums of the items = the claim's figures; each item
    the line's stored figures; the payment the claim's payment."""
    claim = Claim.objects.get(pk=claim.pk)
    assert_round_trip(ExplanationOfBenefit, eob)
    assert_carin_categories(eob)
    assert eob["id"] == claim.claim_number
    assert eob["type"]["coding"][0]["code"] == "professional"
    assert eob["billablePeriod"] == {"start": claim.service_date.isoformat(), "end": claim.service_date.isoformat()}
    assert eob["created"] == claim.received_date.isoformat()
    item_sums: dict[str, Decimal] = {}
    for item in eob["item"]:
        for code, value in amounts(item["adjudication"]).items():
            item_sums[code] = item_sums.get(code, D("0.00")) + value
    assert totals(eob) == item_sums
    results = claim_line_results(claim=claim)
    payment = claim_payment_for(claim=claim) if claim.state == "paid" else None
    if results:
        want = {code: getattr(claim, f) for code, f in CLAIM_FIELD.items()}
        if payment is not None:
            want["paidtoprovider"] = payment.amount
        assert totals(eob) == want
        assert len(eob["item"]) == len(results)
        for item, r in zip(eob["item"], results):
            assert item["sequence"] == r.line.line_number
            assert item["productOrService"]["coding"][0]["code"] == r.line.procedure_code
            got = amounts(item["adjudication"])
            assert got == {code: (r.line.billed if code == "submitted" else getattr(r, f))
                           for code, f in LINE_FIELD.items()} | ({"paidtoprovider": r.plan_paid} if payment else {})
            # The CARCs of the line as the 835 gives them; the balance billed out of network as PR-243.
            assert [c for _, c, _ in adjustments(item["adjudication"])] == (
                [r.denial_code] if r.denial_code else
                [c for c in ("1", "2", "3", "45") if c in r.reason_code_list] + (["243"] if r.balance_billed else []))
    else:
        assert totals(eob) == {"submitted": claim.billed}
    if payment is not None:
        assert cents(eob["payment"]["amount"]["value"]) == payment.amount == claim.plan_paid
        assert eob["payment"]["date"] == claim.paid_on.isoformat()
    else:
        assert "payment" not in eob
    # The member's EOB page (claims.selectors.explanation_of_benefits) says the same.
    report = explanation_of_benefits(claim=claim)
    if results:
        assert totals(eob)["memberliability"] == report["totals"]["member_responsibility"]
        assert totals(eob)["benefit"] == report["totals"]["plan_paid"]


def pay(world, *, on: str, deposit: str = "100000.00"):
    clock.clock_set(day=day(on))
    sponsor_deposit(employer=world.employer, amount=deposit, today=day(on), reference=f"fund-{on}")
    return payment_cycle_run(today=day(on))


def fresh(claim) -> Claim:
    return Claim.objects.get(pk=claim.pk)


# --- Claims of every kind ------------------------------------------------------------------------

@pytest.mark.django_db
def test_in_network_paid_claim():
    w = build_world()  # deductible 1,000, coinsurance 20 %, office-visit copay 30
    claim = w.submit(on="2026-02-02", service="2026-02-01", lines=[("99213", "200"), ("70551", "2500")])
    run("2026-02-03")
    pay(w, on="2026-02-04")
    claim = fresh(claim)
    assert claim.state == "paid"
    eob = eob_resource(claim=claim)
    assert_eob_is_the_claims(eob, claim)
    assert totals(eob) == {"submitted": D("2700.00"), "eligible": D("1620.00"), "deductible": D("1000.00"),
                           "copay": D("30.00"), "coinsurance": D("100.00"), "noncovered": D("0.00"),
                           "benefit": D("490.00"), "memberliability": D("1130.00"), "paidtoprovider": D("490.00")}
    office, mri = eob["item"]
    assert adjustments(office["adjudication"]) == [("PR-3", "3", D("30.00")), ("CO-45", "45", D("80.00"))]
    assert adjustments(mri["adjudication"]) == [("PR-1", "1", D("1000.00")), ("PR-2", "2", D("100.00")),
                                                ("CO-45", "45", D("1000.00"))]
    assert eob["outcome"] == "complete" and eob["status"] == "active"
    assert eob["payment"]["type"]["coding"][0]["code"] == "complete"
    assert eob["payment"]["date"] == "2026-02-04"
    assert eob["adjudication"][0]["reason"]["coding"][0]["code"] == "innetwork"
    assert eob["patient"]["reference"] == f"Patient/{w.alice.member_id}"
    assert eob["insurer"]["reference"] == f"Organization/employer-{w.employer.pk}"  # ASO: the sponsor pays
    assert eob["provider"]["reference"] == f"Organization/provider-{w.mercy.pk}"
    assert eob["insurance"][0]["focal"] is True


@pytest.mark.django_db
def test_out_of_network_with_balance_billing():
    w = build_world(deductible=("0", "0"), oon_coinsurance="0.40")
    claim = w.submit(on="2026-03-02", service="2026-03-01", lines=[("99213", "200")], provider=w.faraway)
    run("2026-03-02")
    claim = fresh(claim)
    assert claim.state == "approved" and claim.balance_billed == D("80.00")
    eob = eob_resource(claim=claim)
    assert_eob_is_the_claims(eob, claim)
    # allowed 120 (the fee), 40 % coinsurance 48, plan 72; the 80 above the fee is the member's.
    assert totals(eob) == {"submitted": D("200.00"), "eligible": D("120.00"), "deductible": D("0.00"),
                           "copay": D("0.00"), "coinsurance": D("48.00"), "noncovered": D("0.00"),
                           "benefit": D("72.00"), "memberliability": D("128.00")}
    assert adjustments(eob["item"][0]["adjudication"]) == [("PR-2", "2", D("48.00")), ("PR-243", "243", D("80.00"))]  # the balance billed, as on the 835
    assert eob["adjudication"][0]["reason"]["coding"][0]["code"] == "outofnetwork"
    assert eob["outcome"] == "complete" and "payment" not in eob


@pytest.mark.django_db
def test_denied_claim_carries_its_reason():
    w = build_world(excluded=["cosmetic"])
    claim = w.submit(on="2026-03-02", service="2026-03-01", lines=[("15780", "900")])
    run("2026-03-02")
    claim = fresh(claim)
    assert claim.state == "denied"
    eob = eob_resource(claim=claim)
    assert_eob_is_the_claims(eob, claim)
    assert eob["outcome"] == "complete"
    assert eob["disposition"].startswith("Denied: 96")
    (item,) = eob["item"]
    assert adjustments(item["adjudication"]) == [("PR-96", "96", D("900.00"))]
    assert amounts(item["adjudication"])["noncovered"] == D("900.00")
    assert amounts(item["adjudication"])["memberliability"] == D("900.00")
    assert amounts(item["adjudication"])["benefit"] == D("0.00")


@pytest.mark.django_db
def test_late_claim_is_the_providers_write_off():
    w = build_world(timely_filing_days=30)
    claim = w.submit(on="2026-04-15", service="2026-02-01", lines=[("99213", "200")])
    run("2026-04-15")
    eob = eob_resource(claim=fresh(claim))
    assert_eob_is_the_claims(eob, claim)
    (item,) = eob["item"]
    assert adjustments(item["adjudication"]) == [("CO-29", "29", D("200.00"))]
    assert amounts(item["adjudication"])["memberliability"] == D("0.00")


@pytest.mark.django_db
def test_duplicate_owes_nothing():
    w = build_world()
    w.submit(on="2026-03-02", service="2026-03-01", lines=[("99213", "200")])
    copy = w.submit(on="2026-03-03", service="2026-03-01", lines=[("99213", "200")])
    run("2026-03-03")
    eob = eob_resource(claim=fresh(copy))
    assert_eob_is_the_claims(eob, copy)
    assert adjustments(eob["item"][0]["adjudication"]) == [("CO-18", "18", D("0.00"))]
    assert set(totals(eob).values()) == {D("200.00"), D("0.00")}
    assert totals(eob)["submitted"] == D("200.00")


@pytest.mark.django_db
def test_pended_claim_then_approved(examiner_login):
    w = build_world()
    claim = w.submit(on="2026-03-02", service="2026-03-01", lines=[("27447", "30000")])
    run("2026-03-02")
    claim = fresh(claim)
    assert claim.state == "pended"
    eob = eob_resource(claim=claim)
    assert_eob_is_the_claims(eob, claim)
    assert eob["outcome"] == "partial"
    assert totals(eob) == {"submitted": D("30000.00")}
    assert amounts(eob["item"][0]["adjudication"]) == {"submitted": D("30000.00")}
    assert "adjudication" not in eob  # no network status before the lines are priced

    review(claim, "approve", examiner_login, on="2026-03-05")
    eob = eob_resource(claim=fresh(claim))
    assert_eob_is_the_claims(eob, claim)
    assert eob["outcome"] == "complete"
    # allowed 20,000: deductible 1,000, coinsurance min(3,800, 4,000 - 1,000) = 3,000, plan 16,000.
    assert (totals(eob)["deductible"], totals(eob)["coinsurance"], totals(eob)["benefit"]) == (
        D("1000.00"), D("3000.00"), D("16000.00"))


@pytest.mark.django_db
def test_family_deductible():
    """An embedded family deductible (1,000 each, 2,000 the family): the third member pays none."""
    w = build_world()
    bob = w.add_member("bob", subscriber=w.alice, relationship="spouse")
    sam = w.add_member("sam", subscriber=w.alice)
    claims = [w.submit(on="2026-03-02", service="2026-03-01", lines=[("70551", "2500")], member=m)
              for m in (w.alice, bob, sam)]
    run("2026-03-02")
    eobs = [eob_resource(claim=fresh(c)) for c in claims]
    for eob, claim in zip(eobs, claims):
        assert_eob_is_the_claims(eob, claim)
    assert [totals(e)["deductible"] for e in eobs] == [D("1000.00"), D("1000.00"), D("0.00")]
    assert [totals(e)["benefit"] for e in eobs] == [D("400.00"), D("400.00"), D("1200.00")]
    assert eobs[2]["patient"]["reference"] == f"Patient/{sam.member_id}"
    assert fresh(claims[2]).family_coverage


@pytest.mark.django_db
def test_awaiting_funds_is_complete_without_payment():
    w = build_world()
    claim = w.submit(on="2026-03-02", service="2026-03-01", lines=[("70551", "2500")])
    run("2026-03-02")
    payment_cycle_run(today=day("2026-03-03"))  # no deposit: the sponsor's account is empty
    claim = fresh(claim)
    assert claim.state == "awaiting_funds"
    eob = eob_resource(claim=claim)
    assert_eob_is_the_claims(eob, claim)
    assert eob["outcome"] == "complete" and "payment" not in eob
    assert "paidtoprovider" not in totals(eob) and totals(eob)["benefit"] == D("400.00")


@pytest.mark.django_db
def test_appealed_claim_is_queued_with_its_denial_figures():
    w = build_world(excluded=["cosmetic"])
    claim = w.submit(on="2026-03-02", service="2026-03-01", lines=[("15780", "900")])
    run("2026-03-02")
    appeal(claim, on="2026-03-04")
    claim = fresh(claim)
    assert claim.state == "appealed"
    eob = eob_resource(claim=claim)
    assert_eob_is_the_claims(eob, claim)
    assert eob["outcome"] == "queued"
    assert totals(eob)["noncovered"] == D("900.00")


@pytest.mark.django_db
def test_submitted_and_rejected_claims():
    w = build_world()
    waiting = w.submit(on="2026-03-02", service="2026-03-01", lines=[("99213", "200")])
    eob = eob_resource(claim=fresh(waiting))
    assert_eob_is_the_claims(eob, waiting)
    assert eob["outcome"] == "queued" and totals(eob) == {"submitted": D("200.00")}

    clock.clock_set(day=day("2026-03-02"))
    from claims.services import claim_submit
    unknown = claim_submit(member_id="ZZZ0000000", npi=w.mercy.npi, service_date="2026-03-01",
                           lines=[{"code": "99213", "billed": "200.00", "units": 1}])
    unknown = fresh(unknown)
    assert unknown.state == "rejected" and unknown.member_id is None
    eob = eob_resource(claim=unknown)
    assert_eob_is_the_claims(eob, unknown)
    assert eob["outcome"] == "error"
    assert eob["patient"]["identifier"]["value"] == "ZZZ0000000"
    assert "member_id" in eob["disposition"] and eob["processNote"][0]["text"] == eob["disposition"]
    assert eob["payee"]["party"]["reference"] == f"Organization/provider-{w.mercy.pk}"  # the NPI was known
    assert eob["insurance"][0]["coverage"] == {"display": "no coverage identified"}
    assert "adjudication" not in eob and totals(eob) == {"submitted": D("200.00")}


# --- Coverage -------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_coverage_of_subscriber_and_dependent_aso():
    w = build_world(coverage_end=datetime.date(2026, 12, 31))
    sam = w.add_member("sam", subscriber=w.alice)
    clock.clock_set(day=day("2026-05-01"))
    alice = coverage_resource(member=w.alice)
    child = coverage_resource(member=sam)
    for resource in (alice, child):
        assert_round_trip(FhirCoverage, resource)
        assert resource["payor"][0]["reference"] == f"Organization/employer-{w.employer.pk}"
        assert resource["period"] == {"start": "2026-01-01", "end": "2026-12-31"}  # the child follows alice
        assert resource["subscriber"]["reference"] == f"Patient/{w.alice.member_id}"
        assert resource["subscriberId"] == w.alice.member_id
        classes = {c["type"]["coding"][0]["code"]: c for c in resource["class"]}
        assert classes["group"]["value"] == member_id_card_for(member=w.alice)["group_number"]
        assert classes["plan"]["value"] == str(w.plan.pk)
    assert alice["relationship"]["coding"][0]["code"] == "self"
    assert alice["beneficiary"]["reference"] == f"Patient/{w.alice.member_id}"
    assert child["relationship"]["coding"][0]["code"] == "child"
    assert child["beneficiary"]["reference"] == f"Patient/{sam.member_id}"
    assert child["id"] != alice["id"]


@pytest.mark.django_db
@pytest.mark.parametrize("funding,payor", [("FULLY_INSURED", "carrier"), ("ASC", "employer")])
def test_coverage_payor_by_funding(funding, payor):
    w = build_world(funding=funding)
    bob = w.add_member("bob", subscriber=w.alice, relationship="spouse")
    clock.clock_set(day=day("2026-05-01"))
    for member in (w.alice, bob):
        resource = coverage_resource(member=member)
        assert_round_trip(FhirCoverage, resource)
        party = w.plan.carrier if payor == "carrier" else w.employer
        assert resource["payor"] == [{"reference": f"Organization/{payor}-{party.pk}", "display": party.name}]
    assert coverage_resource(member=bob)["relationship"]["coding"][0]["code"] == "spouse"


@pytest.mark.django_db
def test_member_without_coverage_is_not_found():
    w = build_world()
    nobody = party_services.member_create(employer=w.employer, name="nobody", date_of_birth=day("1990-01-01"))
    with pytest.raises(NotFound) as err:
        coverage_resource(member=nobody)
    assert list(err.value.message_dict) == ["coverage"]


# --- The Bundle -----------------------------------------------------------------------------------

def _claims_of_every_kind(w, n: int) -> list[Claim]:
    """n claims (n >= 3) of alice and her child, in and out of network, paid, denied and pended."""
    sam = w.members.get("sam") or w.add_member("sam", subscriber=w.alice)
    made = []
    for i in range(n):
        kind = i % 3
        service = datetime.date(2026, 2, 1) + datetime.timedelta(days=i)
        if kind == 0:
            made.append(w.submit(on="2026-05-01", service=service, lines=[("99213", "200"), ("80053", "50")]))
        elif kind == 1:
            made.append(w.submit(on="2026-05-01", service=service, lines=[("15780", "900")], member=sam))
        else:
            made.append(w.submit(on="2026-05-01", service=service, lines=[("70551", "2500")], provider=w.faraway))
    run("2026-05-01")
    pay(w, on="2026-05-02")
    return [fresh(c) for c in made]


@pytest.mark.django_db
def test_bundle_holds_each_claims_eob_and_what_it_references():
    w = build_world(excluded=["cosmetic"], oon_coinsurance="0.40")
    claims = _claims_of_every_kind(w, 6)
    assert {c.state for c in claims} == {"paid", "denied"}
    base = "https://tpa.example/api/fhir"
    bundle = eob_bundle(claims=claims, base_url=base + "/")
    assert_round_trip(Bundle, bundle)
    assert bundle["type"] == "searchset" and bundle["total"] == 6
    matches = [e for e in bundle["entry"] if e["search"]["mode"] == "match"]
    included = [e for e in bundle["entry"] if e["search"]["mode"] == "include"]
    assert [e["resource"]["id"] for e in matches] == [c.claim_number for c in claims]
    for entry, claim in zip(matches, claims):
        assert entry["resource"] == eob_resource(claim=claim, base_url=base)  # one code path
        assert_eob_is_the_claims(entry["resource"], claim)
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert len(urls) == len(set(urls))
    kinds = sorted(e["resource"]["resourceType"] for e in included)
    # alice and sam; their two coverages; the sponsor and the two providers
    assert kinds == ["Coverage", "Coverage", "Organization", "Organization", "Organization", "Patient", "Patient"]
    known = set(urls)
    for e in matches:
        eob = e["resource"]
        for ref in (eob["patient"], eob["insurer"], eob["provider"], eob["insurance"][0]["coverage"]):
            assert ref["reference"] in known, ref
    for e in included:
        if e["resource"]["resourceType"] == "Coverage":
            assert_round_trip(FhirCoverage, e["resource"])
            for ref in (e["resource"]["beneficiary"], e["resource"]["subscriber"], *e["resource"]["payor"]):
                assert ref["reference"] in known, ref


@pytest.mark.django_db
def test_bundle_without_base_url_and_empty():
    w = build_world()
    claims = _claims_of_every_kind(w, 3)
    bundle = eob_bundle(claims=claims)
    assert all("fullUrl" not in e for e in bundle["entry"])
    assert bundle["entry"][0]["resource"]["patient"]["reference"].startswith("Patient/")
    empty = eob_bundle(claims=[])
    assert_round_trip(Bundle, empty)
    assert empty["total"] == 0 and empty.get("entry", []) == []


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["plain", "visible"])
def test_bundle_queries_do_not_grow_with_the_claims(source):
    w = build_world(excluded=["cosmetic"], oon_coinsurance="0.40")
    claims = _claims_of_every_kind(w, 30)
    staff = login("claims_examiner")

    def load(ids):
        if source == "plain":
            return list(Claim.objects.filter(pk__in=ids).order_by("pk"))
        return list(claim_list_visible_to(user=staff).filter(pk__in=ids).order_by("pk"))

    counts = []
    for chosen in (claims[:3], claims):
        listed = load([c.pk for c in chosen])
        with CaptureQueriesContext(connection) as q:
            bundle = eob_bundle(claims=listed)
        assert bundle["total"] == len(chosen)
        counts.append(len(q))
    assert counts[0] == counts[1], counts
    assert counts[1] <= 12, counts


@pytest.fixture
def examiner_login(db):
    return login("claims_examiner")
