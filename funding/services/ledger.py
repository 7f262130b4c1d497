"""The ledger side of every funding service: accounts, balanced postings, the funding lock, amounts
and references as the services accept them.

Rules every funding service keeps:
- one database transaction per call, under the funding lock (a PostgreSQL advisory lock: two runs
  of any funding job never interleave) and row locks on the claims and accounts it reads;
- money moves only as balanced ledger transactions (`_post`), each with a unique idempotency key;
  PostgreSQL checks the balance again at commit (migration 0002);
- every job can run again: what it did is recorded in state (a claim is `paid`, a month is billed,
  a filing exists), so the second run finds nothing left to do.
"""
import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Sum

from core.bulk import bulk_insert
from core.money import to_money
from parties.models import Employer
from parties.selectors import employer_access_by_id
from plans.models import FundingArrangement

from ..errors import FundingError
from ..models import Account, Deposit, LedgerEntry, LedgerTransaction

ZERO = Decimal("0.00")
F = FundingArrangement
K = Account.Kind
T = LedgerTransaction.Kind
FUNDING_LOCK_ID = 7_311_101  # pg_advisory_xact_lock key shared by every funding job
IDEMPOTENCY_KEY_WIDTH = 64
REQUESTED = "requested"  # an amount: what the sponsor's open requests (or invoices) ask, read under the lock


def _chunk_size(chunk_size: int | None) -> int:
    return int(chunk_size or getattr(settings, "FUNDING_CHUNK_SIZE", 5000))


def _funding_lock() -> None:
    """Serialise the funding jobs (held until the transaction ends). SQLite serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FUNDING_LOCK_ID])


def _text_key(value, *, field_name: str, width: int) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise FundingError({field_name: ["must not contain a NUL character"]})
    if len(text) > width:
        raise FundingError({field_name: [f"at most {width} characters, got {len(text):,}"]})
    return text


def _reference(value) -> str:
    """A bank reference (deposits and sponsor payments): text no wider than its column, stripped."""
    return _text_key(value, field_name="reference", width=Deposit._meta.get_field("reference").max_length)


def _idempotency_key(value) -> str:
    """The caller's key for one attempt at recording money (a form's, a task message's): a retry
    with the same key is the same record."""
    return _text_key(value, field_name="idempotency_key", width=IDEMPOTENCY_KEY_WIDTH)


def _amount(value, *, field_name: str = "amount", positive: bool = True) -> Decimal:
    try:
        amount = to_money(value)
    except (ValueError, TypeError) as exc:
        raise FundingError({field_name: [str(exc)[:200]]}) from None
    if positive and amount <= 0:
        raise FundingError({field_name: [f"must be greater than 0.00, got {amount}"]})
    return amount


def _sponsor_access(*, by, employer: Employer, action) -> None:
    """A login recording money for a sponsor: NotFound unless it may see the sponsor, Forbidden unless
    its role may take the action (None: the system, which may)."""
    if by is not None:
        employer_access_by_id(user=by, employer_id=employer.pk, action=action)


def _ledger_key(*, prefix: str, employer_id: int, reference: str, idempotency_key: str) -> str | None:
    """The ledger transaction's idempotency key for a sponsor's money: by the caller's key (one rendering
    of a form, one task message) when given, else by the bank's reference; None when neither is given
    (each call is then a new record). The reference is looked up on its own as well
    (`_money_recorded_before`): a form posted again with the reference it lacked the first time is
    still the one record, and a reference recorded before is that record whatever the key."""
    if idempotency_key:
        return f"{prefix}:{employer_id}:key:{idempotency_key}"
    if reference:
        return f"{prefix}:{employer_id}:ref:{reference}"
    return None


def _money_recorded_before(*, model, related_name: str, what: str, date_field: str, employer: Employer,
                           reference: str, keyed: str | None, amount):
    """The record (a `Deposit`, a `SponsorPayment`) that this call repeats, or None: the one recorded
    under the same caller's key (`keyed`: the ledger transaction key `_ledger_key` makes of it), else
    the one with the same bank reference. Given again with another amount, it is refused, naming the
    field that matched; a reference that names another record than the key does is refused too.
    `amount` "requested" (read later, under the lock) repeats whatever was recorded. Called under the
    funding lock, so that two calls at once are one after the other here."""
    by_reference = model.objects.filter(employer=employer, reference=reference).first() if reference else None
    by_key = None
    if keyed:
        txn = LedgerTransaction.objects.filter(idempotency_key=keyed).select_related(related_name).first()
        by_key = getattr(txn, related_name, None) if txn is not None else None
    if by_key is not None and by_reference is not None and by_key.pk != by_reference.pk:
        raise FundingError({"reference": [
            f"{what} {by_reference.pk} was recorded under this reference on {getattr(by_reference, date_field)}; "
            f"this form (or message) recorded {what} {by_key.pk}"]})
    existing, field_name = (by_key, "idempotency_key") if by_key is not None else (by_reference, "reference")
    if existing is None or amount == REQUESTED or existing.amount == amount:
        return existing
    under = "this reference" if field_name == "reference" else "this form (or message)"
    raise FundingError({field_name: [
        f"{what} {existing.pk} of {existing.amount} was recorded under {under} on {getattr(existing, date_field)}; "
        f"{amount} is another amount" + ("" if field_name == "reference" else ": open the form again for another")]})


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


def _lock_accounts(account_ids) -> None:
    list(Account.objects.filter(pk__in=set(account_ids)).order_by("pk").select_for_update().values_list("pk"))
