"""Reads for the supervisor's figures over every claim: a few aggregate queries, never a loop over claims.

Each function reads the whole claims table (or the transition log) once, in SQL: at a million claims
that is a second or two, which is why the dashboards call them from a background job
(`portal.figures`) and show the result with the time it was computed, never at request time.

The figures and their definitions (DOMAIN.md §3, §5):
- First-pass (auto-adjudication) rate: of the claims whose first adjudication (the transition out of
  `submitted` to approved, denied or pended; a rejection at intake is no adjudication) happened in the
  window, the share that it decided, approved or denied by the rules with no pend for an examiner.
  A claim later appealed still counts as decided on its first pass. Read from the transition log.
- Turnaround: days from the received date to the decision (the claim's latest adjudication to approved
  or denied, `adjudicated_on`; a rejection is decided at intake, on its received date) and to payment
  (`paid_on`), median and 90th percentile (continuous, as PostgreSQL's `percentile_cont`), over the
  claims decided (paid) in the window.
- Pended backlog: claims `pended` now, by days since received (0–7, 8–14, 15–30, over 30).
- Paid by week: plan_paid of the claims paid in each of the last 12 weeks (Monday to Sunday).
- Denials by CARC: claims `denied` now, per denial code on their lines (a claim denied with two codes
  counts under each).
"""
import datetime
import math
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, F, FloatField, Func, IntegerField, Q, QuerySet, Sum
from django.db.models.aggregates import Aggregate
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_fsm_log.models import StateLog

from .carc import CARC_MEANING, DENIAL_CODES
from .models import Claim, ClaimAssignment, ClaimState

S = ClaimState
WINDOW_DAYS = 90  # first-pass rate and turnaround: the claims of the last 90 days, today included
PAID_WEEKS = 12
ZERO = Decimal("0.00")
TENTH = Decimal("0.1")

# (key, label, fewest days, most days or None): the pended backlog's age buckets, days since received.
AGE_BUCKETS = (
    ("0-7", "0–7 days", 0, 7),
    ("8-14", "8–14 days", 8, 14),
    ("15-30", "15–30 days", 15, 30),
    ("31+", "over 30 days", 31, None),
)
AGE_BUCKET_KEYS = tuple(key for key, *_ in AGE_BUCKETS)
# A decision: the claim left the pipeline's undecided states. An `appealed` claim keeps its denial's date.
DECIDED = (S.APPROVED, S.DENIED, S.APPEALED, S.AWAITING_FUNDS, S.PAID, S.REJECTED)


def received_age_condition(*, bucket: str, today: datetime.date) -> Q:
    """The claims received `bucket` days ago (AGE_BUCKETS); a received date after `today` counts as 0 days."""
    low, high = next((lo, hi) for key, _, lo, hi in AGE_BUCKETS if key == bucket)
    q = Q(received_date__lte=today - datetime.timedelta(days=low)) if low else Q()
    if high is not None:
        q &= Q(received_date__gte=today - datetime.timedelta(days=high))
    return q


def reason_code_condition(*, code: str) -> Q:
    """The claims whose reason codes ("1,2,45": comma-separated) include `code` as a whole code."""
    return (Q(reason_codes=code) | Q(reason_codes__startswith=f"{code},") | Q(reason_codes__endswith=f",{code}")
            | Q(reason_codes__contains=f",{code},"))


def week_of(day: datetime.date) -> datetime.date:
    """The Monday of the week holding `day`."""
    return day - datetime.timedelta(days=day.weekday())


class _DaysBetween(Func):
    """end − start in whole days (both dates)."""

    output_field = IntegerField()
    arg_joiner = " - "
    template = "(%(expressions)s)"  # PostgreSQL: date - date is an integer of days

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="CAST(julianday(%(expressions)s) AS INTEGER)",
                           arg_joiner=") - julianday(", **extra)


class _PercentileCont(Aggregate):
    """PostgreSQL's continuous percentile (linear interpolation between the nearest ranks)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def percentile_cont(values: list[int], fraction: float) -> float | None:
    """The same percentile as PostgreSQL's `percentile_cont(fraction)`, over `values`; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _days(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value)).quantize(TENTH, rounding=ROUND_HALF_UP)


def _turnaround(qs: QuerySet, days) -> dict:
    """{claims, median, p90} of `days` (an integer expression) over `qs`: in SQL on PostgreSQL, else
    over the one integer column read."""
    if connection.vendor == "postgresql":
        row = qs.aggregate(claims=Count("id"), median=_PercentileCont(days, fraction=0.5),
                           p90=_PercentileCont(days, fraction=0.9))
        return {"claims": row["claims"], "median": _days(row["median"]), "p90": _days(row["p90"])}
    values = list(qs.annotate(days=days).values_list("days", flat=True))
    return {"claims": len(values), "median": _days(percentile_cont(values, 0.5)),
            "p90": _days(percentile_cont(values, 0.9))}


def claim_turnaround(*, today: datetime.date, window_days: int = WINDOW_DAYS) -> dict:
    """Days from receipt to decision and to payment, median and 90th percentile (module docstring), over
    the claims decided (paid) in the last `window_days` days: {"decision": {...}, "payment": {...}}."""
    since = today - datetime.timedelta(days=window_days - 1)
    decided_on = Coalesce(F("adjudicated_on"), F("received_date"))
    decided = (Claim.objects.order_by().filter(state__in=DECIDED)
               .alias(decided_on=decided_on).filter(decided_on__gte=since, decided_on__lte=today))
    paid = Claim.objects.order_by().filter(paid_on__gte=since, paid_on__lte=today)
    return {
        "window_days": window_days,
        "decision": _turnaround(decided, _DaysBetween(Coalesce(F("adjudicated_on"), F("received_date")),
                                                      F("received_date"))),
        "payment": _turnaround(paid, _DaysBetween(F("paid_on"), F("received_date"))),
    }


