"""Coverage periods and plan years as plain data (no database, no Django): the rules of DOMAIN.md §1
and §4 step 9 that the models, the selectors and the adjudication engine share.

A period is (plan_id, start, end); `end` None is open-ended.
"""
import datetime


def plan_year_start_for(*, plan_year_anchor: datetime.date, day: datetime.date) -> datetime.date:
    """The start of the plan year that holds `day` (the anchor's month and day, never Feb 29)."""
    start = day.replace(month=plan_year_anchor.month, day=plan_year_anchor.day)
    if start > day:
        start = start.replace(year=day.year - 1)
    return start


def periods_effective(rows: list[tuple], subscriber_current: tuple | None) -> list[tuple]:
    """(plan_id, start, end) rows with a dependent's blanks taken from its subscriber's current coverage."""
    out = []
    for plan_id, start, end in rows:
        if subscriber_current is not None:
            start = start or subscriber_current[1]
            end = end or subscriber_current[2]
        out.append((plan_id, start, end))
    return out


def effective_period(*, start, end, subscriber_current: tuple | None) -> tuple:
    """(start, end) of a coverage row, a dependent's blanks taken from its subscriber's current coverage."""
    (_, start, end), = periods_effective([(None, start, end)], subscriber_current)
    return start, end


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


def periods_overlap(*, a: tuple, b: tuple) -> bool:
    """Two effective (start, end) periods share a day; an open end runs forever, no start is no period."""
    (a_start, a_end), (b_start, b_end) = a, b
    if a_start is None or b_start is None:
        return False
    far = datetime.date.max
    return a_start <= (b_end or far) and b_start <= (a_end or far)
