"""The answers' data, read through the domain's selectors (the same readers the screens use)."""
from claims.models import Claim
from claims.selectors import claim_line_results, claim_transitions

from .serializers import (
    ClaimDetailSerializer,
    ClaimSummarySerializer,
    FeeBillingSerializer,
    FundingRequestSerializer,
    ReimbursementInvoiceSerializer,
    RemittanceSerializer,
    codes_with_meaning,
)

TOTALS = ("billed", "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed", "plan_paid",
          "member_responsibility", "provider_write_off")


def _summary(claim: Claim) -> dict:
    return {"id": claim.pk, "claim_number": claim.claim_number, "status": claim.state,
            "member_id": claim.submitted_member_id, "npi": claim.submitted_npi, "service_date": claim.service_date,
            "received_date": claim.received_date, "billed": claim.billed, "plan_paid": claim.plan_paid,
            "member_responsibility": claim.member_responsibility}


def claim_summaries(claims) -> list[dict]:
    return ClaimSummarySerializer([_summary(c) for c in claims], many=True).data


def _outcome(r) -> dict:
    return {"category": r.category, "fee": r.fee, "allowed": r.allowed, "deductible": r.deductible, "copay": r.copay,
            "coinsurance": r.coinsurance, "not_covered": r.not_covered, "balance_billed": r.balance_billed,
            "provider_write_off": r.provider_write_off, "plan_paid": r.plan_paid, "member_owes": r.member_owes,
            "denied": bool(r.denial_code), "reason_codes": codes_with_meaning(r.reason_code_list),
            "trace": [s.strip() for s in r.trace_text.splitlines() if s.strip()]}


def claim_detail(claim: Claim) -> dict:
    """Status, facts, totals, every line with its current outcome (figures, CARCs, trace) and the timeline:
    what every role's claim page shows (portal/claim_pages.py)."""
    claim = Claim.objects.select_related("member", "provider", "plan").get(pk=claim.pk)
    results = {r.line_id: r for r in claim_line_results(claim=claim)}
    lines = [{"line_number": ln.line_number, "procedure_code": ln.procedure_code, "units": ln.units,
              "billed": ln.billed, "outcome": _outcome(results[ln.pk]) if ln.pk in results else None}
             for ln in claim.lines.order_by("line_number")]
    timeline = [{"source_state": t.source_state, "state": t.state, "at": t.timestamp,
                 "by": t.by.get_username() if t.by_id else None, "description": t.description or ""}
                for t in claim_transitions(claim=claim)]
    data = {
        **_summary(claim),
        "member": {"member_id": claim.member.member_id, "name": claim.member.name} if claim.member_id else None,
        "provider": {"npi": claim.provider.npi, "name": claim.provider.name} if claim.provider_id else None,
        "plan": {"id": claim.plan_id, "name": claim.plan.name} if claim.plan_id else None,
        "adjudicated_on": claim.adjudicated_on, "paid_on": claim.paid_on,
        "duplicate_of": f"C{claim.duplicate_of_id:09d}" if claim.duplicate_of_id else None,
        "rejection": ({"field": claim.rejection_field, "message": claim.rejection_message}
                      if claim.state == "rejected" else None),
        "totals": {f: getattr(claim, f) for f in TOTALS},
        "reason_codes": codes_with_meaning(claim.reason_code_list),
        "lines": lines, "timeline": timeline,
    }
    return ClaimDetailSerializer(data).data


def remittances(rows) -> list[dict]:
    return RemittanceSerializer([
        {"id": r.pk, "issued_on": r.issued_on, "payment_run": r.cycle_id,
         "payee": {"npi": r.provider.npi, "name": r.provider.name}, "payer": str(r.payer_account),
         "sponsor": r.employer.name, "amount": r.amount, "claim_count": r.claim_count}
        for r in rows], many=True).data


def funding_requests(rows) -> list[dict]:
    return FundingRequestSerializer([
        {"id": r.pk, "sponsor": {"id": r.employer_id, "name": r.employer.name}, "payment_run": r.cycle_id,
         "requested_on": r.requested_on, "amount": r.amount, "open_amount": r.open_amount}
        for r in rows], many=True).data


def reimbursement_invoices(rows) -> list[dict]:
    return ReimbursementInvoiceSerializer([
        {"id": r.pk, "sponsor": {"id": r.employer_id, "name": r.employer.name},
         "carrier": {"id": r.carrier_id, "name": r.carrier.name}, "issued_on": r.issued_on, "amount": r.amount,
         "open_amount": r.open_amount}
        for r in rows], many=True).data


def fee_billings(rows) -> list[dict]:
    return FeeBillingSerializer([
        {"id": r.pk, "sponsor": {"id": r.plan.sponsor_id, "name": r.plan.sponsor.name},
         "plan": {"id": r.plan_id, "name": r.plan.name}, "kind": r.kind, "month": r.month, "billed_on": r.billed_on,
         "subscribers": r.subscribers, "pepm": r.pepm, "amount": r.amount}
        for r in rows], many=True).data
