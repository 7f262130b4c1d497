"""ExplanationOfBenefit (FHIR R4, in the shape of CARIN Blue Button's professional EOB) for claims, one
at a time or as a searchset Bundle in a bounded number of queries.

The figures are the claim's own, as adjudication stored them and the readers give them
(`claims.selectors.claim_line_results`, `funding.selectors.claim_payment_for`): nothing is recomputed
here. Per line: submitted, eligible (allowed), deductible, copay, coinsurance, noncovered, benefit
(plan paid), memberliability (what the member owes: cost sharing, not covered and balance billed),
paidtoprovider once paid, and each CARC with its amount as an adjustment reason.

Outcome by claim state: submitted and appealed `queued` (waiting for (re-)adjudication; an appealed
claim shows the figures of its denial); pended `partial` (the edits passed, the figures wait for the
examiner); rejected `error` (an intake edit failed: the field and message are the disposition and
a process note); approved, awaiting_funds, paid and denied `complete`.
"""
from collections import defaultdict
from decimal import Decimal

from django.db.models import prefetch_related_objects
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.explanationofbenefit import ExplanationOfBenefit

from claims.carc import CARC_MEANING, carc_text
from claims.models import Claim, ClaimLine, LineResult
from claims.selectors import claim_line_results
from funding.models import Payment
from funding.selectors import claim_payment_for, line_adjustments  # the CARCs with their amounts, as the 835 has them

from . import codes
from .parties import (
    CoveragePeriod,
    coding,
    coverage_build,
    coverage_id,
    coverage_period_on,
    coverage_periods_load,
    patient_id,
    patient_resource,
    payor_of,
    payor_org_id,
    payor_organization,
    provider_org_id,
    provider_organization,
    reference,
)

ZERO = Decimal("0.00")
CURRENCY = "USD"

OUTCOME = {
    "submitted": "queued", "appealed": "queued", "pended": "partial", "rejected": "error",
    "approved": "complete", "awaiting_funds": "complete", "paid": "complete", "denied": "complete",
}


def _money(value: Decimal) -> dict:
    return {"value": value, "currency": CURRENCY}


def _amount(code: str, value: Decimal) -> dict:
    system, display = codes.AMOUNT_CATEGORIES[code]
    return {"category": {"coding": [coding(system, code, display)]}, "amount": _money(value)}


def _line_amounts(result: LineResult | None, line: ClaimLine, *, paid: bool) -> list[dict]:
    """The line's adjudication amounts; only what was submitted before the line is priced."""
    out = [_amount("submitted", line.billed)]
    if result is None:
        return out
    out += [
        _amount("eligible", result.allowed), _amount("deductible", result.deductible), _amount("copay", result.copay),
        _amount("coinsurance", result.coinsurance), _amount("noncovered", result.not_covered),
        _amount("benefit", result.plan_paid), _amount("memberliability", result.member_owes),
    ]
    if paid:
        out.append(_amount("paidtoprovider", result.plan_paid))
    for adjustment in line_adjustments(result):
        out.append({
            "category": {"coding": [coding(codes.C4BB_DISCRIMINATOR, codes.ADJUSTMENT_REASON, "Adjustment Reason")]},
            "reason": {"coding": [coding(codes.CARC, adjustment["carc"], CARC_MEANING.get(adjustment["carc"], ""))],
                       "text": f"{adjustment['group']}-{adjustment['carc']}"},
            "amount": _money(Decimal(adjustment["amount"])),
        })
    return out


def _totals(claim: Claim, *, priced: bool, payment: Payment | None) -> list[dict]:
    out = [_amount("submitted", claim.billed)]
    if priced:
        out += [
            _amount("eligible", claim.allowed), _amount("deductible", claim.deductible), _amount("copay", claim.copay),
            _amount("coinsurance", claim.coinsurance), _amount("noncovered", claim.not_covered),
            _amount("benefit", claim.plan_paid), _amount("memberliability", claim.member_responsibility),
        ]
    if payment is not None:
        out.append(_amount("paidtoprovider", payment.amount))
    return out


def _disposition(claim: Claim) -> str:
    state = claim.state
    if state == "rejected":
        return f"Rejected at intake: {claim.rejection_field}: {claim.rejection_message}"
    if state == "denied":
        return "Denied: " + "; ".join(carc_text(c) for c in claim.reason_code_list)
    return {
        "submitted": "Received; not yet adjudicated.",
        "appealed": "Appealed; waiting for re-adjudication (the figures are those of the denial).",
        "pended": "Pended for an examiner's review.",
        "approved": "Approved; waiting for the payment cycle.",
        "awaiting_funds": "Approved; waiting for the plan sponsor's funds.",
        "paid": f"Paid on {claim.paid_on}.",
    }.get(state, state)


