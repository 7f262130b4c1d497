"""Celery tasks for the money: thin adapters over funding.services.

Every task is safe to deliver twice (acks_late: a worker lost mid-task leaves the message to be
delivered again): each service runs in one transaction and finds nothing left to do the second time.
Arguments are ids and strings, never model instances or floats.
"""
from celery import shared_task

from parties.models import Employer
from parties.roles import Action, action_check

from . import services

TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


@shared_task(**TASK)
def payment_cycle(chunk_size: int | None = None) -> dict:
    """Pay what waits for payment; when money was paid, evaluate stop-loss once the cycle has committed."""
    cycle = services.payment_cycle_run(chunk_size=chunk_size)
    if cycle is None:
        return {"cycle": None, "paid": 0, "awaiting_funds": 0}
    if cycle.amount_paid > 0:
        stop_loss_evaluation.delay_on_commit()
    return {"cycle": cycle.pk, "paid": cycle.claims_paid, "awaiting_funds": cycle.claims_awaiting_funds}


def payment_cycle_enqueue(*, by) -> None:
    """A person starts a payment cycle from a screen: their role must allow it; the job runs once the
    caller's transaction commits."""
    action_check(user=by, action=Action.PAYMENT_CYCLE_RUN)
    payment_cycle.delay_on_commit()


def _delivery_key(task) -> str:
    """This message's id: a second delivery of the same message (acks_late) is then the same deposit or
    payment, not a second one (the bank's reference, when there is one, holds that too)."""
    return f"task:{task.request.id}" if task.request.id else ""


@shared_task(bind=True, **TASK)
def sponsor_deposit_record(self, employer_id: int, amount: str, reference: str = "") -> int | None:
    """Record an ASO deposit (it settles funding requests and releases waiting claims). A second
    delivery of the message is the same deposit. None: "requested" when nothing was open."""
    employer = Employer.objects.get(pk=employer_id)
    deposit = services.sponsor_deposit(employer=employer, amount=amount, reference=reference,
                                       idempotency_key=_delivery_key(self))
    return deposit.pk if deposit is not None else None


@shared_task(bind=True, **TASK)
def sponsor_reimbursement_record(self, employer_id: int, amount: str, reference: str = "") -> int | None:
    """Record an ASC sponsor's reimbursement payment; a second delivery of the message is the same payment.
    None: "requested" when no invoice was open."""
    employer = Employer.objects.get(pk=employer_id)
    payment = services.sponsor_reimbursement_pay(employer=employer, amount=amount, reference=reference,
                                                 idempotency_key=_delivery_key(self))
    return payment.pk if payment is not None else None


@shared_task(**TASK)
def reimbursement_billing() -> list[int]:
    return [invoice.pk for invoice in services.reimbursement_billing_run()]


@shared_task(**TASK)
def fee_billing() -> list[int]:
    return [billing.pk for billing in services.fee_billing_run()]


@shared_task(**TASK)
def stop_loss_evaluation() -> list[int]:
    return [filing.pk for filing in services.stop_loss_evaluate()]
