"""Playing a scenario's events: each kind is one call of the service (or job) the web UI and the
workers call, on the business date the clock shows."""
import datetime

from django.core.exceptions import ValidationError

from claims import services as claim_services
from claims.models import Claim
from core import clock
from funding import services as funding
from plans import services as plan_services

from .schema import ScenarioInvalid, _amount, _date
from .world import MEMBER_KEYS, World, validation_path

JOBS = {
    "adjudication": lambda today: claim_services.claims_adjudicate_pending(today=today),
    "payment_cycle": lambda today: funding.payment_cycle_run(today=today),
    "reimbursement_billing": lambda today: funding.reimbursement_billing_run(today=today),
    "stop_loss": lambda today: funding.stop_loss_evaluate(today=today),
    "fee_billing": lambda today: funding.fee_billing_run(today=today),
}


def event_play(*, w: World, event: dict, path: str) -> None:
    """Move the clock to the event's date (if any), then do what the event says (if anything)."""
    if "date" in event:
        clock.clock_set(day=_date(event["date"], f"{path}.date"))
    today = clock.today()
    for kind, play in PLAYERS.items():
        if kind in event:
            play(w=w, body=event[kind], path=f"{path}.{kind}", today=today)
            return


def _submit_claim(*, w: World, body: dict, path: str, today: datetime.date) -> None:
    member, provider = w.members[body["member"]], w.providers[body["provider"]]
    try:
        claim = claim_services.claim_submit(
            member_id=member.member_id, npi=provider.npi, service_date=body["service_date"],
            lines=[{"code": ln["code"], "billed": _amount(ln["billed"], f"{path}.billed"),
                    "units": ln.get("units", 1)} for ln in (body.get("lines") or [])],
        )
    except ValidationError as exc:
        raise validation_path(exc, path) from None
    w.claims[body["key"]] = claim


def _run(*, w: World, body: str, path: str, today: datetime.date) -> None:
    JOBS[body](today)


def _claim_state(claim: Claim) -> str:
    return Claim.objects.filter(pk=claim.pk).values_list("state", flat=True).first()


def _review(*, w: World, body: dict, path: str, today: datetime.date) -> None:
    claim = w.claims[body["claim"]]
    try:
        claim_services.claim_review(claim_id=claim.pk, decision=body["decision"],
                                    reason_code=str(body.get("reason_code", "50")), today=today)
    except claim_services.ClaimConflict:
        raise ScenarioInvalid(f"{path}.claim", f"claim {body['claim']!r} is {_claim_state(claim)}, not pended") from None


def _appeal(*, w: World, body: dict, path: str, today: datetime.date) -> None:
    claim = w.claims[body["claim"]]
    try:
        claim_services.claim_appeal(claim_id=claim.pk, reason="scenario appeal")
    except claim_services.ClaimConflict:
        raise ScenarioInvalid(f"{path}.claim", f"claim {body['claim']!r} is {_claim_state(claim)}, not denied") from None


def _amount_or_requested(body: dict, path: str):
    return "requested" if body["amount"] == "requested" else _amount(body["amount"], f"{path}.amount")


def _fund(*, w: World, body: dict, path: str, today: datetime.date) -> None:
    """An ASO deposit; `requested` deposits what the open funding requests ask (nothing when none is open)."""
    try:
        funding.sponsor_deposit(employer=w.employers[body["employer"]], amount=_amount_or_requested(body, path),
                                today=today)
    except ValidationError as exc:
        raise validation_path(exc, path) from None


def _pay_invoice(*, w: World, body: dict, path: str, today: datetime.date) -> None:
    """An ASC reimbursement; `requested` pays every open invoice (nothing when none is open)."""
    employer = w.employers[body["employer"]]
    amount = _amount_or_requested(body, path)
    if amount != "requested":
        open_amount = funding.reimbursement_open_amount(employer=employer)
        if amount > open_amount:
            raise ScenarioInvalid(f"{path}.amount", f"pays {amount} but only {open_amount} is open")
    try:
        funding.sponsor_reimbursement_pay(employer=employer, amount=amount, today=today)
    except ValidationError as exc:
        raise validation_path(exc, path) from None


def _change_coverage(*, w: World, body: dict, path: str, today: datetime.date) -> None:
    try:
        plan_services.coverage_change(
            member=w.members[body["member"]],
            start=_date(body["coverage_start"], path) if body.get("coverage_start") is not None else None,
            end=_date(body["coverage_end"], path) if body.get("coverage_end") is not None else None,
            set_start="coverage_start" in body, set_end="coverage_end" in body,
        )
    except ValidationError as exc:
        raise validation_path(exc, path, MEMBER_KEYS) from None


PLAYERS = {
    "submit_claim": _submit_claim, "run": _run, "review": _review, "appeal": _appeal, "fund": _fund,
    "pay_invoice": _pay_invoice, "change_coverage": _change_coverage,
}
