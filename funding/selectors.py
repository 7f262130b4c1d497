"""Reads for the money: balances, whether the ledger balances, remittance advice (835-like)."""
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from claims.carc import CARCS
from claims.models import LineResult
from parties.models import Employer

from .models import (
    Account,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    RemittanceAdvice,
)

ZERO = Decimal("0.00")
K = Account.Kind
T = LedgerTransaction.Kind


def money(value) -> str:
    return f"{(value or ZERO):.2f}"


def account_balance(*, account: Account) -> Decimal:
    return LedgerEntry.objects.filter(account=account).aggregate(t=Sum("amount"))["t"] or ZERO


def sponsor_claims_balance(*, employer: Employer) -> Decimal:
    total = LedgerEntry.objects.filter(account__kind=K.SPONSOR_CLAIMS, account__employer=employer).aggregate(
        t=Sum("amount"))["t"]
    return total or ZERO


def ledger_is_balanced() -> bool:
    """Every transaction's entries sum to zero (so the whole ledger does) and moves money between two accounts."""
    if (LedgerEntry.objects.aggregate(t=Sum("amount"))["t"] or ZERO) != 0:
        return False
    unbalanced = (LedgerEntry.objects.values("transaction_id").annotate(t=Sum("amount")).exclude(t=0).exists())
    if unbalanced:
        return False
    return not LedgerTransaction.objects.filter(entries__isnull=True).exists()


# --- Remittance advice (835-like) ---------------------------------------------------------------

def _line_adjustments(r: LineResult) -> list[dict]:
    """The CARCs of one line with their amounts, as an 835 SVC/CAS segment carries them."""
    out = []
    if r.denial_code:
        amount = r.not_covered or r.provider_write_off or (r.not_covered + r.provider_write_off)
        out.append({"group": CARCS[r.denial_code].group if r.denial_code in CARCS else "OA", "carc": r.denial_code,
                    "amount": money(amount)})
        return out
    for code, amount in (("1", r.deductible), ("2", r.coinsurance), ("3", r.copay), ("45", r.provider_write_off)):
        if amount > 0:
            out.append({"group": CARCS[code].group, "carc": code, "amount": money(amount)})
    return out


def remittance_advice_for(*, remittance: RemittanceAdvice) -> dict:
    """The remittance as an 835 would carry it: payer(s), payee, total, and per claim its billed and
    paid amounts, the patient's responsibility, and per line the adjustments (group, CARC, amount),
    from the line results of the claim's current adjudication round."""
    remittance = RemittanceAdvice.objects.select_related(
        "provider", "employer", "payer_account", "payer_account__employer", "payer_account__carrier",
    ).get(pk=remittance.pk)
    payer = remittance.payer_account
    payments = list(Payment.objects.filter(remittance=remittance).select_related("claim", "claim__member")
                    .order_by("claim__received_date", "claim_id"))
    results = defaultdict(list)
    rounds = {p.claim_id: p.claim.adjudication_round for p in payments}
    for r in LineResult.objects.filter(claim_id__in=rounds).select_related("line").order_by("claim_id", "line__line_number"):
        if r.round == rounds[r.claim_id]:
            results[r.claim_id].append(r)
    claims_out = []
    for p in payments:
        claim = p.claim
        claims_out.append({
            "claim_number": claim.claim_number,
            "status": "1",  # processed as primary
            "patient_member_id": claim.member.member_id if claim.member_id else claim.submitted_member_id,
            "patient_name": claim.member.name if claim.member_id else "",
            "service_date": claim.service_date.isoformat(),
            "received_date": claim.received_date.isoformat(),
            "billed": money(claim.billed),
            "paid": money(p.amount),
            "patient_responsibility": money(claim.member_responsibility),
            "provider_write_off": money(claim.provider_write_off),
            "reason_codes": claim.reason_code_list,
            "lines": [
                {
                    "line_number": r.line.line_number,
                    "procedure_code": r.line.procedure_code,
                    "units": r.line.units,
                    "billed": money(r.line.billed),
                    "allowed": money(r.allowed),
                    "paid": money(r.plan_paid),
                    "balance_billed": money(r.balance_billed),
                    "adjustments": _line_adjustments(r),
                }
                for r in results[claim.pk]
            ],
        })
    return {
        "remittance": remittance.pk,
        "payment_run": remittance.cycle_id,
        "issued_on": remittance.issued_on.isoformat(),
        "payee": {"name": remittance.provider.name, "npi": remittance.provider.npi, "tin": remittance.provider.tin},
        "payer": {"account": payer.key, "name": str(payer)},
        "sponsor": remittance.employer.name,
        "ledger_transaction": remittance.transaction_id,
        "total_paid": money(sum((p.amount for p in payments), ZERO)),
        "claim_count": len(payments),
        "claims": claims_out,
    }
