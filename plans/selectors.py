"""Reads for plans and coverage."""
import datetime
from collections.abc import Iterable

from parties.models import Member

from .models import Coverage, FeeScheduleEntry, Plan


def plan_year_start_for(*, plan_year_anchor: datetime.date, day: datetime.date) -> datetime.date:
    """The start of the plan year that holds `day` (the anchor's month and day, never Feb 29)."""
    start = day.replace(month=plan_year_anchor.month, day=plan_year_anchor.day)
    if start > day:
        start = start.replace(year=day.year - 1)
    return start


def _effective(rows: list[tuple], subscriber_current: tuple | None) -> list[tuple]:
    """Resolve (plan_id, start, end) with a dependent's blanks taken from its subscriber's current coverage."""
    out = []
    for plan_id, start, end in rows:
        if subscriber_current is not None:
            start = start or subscriber_current[1]
            end = end or subscriber_current[2]
        out.append((plan_id, start, end))
    return out


def coverage_periods_for_members(*, member_ids: Iterable[int], subscriber_of: dict | None = None) -> dict[int, list[tuple]]:
    """member id -> effective coverage periods [(plan_id, start, end)], in two queries for any number.

    A dependent's missing start or end is its subscriber's current (latest) coverage's.
    """
    member_ids = set(member_ids)
    if not member_ids:
        return {}
    if subscriber_of is None:
        subscriber_of = dict(Member.objects.filter(pk__any=member_ids).values_list("pk", "subscriber_id"))
    wanted = member_ids | {s for s in subscriber_of.values() if s}
    raw: dict[int, list[tuple]] = {}
    for member_id, plan_id, start, end in (
        Coverage.objects.filter(member_id__any=wanted).order_by("member_id", "start", "pk")
        .values_list("member_id", "plan_id", "start", "end")
    ):
        raw.setdefault(member_id, []).append((plan_id, start, end))
    result = {}
    for member_id in member_ids:
        subscriber_id = subscriber_of.get(member_id)
        current = raw.get(subscriber_id, [None])[-1] if subscriber_id else None
        result[member_id] = _effective(raw.get(member_id, []), current)
    return result


def coverage_on(*, periods: list[tuple], day: datetime.date) -> tuple[str, tuple | None]:
    """('ok', period) when a period covers `day`; else ('before', nearest) or ('after', nearest).

    CARC 26 (before the start) / 27 (after the end) follow from the answer.
    """
    if not periods:
        return "before", None
    for period in periods:
        _, start, end = period
        if start is not None and start <= day and (end is None or day <= end):
            return "ok", period
    # Not covered: before the first start, or after an end.
    starts = [p for p in periods if p[1] is not None]
    if starts and day < min(p[1] for p in starts):
        return "before", min(starts, key=lambda p: p[1])
    return "after", periods[-1]


def coverage_overlap_for(*, coverage: Coverage) -> Coverage | None:
    """Another coverage row of the same member whose effective dates overlap this one's."""
    subscriber_current = subscriber_current_period(member=coverage.member)
    (_, my_start, my_end), = _effective([(coverage.plan_id, coverage.start, coverage.end)], subscriber_current)
    others = Coverage.objects.filter(member_id=coverage.member_id).exclude(pk=coverage.pk).order_by("start", "pk")
    resolved = _effective([(o.plan_id, o.start, o.end) for o in others], subscriber_current)
    for other, (_, start, end) in zip(others, resolved):
        if periods_overlap(a=(my_start, my_end), b=(start, end)):
            return other
    return None


def periods_overlap(*, a: tuple, b: tuple) -> bool:
    """Two effective (start, end) periods share a day; an open end runs forever, no start is no period."""
    (a_start, a_end), (b_start, b_end) = a, b
    if a_start is None or b_start is None:
        return False
    far = datetime.date.max
    return a_start <= (b_end or far) and b_start <= (a_end or far)


def subscriber_current_period(*, member: Member) -> tuple | None:
    """The (plan_id, start, end) of a dependent's subscriber's current coverage; None for a subscriber."""
    if not member.subscriber_id:
        return None
    periods = coverage_periods_for_members(member_ids=[member.subscriber_id]).get(member.subscriber_id)
    return periods[-1] if periods else None


def effective_period(*, start, end, subscriber_current: tuple | None) -> tuple:
    """(start, end) of a coverage row, a dependent's blanks taken from its subscriber's current coverage."""
    (_, start, end), = _effective([(None, start, end)], subscriber_current)
    return start, end


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
    subscriber_of = dict(Member.objects.filter(pk__any=member_ids).values_list("pk", "subscriber_id"))
    periods = coverage_periods_for_members(member_ids=member_ids, subscriber_of=subscriber_of)
    family_ids = {s or m for m, s in subscriber_of.items()}
    on_family = set(
        Coverage.objects.filter(member__subscriber_id__any=family_ids).order_by()
        .values_list("member__subscriber_id", flat=True).distinct()
    )
    return periods, subscriber_of, on_family
