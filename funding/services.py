"""Writes for the money (DOMAIN.md §5–6): payment cycles, deposits and funding requests (ASO),
reimbursement billing and sponsor payments (ASC), fee and premium billing, stop-loss.

Rules every service here keeps:
- one database transaction per call, under the funding lock (a PostgreSQL advisory lock: two runs
  of any funding job never interleave) and row locks on the claims and accounts it reads;
- money moves only as balanced ledger transactions (`_post`), each with a unique idempotency key;
  PostgreSQL checks the balance again at commit (migration 0002);
- every job can run again: what it did is recorded in state (a claim is `paid`, a month is billed,
  a filing exists), so the second run finds nothing left to do.

Claims are paid in sets: rows are read with values_list, payments and ledger entries go in with
COPY (`config.bulk.bulk_insert`), the claims' new states with one UPDATE per chunk, and the
transition log rows in one COPY per chunk (`claims.fsm_log`). The transitions are the claim's
declared django-fsm transitions (`pay`, `await_funds`), applied through their metadata
(`claims.models.claim_transition_target`) as the batch adjudication does, without two signals per claim.
"""
import calendar
import datetime
import hashlib
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Sum

from claims.fsm_log import buffered_transition_log, transition_log_flush
from claims.models import Claim, ClaimState, claim_transition_target
from config import clock
from config.bulk import bulk_insert, bulk_update
from config.money import round_half_up, to_money
from parties.models import Carrier, Employer
from plans.models import Coverage, FundingArrangement, Plan, StopLossLaser, StopLossPolicy
from plans.selectors import coverage_on, coverage_periods_for_members

from .models import (
    Account,
    Deposit,
    FeeBilling,
    FundingRequest,
    FundingSettlement,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentCycle,
    ReimbursementInvoice,
    ReimbursementInvoiceClaim,
    RemittanceAdvice,
    SponsorPayment,
    SponsorPaymentAllocation,
    StopLossFiling,
)

ZERO = Decimal("0.00")
S = ClaimState
F = FundingArrangement
K = Account.Kind
T = LedgerTransaction.Kind
FUNDING_LOCK_ID = 7_311_101  # pg_advisory_xact_lock key shared by every funding job


class FundingError(ValidationError):
    """The funding app's one error type: a ValidationError whose dict names the field."""


def _chunk_size(chunk_size: int | None) -> int:
    return int(chunk_size or getattr(settings, "FUNDING_CHUNK_SIZE", 5000))