def eob_build(*, claim: Claim, lines: list[ClaimLine], results: dict[int, LineResult], payment: Payment | None,
              coverage: CoveragePeriod | None, base_url: str = "") -> dict:
    """One claim's ExplanationOfBenefit from what was read for it: its lines, its current round's
    results by line id, its payment (None unless paid), the coverage it was adjudicated under."""
    base = base_url.rstrip("/")
    paid = payment is not None
    priced = bool(results)
    member, provider, plan = claim.member, claim.provider, claim.plan
    if member is not None:
        patient = reference(base, "Patient", patient_id(member), member.name)
    else:  # rejected: no member has the ID as submitted
        patient = {"identifier": {"system": codes.MEMBER_ID, "value": claim.submitted_member_id or "(none)"},
                   "display": "unknown member"}
    if provider is not None:
        provider_ref = reference(base, "Organization", provider_org_id(provider), provider.name)
    else:
        provider_ref = {"identifier": {"system": codes.NPI, "value": claim.submitted_npi or "(none)"},
                        "display": "unknown provider"}
    if plan is not None:
        insurer = reference(base, "Organization", payor_org_id(plan), payor_of(plan)[1].name)
    else:
        insurer = {"display": "not identified (no plan for the member)"}
    if coverage is not None:
        insurance = {"focal": True, "coverage": reference(base, "Coverage", coverage_id(coverage.pk))}
    else:
        insurance = {"focal": True, "coverage": {"display": "no coverage identified"}}
    data = {
        "resourceType": "ExplanationOfBenefit",
        "id": claim.claim_number,
        "identifier": [{"type": {"coding": [coding(codes.C4BB_IDENTIFIER_TYPE, "uc", "Unique Claim ID")]},
                        "system": codes.CLAIM_NUMBER, "value": claim.claim_number}],
        "status": "active",
        "type": {"coding": [coding(codes.CLAIM_TYPE, "professional", "Professional")]},
        "use": "claim",
        "patient": patient,
        "billablePeriod": {"start": claim.service_date.isoformat(), "end": claim.service_date.isoformat()},
        "created": claim.received_date.isoformat(),
        "insurer": insurer,
        "provider": provider_ref,
        "outcome": OUTCOME[claim.state],
        "disposition": _disposition(claim),
        "supportingInfo": [{
            "sequence": 1,
            "category": {"coding": [coding(codes.C4BB_SUPPORTING_INFO, "clmrecvddate", "Claim Received Date")]},
            "timingDate": claim.received_date.isoformat(),
        }],
        "insurance": [insurance],
        "item": [
            {
                "sequence": line.line_number,
                "productOrService": {"coding": [coding(codes.CPT, line.procedure_code)]},
                "servicedDate": claim.service_date.isoformat(),
                "quantity": {"value": line.units},
                "net": _money(line.billed),
                "adjudication": _line_amounts(results.get(line.pk), line, paid=paid),
            }
            for line in lines
        ],
        "total": _totals(claim, priced=priced, payment=payment),
    }
    if provider is not None:
        data["payee"] = {"type": {"coding": [coding(codes.PAYEE_TYPE, "provider", "Provider")]}, "party": provider_ref}
        if priced:
            network = "innetwork" if provider.in_network else "outofnetwork"
            data["adjudication"] = [{
                "category": {"coding": [coding(codes.C4BB_DISCRIMINATOR, codes.BENEFIT_PAYMENT_STATUS,
                                               "Benefit Payment Status")]},
                "reason": {"coding": [coding(codes.C4BB_PAYER_STATUS, network,
                                             "In Network" if provider.in_network else "Out Of Network")]},
            }]
    if claim.state == "rejected":
        data["processNote"] = [{"number": 1, "type": "display", "text": _disposition(claim)}]
    if paid:
        data["payment"] = {
            "type": {"coding": [coding(codes.PAYMENT_TYPE, "complete", "Complete")]},
            "date": payment.paid_on.isoformat(),
            "amount": _money(payment.amount),
            "identifier": {"system": "urn:tpa:remittance", "value": str(payment.remittance_id)},
        }
    return ExplanationOfBenefit.model_validate(data).model_dump(mode="json", exclude_none=True)


def _claim_relations(claims: list[Claim]) -> None:
    """The claims' member (and subscriber), provider and plan (sponsor, carrier): one query each that
    is not already loaded, whatever the number of claims."""
    prefetch_related_objects(claims, "member__subscriber", "provider", "plan__sponsor", "plan__carrier")


