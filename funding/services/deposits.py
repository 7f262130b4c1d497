"""ASO deposits (DOMAIN.md §5): the sponsor puts money into its claims account, which settles its
funding requests and releases its waiting claims.

Money is recorded once: a deposit carries the bank's reference or the caller's idempotency key (a
form's, a task message's), and the same one again is the same deposit. Given again with another
amount, it is refused: a bank reference names one deposit.
"""
import datetime
import uuid
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from core import clock
from parties.models import Employer
from parties.roles import Action
from plans.models import Plan

from ..errors import FundingError
from ..models import Deposit, FundingRequest, FundingSettlement
from .ledger import (
    REQUESTED,
    ZERO,
    F,
    Posting,
    T,
    _amount,
    _funding_lock,
    _idempotency_key,
    _ledger_key,
    _lock_accounts,
    _money_recorded_before,
    _post,
    _reference,
    _sponsor_access,
    accounts_ensure,
    sponsor_claims_spec,
    sponsor_spec,
)
from .payments import claims_release_by_deposit


def funding_request_open_amount(*, employer: Employer) -> Decimal:
    """What the sponsor's open funding requests still ask for."""
    total = FundingRequest.objects.filter(employer=employer).aggregate(t=Sum("open_amount"))["t"]
    return total or ZERO


def _settle_requests(*, employer: Employer, deposit: Deposit) -> None:
    """The deposit settles the sponsor's open funding requests, oldest first."""
    remaining = deposit.amount
    for request in FundingRequest.objects.filter(employer=employer, open_amount__gt=0).order_by(
            "requested_on", "id").select_for_update():
        if remaining <= 0:
            break
        take = min(request.open_amount, remaining)
        FundingSettlement.objects.create(deposit=deposit, funding_request=request, amount=take)
        request.open_amount -= take
        request.save(update_fields=["open_amount"])
        remaining -= take


def sponsor_deposit(*, employer: Employer, amount, today: datetime.date | None = None, reference: str = "",
                    idempotency_key: str = "", by=None, chunk_size: int | None = None) -> Deposit | None:
    """ASO: the sponsor puts money into its claims account.

    The deposit settles the sponsor's open funding requests, oldest first, and releases its
    `awaiting_funds` claims by the payment cycle's rule (oldest first, while the balance covers the
    next one). `approved` claims wait for the next cycle. `amount` "requested" deposits what the open
    requests still ask, read under the funding lock (a second click finds nothing open: None).
    A deposit whose `reference` (or `idempotency_key`) was recorded before is that deposit.
    """
    _sponsor_access(by=by, employer=employer, action=Action.DEPOSIT_RECORD)
    if amount != REQUESTED:
        amount = _amount(amount)
    today = today or clock.today()
    reference, key = _reference(reference), _idempotency_key(idempotency_key)
    ledger_key = _ledger_key(prefix="deposit", employer_id=employer.pk, reference=reference, idempotency_key=key)
    with transaction.atomic():
        _funding_lock()
        existing = _money_recorded_before(model=Deposit, related_name="deposit", what="deposit",
                                          date_field="received_on", employer=employer, reference=reference,
                                          keyed=ledger_key if key else None, amount=amount)
        if existing is not None:
            return existing
        if not Plan.objects.filter(sponsor=employer, funding=F.ASO).exists():
            raise FundingError({"employer": [f"{employer} has no ASO plan: only ASO sponsors fund a claims account."]})
        if amount == REQUESTED:
            amount = funding_request_open_amount(employer=employer)
            if amount <= 0:
                return None
        acct = accounts_ensure(specs=[sponsor_spec(employer.pk), sponsor_claims_spec(employer.pk)])
        claims_account = acct[sponsor_claims_spec(employer.pk)]
        _lock_accounts([claims_account])
        posting = Posting(kind=T.DEPOSIT, date=today, employer_id=employer.pk,
                          key=ledger_key or f"deposit:{employer.pk}:{uuid.uuid4().hex}",
                          memo=f"deposit by {employer}" + (f", reference {reference}" if reference else ""))
        posting.move(source=acct[sponsor_spec(employer.pk)], target=claims_account, amount=amount)
        (txn_id,) = _post([posting])
        deposit = Deposit.objects.create(employer=employer, amount=amount, received_on=today, reference=reference,
                                         transaction_id=txn_id)
        _settle_requests(employer=employer, deposit=deposit)
        cycle = claims_release_by_deposit(employer_id=employer.pk, claims_account_id=claims_account, account_ids=acct,
                                          today=today, by=by, chunk_size=chunk_size)
        if cycle is not None:
            deposit.release = cycle
            deposit.save(update_fields=["release"])
        return deposit