def _funding_lock() -> None:
    """Serialise the funding jobs (held until the transaction ends). SQLite serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FUNDING_LOCK_ID])


def _reference(value) -> str:
    """A bank reference (deposits and sponsor payments): text no wider than its column, stripped."""
    reference = str(value or "").strip()
    width = Deposit._meta.get_field("reference").max_length
    if len(reference) > width:
        raise FundingError({"reference": [f"at most {width} characters, got {len(reference)}"]})
    if "\x00" in reference:
        raise FundingError({"reference": ["must not contain a NUL character"]})
    return reference


def _amount(value, *, field_name: str = "amount", positive: bool = True) -> Decimal:
    try:
        amount = to_money(value)
    except (ValueError, TypeError) as exc:
        raise FundingError({field_name: [str(exc)]}) from None
    if positive and amount <= 0:
        raise FundingError({field_name: [f"must be greater than 0.00, got {amount}"]})
    return amount


# --- Accounts and postings ------------------------------------------------------------------

AccountSpec = tuple  # (kind, employer_id, carrier_id, provider_id)


def _account_key(spec: AccountSpec) -> str:
    kind, *ids = spec
    return ":".join([kind, *(str(i) for i in ids if i is not None)])


def sponsor_spec(employer_id: int) -> AccountSpec:
    return (K.SPONSOR, employer_id, None, None)


def sponsor_claims_spec(employer_id: int) -> AccountSpec:
    return (K.SPONSOR_CLAIMS, employer_id, None, None)


def receivable_spec(employer_id: int, carrier_id: int) -> AccountSpec:
    return (K.ASC_RECEIVABLE, employer_id, carrier_id, None)


def carrier_spec(carrier_id: int) -> AccountSpec:
    return (K.CARRIER, None, carrier_id, None)


def provider_spec(provider_id: int) -> AccountSpec:
    return (K.PROVIDER, None, None, provider_id)


def premiums_spec(carrier_id: int) -> AccountSpec:
    return (K.PREMIUMS, None, carrier_id, None)


def stop_loss_spec(carrier_id: int) -> AccountSpec:
    return (K.STOP_LOSS, None, carrier_id, None)


ADMIN_FEES_SPEC: AccountSpec = (K.ADMIN_FEES, None, None, None)


def accounts_ensure(*, specs) -> dict[AccountSpec, int]:
    """spec -> account id, creating the accounts that do not exist yet (two or three queries for any number)."""
    specs = set(specs)
    if not specs:
        return {}
    by_key = {_account_key(s): s for s in specs}
    found = dict(Account.objects.filter(key__in=by_key).values_list("key", "pk"))
    missing = [k for k in by_key if k not in found]
    if missing:
        Account.objects.bulk_create(
            [Account(key=k, kind=by_key[k][0], employer_id=by_key[k][1], carrier_id=by_key[k][2],
                     provider_id=by_key[k][3]) for k in missing],
            ignore_conflicts=True,  # a concurrent run made it first: fine, read it back
        )
        found.update(Account.objects.filter(key__in=missing).values_list("key", "pk"))
    return {by_key[k]: pk for k, pk in found.items()}


def _balances(account_ids) -> dict[int, Decimal]:
    account_ids = list(account_ids)
    sums = dict(LedgerEntry.objects.filter(account_id__in=account_ids).values("account_id")
                .annotate(total=Sum("amount")).values_list("account_id", "total"))
    return {a: sums.get(a) or ZERO for a in account_ids}


@dataclass(slots=True)
class Posting:
    """A balanced set of legs: account id -> amount flowing into it (negative: out of it)."""

    kind: str
    date: datetime.date
    key: str
    memo: str = ""
    employer_id: int | None = None
    legs: dict = field(default_factory=lambda: defaultdict(lambda: ZERO))

    def move(self, *, source: int, target: int, amount: Decimal) -> None:
        self.legs[source] -= amount
        self.legs[target] += amount


def _post(postings: list[Posting]) -> list[int]:
    """Write balanced ledger transactions (one INSERT for the transactions, one COPY for the entries).

    Refuses (FundingError) a posting whose legs do not sum to zero or that moves nothing. A key that
    was posted before fails the database's UNIQUE: the caller's whole transaction rolls back, so
    nothing is ever posted twice.
    """
    if not postings:
        return []
    if not connection.in_atomic_block:
        # The transaction row and its entries must commit together (PostgreSQL checks the balance at commit).
        raise RuntimeError("ledger postings are made inside a transaction (transaction.atomic)")
    txns, legs_of = [], []
    for p in postings:
        legs = [(a, amt) for a, amt in p.legs.items() if amt != 0]
        total = sum((amt for _, amt in legs), ZERO)
        if total != 0:
            raise FundingError({"amount": [f"ledger transaction {p.key} does not balance: its legs sum to {total}"]})
        if len(legs) < 2:
            raise FundingError({"amount": [f"ledger transaction {p.key} moves no money"]})
        txns.append(LedgerTransaction(kind=p.kind, date=p.date, memo=p.memo[:300], idempotency_key=p.key,
                                      employer_id=p.employer_id))
        legs_of.append(legs)
    created = LedgerTransaction.objects.bulk_create(txns)
    rows = [(t.pk, account_id, amt) for t, legs in zip(created, legs_of) for account_id, amt in legs]
    bulk_insert(LedgerEntry, ("transaction_id", "account_id", "amount"), rows)
    return [t.pk for t in created]


def _ids_digest(ids) -> str:
    return hashlib.sha1(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()


# --- Paying claims ---------------------------------------------------------------------------

CLAIM_COLS = ("id", "state", "plan_id", "provider_id", "plan_paid")


@dataclass(frozen=True, slots=True)
class PlanMoney:
    funding: str
    sponsor_id: int
    carrier_id: int | None


def _plan_money(plan_ids) -> dict[int, PlanMoney]:
    return {
        pid: PlanMoney(funding, sponsor_id, carrier_id)
        for pid, funding, sponsor_id, carrier_id in Plan.objects.filter(pk__in=set(plan_ids))
        .values_list("id", "funding", "sponsor_id", "carrier_id")
    }


class _PaymentRun:
    """Pays claims in chunks inside the caller's transaction.

    `pay` and `hold` collect; every `chunk_size` claims one flush writes the chunk with a handful of
    statements whatever its size: the payments (COPY), the claims' states (one UPDATE), the
    transition log (COPY). A remittance advice is one payment from one payer account to one provider
    for one sponsor's claims; `finish` posts one ledger transaction per remittance that moved money.
    """

    def __init__(self, *, kind: str, today: datetime.date, by, chunk_size: int, log_rows: list):
        self.kind, self.today, self.by, self.chunk_size, self.log_rows = kind, today, by, chunk_size, log_rows
        self.cycle: PaymentCycle | None = None
        # (payer account id, provider id, sponsor id) -> [remittance id, amount, claims, ids digest, ASC part,
        # carrier id]. One carrier may pay one sponsor's ASC and fully insured claims on one remittance: only
        # the ASC part becomes the sponsor's debt to the carrier.
        self.remittances: dict[tuple, list] = {}
        self.paying: list[tuple] = []  # (claim id, state, amount, plan money, provider id)
        self.holding: list[int] = []  # claim ids: approved -> awaiting_funds
        self.paid_count, self.paid_amount, self.held_count = 0, ZERO, 0
        self.account_ids: dict[AccountSpec, int] = {}
        self.by_id = getattr(by, "pk", by)
        self._targets: dict[tuple, str] = {}

    def ensure_cycle(self) -> PaymentCycle:
        if self.cycle is None:
            self.cycle = PaymentCycle.objects.create(kind=self.kind, run_date=self.today, started_at=clock.now())
        return self.cycle

    def pay(self, claim_id: int, state: str, amount: Decimal, plan: PlanMoney, provider_id: int) -> None:
        self.paying.append((claim_id, state, amount, plan, provider_id))
        if len(self.paying) + len(self.holding) >= self.chunk_size:
            self.flush()

    def hold(self, claim_id: int) -> None:
        self.holding.append(claim_id)
        if len(self.paying) + len(self.holding) >= self.chunk_size:
            self.flush()

    @staticmethod
    def payer_spec(plan: PlanMoney) -> AccountSpec:
        return sponsor_claims_spec(plan.sponsor_id) if plan.funding == F.ASO else carrier_spec(plan.carrier_id)

    def _accounts(self, specs) -> None:
        need = {s for s in specs if s not in self.account_ids}
        if need:
            self.account_ids.update(accounts_ensure(specs=need))

    def _transition(self, claim_id: int, state: str, name: str, description: str) -> str:
        """Apply the declared transition `name` (django-fsm's metadata decides where it leads, and refuses
        one that is not declared) and log it; the new states are written in one UPDATE per chunk."""
        target = self._targets.get((name, state))
        if target is None:
            target = self._targets[(name, state)] = claim_transition_target(name, state)
        self.log_rows.append((Claim, claim_id, state, target, name, self.by_id, description))
        return target

    def flush(self) -> None:
        if not self.paying and not self.holding:
            return
        cycle = self.ensure_cycle()
        today = self.today
        plans = {r[3] for r in self.paying}
        self._accounts({self.payer_spec(plan) for plan in plans})
        payer_of = {plan: self.account_ids[self.payer_spec(plan)] for plan in plans}
        keys = [(payer_of[plan], provider_id, plan.sponsor_id) for _, _, _, plan, provider_id in self.paying]
        new = sorted({k for k in keys if k not in self.remittances})
        if new:
            made = RemittanceAdvice.objects.bulk_create([
                RemittanceAdvice(cycle=cycle, payer_account_id=payer, provider_id=provider, employer_id=sponsor,
                                 issued_on=today) for payer, provider, sponsor in new
            ])
            for key, remittance in zip(new, made):
                self.remittances[key] = [remittance.pk, ZERO, 0, hashlib.sha1(), ZERO, None]

        payment_rows, claim_rows = [], []
        paid_note = ("paid in payment cycle" if self.kind == PaymentCycle.Kind.CYCLE
                     else "paid: released by a deposit") + f" {cycle.pk}"
        for key, (claim_id, state, amount, plan, _) in zip(keys, self.paying):
            remittance = self.remittances[key]
            remittance[1] += amount
            remittance[2] += 1
            remittance[3].update(b"%d," % claim_id)
            if plan.funding == F.ASC:
                remittance[4] += amount
                remittance[5] = plan.carrier_id
            payment_rows.append((claim_id, remittance[0], amount, today))
            claim_rows.append((claim_id, self._transition(claim_id, state, "pay", paid_note), today))
            self.paid_amount += amount
        hold_note = f"awaiting funds: the sponsor's balance does not cover it (payment cycle {cycle.pk})"
        for claim_id in self.holding:
            claim_rows.append((claim_id, self._transition(claim_id, S.APPROVED, "await_funds", hold_note), None))
        bulk_insert(Payment, ("claim_id", "remittance_id", "amount", "paid_on"), payment_rows)
        bulk_update(Claim, "id", ("state", "paid_on"), claim_rows)
        transition_log_flush(self.log_rows, timestamp=clock.now())
        self.paid_count += len(self.paying)
        self.held_count += len(self.holding)
        self.paying, self.holding = [], []

    def _post_remittances(self) -> list[tuple]:
        """One balanced ledger transaction per remittance that moved money; returns the remittance rows."""
        specs = set()
        for (_, provider_id, sponsor_id), (_, amount, _, _, asc_amount, carrier_id) in self.remittances.items():
            if amount > 0:
                specs.add(provider_spec(provider_id))
            if asc_amount > 0:
                specs.update((receivable_spec(sponsor_id, carrier_id), sponsor_spec(sponsor_id)))
        self._accounts(specs)
        acct = self.account_ids
        postings, posted = [], []
        for (payer_id, provider_id, sponsor_id), (rid, amount, count, digest, asc_amount, carrier_id) in (
                self.remittances.items()):
            if amount <= 0:
                continue
            p = Posting(kind=T.CLAIM_PAYMENT, date=self.today, employer_id=sponsor_id,
                        key=f"claim-payment:{payer_id}:{provider_id}:{digest.hexdigest()}",
                        memo=f"remittance {rid}: {count} claims, payment run {self.cycle.pk}")
            p.move(source=payer_id, target=acct[provider_spec(provider_id)], amount=amount)
            if asc_amount > 0:  # for its ASC claims the carrier now holds a receivable from the sponsor
                p.move(source=acct[sponsor_spec(sponsor_id)], target=acct[receivable_spec(sponsor_id, carrier_id)],
                       amount=asc_amount)
            postings.append(p)
            posted.append(rid)
        txn_of = dict(zip(posted, _post(postings)))
        return [(rid, amount, count, txn_of.get(rid)) for rid, amount, count, *_ in self.remittances.values()]

    def finish(self) -> PaymentCycle | None:
        self.flush()
        if self.cycle is None:
            return None
        rows = self._post_remittances()
        if rows:
            bulk_update(RemittanceAdvice, "id", ("amount", "claim_count", "transaction_id"), rows)
        cycle = self.cycle
        cycle.claims_paid, cycle.amount_paid, cycle.claims_awaiting_funds = (
            self.paid_count, self.paid_amount, self.held_count)
        cycle.finished_at = clock.now()
        cycle.save(update_fields=["claims_paid", "amount_paid", "claims_awaiting_funds", "finished_at"])
        return cycle


def _lock_accounts(account_ids) -> None:
    list(Account.objects.filter(pk__in=set(account_ids)).order_by("pk").select_for_update().values_list("pk"))


def payment_cycle_run(*, today: datetime.date | None = None, by=None, chunk_size: int | None = None) -> PaymentCycle | None:
    """DOMAIN.md §5: pay the claims that wait for payment, oldest first (received date, then submission).

    ASC and fully insured: every `approved` claim is paid from the carrier's account (ASC: the carrier
    gains a receivable from the sponsor). ASO: the sponsor's `awaiting_funds` and `approved` claims are
    paid from its claims account while the balance covers the next one; from the first it does not
    cover, that claim and every later one wait (`awaiting_funds`), and one funding request asks for the
    claims that began to wait in this cycle. A claim whose plan_paid is 0.00 is paid at once with a
    zero payment and never stops the cycle.

    Returns the cycle's record, or None when there was nothing to do (nothing is written then).
    """
    today = today or clock.today()
    with transaction.atomic(), buffered_transition_log() as log_rows:
        _funding_lock()
        rows = list(
            Claim.objects.filter(state__in=(S.APPROVED, S.AWAITING_FUNDS)).order_by("received_date", "id")
            .select_for_update(of=("self",)).values_list(*CLAIM_COLS)
        )
        if not rows:
            return None
        plans = _plan_money(r[2] for r in rows)
        aso_sponsors = sorted({p.sponsor_id for p in plans.values() if p.funding == F.ASO})
        claims_account = accounts_ensure(specs=[sponsor_claims_spec(s) for s in aso_sponsors])
        _lock_accounts(claims_account.values())
        balance_of_account = _balances(claims_account.values())
        balance = {s: balance_of_account[claims_account[sponsor_claims_spec(s)]] for s in aso_sponsors}
        stopped: set[int] = set()
        requested: dict[int, Decimal] = defaultdict(lambda: ZERO)

        run = _PaymentRun(kind=PaymentCycle.Kind.CYCLE, today=today, by=by, chunk_size=_chunk_size(chunk_size),
                          log_rows=log_rows)
        run.account_ids.update(claims_account)
        for claim_id, state, plan_id, provider_id, plan_paid in rows:
            plan = plans.get(plan_id)
            if plan is None:  # an approved claim always has its plan; never pay one without
                continue
            if plan.funding != F.ASO or plan_paid == 0:
                run.pay(claim_id, state, plan_paid, plan, provider_id)
                continue
            sponsor = plan.sponsor_id
            if sponsor not in stopped and balance[sponsor] >= plan_paid:
                balance[sponsor] -= plan_paid
                run.pay(claim_id, state, plan_paid, plan, provider_id)
                continue
            stopped.add(sponsor)
            if state == S.APPROVED:
                run.hold(claim_id)
                requested[sponsor] += plan_paid
        cycle = run.finish()
        if cycle is not None and requested:
            FundingRequest.objects.bulk_create([
                FundingRequest(employer_id=s, cycle=cycle, requested_on=today, amount=amt, open_amount=amt)
                for s, amt in sorted(requested.items())
            ])
        return cycle


def _employer_has(employer: Employer, funding: str) -> bool:
    return Plan.objects.filter(sponsor=employer, funding=funding).exists()


def sponsor_deposit(*, employer: Employer, amount, today: datetime.date | None = None, reference: str = "",
                    by=None, chunk_size: int | None = None) -> Deposit:
    """ASO: the sponsor puts money into its claims account.

    The deposit settles the sponsor's open funding requests, oldest first, and releases its
    `awaiting_funds` claims by the payment cycle's rule (oldest first, while the balance covers the
    next one). `approved` claims wait for the next cycle. A deposit whose `reference` was recorded
    before is that deposit: nothing changes.
    """
    amount = _amount(amount)
    today = today or clock.today()
    reference = _reference(reference)
    with transaction.atomic(), buffered_transition_log() as log_rows:
        _funding_lock()
        if reference:
            existing = Deposit.objects.filter(employer=employer, reference=reference).first()
            if existing is not None:
                return existing
        if not _employer_has(employer, F.ASO):
            raise FundingError({"employer": [f"{employer} has no ASO plan: only ASO sponsors fund a claims account."]})
        acct = accounts_ensure(specs=[sponsor_spec(employer.pk), sponsor_claims_spec(employer.pk)])
        claims_account = acct[sponsor_claims_spec(employer.pk)]
        _lock_accounts([claims_account])
        posting = Posting(kind=T.DEPOSIT, date=today, employer_id=employer.pk,
                          key=f"deposit:{employer.pk}:{reference or uuid.uuid4().hex}",
                          memo=f"deposit by {employer}" + (f", reference {reference}" if reference else ""))
        posting.move(source=acct[sponsor_spec(employer.pk)], target=claims_account, amount=amount)
        (txn_id,) = _post([posting])
        deposit = Deposit.objects.create(employer=employer, amount=amount, received_on=today, reference=reference,
                                         transaction_id=txn_id)

        remaining = amount
        for request in FundingRequest.objects.filter(employer=employer, open_amount__gt=0).order_by(
            "requested_on", "id"
        ).select_for_update():
            if remaining <= 0:
                break
            take = min(request.open_amount, remaining)
            FundingSettlement.objects.create(deposit=deposit, funding_request=request, amount=take)
            request.open_amount -= take
            request.save(update_fields=["open_amount"])
            remaining -= take

        rows = list(
            Claim.objects.filter(state=S.AWAITING_FUNDS, plan__sponsor=employer, plan__funding=F.ASO)
            .order_by("received_date", "id").select_for_update(of=("self",)).values_list(*CLAIM_COLS)
        )
        if rows:
            plans = _plan_money(r[2] for r in rows)
            balance = _balances([claims_account])[claims_account]
            run = _PaymentRun(kind=PaymentCycle.Kind.RELEASE, today=today, by=by,
                              chunk_size=_chunk_size(chunk_size), log_rows=log_rows)
            run.account_ids.update(acct)
            for claim_id, state, plan_id, provider_id, plan_paid in rows:
                if plan_paid > balance:
                    break
                balance -= plan_paid
                run.pay(claim_id, state, plan_paid, plans[plan_id], provider_id)
            cycle = run.finish()
            if cycle is not None:
                deposit.release = cycle
                deposit.save(update_fields=["release"])
        return deposit


def funding_request_open_amount(*, employer: Employer) -> Decimal:
    """What the sponsor's open funding requests still ask for (a scenario's `amount: requested`)."""
    total = FundingRequest.objects.filter(employer=employer).aggregate(t=Sum("open_amount"))["t"]
    return total or ZERO


# --- ASC: reimbursement ----------------------------------------------------------------------

def _apply_credit_to_invoices(*, employer_id: int, carrier_id: int) -> None:
    """Apply the sponsor's unapplied payments to its open invoices with that carrier, oldest first."""
    payments = list(SponsorPayment.objects.filter(employer_id=employer_id, carrier_id=carrier_id,
                                                  unapplied_amount__gt=0).order_by("paid_on", "id").select_for_update())
    if not payments:
        return
    invoices = list(ReimbursementInvoice.objects.filter(employer_id=employer_id, carrier_id=carrier_id,
                                                        open_amount__gt=0).order_by("issued_on", "id").select_for_update())
    allocations: dict[tuple, Decimal] = defaultdict(lambda: ZERO)
    for payment in payments:
        for invoice in invoices:
            if payment.unapplied_amount <= 0:
                break
            take = min(payment.unapplied_amount, invoice.open_amount)
            if take <= 0:
                continue
            payment.unapplied_amount -= take
            invoice.open_amount -= take
            allocations[(payment.pk, invoice.pk)] += take
    for (payment_id, invoice_id), amount in allocations.items():
        allocation, created = SponsorPaymentAllocation.objects.get_or_create(
            payment_id=payment_id, invoice_id=invoice_id, defaults={"amount": amount})
        if not created:
            allocation.amount += amount
            allocation.save(update_fields=["amount"])
    SponsorPayment.objects.bulk_update(payments, ["unapplied_amount"])
    ReimbursementInvoice.objects.bulk_update(invoices, ["open_amount"])