def _coverage_for(claim: Claim, periods: dict[int, list[CoveragePeriod]]) -> CoveragePeriod | None:
    """The coverage the claim was adjudicated under: the member's period on the service date (or the
    nearest, for a claim denied for no coverage)."""
    if claim.member_id is None:
        return None
    return coverage_period_on(periods=periods.get(claim.member_id, []), day=claim.service_date)


def eob_resource(*, claim: Claim, base_url: str = "") -> dict:
    """One claim's ExplanationOfBenefit as a JSON-able dict (see the module's docstring)."""
    _claim_relations([claim])
    results = claim_line_results(claim=claim)
    lines = [r.line for r in results] or list(claim.lines.order_by("line_number"))
    payment = claim_payment_for(claim=claim) if claim.state == "paid" else None
    periods = coverage_periods_load(members=[claim.member]) if claim.member_id else {}
    return eob_build(claim=claim, lines=lines, results={r.line_id: r for r in results}, payment=payment,
                     coverage=_coverage_for(claim, periods), base_url=base_url)


def eob_bundle(*, claims: list[Claim], base_url: str = "") -> dict:
    """A searchset Bundle: the claims' ExplanationOfBenefits (search mode `match`), then the Patients,
    Coverages and Organizations (providers, payors) they reference (`include`), each once. A bounded
    number of queries whatever the number of claims: the relations, the lines, the current round's
    results, the payments, the coverage periods."""
    base = base_url.rstrip("/")
    claims = list(claims)
    _claim_relations(claims)
    ids = [c.pk for c in claims]
    lines: dict[int, list[ClaimLine]] = defaultdict(list)
    results: dict[int, dict[int, LineResult]] = defaultdict(dict)
    payments: dict[int, Payment] = {}
    if ids:
        for line in ClaimLine.objects.filter(claim_id__in=ids).order_by("claim_id", "line_number"):
            lines[line.claim_id].append(line)
        rounds = {c.pk: c.adjudication_round for c in claims}
        # The current round's rows, as claim_line_results reads them one claim at a time.
        for r in LineResult.objects.filter(claim_id__in=ids).order_by():
            if r.round == rounds[r.claim_id]:
                results[r.claim_id][r.line_id] = r
        paid = [c.pk for c in claims if c.state == "paid"]
        if paid:
            payments = {p.claim_id: p for p in Payment.objects.filter(claim_id__in=paid)}
    members = list({c.member_id: c.member for c in claims if c.member_id}.values())
    periods = coverage_periods_load(members=members)

    entries, included, seen = [], [], set()

    def include(kind: str, ident: str, build) -> None:
        if (kind, ident) not in seen:
            seen.add((kind, ident))
            included.append((kind, ident, build()))

    for claim in claims:
        coverage = _coverage_for(claim, periods)
        entries.append(("ExplanationOfBenefit", claim.claim_number, eob_build(
            claim=claim, lines=lines[claim.pk], results=results[claim.pk], payment=payments.get(claim.pk),
            coverage=coverage, base_url=base)))
        if claim.member_id:
            member = claim.member
            include("Patient", patient_id(member), lambda m=member: patient_resource(member=m))
            if member.subscriber_id:
                include("Patient", patient_id(member.subscriber), lambda m=member.subscriber: patient_resource(member=m))
        if coverage is not None:
            include("Coverage", coverage_id(coverage.pk),
                    lambda m=claim.member, p=coverage: coverage_build(member=m, period=p, base_url=base))
            include("Organization", payor_org_id(coverage.plan), lambda p=coverage.plan: payor_organization(plan=p))
        if claim.plan_id:
            include("Organization", payor_org_id(claim.plan), lambda p=claim.plan: payor_organization(plan=p))
        if claim.provider_id:
            include("Organization", provider_org_id(claim.provider),
                    lambda p=claim.provider: provider_organization(provider=p))

    def entry(kind: str, ident: str, resource: dict, mode: str) -> dict:
        out = {"resource": resource, "search": {"mode": mode}}
        if base:
            out["fullUrl"] = f"{base}/{kind}/{ident}"
        return out

    data = {
        "resourceType": "Bundle", "type": "searchset", "total": len(entries),
        "entry": [entry(*e, "match") for e in entries] + [entry(*e, "include") for e in included],
    }
    if base:
        data["link"] = [{"relation": "self", "url": f"{base}/ExplanationOfBenefit"}]
    return Bundle.model_validate(data).model_dump(mode="json", exclude_none=True)
