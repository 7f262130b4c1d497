"""Stop-loss (DOMAIN.md §6): specific (per member) and aggregate reimbursements of a self-funded
sponsor's claims, paid by the stop-loss carrier into the sponsor's claims account."""
import calendar
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from claims.models import Claim, ClaimState
from core import clock
from core.money import round_half_up
from parties.roles import Action, action_check
from plans.models import StopLossLaser, StopLossPolicy

from ..models import StopLossFiling
from .ledger import ZERO, F, Posting, T, _funding_lock, _post, accounts_ensure, sponsor_claims_spec, stop_loss_spec

S = ClaimState


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` plus whole months; the 29th–31st fall on the last day of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def stop_loss_window(*, policy: StopLossPolicy) -> tuple[datetime.date, datetime.date, datetime.date]:
    """(start, end of the 12 incurred months (exclusive), paid-through date (exclusive))."""
    paid_months = 15 if policy.contract == StopLossPolicy.Contract.TWELVE_FIFTEEN else 12
    return policy.start, add_months(policy.start, 12), add_months(policy.start, paid_months)


def stop_loss_aggregate_point(*, policy: StopLossPolicy) -> Decimal | None:
    if policy.aggregate_attachment is not None:
        return policy.aggregate_attachment
    if policy.expected_claims is not None and policy.aggregate_factor is not None:
        return round_half_up(policy.expected_claims * policy.aggregate_factor)
    return None


def stop_loss_counted_by_member(*, policy: StopLossPolicy, today: datetime.date) -> dict[int, Decimal]:
    """member id -> counted plan_paid: service date in the 12 months, paid before the paid-through date
    (and by `today`). Under ASC the paid date is the carrier's, reimbursed by the sponsor or not."""
    start, incurred_end, paid_through = stop_loss_window(policy=policy)
    return dict(
        Claim.objects.filter(plan_id=policy.plan_id, state=S.PAID, service_date__gte=start,
                             service_date__lt=incurred_end, paid_on__lt=paid_through, paid_on__lte=today)
        .values("member_id").annotate(total=Sum("plan_paid")).values_list("member_id", "total")
    )


def stop_loss_evaluate(*, today: datetime.date | None = None, by=None) -> list[StopLossFiling]:
    """DOMAIN.md §6 for every self-funded plan's stop-loss policy in force by `today`.

    Specific: per member, max(0, counted − attachment (or the member's laser)) − what was already
    reimbursed for that member. Aggregate: counted claims, each member's share capped at its
    attachment, over the aggregate attachment point; filed once, at the first evaluation on or after
    the paid-through date. The stop-loss carrier pays into the sponsor's claims account.
    """
    if by is not None:
        action_check(user=by, action=Action.STOP_LOSS_EVALUATE)
    today = today or clock.today()
    with transaction.atomic():
        _funding_lock()
        policies = list(StopLossPolicy.objects.filter(start__lte=today, plan__funding__in=(F.ASO, F.ASC))
                        .select_related("plan").order_by("pk"))
        if not policies:
            return []
        lasers = defaultdict(dict)
        for policy_id, member_id, attachment in StopLossLaser.objects.filter(policy__in=policies).values_list(
            "policy_id", "member_id", "attachment"
        ):
            lasers[policy_id][member_id] = attachment
        already = defaultdict(lambda: ZERO)
        for policy_id, member_id, total in StopLossFiling.objects.filter(
            policy__in=policies, kind=StopLossFiling.Kind.SPECIFIC
        ).values("policy_id", "member_id").annotate(total=Sum("amount")).values_list("policy_id", "member_id", "total"):
            already[(policy_id, member_id)] = total
        aggregate_done = set(StopLossFiling.objects.filter(policy__in=policies, kind=StopLossFiling.Kind.AGGREGATE)
                             .values_list("policy_id", flat=True))
        acct = accounts_ensure(specs={s for p in policies
                                      for s in (stop_loss_spec(p.carrier_id), sponsor_claims_spec(p.plan.sponsor_id))})
        filings, postings = [], []

        def file(policy, kind, member_id, counted, attachment, amount, key):
            filing = StopLossFiling(policy=policy, kind=kind, member_id=member_id, filed_on=today,
                                    counted_claims=counted, attachment=attachment, amount=amount)
            filings.append(filing)
            if amount > 0:
                p = Posting(kind=T.STOP_LOSS, date=today, employer_id=policy.plan.sponsor_id, key=key,
                            memo=f"{kind} stop-loss, policy {policy.pk}" + (f", member {member_id}" if member_id else ""))
                p.move(source=acct[stop_loss_spec(policy.carrier_id)],
                       target=acct[sponsor_claims_spec(policy.plan.sponsor_id)], amount=amount)
                postings.append((filing, p))

        for policy in policies:
            counted = stop_loss_counted_by_member(policy=policy, today=today)
            attach = {m: lasers[policy.pk].get(m, policy.specific_attachment) for m in counted}
            for member_id in sorted(counted):
                done = already[(policy.pk, member_id)]
                due = max(ZERO, counted[member_id] - attach[member_id]) - done
                if due > 0:
                    file(policy, StopLossFiling.Kind.SPECIFIC, member_id, counted[member_id], attach[member_id], due,
                         f"stop-loss:specific:{policy.pk}:{member_id}:{done + due}")
            point = stop_loss_aggregate_point(policy=policy)
            _, _, paid_through = stop_loss_window(policy=policy)
            if point is not None and today >= paid_through and policy.pk not in aggregate_done:
                capped = sum((min(total, attach[m]) for m, total in counted.items()), ZERO)
                file(policy, StopLossFiling.Kind.AGGREGATE, None, capped, point, max(ZERO, capped - point),
                     f"stop-loss:aggregate:{policy.pk}")
        for (filing, _), txn_id in zip(postings, _post([p for _, p in postings])):
            filing.transaction_id = txn_id
        return StopLossFiling.objects.bulk_create(filings)