def reimbursement_billing_run(*, today: datetime.date | None = None) -> list[ReimbursementInvoice]:
    """ASC: one invoice per sponsor (and carrier) for every claim the carrier paid for it and has not
    yet invoiced. What the sponsor paid ahead of the invoice is applied to it at once."""
    today = today or clock.today()
    with transaction.atomic():
        _funding_lock()
        rows = list(
            Payment.objects.filter(amount__gt=0, paid_on__lte=today, remittance__payer_account__kind=K.CARRIER,
                                   claim__plan__funding=F.ASC, claim__reimbursement_item__isnull=True)
            .order_by("paid_on", "claim_id")
            .values_list("claim_id", "amount", "remittance__employer_id", "remittance__payer_account__carrier_id")
        )
        if not rows:
            return []
        by_bill: dict[tuple, list] = defaultdict(list)
        for claim_id, amount, sponsor_id, carrier_id in rows:
            by_bill[(sponsor_id, carrier_id)].append((claim_id, amount))
        keys = sorted(by_bill)
        invoices = ReimbursementInvoice.objects.bulk_create([
            ReimbursementInvoice(employer_id=s, carrier_id=c, issued_on=today, amount=sum(a for _, a in by_bill[(s, c)]),
                                 open_amount=sum(a for _, a in by_bill[(s, c)]))
            for s, c in keys
        ])
        bulk_insert(ReimbursementInvoiceClaim, ("invoice_id", "claim_id", "amount"),
                    [(inv.pk, claim_id, amount) for inv, k in zip(invoices, keys) for claim_id, amount in by_bill[k]])
        for sponsor_id, carrier_id in keys:
            _apply_credit_to_invoices(employer_id=sponsor_id, carrier_id=carrier_id)
        return list(ReimbursementInvoice.objects.filter(pk__in=[i.pk for i in invoices]).order_by("pk"))


