"""Paying claims (DOMAIN.md §5): the payment cycle, and the run that releases waiting claims when an
ASO sponsor deposits.

Claims are paid in sets: rows are read with their locks (`claims.selectors.claim_payment_queue_locked`),
payments and ledger entries go in with COPY, and the claims' new states through
`claims.services.claims_record_payment` (one UPDATE and one transition-log COPY per chunk): the
funding app never writes a claim row itself.
"""
import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from claims.selectors import claim_payment_queue_locked
from claims.services import claims_record_payment
from core import clock
from core.bulk import bulk_insert, bulk_update
from parties.roles import Action, action_check
from plans.models import Plan

from ..models import FundingRequest, Payment, PaymentCycle, RemittanceAdvice
from .ledger import (
    ZERO,
    AccountSpec,
    F,
    Posting,
    T,
    _balances,
    _chunk_size,
    _funding_lock,
    _lock_accounts,
    _post,
    accounts_ensure,
    carrier_spec,
    provider_spec,
    receivable_spec,
    sponsor_claims_spec,
    sponsor_spec,
)


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


@dataclass(slots=True)
class _Remittance:
    """One payment from one payer account to one provider for one sponsor's claims, as it fills up.
    One carrier may pay one sponsor's ASC and fully insured claims on one remittance: only the ASC
    part becomes the sponsor's debt to the carrier."""

    id: int
    amount: Decimal = ZERO
    claims: int = 0
    digest: object = None  # sha1 of its claim ids: the ledger transaction's idempotency key
    asc_amount: Decimal = ZERO
    carrier_id: int | None = None


class _PaymentRun:
    """Pays claims in chunks inside the caller's transaction.

    `pay` and `hold` collect; every `chunk_size` claims one flush writes the chunk with a handful of
    statements whatever its size: the payments (COPY), the claims' states (`claims_record_payment`).
    `finish` posts one ledger transaction per remittance that moved money.
    """

    def __init__(self, *, kind: str, today: datetime.date, by, chunk_size: int):
        self.kind, self.today, self.by, self.chunk_size = kind, today, by, chunk_size
        self.cycle: PaymentCycle | None = None
        self.remittances: dict[tuple, _Remittance] = {}  # (payer account id, provider id, sponsor id) ->
        self.paying: list[tuple] = []  # (claim id, state, amount, plan money, provider id)
        self.holding: list[int] = []  # claim ids: approved -> awaiting_funds
        self.paid_count, self.paid_amount, self.held_count = 0, ZERO, 0
        self.account_ids: dict[AccountSpec, int] = {}

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

    def _remittance_keys(self, cycle: PaymentCycle) -> list[tuple]:
        """The remittance each claim being paid goes on, made as needed (one INSERT for the new ones)."""
        plans = {r[3] for r in self.paying}
        self._accounts({self.payer_spec(plan) for plan in plans})
        payer_of = {plan: self.account_ids[self.payer_spec(plan)] for plan in plans}
        keys = [(payer_of[plan], provider_id, plan.sponsor_id) for _, _, _, plan, provider_id in self.paying]
        new = sorted({k for k in keys if k not in self.remittances})
        if new:
            made = RemittanceAdvice.objects.bulk_create([
                RemittanceAdvice(cycle=cycle, payer_account_id=payer, provider_id=provider, employer_id=sponsor,
                                 issued_on=self.today) for payer, provider, sponsor in new
            ])
            for key, remittance in zip(new, made):
                self.remittances[key] = _Remittance(id=remittance.pk, digest=hashlib.sha1())
        return keys

    def flush(self) -> None:
        if not self.paying and not self.holding:
            return
        cycle = self.ensure_cycle()
        payment_rows, paid = [], []
        for key, (claim_id, state, amount, plan, _) in zip(self._remittance_keys(cycle), self.paying):
            remittance = self.remittances[key]
            remittance.amount += amount
            remittance.claims += 1
            remittance.digest.update(b"%d," % claim_id)
            if plan.funding == F.ASC:
                remittance.asc_amount += amount
                remittance.carrier_id = plan.carrier_id
            payment_rows.append((claim_id, remittance.id, amount, self.today))
            paid.append((claim_id, state))
            self.paid_amount += amount
        bulk_insert(Payment, ("claim_id", "remittance_id", "amount", "paid_on"), payment_rows)
        claims_record_payment(
            paid=paid, awaiting=self.holding, paid_on=self.today, by=self.by,
            paid_note=("paid in payment cycle" if self.kind == PaymentCycle.Kind.CYCLE
                       else "paid: released by a deposit") + f" {cycle.pk}",
            awaiting_note=f"awaiting funds: the sponsor's balance does not cover it (payment cycle {cycle.pk})",
        )
        self.paid_count += len(self.paying)
        self.held_count += len(self.holding)
        self.paying, self.holding = [], []

    def _post_remittances(self) -> list[tuple]:
        """One balanced ledger transaction per remittance that moved money; returns the remittance rows."""
        specs = set()
        for (_, provider_id, sponsor_id), r in self.remittances.items():
            if r.amount > 0:
                specs.add(provider_spec(provider_id))
            if r.asc_amount > 0:
                specs.update((receivable_spec(sponsor_id, r.carrier_id), sponsor_spec(sponsor_id)))
        self._accounts(specs)
        acct = self.account_ids
        postings, posted = [], []
        for (payer_id, provider_id, sponsor_id), r in self.remittances.items():
            if r.amount <= 0:
                continue
            p = Posting(kind=T.CLAIM_PAYMENT, date=self.today, employer_id=sponsor_id,
                        key=f"claim-payment:{payer_id}:{provider_id}:{r.digest.hexdigest()}",
                        memo=f"remittance {r.id}: {r.claims} claims, payment run {self.cycle.pk}")
            p.move(source=payer_id, target=acct[provider_spec(provider_id)], amount=r.amount)
            if r.asc_amount > 0:  # for its ASC claims the carrier now holds a receivable from the sponsor
                p.move(source=acct[sponsor_spec(sponsor_id)], target=acct[receivable_spec(sponsor_id, r.carrier_id)],
                       amount=r.asc_amount)
            postings.append(p)
            posted.append(r.id)
        txn_of = dict(zip(posted, _post(postings)))
        return [(r.id, r.amount, r.claims, txn_of.get(r.id)) for r in self.remittances.values()]

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


