"""Worlds for the funding tests: sponsors under each arrangement, members, providers, and claims made
`approved` directly (Claim + ClaimLine + LineResult rows, then `claim.approve()`), so that these
tests depend on the claims model only, not on the adjudication engine."""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django_fsm_log.models import StateLog

from claims.models import Claim, ClaimLine, LineResult
from funding.models import Account, LedgerEntry
from funding.selectors import ledger_is_balanced
from plans.models import FundingArrangement
from tests.factories import (
    CarrierFactory,
    CoverageFactory,
    EmployerFactory,
    MemberFactory,
    PlanFactory,
    ProviderFactory,
)

D = Decimal
ZERO = D("0.00")
F = FundingArrangement


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def approved_claim(*, plan, member, provider, plan_paid, received: str | datetime.date = "2026-01-15",
                   service: str | datetime.date | None = None, deductible="0.00", coinsurance="0.00", copay="0.00",
                   write_off="0.00", code: str = "99213") -> Claim:
    """An `approved` claim of one line whose figures add up (billed = plan_paid + member + write-off)."""
    received = day(received) if isinstance(received, str) else received
    service = day(service) if isinstance(service, str) else (service or received)
    plan_paid, deductible, coinsurance, copay, write_off = (D(str(x)) for x in (plan_paid, deductible, coinsurance,
                                                                               copay, write_off))
    allowed = plan_paid + deductible + coinsurance + copay
    member_resp = deductible + coinsurance + copay
    billed = allowed + write_off
    codes = sorted({c for c, amt in (("1", deductible), ("2", coinsurance), ("3", copay), ("45", write_off))
                    if amt > 0}, key=int)
    claim = Claim.objects.create(
        submitted_member_id=member.member_id, submitted_npi=provider.npi, member=member, provider=provider,
        plan=plan, service_date=service, received_date=received, billed=billed, allowed=allowed,
        deductible=deductible, coinsurance=coinsurance, copay=copay, plan_paid=plan_paid,
        member_responsibility=member_resp, provider_write_off=write_off, adjudication_round=1,
        adjudicated_on=received, reason_codes=",".join(codes), plan_year_start=plan.year_start,
    )
    line = ClaimLine.objects.create(claim=claim, line_number=1, procedure_code=code, units=1, billed=billed)
    LineResult.objects.create(
        claim=claim, line=line, round=1, category="office_visit", fee=allowed, allowed=allowed,
        deductible=deductible, copay=copay, coinsurance=coinsurance, not_covered=ZERO, balance_billed=ZERO,
        provider_write_off=write_off, plan_paid=plan_paid, reason_codes=",".join(codes), denial_code="",
    )
    claim.approve(description="approved (test world)")
    claim.save(update_fields=["state"])
    return claim


@dataclass
class Sponsor:
    employer: object
    plan: object
    carrier: object | None
    members: list = field(default_factory=list)

    def member(self, i: int = 0):
        return self.members[i]


def make_sponsor(funding: str = F.ASO, *, members: int = 1, carrier=None, start="2026-01-01", **plan_kwargs) -> Sponsor:
    employer = EmployerFactory()
    if funding != F.ASO and carrier is None:
        carrier = CarrierFactory()
    plan = PlanFactory(sponsor=employer, funding=funding, carrier=carrier if funding != F.ASO else None,
                       **plan_kwargs)
    sponsor = Sponsor(employer=employer, plan=plan, carrier=carrier)
    for _ in range(members):
        m = MemberFactory(employer=employer)
        CoverageFactory(member=m, plan=plan, start=day(start))
        sponsor.members.append(m)
    return sponsor


def make_provider(**kwargs):
    return ProviderFactory(**kwargs)


def state_of(*claims) -> list[str]:
    states = dict(Claim.objects.filter(pk__in=[c.pk for c in claims]).values_list("pk", "state"))
    return [states[c.pk] for c in claims]


def balance(kind: str, **parties) -> Decimal:
    """Balance of the account of `kind` for the given party (employer=, carrier=, provider=); 0 if none."""
    account = Account.objects.filter(kind=kind, **parties).first()
    if account is None:
        return ZERO
    total = sum((e for e in LedgerEntry.objects.filter(account=account).values_list("amount", flat=True)), ZERO)
    return total


def snapshot() -> dict:
    """Row counts and sums of everything the funding jobs write: equal snapshots mean nothing changed."""
    from funding import models as m

    out = {}
    for model in (m.Account, m.LedgerTransaction, m.LedgerEntry, m.Payment, m.PaymentCycle, m.RemittanceAdvice,
                  m.FundingRequest, m.Deposit, m.FundingSettlement, m.ReimbursementInvoice,
                  m.ReimbursementInvoiceClaim, m.SponsorPayment, m.SponsorPaymentAllocation, m.FeeBilling,
                  m.StopLossFiling, StateLog):
        out[model.__name__] = model.objects.count()
    out["claims"] = sorted(Claim.objects.values_list("pk", "state", "paid_on"))
    out["open"] = (sorted(m.FundingRequest.objects.values_list("pk", "open_amount")),
                   sorted(m.ReimbursementInvoice.objects.values_list("pk", "open_amount")))
    return out


def transitions_of(claim) -> list[tuple]:
    ct = ContentType.objects.get_for_model(Claim)
    return list(StateLog.objects.filter(content_type=ct, object_id=claim.pk).order_by("pk")
                .values_list("source_state", "state"))


def assert_ledger_balanced() -> None:
    """Every transaction sums to zero (selector), and the raw SQL sum of all entries is zero."""
    assert ledger_is_balanced()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(SUM(amount), 0) FROM funding_ledgerentry")
        assert D(str(cursor.fetchone()[0])) == 0


CLAIM_COPY_FIELDS = (
    "submitted_member_id", "submitted_npi", "member_id", "provider_id", "plan_id", "service_date", "received_date",
    "state", "duplicate_key", "rejection_field", "rejection_message", "adjudication_round", "is_duplicate",
    "family_coverage", "adjudicated_on", "reason_codes", "billed", "allowed", "deductible", "copay", "coinsurance",
    "not_covered", "balance_billed", "plan_paid", "member_responsibility", "provider_write_off",
)


def insert_approved_claims(specs) -> int:
    """Many `approved` claims straight into the table with COPY (setup for big runs, as the bench does).

    specs: (member, provider id, plan, plan_paid, received date) tuples.
    """
    from core.bulk import bulk_insert

    rows = [(m.member_id, "", m.pk, provider_id, plan.pk, received, received, "approved", "", "", "", 1, False, False,
             received, "", amount, amount, ZERO, ZERO, ZERO, ZERO, ZERO, amount, ZERO, ZERO)
            for m, provider_id, plan, amount, received in specs]
    return bulk_insert(Claim, CLAIM_COPY_FIELDS, rows)
