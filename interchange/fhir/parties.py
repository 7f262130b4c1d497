"""Patient, Organization and Coverage resources (FHIR R4 through fhir.resources' R4B models) for the
members, providers, sponsors and carriers, and the bulk read of the coverage periods they need."""
from dataclasses import dataclass

from fhir.resources.R4B.coverage import Coverage as FhirCoverage
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient

from core.clock import today
from core.errors import NotFound
from parties.models import Member
from plans.models import Coverage, FundingArrangement, Plan
from plans.periods import coverage_on
from plans.selectors import coverage_periods_for_members

from . import codes


def reference(base: str, kind: str, ident: str, display: str = "") -> dict:
    """A reference to one of our resources: relative, or absolute under `base` when one is given."""
    ref = {"reference": f"{base}/{kind}/{ident}" if base else f"{kind}/{ident}"}
    if display:
        ref["display"] = display
    return ref


def dump(model_class, data: dict) -> dict:
    """Validated by the R4B model, then as JSON would carry it (FHIR decimals are JSON numbers)."""
    return model_class.model_validate(data).model_dump(mode="json", exclude_none=True)


def coding(system: str, code: str, display: str = "") -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


# --- Ids ------------------------------------------------------------------------------------------

def patient_id(member: Member) -> str:
    return member.member_id


def provider_org_id(provider) -> str:
    return f"provider-{provider.pk}"


def coverage_id(coverage_pk: int) -> str:
    return f"coverage-{coverage_pk}"


def payor_of(plan: Plan) -> tuple[str, object]:
    """("employer" | "carrier", party) who bears the claims' cost: the sponsor of a self-funded plan
    (ASO, ASC: the ASC carrier only fronts the money), the carrier of a fully insured one."""
    if plan.funding == FundingArrangement.FULLY_INSURED:
        return "carrier", plan.carrier
    return "employer", plan.sponsor


def payor_org_id(plan: Plan) -> str:
    kind, party = payor_of(plan)
    return f"{kind}-{party.pk}"


def group_number(member: Member) -> str:
    # As the member's ID card prints it (plans.selectors.member_id_card_for; a test keeps them equal).
    return f"GRP-{member.employer_id:06d}"


# --- Resources ------------------------------------------------------------------------------------

def patient_resource(*, member: Member) -> dict:
    return dump(Patient, {
        "resourceType": "Patient", "id": patient_id(member),
        "identifier": [{"type": {"coding": [coding(codes.IDENTIFIER_TYPE, "MB", "Member Number")]},
                        "system": codes.MEMBER_ID, "value": member.member_id}],
        "name": [{"text": member.name}],
        "birthDate": member.date_of_birth.isoformat(),
    })


def provider_organization(*, provider) -> dict:
    identifiers = [{"type": {"coding": [coding(codes.IDENTIFIER_TYPE, "NPI", "National provider identifier")]},
                    "system": codes.NPI, "value": provider.npi}]
    if provider.tin:
        identifiers.append({"type": {"coding": [coding(codes.IDENTIFIER_TYPE, "TAX", "Tax ID number")]},
                            "system": codes.US_TIN, "value": provider.tin})
    return dump(Organization, {
        "resourceType": "Organization", "id": provider_org_id(provider), "active": True,
        "identifier": identifiers,
        "type": [{"coding": [coding(codes.ORGANIZATION_TYPE, "prov", "Healthcare Provider")]}],
        "name": provider.name,
    })


def payor_organization(*, plan: Plan) -> dict:
    kind, party = payor_of(plan)
    identifiers = []
    if kind == "employer" and party.ein:
        identifiers.append({"type": {"coding": [coding(codes.IDENTIFIER_TYPE, "TAX", "Tax ID number")]},
                            "system": codes.US_TIN, "value": party.ein})
    if kind == "carrier" and party.naic_code:
        identifiers.append({"system": codes.NAIC, "value": party.naic_code})
    data = {
        "resourceType": "Organization", "id": payor_org_id(plan), "active": True,
        "type": [{"coding": [coding(codes.ORGANIZATION_TYPE, "pay" if kind == "employer" else "ins",
                                    "Payer" if kind == "employer" else "Insurance Company")]}],
        "name": party.name,
    }
    if identifiers:
        data["identifier"] = identifiers
    return dump(Organization, data)


