"""Reads for plans and coverage."""
import datetime
from collections.abc import Iterable

from django.db.models import Q

from core.clock import today
from parties.models import Member, Tpa

from .models import Coverage, FeeScheduleEntry, FundingArrangement, Plan
from .periods import coverage_on


def coverage_periods_for_members(*, member_ids: Iterable[int], subscriber_of: dict | None = None) -> dict[int, list[tuple]]:
    """member id -> effective coverage periods [(plan_id, start, end)], in two queries for any number.

    A dependent's missing start or end is its subscriber's current (latest) coverage's.
    """
    return Coverage.objects.effective_periods(member_ids=member_ids, subscriber_of=subscriber_of)


def subscriber_current_period(*, member: Member) -> tuple | None:
    """The (plan_id, start, end) of a dependent's subscriber's current coverage; None for a subscriber."""
    return Coverage.objects.subscriber_current_period(member=member)


def plan_for_member(*, member: Member, on: datetime.date | None = None) -> Plan | None:
    """The member's plan: the one whose coverage holds `on` when given (a claim's service date),
    else, as adjudication decides (`coverage_on`), the nearest period's; otherwise the latest coverage's
    (the member's own, or its subscriber's)."""
    if on is not None:
        periods = coverage_periods_for_members(member_ids=[member.pk])[member.pk]
        _, period = coverage_on(periods=periods, day=on)
        if period is not None:
            return Plan.objects.filter(pk=period[0]).first()
    coverage = Coverage.objects.filter(member=member).select_related("plan").order_by("-start").first()
    if coverage is None and member.subscriber_id:
        coverage = Coverage.objects.filter(member_id=member.subscriber_id).select_related("plan").order_by("-start").first()
    return coverage.plan if coverage else None


def fee_schedule_lookup(*, schedule_ids: Iterable[int]) -> dict[tuple[int, str], tuple[str, object]]:
    """(schedule id, code) -> (category, fee) for every entry of the given schedules, in one query."""
    return {
        (s, code): (category, fee)
        for s, code, category, fee in FeeScheduleEntry.objects.filter(schedule_id__any=set(schedule_ids))
        .values_list("schedule_id", "code", "category", "fee")
    }


def coverage_context_for_members(*, member_ids: Iterable[int]) -> tuple[dict, dict, set]:
    """For adjudication, in three queries whatever the number of members:
    (member id -> effective periods, member id -> subscriber id or None, subscribers on family coverage).

    A subscriber with at least one dependent enrolled is on family coverage (DOMAIN.md §1).
    """
    member_ids = set(member_ids)
    subscriber_of = dict(Member.objects.filter(pk__any=member_ids).order_by().values_list("pk", "subscriber_id"))
    periods = coverage_periods_for_members(member_ids=member_ids, subscriber_of=subscriber_of)
    family_ids = {s or m for m, s in subscriber_of.items()}
    on_family = set(
        Coverage.objects.filter(member__subscriber_id__any=family_ids).order_by()
        .values_list("member__subscriber_id", flat=True).distinct()
    )
    return periods, subscriber_of, on_family


def member_id_card_for(*, member: Member) -> dict:
    """What the member's ID card shows, in a fixed number of queries."""
    subscriber = member.subscriber if member.subscriber_id else member
    family = list(Member.objects.filter(Q(pk=subscriber.pk) | Q(subscriber_id=subscriber.pk))
                  .order_by("subscriber_id", "date_of_birth", "pk"))
    periods = coverage_periods_for_members(member_ids=[member.pk]).get(member.pk, [])
    state, period = coverage_on(periods=periods, day=today())
    if period is None and periods:
        period = periods[-1]
    plan = None
    if period is not None:
        plan = Plan.objects.select_related("sponsor", "carrier").filter(pk=period[0]).first()
    tpa = Tpa.objects.order_by("pk").first()
    if plan is None:
        payer = ""
    elif plan.funding == FundingArrangement.ASO:
        payer = f"Self-funded by {plan.sponsor}, administered by {tpa or 'the TPA'}"
    elif plan.funding == FundingArrangement.ASC:
        payer = f"Self-funded by {plan.sponsor}; claims paid by {plan.carrier}, administered by {tpa or 'the TPA'}"
    else:
        payer = f"Insured by {plan.carrier}, administered by {tpa or 'the TPA'}"
    return {
        "member": member,
        "subscriber": subscriber,
        "employer": member.employer,
        "group_number": f"GRP-{member.employer_id:06d}",
        "plan": plan,
        "payer": payer,
        "tpa": tpa,
        "coverage_start": period[1] if period else None,
        "coverage_end": period[2] if period else None,
        "covered_today": state == "ok",
        "dependents": [m for m in family if m.subscriber_id is not None],
    }
