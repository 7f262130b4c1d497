"""Reads for the money: balances, whether the ledger balances, remittance advice (835-like)."""
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from claims.carc import BALANCE_BILLED_CARC, CARCS
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

def line_adjustments(r: LineResult) -> list[dict]:
    """The CARCs of one line with their amounts, as an 835 SVC/CAS segment carries them: the one reader of
    them (the remittance page, the 835, the FHIR EOB). The balance billed out of network, which DOMAIN.md
    gives no CARC, goes as BALANCE_BILLED_CARC (PR)."""
    out = []
    if r.denial_code:
        amount = r.not_covered or r.provider_write_off or (r.not_covered + r.provider_write_off)
        out.append({"group": CARCS[r.denial_code].group if r.denial_code in CARCS else "OA", "carc": r.denial_code,
                    "amount": money(amount)})
        return out
    for code, amount in (("1", r.deductible), ("2", r.coinsurance), ("3", r.copay), ("45", r.provider_write_off),
                         (BALANCE_BILLED_CARC, r.balance_billed)):
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
    payments = list(Payment.objects.filter(remittance=remittance).order_by("claim__received_date", "claim_id"))
    claims_out = []
    for at in range(0, len(payments), 500):  # the claims' reader, a bounded page of claims at a time
        for c in remittance_claims_for(payments=payments[at:at + 500]):
            claims_out.append({
                "claim_number": c["claim_number"],
                "status": "1",  # processed as primary
                "patient_member_id": c["patient_member_id"], "patient_name": c["patient_name"],
                "service_date": c["service_date"].isoformat(), "received_date": c["received_date"].isoformat(),
                **{f: money(c[f]) for f in ("billed", "paid", "patient_responsibility", "provider_write_off")},
                "reason_codes": c["reason_codes"],
                "lines": [{**line, **{f: money(line[f]) for f in ("billed", "allowed", "paid", "balance_billed")}}
                          for line in c["lines"]],
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


def remittance_list_visible_to(*, user):
    """The remittance advices a login may see: TPA staff all, a provider its own (the payments it
    received); anyone else none (a sponsor or carrier sees its money as claims, requests and invoices,
    not the providers' remittances), so another party's remittance is a 404."""
    from parties.roles import role_of, user_is_tpa_staff  # here: this reader's additions stay in one place

    qs = RemittanceAdvice.objects.select_related(
        "provider", "employer", "payer_account__employer", "payer_account__carrier", "payer_account__provider")
    if user_is_tpa_staff(user=user):
        return qs
    if role_of(user=user) == "provider_staff":
        return qs.filter(provider_id=user.party_link.provider_id)
    return qs.none()


def remittance_claims_for(*, payments: list[Payment]) -> list[dict]:
    """The claims of some of a remittance's payments (a page of them) as `remittance_advice_for` gives
    them: billed, paid, the patient's responsibility and per line the adjustments (group, CARC,
    amount). Two queries whatever the remittance's size: the claims with their members, and their
    current round's lines (each (claim, round) an index probe: the page reads only its own rows)."""
    from django.db.models import Q

    from claims.models import Claim

    claims = {c.pk: c for c in Claim.objects.filter(pk__any=[p.claim_id for p in payments]).select_related("member")}
    results = defaultdict(list)
    if claims:
        current = Q()
        for claim in claims.values():
            current |= Q(claim_id=claim.pk, round=claim.adjudication_round)
        for r in LineResult.objects.filter(current).select_related("line").order_by():
            results[r.claim_id].append(r)
    out = []
    for p in payments:
        claim = claims[p.claim_id]
        lines = sorted(results[claim.pk], key=lambda r: r.line.line_number)
        out.append({
            "claim_id": claim.pk,
            "claim_number": claim.claim_number,
            "patient_member_id": claim.member.member_id if claim.member_id else claim.submitted_member_id,
            "patient_name": claim.member.name if claim.member_id else "",
            "service_date": claim.service_date,
            "received_date": claim.received_date,
            "billed": claim.billed,
            "paid": p.amount,
            "patient_responsibility": claim.member_responsibility,
            "provider_write_off": claim.provider_write_off,
            "reason_codes": claim.reason_code_list,
            "lines": [
                {"line_number": r.line.line_number, "procedure_code": r.line.procedure_code, "units": r.line.units,
                 "billed": r.line.billed, "allowed": r.allowed, "paid": r.plan_paid,
                 "balance_billed": r.balance_billed, "adjustments": line_adjustments(r)}
                for r in lines
            ],
        })
    return out


def remittance_payment_list(*, remittance: RemittanceAdvice, term: str = ""):
    """A remittance's payments (no join: a page of them is read, then `remittance_claims_for` its claims),
    only those of the claims a search term names (`claims.selectors.claim_search_condition`) when given."""
    from claims.models import Claim
    from claims.selectors import claim_search_condition

    payments = Payment.objects.filter(remittance=remittance)
    condition = claim_search_condition(term=term)
    if condition is not None:
        payments = payments.filter(claim_id__in=Claim.objects.filter(condition).values("pk"))
    return payments


def claim_payment_for(*, claim) -> Payment | None:
    """The payment of a paid claim, with its remittance."""
    return Payment.objects.filter(claim=claim).select_related("remittance").first()


# --- Who sees which funding records (the dashboards' lists) ------------------------------------
# A sponsor sees its own money, a carrier the money of its business, TPA staff all of it, anyone
# else none: another party's request, invoice, billing or filing is a 404.

def _funding_viewer(*, user) -> tuple[str, object]:
    """("staff", None), (role, party link) for a login with a party, or ("", None)."""
    from parties.roles import user_is_tpa_staff  # here: these readers' additions stay in one place
    from parties.selectors import party_link_for

    if user_is_tpa_staff(user=user):
        return "staff", None
    link = party_link_for(user=user)
    return (link.role, link) if link is not None else ("", None)


def funding_request_list_visible_to(*, user):
    """ASO funding requests: TPA staff all, an employer admin its sponsor's, anyone else none."""
    from .models import FundingRequest

    qs = FundingRequest.objects.all()
    role, link = _funding_viewer(user=user)
    if role == "staff":
        return qs
    if role == "employer_admin":
        return qs.filter(employer_id=link.employer_id)
    return qs.none()


def reimbursement_invoice_list_visible_to(*, user):
    """ASC reimbursement invoices: TPA staff all, an employer admin its sponsor's, a carrier analyst
    those its carrier issued, anyone else none."""
    from .models import ReimbursementInvoice

    qs = ReimbursementInvoice.objects.select_related("employer", "carrier")
    role, link = _funding_viewer(user=user)
    if role == "staff":
        return qs
    if role == "employer_admin":
        return qs.filter(employer_id=link.employer_id)
    if role == "carrier_analyst":
        return qs.filter(carrier_id=link.carrier_id)
    return qs.none()


def fee_billing_list_visible_to(*, user):
    """Admin fees and premiums billed: TPA staff all, an employer admin its plans', a carrier analyst
    the premiums of the fully insured plans it carries (an ASC plan's admin fee is the TPA's income,
    not the carrier's), anyone else none."""
    from .models import FeeBilling

    qs = FeeBilling.objects.select_related("plan", "plan__sponsor")
    role, link = _funding_viewer(user=user)
    if role == "staff":
        return qs
    if role == "employer_admin":
        return qs.filter(plan__sponsor_id=link.employer_id)
    if role == "carrier_analyst":
        return qs.filter(plan__carrier_id=link.carrier_id, kind=FeeBilling.Kind.PREMIUM)
    return qs.none()


def stop_loss_filing_list_visible_to(*, user):
    """Stop-loss reimbursements filed: TPA staff all, an employer admin its plans', a carrier analyst
    those of the policies its carrier wrote, anyone else none."""
    from .models import StopLossFiling

    qs = StopLossFiling.objects.select_related("policy__plan__sponsor", "policy__carrier", "member")
    role, link = _funding_viewer(user=user)
    if role == "staff":
        return qs
    if role == "employer_admin":
        return qs.filter(policy__plan__sponsor_id=link.employer_id)
    if role == "carrier_analyst":
        return qs.filter(policy__carrier_id=link.carrier_id)
    return qs.none()
