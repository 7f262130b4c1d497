"""Writes for plans, coverage, fee schedules and stop-loss policies."""
import datetime
from core.validation import model_validate
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from parties.models import Carrier, Employer, Member

from .models import (
    CategoryBenefit, Coverage, FeeSchedule, FeeScheduleEntry, Plan, StopLossLaser,
    StopLossPolicy,
)

DEFAULT_COVERED_IN_FULL = ("preventive",)


class PlanError(ValidationError):
    """The plans app's one error type: a ValidationError whose dict names the field."""


def _save_validated(obj, *, prefix: str = ""):
    try:
        model_validate(obj)
    except ValidationError as exc:
        raise PlanError({f"{prefix}{k}": v for k, v in exc.message_dict.items()}) from None
    obj.save()
    return obj


def fee_schedule_create(*, name: str, entries: dict[str, dict]) -> FeeSchedule:
    """entries: code -> {category, fee, description?}."""
    if not isinstance(entries, dict):
        raise PlanError({"entries": ["must be a mapping of procedure code to category and fee"]})
    with transaction.atomic():
        schedule = _save_validated(FeeSchedule(name=name))
        rows, codes = [], set()
        for code, spec in entries.items():
            if not isinstance(spec, dict):
                raise PlanError({f"entries.{code}": ["needs a category and a fee"]})
            for key in ("category", "fee"):
                if spec.get(key) is None:
                    raise PlanError({f"entries.{code}.{key}": ["This field is required."]})
            if str(code) in codes:
                raise PlanError({f"entries.{code}": ["the procedure code is given twice"]})
            codes.add(str(code))
            entry = FeeScheduleEntry(
                schedule=schedule, code=str(code), category=spec["category"], fee=spec["fee"],
                description=spec.get("description", ""),
            )
            try:
                model_validate(entry, exclude=["schedule"])
            except ValidationError as exc:
                raise PlanError({f"entries.{code}.{k}": v for k, v in exc.message_dict.items()}) from None
            rows.append(entry)
        FeeScheduleEntry.objects.bulk_create(rows)
    return schedule


def plan_create(
    *, sponsor: Employer, name: str, funding: str, fee_schedule: FeeSchedule, year_start: datetime.date,
    deductible_individual: Decimal, deductible_family: Decimal, oop_max_individual: Decimal,
    oop_max_family: Decimal, coinsurance: Decimal, carrier: Carrier | None = None,
    copays: dict[str, Decimal] | None = None, covered_in_full: list[str] | None = None,
    excluded: list[str] | None = None, oon_covered: bool = False, oon_coinsurance: Decimal | None = None,
    timely_filing_days: int = 365, review_threshold: Decimal = Decimal("25000.00"),
    admin_fee_pepm: Decimal = Decimal("0.00"), premium_pepm: Decimal = Decimal("0.00"),
) -> Plan:
    if copays is not None and not isinstance(copays, dict):
        raise PlanError({"copays": ["must be a mapping of category to copay"]})
    for label, cats in (("excluded", excluded), ("covered_in_full", covered_in_full)):
        if cats is not None and (isinstance(cats, (str, dict)) or not all(isinstance(c, str) for c in cats)):
            raise PlanError({label: ["must be a list of categories"]})
    copays = dict(copays or {})
    excluded = list(excluded or [])
    # The default covers preventive care in full, unless the plan gives that category another treatment.
    if covered_in_full is None:
        covered_in_full = [c for c in DEFAULT_COVERED_IN_FULL if c not in copays and c not in excluded]
    seen: dict[str, str] = {}
    for label, cats in (("excluded", excluded), ("covered_in_full", covered_in_full), ("copays", list(copays))):
        for cat in cats:
            if cat in seen:
                raise PlanError({label: [f"Category {cat!r} is already {seen[cat]}."]})
            seen[cat] = label
    with transaction.atomic():
        plan = _save_validated(Plan(
            sponsor=sponsor, name=name, funding=funding, carrier=carrier, fee_schedule=fee_schedule,
            year_start=year_start, deductible_individual=deductible_individual,
            deductible_family=deductible_family, oop_max_individual=oop_max_individual,
            oop_max_family=oop_max_family, coinsurance=coinsurance, oon_covered=oon_covered,
            oon_coinsurance=oon_coinsurance, timely_filing_days=timely_filing_days,
            review_threshold=review_threshold, admin_fee_pepm=admin_fee_pepm, premium_pepm=premium_pepm,
        ))
        benefits = [CategoryBenefit(plan=plan, category=c, treatment=CategoryBenefit.Treatment.EXCLUDED) for c in excluded]
        benefits += [CategoryBenefit(plan=plan, category=c, treatment=CategoryBenefit.Treatment.COVERED_IN_FULL)
                     for c in covered_in_full]
        benefits += [CategoryBenefit(plan=plan, category=c, treatment=CategoryBenefit.Treatment.COPAY, copay=amount)
                     for c, amount in copays.items()]
        for b in benefits:
            try:
                model_validate(b, exclude=["plan"])
            except ValidationError as exc:
                raise PlanError({f"category_benefits.{b.category}.{k}": v for k, v in exc.message_dict.items()}) from None
        CategoryBenefit.objects.bulk_create(benefits)
    return plan


def coverage_enroll(*, member: Member, plan: Plan, start: datetime.date | None = None,
                    end: datetime.date | None = None) -> Coverage:
    """Enrol a member in a plan for a period. A dependent may leave dates blank to follow its subscriber."""
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.family_subscriber_id).first()
        return _save_validated(Coverage(member=member, plan=plan, start=start, end=end))


def coverage_change(*, member: Member, start: datetime.date | None = None, end: datetime.date | None = None,
                    set_start: bool = False, set_end: bool = False) -> Coverage:
    """Change the dates of a member's current (latest) coverage period."""
    with transaction.atomic():
        Member.objects.select_for_update().filter(pk=member.family_subscriber_id).first()
        coverage = Coverage.objects.filter(member=member).order_by("-start", "-pk").first()
        if coverage is None:
            raise PlanError({"member": ["The member has no coverage to change."]})
        if set_start:
            coverage.start = start
        if set_end:
            coverage.end = end
        return _save_validated(coverage)


def stop_loss_policy_create(
    *, plan: Plan, carrier: Carrier, start: datetime.date, contract: str, specific_attachment: Decimal,
    lasers: dict[Member, Decimal] | None = None, aggregate_attachment: Decimal | None = None,
    expected_claims: Decimal | None = None, aggregate_factor: Decimal | None = None,
) -> StopLossPolicy:
    with transaction.atomic():
        policy = _save_validated(StopLossPolicy(
            plan=plan, carrier=carrier, start=start, contract=contract, specific_attachment=specific_attachment,
            aggregate_attachment=aggregate_attachment, expected_claims=expected_claims,
            aggregate_factor=aggregate_factor,
        ))
        for member, attachment in (lasers or {}).items():
            _save_validated(StopLossLaser(policy=policy, member=member, attachment=attachment), prefix="lasers.")
    return policy
