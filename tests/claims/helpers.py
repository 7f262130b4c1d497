"""Worlds and readers for the claims tests, built through the parties and plans services (the same
calls the system and the scenario runner make). Fixtures are in conftest.py.

`build_world(...)` makes one employer with one plan, a fee schedule, a subscriber "alice" and two
providers (in and out of network). `Book` adds members and submits claims on a given day.
"""
import datetime
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django_fsm_log.models import StateLog

from claims import services
from claims.models import CLAIM_BUCKETS, Accumulator, Claim, LineResult
from core import clock
from parties import services as party_services
from parties.validators import npi_with_check_digit
from plans import services as plan_services

D = Decimal
ZERO = D("0.00")
Y2026 = datetime.date(2026, 1, 1)

# code -> (category, fee per unit)
FEES = {
    "99213": ("office_visit", "120.00"),
    "99211": ("office_visit", "25.00"),
    "70551": ("imaging", "1500.00"),
    "27447": ("surgery", "20000.00"),
    "99395": ("preventive", "210.00"),
    "15780": ("cosmetic", "800.00"),
    "80053": ("lab", "33.30"),
    "80061": ("lab", "33.27"),
}

_seq = itertools.count(1)


def new_seq() -> int:
    return next(_seq)


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def new_npi() -> str:
    # 9-digit body from a counter: unique in the run, far from the scenario files' NPIs.
    return npi_with_check_digit(f"7{next(_seq):08d}")


@dataclass
class World:
    plan: object
    employer: object
    schedule: object
    alice: object
    mercy: object  # in network
    faraway: object  # out of network
    members: dict = field(default_factory=dict)

    def add_member(self, name: str, *, subscriber=None, relationship: str = "child",
                   start: datetime.date | None = None, end: datetime.date | None = None):
        """A subscriber (start required) or a dependent of `subscriber` (dates follow it unless given)."""
        if subscriber is None:
            member = party_services.member_create(employer=self.employer, name=name,
                                                  date_of_birth=day("1980-01-01"))
        else:
            member = party_services.member_create(employer=self.employer, name=name,
                                                  date_of_birth=day("2010-01-01"), subscriber=subscriber,
                                                  relationship=relationship)
        plan_services.coverage_enroll(member=member, plan=self.plan, start=start, end=end)
        self.members[name] = member
        return member

    def submit(self, *, on, service, lines, member=None, provider=None, by=None) -> Claim:
        """Submit a claim on day `on` (the clock moves there). lines: [(code, billed[, units])]."""
        clock.clock_set(day=day(on) if isinstance(on, str) else on)
        member = member or self.alice
        provider = provider or self.mercy
        return services.claim_submit(
            member_id=member.member_id, npi=provider.npi,
            service_date=day(service) if isinstance(service, str) else service,
            lines=[{"code": ln[0], "billed": str(ln[1]), "units": ln[2] if len(ln) > 2 else 1} for ln in lines],
            submitted_by=by,
        )


def build_world(*, year_start=Y2026, deductible=("1000", "2000"), oop=("4000", "8000"), coinsurance="0.20",
                copays=None, covered_in_full=None, excluded=(), oon_coinsurance=None, timely_filing_days=365,
                review_threshold="25000.00", coverage_start=Y2026, coverage_end=None, fees=None,
                funding="ASO") -> World:
    n = next(_seq)
    schedule = plan_services.fee_schedule_create(
        name=f"test schedule {n}",
        entries={code: {"category": cat, "fee": D(fee)} for code, (cat, fee) in (fees or FEES).items()},
    )
    employer = party_services.employer_create(name=f"Employer {n}")
    carrier = None if funding == "ASO" else party_services.carrier_create(name=f"Carrier {n}")
    plan = plan_services.plan_create(
        sponsor=employer, name=f"Plan {n}", funding=funding, carrier=carrier, fee_schedule=schedule,
        year_start=year_start, deductible_individual=D(deductible[0]), deductible_family=D(deductible[1]),
        oop_max_individual=D(oop[0]), oop_max_family=D(oop[1]), coinsurance=D(coinsurance),
        copays={k: D(v) for k, v in ({"office_visit": "30"} if copays is None else copays).items()},
        covered_in_full=covered_in_full, excluded=list(excluded),
        oon_covered=oon_coinsurance is not None, oon_coinsurance=D(oon_coinsurance) if oon_coinsurance else None,
        timely_filing_days=timely_filing_days, review_threshold=D(review_threshold),
    )
    mercy = party_services.provider_register(name=f"Mercy {n}", npi=new_npi(), network="in")
    faraway = party_services.provider_register(name=f"Faraway {n}", npi=new_npi(), network="out")
    w = World(plan=plan, employer=employer, schedule=schedule, alice=None, mercy=mercy, faraway=faraway)
    w.alice = w.add_member("alice", start=coverage_start, end=coverage_end)
    return w


