"""Reads for the money: balances, the scenario report's money figures, remittance advice (835-like).

Every money figure of the report is a sum of ledger entries (or, for what is billed or requested
rather than moved, of the invoices and funding requests), so that the report equals the ledger.
"""
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from claims.models import Claim, LineResult
from parties.models import Carrier, Employer, Member, Provider
from plans.models import SELF_FUNDED, Plan, StopLossPolicy

from .models import (
    Account,
    FundingRequest,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    ReimbursementInvoice,
    RemittanceAdvice,
    StopLossFiling,
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


def _ledger_sums() -> dict[tuple, Decimal]:
    """(account kind, account employer, account carrier, account provider, transaction kind, transaction employer)
    -> sum of entries: one grouped query for the whole report."""
    out: dict[tuple, Decimal] = {}
    for row in LedgerEntry.objects.values(
        "account__kind", "account__employer_id", "account__carrier_id", "account__provider_id",
        "transaction__kind", "transaction__employer_id",
    ).annotate(total=Sum("amount")).values_list(
        "account__kind", "account__employer_id", "account__carrier_id", "account__provider_id",
        "transaction__kind", "transaction__employer_id", "total",
    ):
        out[row[:6]] = row[6]
    return out


def money_report(*, employers: dict[str, Employer], carriers: dict[str, Carrier], providers: dict[str, Provider],
                 claims: dict[str, Claim], members: dict[str, Member] | None = None) -> dict:
    """The money part of a scenario's report (SCENARIOS.md "The report"), every figure a string with two
    decimals: employers, carriers, providers, stop_loss and, per claim, paid_from and paid_on."""
    members = members or {}
    sums = _ledger_sums()

    def total(*, account_kind=None, account_employer=None, account_carrier=None, account_provider=None,
              txn_kind=None, txn_employer=None, sign=1) -> Decimal:
        result = ZERO
        for (ak, ae, ac, ap, tk, te), amount in sums.items():
            if ((account_kind is None or ak == account_kind) and (account_employer is None or ae == account_employer)
                    and (account_carrier is None or ac == account_carrier)
                    and (account_provider is None or ap == account_provider)
                    and (txn_kind is None or tk == txn_kind) and (txn_employer is None or te == txn_employer)):
                result += amount
        return result * sign

    funding_of = {}
    for sponsor_id, funding in Plan.objects.filter(sponsor__in=employers.values()).order_by("pk").values_list(
        "sponsor_id", "funding"
    ):
        funding_of.setdefault(sponsor_id, funding)
    requested = dict(FundingRequest.objects.filter(employer__in=employers.values()).values("employer_id")
                     .annotate(t=Sum("amount")).values_list("employer_id", "t"))
    invoiced = dict(ReimbursementInvoice.objects.filter(employer__in=employers.values()).values("employer_id")
                    .annotate(t=Sum("amount")).values_list("employer_id", "t"))

    report_employers = {}
    for key, employer in employers.items():
        e = employer.pk
        funding = funding_of.get(e, "")
        claims_paid = total(account_kind=K.PROVIDER, txn_kind=T.CLAIM_PAYMENT, txn_employer=e)
        admin_fees = total(account_kind=K.ADMIN_FEES, txn_employer=e)
        premiums = total(account_kind=K.PREMIUMS, txn_employer=e)
        stop_loss = total(account_kind=K.SPONSOR_CLAIMS, account_employer=e, txn_kind=T.STOP_LOSS)
        net = (claims_paid if funding in SELF_FUNDED else ZERO) + admin_fees + premiums - stop_loss
        report_employers[key] = {
            "funding": funding,
            "deposits": money(total(account_kind=K.SPONSOR_CLAIMS, account_employer=e, txn_kind=T.DEPOSIT)),
            "balance": money(total(account_kind=K.SPONSOR_CLAIMS, account_employer=e)),
            "funding_requested": money(requested.get(e)),
            "claims_paid": money(claims_paid),
            "reimbursements_invoiced": money(invoiced.get(e)),
            "reimbursements_paid": money(total(account_kind=K.CARRIER, txn_kind=T.REIMBURSEMENT, txn_employer=e)),
            "admin_fees": money(admin_fees),
            "premiums": money(premiums),
            "stop_loss_received": money(stop_loss),
            "net_cost": money(net),
        }

    report_carriers = {
        key: {
            "claims_paid": money(total(account_kind=K.CARRIER, account_carrier=c.pk, txn_kind=T.CLAIM_PAYMENT, sign=-1)),
            "receivable": money(total(account_kind=K.ASC_RECEIVABLE, account_carrier=c.pk)),
            "premiums": money(total(account_kind=K.PREMIUMS, account_carrier=c.pk)),
            "stop_loss_paid": money(total(account_kind=K.STOP_LOSS, account_carrier=c.pk, sign=-1)),
        }
        for key, c in carriers.items()
    }
    # A provider outlives a kept scenario (one per NPI): count only what this world's sponsors paid it.
    report_providers = {key: {"paid": money(sum((total(account_kind=K.PROVIDER, account_provider=p.pk, txn_employer=e.pk)
                                                 for e in employers.values()), ZERO))}
                        for key, p in providers.items()}

    member_key = {m.pk: k for k, m in members.items()}
    employer_key = {e.pk: k for k, e in employers.items()}
    report_stop_loss = {}
    for sponsor_id in sorted(set(StopLossPolicy.objects.filter(plan__sponsor__in=employers.values())
                                 .values_list("plan__sponsor_id", flat=True))):
        report_stop_loss[employer_key[sponsor_id]] = {"specific": {}, "aggregate": money(ZERO)}
    specific = defaultdict(lambda: defaultdict(lambda: ZERO))
    aggregate = defaultdict(lambda: ZERO)
    for sponsor_id, kind, member_id, amount in StopLossFiling.objects.filter(
        policy__plan__sponsor__in=employers.values()
    ).values_list("policy__plan__sponsor_id", "kind", "member_id", "amount"):
        if kind == StopLossFiling.Kind.SPECIFIC:
            specific[sponsor_id][member_id] += amount
        else:
            aggregate[sponsor_id] += amount
    for key, entry in report_stop_loss.items():
        sponsor_id = employers[key].pk
        entry["specific"] = {member_key.get(m, str(m)): money(a) for m, a in sorted(specific[sponsor_id].items())
                             if a > 0}
        entry["aggregate"] = money(aggregate[sponsor_id])

    carrier_key = {c.pk: k for k, c in carriers.items()}
    paid_from = {}
    for claim_id, kind, acct_employer, acct_carrier in Payment.objects.filter(
        claim__in=[c.pk for c in claims.values()]
    ).values_list("claim_id", "remittance__payer_account__kind", "remittance__payer_account__employer_id",
                  "remittance__payer_account__carrier_id"):
        if kind == K.SPONSOR_CLAIMS:
            paid_from[claim_id] = f"employer:{employer_key.get(acct_employer, acct_employer)}"
        else:
            paid_from[claim_id] = f"carrier:{carrier_key.get(acct_carrier, acct_carrier)}"
    paid_on = dict(Claim.objects.filter(pk__in=[c.pk for c in claims.values()]).values_list("pk", "paid_on"))
    report_claims = {
        key: {"paid_from": paid_from.get(c.pk),
              "paid_on": paid_on[c.pk].isoformat() if paid_on.get(c.pk) else None}
        for key, c in claims.items()
    }
    return {"employers": report_employers, "carriers": report_carriers, "providers": report_providers,
            "stop_loss": report_stop_loss, "claims": report_claims}


# --- Remittance advice (835-like) ---------------------------------------------------------------

# CARC -> claim adjustment group: PR patient responsibility, CO contractual obligation, OA other.
ADJUSTMENT_GROUP = {"1": "PR", "2": "PR", "3": "PR", "26": "PR", "27": "PR", "96": "PR", "242": "PR",
                    "45": "CO", "29": "CO", "50": "CO", "18": "OA"}


def _line_adjustments(r: LineResult) -> list[dict]:
    """The CARCs of one line with their amounts, as an 835 SVC/CAS segment carries them."""
    out = []
    if r.denial_code:
        amount = r.not_covered or r.provider_write_off or (r.not_covered + r.provider_write_off)
        out.append({"group": ADJUSTMENT_GROUP.get(r.denial_code, "OA"), "carc": r.denial_code,
                    "amount": money(amount)})
        return out
    for code, amount in (("1", r.deductible), ("2", r.coinsurance), ("3", r.copay), ("45", r.provider_write_off)):
        if amount > 0:
            out.append({"group": ADJUSTMENT_GROUP[code], "carc": code, "amount": money(amount)})
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
