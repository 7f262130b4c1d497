"""factory_boy factories for the parties and plans, shared by every app's tests.

Identifiers are valid and unique (NPIs with their check digit, EINs with an issued prefix, member
IDs with their check character) and far from the NPIs the shared scenario files use.
Plans are made through plans.services.plan_create, so their category benefits follow the same
defaults as everywhere else (preventive covered in full unless told otherwise).

    plan = PlanFactory(copays={"office_visit": D("30")}, excluded=["cosmetic"])
    alice = MemberFactory(employer=plan.sponsor)
    CoverageFactory(member=alice, plan=plan)
    sam = DependentFactory(subscriber=alice)
    CoverageFactory(member=sam, plan=plan, start=None)    # follows alice's dates
"""
import datetime
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from parties.models import Carrier, Employer, Member, Provider, Tpa
from parties.validators import member_id_generate, npi_with_check_digit
from plans.models import Coverage, FeeSchedule, FeeScheduleEntry, FundingArrangement, Plan, StopLossPolicy
from plans.services import plan_create

D = Decimal
PLAN_YEAR_2026 = datetime.date(2026, 1, 1)

# code -> (category, fee per unit, description): a small schedule covering every category.
DEFAULT_FEES = {
    "99213": ("office_visit", D("120.00"), "Office visit, established patient"),
    "99395": ("preventive", D("210.00"), "Preventive visit, 18-39 years"),
    "80053": ("lab", D("33.30"), "Comprehensive metabolic panel"),
    "70551": ("imaging", D("1500.00"), "MRI brain without contrast"),
    "99284": ("emergency", D("600.00"), "Emergency department visit, moderate"),
    "27447": ("surgery", D("20000.00"), "Total knee arthroplasty"),
    "99223": ("inpatient", D("400.00"), "Initial hospital care, high"),
    "15780": ("cosmetic", D("800.00"), "Dermabrasion, total face"),
}


class TpaFactory(DjangoModelFactory):
    class Meta:
        model = Tpa

    name = factory.Sequence(lambda n: f"Test TPA {n}")
    ein = factory.Sequence(lambda n: f"84-{n % 10_000_000:07d}")


class CarrierFactory(DjangoModelFactory):
    class Meta:
        model = Carrier

    name = factory.Sequence(lambda n: f"Carrier {n} Insurance Co.")
    naic_code = factory.Sequence(lambda n: f"{60000 + n % 40000:05d}")


class EmployerFactory(DjangoModelFactory):
    class Meta:
        model = Employer

    name = factory.Sequence(lambda n: f"Employer {n} Inc.")
    ein = factory.Sequence(lambda n: f"20-{n % 10_000_000:07d}")


class ProviderFactory(DjangoModelFactory):
    class Meta:
        model = Provider

    name = factory.Sequence(lambda n: f"Provider {n} Clinic")
    # 9-digit bodies starting 16...: unique per run and far from the scenario files' NPIs.
    npi = factory.Sequence(lambda n: npi_with_check_digit(f"16{n % 10_000_000:07d}"))
    tin = factory.Sequence(lambda n: f"47-{n % 10_000_000:07d}")
    network = Provider.Network.IN


class MemberFactory(DjangoModelFactory):
    """A subscriber."""

    class Meta:
        model = Member

    member_id = factory.LazyFunction(member_id_generate)
    employer = factory.SubFactory(EmployerFactory)
    subscriber = None
    relationship = Member.Relationship.SUBSCRIBER
    name = factory.Faker("name")
    date_of_birth = datetime.date(1985, 4, 2)


class DependentFactory(MemberFactory):
    """A dependent (a child by default) of a subscriber, with the subscriber's employer."""

    subscriber = factory.SubFactory(MemberFactory)
    employer = factory.SelfAttribute("subscriber.employer")
    relationship = Member.Relationship.CHILD
    date_of_birth = datetime.date(2015, 6, 1)


class FeeScheduleFactory(DjangoModelFactory):
    """A fee schedule; `entries` (code -> (category, fee[, description])) defaults to DEFAULT_FEES."""

    class Meta:
        model = FeeSchedule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Fee schedule {n}")

    @factory.post_generation
    def entries(self, create, extracted, **kwargs):
        if not create:
            return
        spec = DEFAULT_FEES if extracted is None else extracted
        FeeScheduleEntry.objects.bulk_create([
            FeeScheduleEntry(schedule=self, code=code, category=row[0], fee=D(str(row[1])),
                             description=row[2] if len(row) > 2 else "")
            for code, row in spec.items()
        ])


class FeeScheduleEntryFactory(DjangoModelFactory):
    class Meta:
        model = FeeScheduleEntry

    schedule = factory.SubFactory(FeeScheduleFactory, entries={})
    code = factory.Sequence(lambda n: f"{10000 + n % 90000}")
    category = "office_visit"
    fee = D("100.00")


class PlanFactory(DjangoModelFactory):
    """An ASO plan by default; ASC and FULLY_INSURED get a carrier unless one is given.

    Extra keywords copays / covered_in_full / excluded go to plans.services.plan_create.
    """

    class Meta:
        model = Plan

    sponsor = factory.SubFactory(EmployerFactory)
    name = factory.Sequence(lambda n: f"Plan {n} PPO")
    funding = FundingArrangement.ASO
    carrier = factory.Maybe(
        factory.LazyAttribute(lambda o: o.funding != FundingArrangement.ASO),
        yes_declaration=factory.SubFactory(CarrierFactory), no_declaration=None,
    )
    fee_schedule = factory.SubFactory(FeeScheduleFactory)
    year_start = PLAN_YEAR_2026
    deductible_individual = D("1000.00")
    deductible_family = D("2000.00")
    oop_max_individual = D("4000.00")
    oop_max_family = D("8000.00")
    coinsurance = D("0.20")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return plan_create(**kwargs)


class CoverageFactory(DjangoModelFactory):
    """A coverage period; the plan defaults to a new plan of the member's employer."""

    class Meta:
        model = Coverage

    member = factory.SubFactory(MemberFactory)
    plan = factory.LazyAttribute(lambda o: PlanFactory(sponsor=o.member.employer))
    start = PLAN_YEAR_2026
    end = None


class StopLossPolicyFactory(DjangoModelFactory):
    class Meta:
        model = StopLossPolicy

    plan = factory.SubFactory(PlanFactory)
    carrier = factory.SubFactory(CarrierFactory)
    start = PLAN_YEAR_2026
    contract = StopLossPolicy.Contract.TWELVE_FIFTEEN
    specific_attachment = D("100000.00")


_logins = iter(range(1, 10**9))


def login(role: str, party=None, *, username: str | None = None, **extra):
    """A login in `role` for `party` (TPA staff: a TPA, made if not given), fresh from the database.
    `extra`: user fields (is_staff, is_superuser, ...)."""
    from django.contrib.auth import get_user_model

    from parties.services import user_link_party

    if party is None and role in ("claims_examiner", "supervisor"):
        party = TpaFactory()
    User = get_user_model()
    user = User.objects.create_user(username=username or f"{role}-{next(_logins)}", password="pw", **extra)
    user_link_party(user=user, role=role, party=party)
    return User.objects.get(pk=user.pk)


def careless_login(role: str, party=None, **extra):
    """A login in `role` for `party` as a careless administrator might set it up: staff, and every
    Permission in the database granted to its user row (fresh from the database: no stale permission
    cache). What it may do must still be only what its role may (parties.roles)."""
    from django.contrib.auth.models import Permission

    user = login(role, party, is_staff=True, **extra)
    user.user_permissions.set(Permission.objects.all())
    return type(user).objects.get(pk=user.pk)