# --- Reading results ---------------------------------------------------------------------------

def fresh(claim: Claim) -> Claim:
    return Claim.objects.get(pk=claim.pk)


def buckets(claim: Claim) -> dict:
    claim = fresh(claim)
    return {f: getattr(claim, f) for f in CLAIM_BUCKETS}


def figures(claim: Claim, **expected) -> tuple[dict, dict]:
    """(got, want): the claim's buckets but billed; every bucket not named in `expected` is 0.00."""
    claim = fresh(claim)
    got = {f: getattr(claim, f) for f in CLAIM_BUCKETS if f != "billed"}
    want = {f: ZERO for f in got}
    want.update({k: D(str(v)).quantize(D("0.01")) for k, v in expected.items()})
    return got, want


def assert_figures(claim: Claim, **expected) -> None:
    got, want = figures(claim, **expected)
    assert got == want


def assert_only_billed(claim: Claim) -> None:
    """Rejected, pended and duplicate claims carry 0.00 in every bucket but billed."""
    assert_figures(claim)


def assert_balanced(claim: Claim) -> None:
    c = fresh(claim)
    assert c.billed == c.plan_paid + c.member_responsibility + c.provider_write_off, c
    assert c.member_responsibility == c.deductible + c.copay + c.coinsurance + c.not_covered + c.balance_billed


def line_results(claim: Claim) -> list[LineResult]:
    c = fresh(claim)
    return list(LineResult.objects.filter(claim=c, round=c.adjudication_round).order_by("line__line_number"))


def accumulator(member, *, scope="individual", year=Y2026, plan=None) -> tuple:
    """(deductible met, OOP met) of a member's (or, scope family, its family's) accumulator; zeros if none."""
    qs = Accumulator.objects.filter(member=member, scope=scope, plan_year_start=year)
    if plan is not None:
        qs = qs.filter(plan=plan)
    row = qs.values_list("deductible_met", "oop_met").first()
    return row or (ZERO, ZERO)


def transitions(claim: Claim) -> list[tuple]:
    ct = ContentType.objects.get_for_model(Claim)
    return list(StateLog.objects.filter(content_type=ct, object_id=claim.pk).order_by("pk")
                .values_list("source_state", "state", "transition", "by_id", "description"))


def adjudicate(**kwargs) -> int:
    return services.claims_adjudicate_pending(**kwargs)


# --- Acting on a given day --------------------------------------------------------------------------

def run(on: str) -> int:
    """The adjudication run on day `on`."""
    clock.clock_set(day=day(on))
    return adjudicate()


def review(claim, decision, user, *, on: str, reason_code=None):
    clock.clock_set(day=day(on))
    return services.claim_review(claim_id=claim.pk, decision=decision, user=user, reason_code=reason_code)


def appeal(claim, *, on: str):
    clock.clock_set(day=day(on))
    return services.claim_appeal(claim_id=claim.pk, reason="the member disagrees")


def state(claim) -> str:
    return fresh(claim).state


def codes(claim) -> str:
    return fresh(claim).reason_codes
