"""Reads for the money dashboards: what a sponsor spent and owes, what a carrier is owed, the
stop-loss position. DOMAIN.md §2, §5–6; the plan year's net cost as docs/scenarios.md defines a
sponsor's `net_cost`: claims paid (self-funded only) + admin fees + premiums − stop-loss received.

Every money figure is a sum of ledger entries (what moved) or of the requests and invoices (what is
asked), as the scenario report's are, so that a page and the report agree to the cent. The
sponsor's and carrier's summaries (spend, net cost, stop-loss position, receivables) read many rows
(the stop-loss position every counted claim): the dashboards compute them in their summary-figures
job, not per request; `sponsor_fundings`, `sponsor_open_amounts` and `carrier_sponsors` read a few
rows through indexes and serve a page directly.
"""
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth

from parties.models import Carrier, Employer, Member
from plans.models import SELF_FUNDED, FundingArrangement, Plan, StopLossLaser, StopLossPolicy
from plans.periods import plan_year_start_for

from .models import (
    Account,
    FundingRequest,
    LedgerEntry,
    LedgerTransaction,
    ReimbursementInvoice,
    RemittanceAdvice,
    StopLossFiling,
)
from .services.stop_loss import (
    add_months,
    stop_loss_aggregate_point,
    stop_loss_counted_by_member,
    stop_loss_window,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
F = FundingArrangement
K = Account.Kind
T = LedgerTransaction.Kind
# Aging of what a sponsor owes its carrier, by invoice date against the business date (days).
AGING_BUCKETS = (("days_0_30", "0–30 days", 0, 30), ("days_31_60", "31–60 days", 31, 60),
                 ("days_61_90", "61–90 days", 61, 90), ("days_over_90", "Over 90 days", 91, None))
STOP_LOSS_FLAG_SHARE = Decimal("0.5")  # stop-loss carriers ask to be told of members past half their attachment
STOP_LOSS_MEMBERS = 200  # the members nearest their attachment kept for a page (a sponsor has thousands)


def _money(value) -> Decimal:
    """A sum to the cent (SQLite gives back 135 for 135.00)."""
    return (value or ZERO).quantize(CENT)


def member_initials(name: str) -> str:
    """What a stop-loss report shows instead of a member's name: "Thomas Novak" -> "T. N."."""
    return " ".join(part[0].upper() + "." for part in name.replace("-", " ").split() if part[0].isalpha())


def percent_of(part: Decimal, whole: Decimal | None) -> Decimal | None:
    """part / whole as a percentage to one decimal (half-up); None without a whole."""
    if not whole:
        return None
    return (part * HUNDRED / whole).quantize(Decimal("0.1"))


def aging_bucket(*, days: int) -> str:
    """The aging column of an invoice `days` old (an invoice dated after the business date is 0 days old)."""
    days = max(days, 0)
    for key, _, low, high in AGING_BUCKETS:
        if days >= low and (high is None or days <= high):
            return key
    return AGING_BUCKETS[-1][0]


# --- The sponsor ---------------------------------------------------------------------------------

def sponsor_fundings(*, employer: Employer) -> set[str]:
    """The funding arrangements of the sponsor's plans (ASO, ASC, FULLY_INSURED)."""
    return set(Plan.objects.filter(sponsor=employer).values_list("funding", flat=True))


def sponsor_plan_year(*, employer: Employer, today: datetime.date) -> tuple[datetime.date, datetime.date] | None:
    """(start, end exclusive) of the plan year holding `today`, by the sponsor's first plan; None without a plan."""
    anchor = Plan.objects.filter(sponsor=employer).order_by("pk").values_list("year_start", flat=True).first()
    if anchor is None:
        return None
    start = plan_year_start_for(plan_year_anchor=anchor, day=today)
    return start, add_months(start, 12)


def sponsor_spend_by_month(*, employer: Employer, start: datetime.date, end: datetime.date,
                           today: datetime.date) -> list[dict]:
    """Claims paid for the sponsor's plans by paid month, from `start` to the month of `today` (and
    before `end`): per month the claims paid (zero payments too) and their plan_paid. Read from the
    remittances, which carry one payment run's claims to one provider: the claims' payments summed."""
    last = min(today, end - datetime.timedelta(days=1))
    sums = {
        month: (claims or 0, _money(amount))
        for month, claims, amount in RemittanceAdvice.objects.filter(
            employer=employer, issued_on__gte=start, issued_on__lte=last,
        ).annotate(month=TruncMonth("issued_on")).values("month").annotate(
            claims=Sum("claim_count"), amount=Sum("amount")).values_list("month", "claims", "amount")
    }
    sums = {(m.date() if isinstance(m, datetime.datetime) else m): v for m, v in sums.items()}
    out, month = [], start.replace(day=1)
    while month <= last:
        claims, amount = sums.get(month, (0, ZERO))
        out.append({"month": month, "claims": claims, "plan_paid": amount})
        month = add_months(month, 1)
    return out


def sponsor_net_cost(*, employer: Employer, start: datetime.date, end: datetime.date, today: datetime.date) -> dict:
    """The sponsor's cost of its plans for the money dated from `start` to `today` (before `end`: the
    plan year to date, as the spend by month runs): claims paid under its self-funded plans (ASO: out
    of its claims account; ASC: the carrier's payments it owes back, reimbursed or not) + admin fees +
    premiums − stop-loss received. Fully insured claims are the carrier's cost and are shown apart
    (`claims_paid_by_carrier_insured`)."""
    sums: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for account_kind, txn_kind, total in LedgerEntry.objects.filter(
        transaction__employer=employer, transaction__date__gte=start, transaction__date__lt=end,
        transaction__date__lte=today,
        account__kind__in=(K.PROVIDER, K.SPONSOR_CLAIMS, K.ASC_RECEIVABLE, K.ADMIN_FEES, K.PREMIUMS),
    ).values("account__kind", "transaction__kind").annotate(total=Sum("amount")).values_list(
        "account__kind", "transaction__kind", "total"
    ):
        sums[(account_kind, txn_kind)] += _money(total)
    all_claims = sums[(K.PROVIDER, T.CLAIM_PAYMENT)]
    aso = ZERO - sums[(K.SPONSOR_CLAIMS, T.CLAIM_PAYMENT)]  # out of the claims account (ZERO - x: never -0.00)
    asc = sums[(K.ASC_RECEIVABLE, T.CLAIM_PAYMENT)]
    admin_fees = sums[(K.ADMIN_FEES, T.ADMIN_FEE)]
    premiums = sums[(K.PREMIUMS, T.PREMIUM)]
    stop_loss = sums[(K.SPONSOR_CLAIMS, T.STOP_LOSS)]
    self_funded = aso + asc
    return {
        "start": start, "end": end,
        "claims_paid": self_funded, "claims_paid_aso": aso, "claims_paid_asc": asc,
        "claims_paid_by_carrier_insured": all_claims - self_funded,
        "admin_fees": admin_fees, "premiums": premiums, "stop_loss_received": stop_loss,
        "net_cost": self_funded + admin_fees + premiums - stop_loss,
    }


def sponsor_open_amounts(*, employer: Employer) -> dict:
    """What the sponsor's open funding requests (ASO) and open reimbursement invoices (ASC) still ask."""
    requested = FundingRequest.objects.filter(employer=employer, open_amount__gt=0).aggregate(
        t=Sum("open_amount"))["t"]
    invoiced = ReimbursementInvoice.objects.filter(employer=employer, open_amount__gt=0).aggregate(
        t=Sum("open_amount"))["t"]
    return {"funding_requested": _money(requested), "invoiced": _money(invoiced)}


# --- Stop-loss -----------------------------------------------------------------------------------

def stop_loss_policies_in_force(*, today: datetime.date, employer: Employer | None = None,
                                carrier: Carrier | None = None) -> list[StopLossPolicy]:
    """Per self-funded plan (of the sponsor, or whose stop-loss the carrier wrote) its latest policy
    started by `today`: the one whose year is being counted (or run out, under 12/15)."""
    qs = StopLossPolicy.objects.filter(start__lte=today, plan__funding__in=SELF_FUNDED).select_related(
        "plan", "plan__sponsor", "carrier")
    if employer is not None:
        qs = qs.filter(plan__sponsor=employer)
    if carrier is not None:
        qs = qs.filter(carrier=carrier)
    latest: dict[int, StopLossPolicy] = {}
    for policy in qs.order_by("plan_id", "-start", "-pk"):
        latest.setdefault(policy.plan_id, policy)
    return [latest[p] for p in sorted(latest)]


def stop_loss_position(*, policy: StopLossPolicy, today: datetime.date, limit: int = STOP_LOSS_MEMBERS) -> dict:
    """Where a policy stands on `today` (DOMAIN.md §6): its window and attachment points; per member
    the counted plan_paid against its specific attachment (or laser), nearest first, by member ID and
    initials only (a stop-loss report names no one and shows no procedure); members past half their
    attachment flagged; the aggregate's progress (each member's share capped at its attachment)."""
    start, incurred_end, paid_through = stop_loss_window(policy=policy)
    counted = {m: _money(total) for m, total in stop_loss_counted_by_member(policy=policy, today=today).items()}
    lasers = dict(StopLossLaser.objects.filter(policy=policy).values_list("member_id", "attachment"))
    reimbursed: dict[int, Decimal] = defaultdict(lambda: ZERO)
    aggregate_filed = None
    for kind, member_id, amount in StopLossFiling.objects.filter(policy=policy).values_list(
            "kind", "member_id", "amount"):
        if kind == StopLossFiling.Kind.SPECIFIC:
            reimbursed[member_id] += amount
        else:
            aggregate_filed = (aggregate_filed or ZERO) + amount
    attachment = {m: lasers.get(m, policy.specific_attachment) for m in counted}

    def nearness(member_id):  # share of the attachment reached; an attachment of 0 is reached at once
        a = attachment[member_id]
        return counted[member_id] / a if a else Decimal("Infinity")

    ranked = sorted((m for m, total in counted.items() if total > 0),
                    key=lambda m: (-nearness(m), -counted[m], m))
    flagged = {m for m in ranked if counted[m] > attachment[m] * STOP_LOSS_FLAG_SHARE}
    shown = ranked[:limit]
    who = {pk: (member_id, name) for pk, member_id, name in
           Member.objects.filter(pk__in=shown).values_list("pk", "member_id", "name")}
    members = []
    for m in shown:
        a = attachment[m]
        members.append({
            "member_id": who[m][0], "initials": member_initials(who[m][1]),
            "counted": counted[m], "attachment": a, "lasered": m in lasers,
            "percent": percent_of(counted[m], a), "to_attachment": max(ZERO, a - counted[m]),
            "over_attachment": max(ZERO, counted[m] - a), "reimbursed": reimbursed[m],
            "flagged": m in flagged,
        })
    point = stop_loss_aggregate_point(policy=policy)
    capped = sum((min(total, attachment[m]) for m, total in counted.items()), ZERO)
    return {
        "policy_id": policy.pk, "plan": policy.plan.name, "sponsor": policy.plan.sponsor.name,
        "sponsor_id": policy.plan.sponsor_id, "carrier": policy.carrier.name, "contract": policy.contract,
        "start": start, "incurred_end": incurred_end - datetime.timedelta(days=1),
        "paid_through": paid_through - datetime.timedelta(days=1),
        "specific_attachment": policy.specific_attachment, "lasers": len(lasers),
        "counted_total": sum(counted.values(), ZERO),
        "members_counted": len(ranked), "members_flagged": len(flagged), "members": members,
        "specific_reimbursed": sum(reimbursed.values(), ZERO),
        "aggregate_point": point, "aggregate_counted": capped,
        "aggregate_percent": percent_of(capped, point),
        "aggregate_remaining": max(ZERO, point - capped) if point is not None else None,
        "aggregate_filed": aggregate_filed,
    }


# --- The carrier ---------------------------------------------------------------------------------

def carrier_sponsors(*, carrier: Carrier, funding: str | None = None):
    """The sponsors whose plans the carrier pays claims for (ASC, fully insured; one arrangement when given)."""
    plans = Plan.objects.filter(carrier=carrier).exclude(funding=F.ASO)
    if funding is not None:
        plans = plans.filter(funding=funding)
    return Employer.objects.filter(pk__in=plans.values("sponsor_id")).order_by("name", "pk")


def carrier_receivables(*, carrier: Carrier, today: datetime.date) -> list[dict]:
    """Per ASC sponsor of the carrier: the claims the carrier paid for it, what it reimbursed, and what
    it still owes, to date; the owed part on open invoices aged by invoice date against `today`
    (0–30, 31–60, 61–90, over 90 days), the rest not invoiced yet (paid since the last billing run)."""
    sponsors = list(carrier_sponsors(carrier=carrier, funding=F.ASC).values_list("pk", "name"))
    sums: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for employer_id, txn_kind, total in LedgerEntry.objects.filter(
        account__kind=K.ASC_RECEIVABLE, account__carrier=carrier,
    ).values("account__employer_id", "transaction__kind").annotate(total=Sum("amount")).values_list(
        "account__employer_id", "transaction__kind", "total"
    ):
        sums[(employer_id, txn_kind)] += _money(total)
    aging: dict[int, dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    oldest: dict[int, datetime.date] = {}
    for employer_id, issued_on, open_amount in ReimbursementInvoice.objects.filter(
            carrier=carrier, open_amount__gt=0).values_list("employer_id", "issued_on", "open_amount"):
        aging[employer_id][aging_bucket(days=(today - issued_on).days)] += open_amount
        oldest[employer_id] = min(oldest.get(employer_id, issued_on), issued_on)
    invoiced = {e: _money(t) for e, t in ReimbursementInvoice.objects.filter(carrier=carrier).values("employer_id")
                .annotate(t=Sum("amount")).values_list("employer_id", "t")}
    rows = []
    for employer_id, name in sponsors:
        paid = sums[(employer_id, T.CLAIM_PAYMENT)]
        reimbursed = ZERO - sums[(employer_id, T.REIMBURSEMENT)]
        owed = paid - reimbursed
        on_invoices = sum(aging[employer_id].values(), ZERO)
        rows.append({
            "sponsor_id": employer_id, "sponsor": name, "claims_paid": paid, "invoiced": invoiced.get(employer_id, ZERO),
            "reimbursed": reimbursed, "owed": owed, "not_invoiced": owed - on_invoices,
            **{key: aging[employer_id][key] for key, *_ in AGING_BUCKETS},
            "oldest_open_invoice": oldest.get(employer_id),
        })
    return rows


def carrier_fully_insured(*, carrier: Carrier) -> list[dict]:
    """Per fully insured sponsor of the carrier, to date: the claims it paid from its own funds, the
    premiums it billed, and the loss ratio (claims over premiums)."""
    sponsors = list(carrier_sponsors(carrier=carrier, funding=F.FULLY_INSURED).values_list("pk", "name"))
    ids = [pk for pk, _ in sponsors]
    paid: dict[int, Decimal] = defaultdict(lambda: ZERO)
    asc_part: dict[int, Decimal] = defaultdict(lambda: ZERO)
    premiums: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for account_kind, employer_id, total in LedgerEntry.objects.filter(
        Q(account__kind=K.CARRIER, transaction__kind=T.CLAIM_PAYMENT)
        | Q(account__kind=K.ASC_RECEIVABLE, transaction__kind=T.CLAIM_PAYMENT)
        | Q(account__kind=K.PREMIUMS, transaction__kind=T.PREMIUM),
        account__carrier=carrier, transaction__employer_id__in=ids,
    ).values("account__kind", "transaction__employer_id").annotate(total=Sum("amount")).values_list(
        "account__kind", "transaction__employer_id", "total"
    ):
        total = _money(total)
        if account_kind == K.CARRIER:
            paid[employer_id] -= total  # out of the carrier's account
        elif account_kind == K.ASC_RECEIVABLE:  # one carrier paying a sponsor's ASC and insured claims at once
            asc_part[employer_id] += total
        else:
            premiums[employer_id] += total
    rows = []
    for employer_id, name in sponsors:
        claims = paid[employer_id] - asc_part[employer_id]
        rows.append({"sponsor_id": employer_id, "sponsor": name, "claims_paid": claims,
                     "premiums": premiums[employer_id], "loss_ratio": percent_of(claims, premiums[employer_id])})
    return rows


def carrier_stop_loss_paid(*, carrier: Carrier) -> Decimal:
    """The stop-loss reimbursements the carrier paid, to date."""
    total = LedgerEntry.objects.filter(account__kind=K.STOP_LOSS, account__carrier=carrier).aggregate(
        t=Sum("amount"))["t"]
    return ZERO - _money(total)


# --- Money flow: who paid whom, from which account, and why (the explanations' pictures) ----------
# Each kind of transaction moves money along known routes (funding.services): (source kinds, target
# kinds). A transaction's, or a sum of transactions', legs become arrows between accounts by them.

FLOW_ROUTES: dict[str, tuple[tuple[frozenset, frozenset], ...]] = {
    T.DEPOSIT: ((frozenset({K.SPONSOR}), frozenset({K.SPONSOR_CLAIMS})),),
    T.CLAIM_PAYMENT: ((frozenset({K.SPONSOR_CLAIMS, K.CARRIER}), frozenset({K.PROVIDER})),
                      (frozenset({K.SPONSOR}), frozenset({K.ASC_RECEIVABLE}))),
    T.REIMBURSEMENT: ((frozenset({K.ASC_RECEIVABLE}), frozenset({K.CARRIER})),),
    T.ADMIN_FEE: ((frozenset({K.SPONSOR}), frozenset({K.ADMIN_FEES})),),
    T.PREMIUM: ((frozenset({K.SPONSOR}), frozenset({K.PREMIUMS})),),
    T.STOP_LOSS: ((frozenset({K.STOP_LOSS}), frozenset({K.SPONSOR_CLAIMS})),),
}


def ledger_legs_as_flows(*, kind: str, legs: list[tuple]) -> list[tuple]:
    """(source node, target node, amount) for the legs of one transaction kind; a leg is (node, account
    kind, carrier id, amount), the amount into the node (negative: out of it). Every leg's money is on
    some arrow: the arrows into a node sum to its positive legs, the arrows out of it to its negative ones."""
    out, used = [], set()
    for sources_kinds, targets_kinds in FLOW_ROUTES.get(kind, ()):
        sources = [leg for leg in legs if leg[1] in sources_kinds and leg[3] < 0]
        targets = [leg for leg in legs if leg[1] in targets_kinds and leg[3] > 0]
        if not sources or not targets:
            continue
        if len(sources) == 1:
            out.extend((sources[0][0], t[0], t[3]) for t in targets)
        elif len(targets) == 1:
            out.extend((s[0], targets[0][0], -s[3]) for s in sources)
        else:  # several of each (two carriers' receivables): paired by their carrier
            pairs = [(s, [t for t in targets if t[2] == s[2]]) for s in sources]
            if not all(len(match) == 1 for _, match in pairs):
                continue  # left to the fallback below
            out.extend((s[0], match[0][0], -s[3]) for s, match in pairs)
        used.update(id(leg) for leg in sources + targets)
    rest = [leg for leg in legs if id(leg) not in used]
    sources = [leg for leg in rest if leg[3] < 0]
    targets = [leg for leg in rest if leg[3] > 0]
    if len(sources) == 1:  # a shape no route names: still shown, never dropped
        out.extend((sources[0][0], t[0], t[3]) for t in targets)
    elif len(targets) == 1:
        out.extend((s[0], targets[0][0], -s[3]) for s in sources)
    return out


def claim_money_records(*, claim) -> dict:
    """The records that moved a claim's money, each with its ledger transaction: its payment (the
    remittance that carried it and the transaction that paid the provider); for an ASO claim released
    by a deposit, that deposit and the funding requests it settled; for an ASC claim, the reimbursement
    invoice it is on and the sponsor payments applied to that invoice; the stop-loss filings its paid
    plan_paid counted toward (same policy year and paid-through window, same member for a specific
    filing, filed on or after its paid date). `entries`: transaction id -> its ledger entries, with their
    accounts. At most nine queries, whatever the claim."""
    from .models import (
        Deposit,
        FundingSettlement,
        Payment,
        ReimbursementInvoiceClaim,
        SponsorPaymentAllocation,
    )

    out = {"payment": None, "deposit": None, "settlements": [], "invoice_item": None, "allocations": [],
           "stop_loss_filings": [], "entries": {}}
    payment = (Payment.objects.filter(claim_id=claim.pk)
               .select_related("remittance__cycle", "remittance__provider", "remittance__transaction").first())
    txn_ids = []
    if payment is not None:
        out["payment"] = payment
        if payment.remittance.transaction_id:
            txn_ids.append(payment.remittance.transaction_id)
        if payment.remittance.cycle.kind == "release":
            deposit = Deposit.objects.filter(release_id=payment.remittance.cycle_id).select_related("transaction").first()
            if deposit is not None:
                out["deposit"] = deposit
                txn_ids.append(deposit.transaction_id)
                out["settlements"] = list(FundingSettlement.objects.filter(deposit=deposit)
                                          .select_related("funding_request").order_by("funding_request_id"))
    item = ReimbursementInvoiceClaim.objects.filter(claim_id=claim.pk).select_related("invoice").first()
    if item is not None:
        out["invoice_item"] = item
        out["allocations"] = list(SponsorPaymentAllocation.objects.filter(invoice_id=item.invoice_id)
                                  .select_related("payment__transaction").order_by("payment__paid_on", "payment_id"))
        txn_ids.extend(a.payment.transaction_id for a in out["allocations"])
    if claim.state == "paid" and claim.paid_on and claim.plan_id and claim.plan.funding in SELF_FUNDED:
        counted_by = []
        for policy in StopLossPolicy.objects.filter(plan_id=claim.plan_id, start__lte=claim.service_date):
            start, incurred_end, paid_through = stop_loss_window(policy=policy)
            if start <= claim.service_date < incurred_end and claim.paid_on < paid_through:
                counted_by.append(policy.pk)
        if counted_by:
            out["stop_loss_filings"] = list(
                StopLossFiling.objects.filter(policy_id__in=counted_by, filed_on__gte=claim.paid_on, amount__gt=0)
                .filter(Q(kind=StopLossFiling.Kind.SPECIFIC, member_id=claim.member_id)
                        | Q(kind=StopLossFiling.Kind.AGGREGATE))
                .select_related("policy__carrier", "transaction").order_by("filed_on", "pk"))
            txn_ids.extend(f.transaction_id for f in out["stop_loss_filings"])
    if txn_ids:
        entries = defaultdict(list)
        for e in (LedgerEntry.objects.filter(transaction_id__in=set(txn_ids))
                  .select_related("transaction", "account__employer", "account__carrier", "account__provider")
                  .order_by("transaction_id", "pk")):
            entries[e.transaction_id].append(e)
        out["entries"] = dict(entries)
    return out


def sponsor_money_flows(*, employer: Employer, start: datetime.date, end: datetime.date,
                        today: datetime.date) -> dict:
    """The sponsor's money over [start, end) up to `today`, summed by kind of transaction in the database:
    per (kind, account) the amount in or out and the transactions, the providers' accounts summed as one
    (a sponsor pays thousands). One query whatever the sponsor's size. `legs`: (kind, account id or None
    for the providers, account kind, carrier id, the account's sponsor name, its carrier name, amount,
    transactions, providers)."""
    from django.db.models import Case, Count, IntegerField, Value, When
    from django.db.models import F as Col

    rows = (
        LedgerEntry.objects.filter(transaction__employer=employer, transaction__date__gte=start,
                                   transaction__date__lt=end, transaction__date__lte=today)
        .annotate(node=Case(When(account__kind=K.PROVIDER, then=Value(None)), default=Col("account_id"),
                            output_field=IntegerField()),
                  positive=Case(When(amount__gt=0, then=Value(1)), default=Value(0), output_field=IntegerField()))
        # The names depend on the account alone: grouping by them adds no rows, and saves a query.
        .values("transaction__kind", "node", "account__kind", "account__carrier_id", "positive")
        .annotate(sponsor=Case(When(account__kind=K.PROVIDER, then=Value("")), default=Col("account__employer__name")),
                  carrier=Case(When(account__kind=K.PROVIDER, then=Value("")), default=Col("account__carrier__name")))
        .values("transaction__kind", "node", "account__kind", "account__carrier_id", "positive", "sponsor", "carrier")
        .annotate(total=Sum("amount"), transactions=Count("transaction_id", distinct=True),
                  providers=Count("account__provider_id", distinct=True))
        .order_by("transaction__kind", "account__kind", "node", "positive")
        .values_list("transaction__kind", "node", "account__kind", "account__carrier_id", "sponsor", "carrier",
                     "total", "transactions", "providers")
    )
    return {"legs": [(k, node, ak, carrier_id, sponsor or "", carrier or "", _money(total), n, providers)
                     for k, node, ak, carrier_id, sponsor, carrier, total, n, providers in rows],
            "start": start, "end": end, "today": today}