def claim_first_pass_rate(*, today: datetime.date, window_days: int = WINDOW_DAYS) -> dict:
    """{adjudicated, decided, rate}: claims first adjudicated in the window, those decided on that first
    pass (approved or denied, not pended), and the share in percent to one decimal (None: no claims).

    Every claim leaves `submitted` exactly once, so its log rows out of `submitted` count claims."""
    since = timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=window_days - 1),
                                                          datetime.time.min))
    row = StateLog.objects.filter(
        content_type=ContentType.objects.get_for_model(Claim), source_state=S.SUBMITTED,
        state__in=[S.APPROVED, S.DENIED, S.PENDED], timestamp__gte=since,
    ).aggregate(adjudicated=Count("id"), decided=Count("id", filter=Q(state__in=[S.APPROVED, S.DENIED])))
    adjudicated, decided = row["adjudicated"], row["decided"]
    rate = (Decimal(decided * 100) / adjudicated).quantize(TENTH, rounding=ROUND_HALF_UP) if adjudicated else None
    return {"window_days": window_days, "adjudicated": adjudicated, "decided": decided, "rate": rate}


def claim_count_by_state() -> dict[str, int]:
    """state -> number of claims, every state (0 where none), in the pipeline's order."""
    found = dict(Claim.objects.order_by().values_list("state").annotate(n=Count("id")))
    return {state: found.get(state, 0) for state in S.values}


def claim_pended_backlog(*, today: datetime.date) -> dict[str, int]:
    """Age bucket (AGE_BUCKETS) -> number of claims pended now, received that many days ago."""
    aggregates = {key: Count("id", filter=received_age_condition(bucket=key, today=today)) for key in AGE_BUCKET_KEYS}
    return Claim.objects.filter(state=S.PENDED).aggregate(**aggregates)


def claim_paid_by_week(*, today: datetime.date, weeks: int = PAID_WEEKS) -> list[dict]:
    """The last `weeks` weeks (Monday to Sunday, the current one last): {week, end, claims, amount}."""
    current = week_of(today)
    first = current - datetime.timedelta(weeks=weeks - 1)
    out = {first + datetime.timedelta(weeks=i): {"claims": 0, "amount": ZERO} for i in range(weeks)}
    for paid_on, n, amount in (Claim.objects.order_by().filter(paid_on__gte=first,
                                                               paid_on__lt=current + datetime.timedelta(days=7))
                               .values_list("paid_on").annotate(n=Count("id"), amount=Sum("plan_paid"))):
        bucket = out[week_of(paid_on)]
        bucket["claims"] += n
        bucket["amount"] += amount
    return [{"week": week, "end": week + datetime.timedelta(days=6), **figures} for week, figures in out.items()]


def claim_denials_by_carc() -> list[dict]:
    """{code, meaning, claims} per denial code, of the claims denied now, most claims first."""
    counts: dict[str, int] = {}
    for codes, n in Claim.objects.order_by().filter(state=S.DENIED).values_list("reason_codes").annotate(n=Count("id")):
        for code in codes.split(","):
            if code in DENIAL_CODES:
                counts[code] = counts.get(code, 0) + n
    return [{"code": code, "meaning": CARC_MEANING.get(code, ""), "claims": n}
            for code, n in sorted(counts.items(), key=lambda item: (-item[1], int(item[0])))]


def claim_queue_by_examiner() -> list[dict]:
    """{examiner_id, examiner, claims} per examiner holding claims of the work queue now (a hold ends
    when the claim is released or decided), most first."""
    rows = (ClaimAssignment.objects.order_by().values("examiner_id")
            .annotate(n=Count("id"), username=F("examiner__username"), first_name=F("examiner__first_name"),
                      last_name=F("examiner__last_name")))
    out = [{"examiner_id": r["examiner_id"], "examiner": f"{r['first_name']} {r['last_name']}".strip() or r["username"],
            "claims": r["n"]} for r in rows]
    return sorted(out, key=lambda r: (-r["claims"], r["examiner"]))


def _queue(by_state: dict[str, int]) -> dict:
    examiners = claim_queue_by_examiner()
    waiting = by_state[S.PENDED] + by_state[S.APPEALED]
    held = sum(e["claims"] for e in examiners)
    return {"pended": by_state[S.PENDED], "appealed": by_state[S.APPEALED], "held": held,
            "unheld": max(waiting - held, 0), "examiners": examiners}


def claim_report_for_supervisor(*, today: datetime.date) -> dict:
    """Every figure of the supervisor's dashboard, JSON-ready (Decimals and dates allowed)."""
    by_state = claim_count_by_state()
    return {
        "today": today,
        "first_pass": claim_first_pass_rate(today=today),
        "by_state": by_state,
        "backlog": claim_pended_backlog(today=today),
        "turnaround": claim_turnaround(today=today),
        "paid_by_week": claim_paid_by_week(today=today),
        "denials": claim_denials_by_carc(),
        "queue": _queue(by_state),
    }