def reimbursement_open_amount(*, employer: Employer) -> Decimal:
    """What the sponsor's open reimbursement invoices still ask for (a scenario's `amount: requested`)."""
    total = ReimbursementInvoice.objects.filter(employer=employer).aggregate(t=Sum("open_amount"))["t"]
    return total or ZERO


def _asc_carrier_for(employer: Employer, carrier: Carrier | None) -> int:
    carrier_ids = set(Plan.objects.filter(sponsor=employer, funding=F.ASC).values_list("carrier_id", flat=True))
    if not carrier_ids:
        raise FundingError({"employer": [f"{employer} has no ASC plan: only ASC sponsors reimburse a carrier."]})
    if carrier is not None:
        if carrier.pk not in carrier_ids:
            raise FundingError({"carrier": [f"{carrier} pays no ASC claims for {employer}."]})
        return carrier.pk
    if len(carrier_ids) > 1:
        raise FundingError({"carrier": [f"{employer} has ASC plans with several carriers: say which one is paid."]})
    return carrier_ids.pop()


def sponsor_reimbursement_pay(*, employer: Employer, amount, today: datetime.date | None = None,
                              carrier: Carrier | None = None, reference: str = "") -> SponsorPayment:
    """ASC: the sponsor reimburses the carrier. The payment settles its oldest open invoices first
    (partial payments allowed); what exceeds them reduces the receivable for claims not yet invoiced
    and is applied to the next invoice. Paying more than the sponsor owes the carrier is refused."""
    amount = _amount(amount)
    today = today or clock.today()
    reference = _reference(reference)
    with transaction.atomic():
        _funding_lock()
        if reference:
            existing = SponsorPayment.objects.filter(employer=employer, reference=reference).first()
            if existing is not None:
                return existing
        carrier_id = _asc_carrier_for(employer, carrier)
        acct = accounts_ensure(specs=[receivable_spec(employer.pk, carrier_id), carrier_spec(carrier_id)])
        receivable = acct[receivable_spec(employer.pk, carrier_id)]
        _lock_accounts([receivable])
        owed = _balances([receivable])[receivable]
        if amount > owed:
            raise FundingError({"amount": [f"{amount} is more than {employer} owes the carrier ({owed}); "
                                           f"open invoices: {reimbursement_open_amount(employer=employer)}"]})
        posting = Posting(kind=T.REIMBURSEMENT, date=today, employer_id=employer.pk,
                          key=f"reimbursement:{employer.pk}:{reference or uuid.uuid4().hex}",
                          memo=f"reimbursement by {employer}" + (f", reference {reference}" if reference else ""))
        posting.move(source=receivable, target=acct[carrier_spec(carrier_id)], amount=amount)
        (txn_id,) = _post([posting])
        payment = SponsorPayment.objects.create(employer=employer, carrier_id=carrier_id, amount=amount,
                                                unapplied_amount=amount, paid_on=today, reference=reference,
                                                transaction_id=txn_id)
        _apply_credit_to_invoices(employer_id=employer.pk, carrier_id=carrier_id)
        payment.refresh_from_db()
        return payment