def _aso_balances(plans: dict[int, PlanMoney], run: _PaymentRun) -> dict[int, Decimal]:
    """sponsor id -> its claims account's balance, for every ASO sponsor among `plans`, the accounts locked."""
    aso_sponsors = sorted({p.sponsor_id for p in plans.values() if p.funding == F.ASO})
    claims_account = accounts_ensure(specs=[sponsor_claims_spec(s) for s in aso_sponsors])
    _lock_accounts(claims_account.values())
    run.account_ids.update(claims_account)
    balance_of_account = _balances(claims_account.values())
    return {s: balance_of_account[claims_account[sponsor_claims_spec(s)]] for s in aso_sponsors}


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
    if by is not None:
        action_check(user=by, action=Action.PAYMENT_CYCLE_RUN)
    today = today or clock.today()
    with transaction.atomic():
        _funding_lock()
        rows = claim_payment_queue_locked()
        if not rows:
            return None
        plans = _plan_money(r[2] for r in rows)
        run = _PaymentRun(kind=PaymentCycle.Kind.CYCLE, today=today, by=by, chunk_size=_chunk_size(chunk_size))
        balance = _aso_balances(plans, run)
        stopped: set[int] = set()
        requested: dict[int, Decimal] = defaultdict(lambda: ZERO)
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
            if state == "approved":
                run.hold(claim_id)
                requested[sponsor] += plan_paid
        cycle = run.finish()
        if cycle is not None and requested:
            FundingRequest.objects.bulk_create([
                FundingRequest(employer_id=s, cycle=cycle, requested_on=today, amount=amt, open_amount=amt)
                for s, amt in sorted(requested.items())
            ])
        return cycle


def claims_release_by_deposit(*, employer_id: int, claims_account_id: int, account_ids: dict, today: datetime.date,
                              by=None, chunk_size: int | None = None) -> PaymentCycle | None:
    """After a deposit (in its transaction): pay the sponsor's `awaiting_funds` ASO claims, oldest first,
    while the balance covers the next one (DOMAIN.md §5). `approved` claims wait for the next cycle."""
    rows = claim_payment_queue_locked(states=("awaiting_funds",), sponsor_id=employer_id, funding=F.ASO)
    if not rows:
        return None
    plans = _plan_money(r[2] for r in rows)
    balance = _balances([claims_account_id])[claims_account_id]
    run = _PaymentRun(kind=PaymentCycle.Kind.RELEASE, today=today, by=by, chunk_size=_chunk_size(chunk_size))
    run.account_ids.update(account_ids)
    for claim_id, state, plan_id, provider_id, plan_paid in rows:
        if plan_paid > balance:
            break
        balance -= plan_paid
        run.pay(claim_id, state, plan_paid, plans[plan_id], provider_id)
    return run.finish()
