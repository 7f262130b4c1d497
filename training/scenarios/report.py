"""A scenario's report (docs/scenarios.md "The report"): claims, accumulators, and the money, every
money figure a string with two decimals.

Every money figure is a sum of ledger entries (or, for what is billed or requested rather than moved,
of the invoices and funding requests), so that the report equals the ledger.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Sum

from claims.models import Claim
from claims.selectors import accumulators_report_for
from core import clock
from funding.models import (
    Account,
    FundingRequest,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    ReimbursementInvoice,
    StopLossFiling,
)
from funding.reports import sponsor_net_cost
from plans.models import Plan, StopLossPolicy

from .schema import Scenario
from .world import World

ZERO = Decimal("0.00")
K = Account.Kind
T = LedgerTransaction.Kind
CLAIM_FIGURES = ("billed", "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
                 "plan_paid", "member_responsibility", "provider_write_off")


def money(value) -> str:
    return f"{(value or ZERO):.2f}"


def scenario_report(*, sc: Scenario, w: World) -> dict:
    as_of = clock.today()
    report: dict = {"scenario": sc.name, "as_of": as_of.isoformat(), "claims": _claims(w)}
    acc = accumulators_report_for(members=list(w.members.values()), as_of=as_of)
    report["accumulators"] = {key: acc[m.pk] for key, m in w.members.items()}
    money_part = money_report(employers=w.employers, carriers=w.carriers, providers=w.providers,
                              members=w.members, claims=w.claims)
    for key, paid in money_part.pop("claims").items():
        report["claims"][key].update(paid)
    report.update(money_part)
    return report


def money_report(*, employers: dict, carriers: dict, providers: dict, claims: dict, members: dict | None = None) -> dict:
    """The money part of a report for the given parties (file key -> row): employers, carriers,
    providers, stop_loss and, per claim, paid_from and paid_on."""
    w = World(employers=employers, carriers=carriers, providers=providers, claims=claims, members=members or {})
    ledger = _LedgerSums()
    return {"employers": _employers(w, ledger), "carriers": _carriers(w, ledger), "providers": _providers(w, ledger),
            "stop_loss": _stop_loss(w), "claims": _paid(w)}


def _claims(w: World) -> dict:
    rows = {c.pk: c for c in Claim.objects.filter(pk__in=[c.pk for c in w.claims.values()])}
    out = {}
    for key, submitted in w.claims.items():
        c = rows[submitted.pk]
        out[key] = {"state": c.state, **{f: money(getattr(c, f)) for f in CLAIM_FIGURES},
                    "reason_codes": c.reason_code_list, "paid_from": None, "paid_on": None}
    return out


class _LedgerSums:
    """(account kind, account employer, account carrier, account provider, transaction kind, transaction
    employer) -> sum of entries: one grouped query for the whole report, summed by any part of the key."""

    def __init__(self):
        self.sums = {
            row[:6]: row[6] for row in LedgerEntry.objects.values(
                "account__kind", "account__employer_id", "account__carrier_id", "account__provider_id",
                "transaction__kind", "transaction__employer_id",
            ).annotate(total=Sum("amount")).values_list(
                "account__kind", "account__employer_id", "account__carrier_id", "account__provider_id",
                "transaction__kind", "transaction__employer_id", "total",
            )
        }

    def total(self, *, account_kind=None, account_employer=None, account_carrier=None, account_provider=None,
              txn_kind=None, txn_employer=None, sign=1) -> Decimal:
        wanted = (account_kind, account_employer, account_carrier, account_provider, txn_kind, txn_employer)
        result = ZERO
        for key, amount in self.sums.items():
            if all(w is None or w == k for w, k in zip(wanted, key)):
                result += amount
        return result * sign


def _employers(w: World, ledger: _LedgerSums) -> dict:
    employers = w.employers.values()
    funding_of = {}
    for sponsor_id, funding in Plan.objects.filter(sponsor__in=employers).order_by("pk").values_list(
            "sponsor_id", "funding"):
        funding_of.setdefault(sponsor_id, funding)
    requested = dict(FundingRequest.objects.filter(employer__in=employers).values("employer_id")
                     .annotate(t=Sum("amount")).values_list("employer_id", "t"))
    invoiced = dict(ReimbursementInvoice.objects.filter(employer__in=employers).values("employer_id")
                    .annotate(t=Sum("amount")).values_list("employer_id", "t"))
    out = {}
    for key, employer in w.employers.items():
        e = employer.pk
        funding = funding_of.get(e, "")
        claims_paid = ledger.total(account_kind=K.PROVIDER, txn_kind=T.CLAIM_PAYMENT, txn_employer=e)
        admin_fees = ledger.total(account_kind=K.ADMIN_FEES, txn_employer=e)
        premiums = ledger.total(account_kind=K.PREMIUMS, txn_employer=e)
        stop_loss = ledger.total(account_kind=K.SPONSOR_CLAIMS, account_employer=e, txn_kind=T.STOP_LOSS)
        # The one reading of SCENARIOS.md's net cost, the same as the sponsor's dashboard shows (all dates).
        net = sponsor_net_cost(employer=employer, start=datetime.date.min, end=datetime.date.max,
                               today=clock.today())["net_cost"]
        out[key] = {
            "funding": funding,
            "deposits": money(ledger.total(account_kind=K.SPONSOR_CLAIMS, account_employer=e, txn_kind=T.DEPOSIT)),
            "balance": money(ledger.total(account_kind=K.SPONSOR_CLAIMS, account_employer=e)),
            "funding_requested": money(requested.get(e)),
            "claims_paid": money(claims_paid),
            "reimbursements_invoiced": money(invoiced.get(e)),
            "reimbursements_paid": money(ledger.total(account_kind=K.CARRIER, txn_kind=T.REIMBURSEMENT, txn_employer=e)),
            "admin_fees": money(admin_fees),
            "premiums": money(premiums),
            "stop_loss_received": money(stop_loss),
            "net_cost": money(net),
        }
    return out


def _carriers(w: World, ledger: _LedgerSums) -> dict:
    return {
        key: {
            "claims_paid": money(ledger.total(account_kind=K.CARRIER, account_carrier=c.pk, txn_kind=T.CLAIM_PAYMENT,
                                              sign=-1)),
            "receivable": money(ledger.total(account_kind=K.ASC_RECEIVABLE, account_carrier=c.pk)),
            "premiums": money(ledger.total(account_kind=K.PREMIUMS, account_carrier=c.pk)),
            "stop_loss_paid": money(ledger.total(account_kind=K.STOP_LOSS, account_carrier=c.pk, sign=-1)),
        }
        for key, c in w.carriers.items()
    }


def _providers(w: World, ledger: _LedgerSums) -> dict:
    # A provider outlives a kept scenario (one per NPI): count only what this world's sponsors paid it.
    return {key: {"paid": money(sum((ledger.total(account_kind=K.PROVIDER, account_provider=p.pk, txn_employer=e.pk)
                                     for e in w.employers.values()), ZERO))}
            for key, p in w.providers.items()}


def _stop_loss(w: World) -> dict:
    employers = w.employers.values()
    member_key = {m.pk: k for k, m in w.members.items()}
    employer_key = {e.pk: k for k, e in w.employers.items()}
    out = {}
    for sponsor_id in sorted(set(StopLossPolicy.objects.filter(plan__sponsor__in=employers)
                                 .values_list("plan__sponsor_id", flat=True))):
        out[employer_key[sponsor_id]] = {"specific": {}, "aggregate": money(ZERO)}
    specific = defaultdict(lambda: defaultdict(lambda: ZERO))
    aggregate = defaultdict(lambda: ZERO)
    for sponsor_id, kind, member_id, amount in StopLossFiling.objects.filter(
        policy__plan__sponsor__in=employers
    ).values_list("policy__plan__sponsor_id", "kind", "member_id", "amount"):
        if kind == StopLossFiling.Kind.SPECIFIC:
            specific[sponsor_id][member_id] += amount
        else:
            aggregate[sponsor_id] += amount
    for key, entry in out.items():
        sponsor_id = w.employers[key].pk
        entry["specific"] = {member_key.get(m, str(m)): money(a) for m, a in sorted(specific[sponsor_id].items())
                             if a > 0}
        entry["aggregate"] = money(aggregate[sponsor_id])
    return out


def _paid(w: World) -> dict:
    """Per claim: the account its arrangement paid it from, and when (from the payment, for a zero one too)."""
    employer_key = {e.pk: k for k, e in w.employers.items()}
    carrier_key = {c.pk: k for k, c in w.carriers.items()}
    claim_ids = [c.pk for c in w.claims.values()]
    paid_from = {}
    for claim_id, kind, acct_employer, acct_carrier in Payment.objects.filter(claim__in=claim_ids).values_list(
            "claim_id", "remittance__payer_account__kind", "remittance__payer_account__employer_id",
            "remittance__payer_account__carrier_id"):
        if kind == K.SPONSOR_CLAIMS:
            paid_from[claim_id] = f"employer:{employer_key.get(acct_employer, acct_employer)}"
        else:
            paid_from[claim_id] = f"carrier:{carrier_key.get(acct_carrier, acct_carrier)}"
    paid_on = dict(Claim.objects.filter(pk__in=claim_ids).values_list("pk", "paid_on"))
    return {key: {"paid_from": paid_from.get(c.pk), "paid_on": paid_on[c.pk].isoformat() if paid_on.get(c.pk) else None}
            for key, c in w.claims.items()}