@dataclass(frozen=True)
class CoveragePeriod:
    """One coverage row of a member, with its effective dates (a dependent's blanks its subscriber's)."""
    pk: int
    plan: Plan
    start: object
    end: object


def coverage_build(*, member: Member, period: CoveragePeriod, base_url: str = "") -> dict:
    """The member's Coverage for one period: subscriber, relationship, period, payor, group and plan."""
    base = base_url.rstrip("/")
    subscriber = member.subscriber if member.subscriber_id else member
    plan = period.plan
    kind, party = payor_of(plan)
    dates = {"start": period.start.isoformat()} if period.start else {}
    if period.end:
        dates["end"] = period.end.isoformat()
    data = {
        "resourceType": "Coverage", "id": coverage_id(period.pk), "status": "active",
        "identifier": [{"type": {"coding": [coding(codes.IDENTIFIER_TYPE, "MB", "Member Number")]},
                        "system": codes.MEMBER_ID, "value": member.member_id}],
        "subscriber": reference(base, "Patient", patient_id(subscriber), subscriber.name),
        "subscriberId": subscriber.member_id,
        "beneficiary": reference(base, "Patient", patient_id(member), member.name),
        "relationship": {"coding": [coding(codes.SUBSCRIBER_RELATIONSHIP, codes.RELATIONSHIP[member.relationship])]},
        "payor": [reference(base, "Organization", payor_org_id(plan), party.name)],
        "class": [
            {"type": {"coding": [coding(codes.COVERAGE_CLASS, "group", "Group")]},
             "value": group_number(member), "name": plan.sponsor.name},
            {"type": {"coding": [coding(codes.COVERAGE_CLASS, "plan", "Plan")]},
             "value": str(plan.pk), "name": f"{plan.name} ({plan.funding})"},
        ],
    }
    if dates:
        data["period"] = dates
    return dump(FhirCoverage, data)


def coverage_periods_load(*, members: list[Member]) -> dict[int, list[CoveragePeriod]]:
    """member id -> its coverage periods in start order, in three queries for any number of members
    (the members' subscribers already loaded): the effective periods (plans.selectors), the rows'
    ids in the same order, and the plans with their sponsors and carriers."""
    if not members:
        return {}
    subscriber_of = {m.pk: m.subscriber_id for m in members}
    periods = coverage_periods_for_members(member_ids=subscriber_of, subscriber_of=subscriber_of)
    ids: dict[int, list[int]] = {}
    # The same rows in the same order as effective_periods reads them (member, start, pk).
    for pk, member_id in (Coverage.objects.filter(member_id__in=list(subscriber_of))
                          .order_by("member_id", "start", "pk").values_list("pk", "member_id")):
        ids.setdefault(member_id, []).append(pk)
    plan_ids = {p[0] for rows in periods.values() for p in rows}
    plans = Plan.objects.select_related("sponsor", "carrier").in_bulk(plan_ids) if plan_ids else {}
    return {
        member_id: [CoveragePeriod(pk=pk, plan=plans[plan_id], start=start, end=end)
                    for pk, (plan_id, start, end) in zip(ids.get(member_id, []), rows)]
        for member_id, rows in periods.items()
    }


def coverage_period_on(*, periods: list[CoveragePeriod], day) -> CoveragePeriod | None:
    """The period in force on `day`, else the nearest (as adjudication and the ID card choose it)."""
    _, found = coverage_on(periods=[(p, p.start, p.end) for p in periods], day=day)
    return found[0] if found else None


def coverage_resource(*, member: Member, base_url: str = "") -> dict:
    """The member's Coverage: the period in force today, else the nearest one (as the ID card shows it).
    NotFound when the member has no coverage at all."""
    member = Member.objects.select_related("subscriber").get(pk=member.pk)
    period = coverage_period_on(periods=coverage_periods_load(members=[member]).get(member.pk, []), day=today())
    if period is None:
        raise NotFound({"coverage": [f"{member.name} ({member.member_id}) has no coverage"]})
    return coverage_build(member=member, period=period, base_url=base_url)