# --- Fees and premiums -------------------------------------------------------------------------

def fee_billing_run(*, today: datetime.date | None = None) -> list[FeeBilling]:
    """DOMAIN.md §5: bill each plan once for the calendar month of `today`: admin_fee_pepm (ASO, ASC) or
    premium_pepm (fully insured) for every subscriber whose coverage of the plan is in force on
    `today`. A month already billed bills nothing; a month billed for 0 subscribers counts as billed;
    a month that no run fell in is never billed later."""
    today = today or clock.today()
    month = today.replace(day=1)
    with transaction.atomic():
        _funding_lock()
        plans = list(Plan.objects.exclude(fee_billings__month=month).order_by("pk").values_list(
            "id", "funding", "sponsor_id", "carrier_id", "admin_fee_pepm", "premium_pepm"))
        if not plans:
            return []
        plan_ids = {p[0] for p in plans}
        subscriber_ids = set(Coverage.objects.filter(plan_id__in=plan_ids, member__subscriber__isnull=True)
                             .values_list("member_id", flat=True))
        periods = coverage_periods_for_members(member_ids=subscriber_ids)
        count: dict[int, int] = defaultdict(int)
        for member_id in subscriber_ids:
            status, period = coverage_on(periods=periods.get(member_id, []), day=today)
            if status == "ok" and period[0] in plan_ids:
                count[period[0]] += 1
        specs = {ADMIN_FEES_SPEC}
        for _, funding, sponsor_id, carrier_id, _, _ in plans:
            specs.add(sponsor_spec(sponsor_id))
            if funding == F.FULLY_INSURED:
                specs.add(premiums_spec(carrier_id))
        acct = accounts_ensure(specs=specs)
        billings, postings = [], []
        for pid, funding, sponsor_id, carrier_id, admin_fee, premium in plans:
            premium_plan = funding == F.FULLY_INSURED
            pepm = premium if premium_plan else admin_fee
            amount = round_half_up(pepm * count[pid])
            kind = FeeBilling.Kind.PREMIUM if premium_plan else FeeBilling.Kind.ADMIN_FEE
            billing = FeeBilling(plan_id=pid, month=month, billed_on=today, kind=kind, subscribers=count[pid],
                                 pepm=pepm, amount=amount)
            billings.append(billing)
            if amount > 0:
                p = Posting(kind=T.PREMIUM if premium_plan else T.ADMIN_FEE, date=today, employer_id=sponsor_id,
                            key=f"fees:{pid}:{month:%Y-%m}",
                            memo=f"{billing.get_kind_display()} {month:%Y-%m}: {count[pid]} × {pepm}")
                target = acct[premiums_spec(carrier_id)] if premium_plan else acct[ADMIN_FEES_SPEC]
                p.move(source=acct[sponsor_spec(sponsor_id)], target=target, amount=amount)
                postings.append((billing, p))
        for (billing, _), txn_id in zip(postings, _post([p for _, p in postings])):
            billing.transaction_id = txn_id
        return FeeBilling.objects.bulk_create(billings)


# --- Stop-loss ---------------------------------------------------------------------------------

def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus whole months; the 29th–31st fall on the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def stop_loss_window(*, policy: StopLossPolicy) -> tuple[datetime.date, datetime.date, datetime.date]:
    """(start, end of the 12 incurred months (exclusive), paid-through date (exclusive))."""
    paid_months = 15 if policy.contract == StopLossPolicy.Contract.TWELVE_FIFTEEN else 12
    return policy.start, add_months(policy.start, 12), add_months(policy.start, paid_months)


def stop_loss_aggregate_point(*, policy: StopLossPolicy) -> Decimal | None:
    if policy.aggregate_attachment is not None:
        return policy.aggregate_attachment
    if policy.expected_claims is not None and policy.aggregate_factor is not None:
        return round_half_up(policy.expected_claims * policy.aggregate_factor)
    return None


def stop_loss_counted_by_member(*, policy: StopLossPolicy, today: datetime.date) -> dict[int, Decimal]:
    """member id -> counted plan_paid: service date in the 12 months, paid before the paid-through date
    (and by `today`). Under ASC the paid date is the carrier's, reimbursed by the sponsor or not."""
    start, incurred_end, paid_through = stop_loss_window(policy=policy)
    return dict(
        Claim.objects.filter(plan_id=policy.plan_id, state=S.PAID, service_date__gte=start,
                             service_date__lt=incurred_end, paid_on__lt=paid_through, paid_on__lte=today)
        .values("member_id").annotate(total=Sum("plan_paid")).values_list("member_id", "total")
    )


def stop_loss_evaluate(*, today: datetime.date | None = None) -> list[StopLossFiling]:
    """DOMAIN.md §6 for every self-funded plan's stop-loss policy in force by `today`.

    Specific: per member, max(0, counted − attachment (or the member's laser)) − what was already
    reimbursed for that member. Aggregate: counted claims, each member's share capped at its
    attachment, over the aggregate attachment point; filed once, at the first evaluation on or after
    the paid-through date. The stop-loss carrier pays into the sponsor's claims account.
    """
    today = today or clock.today()
    with transaction.atomic():
        _funding_lock()
        policies = list(StopLossPolicy.objects.filter(start__lte=today, plan__funding__in=(F.ASO, F.ASC))
                        .select_related("plan").order_by("pk"))
        if not policies:
            return []
        lasers = defaultdict(dict)
        for policy_id, member_id, attachment in StopLossLaser.objects.filter(policy__in=policies).values_list(
            "policy_id", "member_id", "attachment"
        ):
            lasers[policy_id][member_id] = attachment
        already = defaultdict(lambda: ZERO)
        for policy_id, member_id, total in StopLossFiling.objects.filter(
            policy__in=policies, kind=StopLossFiling.Kind.SPECIFIC
        ).values("policy_id", "member_id").annotate(total=Sum("amount")).values_list("policy_id", "member_id", "total"):
            already[(policy_id, member_id)] = total
        aggregate_done = set(StopLossFiling.objects.filter(policy__in=policies, kind=StopLossFiling.Kind.AGGREGATE)
                             .values_list("policy_id", flat=True))
        acct = accounts_ensure(specs={s for p in policies
                                      for s in (stop_loss_spec(p.carrier_id), sponsor_claims_spec(p.plan.sponsor_id))})
        filings, postings = [], []

        def file(policy, kind, member_id, counted, attachment, amount, key):
            filing = StopLossFiling(policy=policy, kind=kind, member_id=member_id, filed_on=today,
                                    counted_claims=counted, attachment=attachment, amount=amount)
            filings.append(filing)
            if amount > 0:
                p = Posting(kind=T.STOP_LOSS, date=today, employer_id=policy.plan.sponsor_id, key=key,
                            memo=f"{kind} stop-loss, policy {policy.pk}" + (f", member {member_id}" if member_id else ""))
                p.move(source=acct[stop_loss_spec(policy.carrier_id)],
                       target=acct[sponsor_claims_spec(policy.plan.sponsor_id)], amount=amount)
                postings.append((filing, p))

        for policy in policies:
            counted = stop_loss_counted_by_member(policy=policy, today=today)
            attach = {m: lasers[policy.pk].get(m, policy.specific_attachment) for m in counted}
            for member_id in sorted(counted):
                done = already[(policy.pk, member_id)]
                due = max(ZERO, counted[member_id] - attach[member_id]) - done
                if due > 0:
                    file(policy, StopLossFiling.Kind.SPECIFIC, member_id, counted[member_id], attach[member_id], due,
                         f"stop-loss:specific:{policy.pk}:{member_id}:{done + due}")
            point = stop_loss_aggregate_point(policy=policy)
            _, _, paid_through = stop_loss_window(policy=policy)
            if point is not None and today >= paid_through and policy.pk not in aggregate_done:
                capped = sum((min(total, attach[m]) for m, total in counted.items()), ZERO)
                file(policy, StopLossFiling.Kind.AGGREGATE, None, capped, point, max(ZERO, capped - point),
                     f"stop-loss:aggregate:{policy.pk}")
        for (filing, _), txn_id in zip(postings, _post([p for _, p in postings])):
            filing.transaction_id = txn_id
        return StopLossFiling.objects.bulk_create(filings)
