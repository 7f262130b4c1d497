"""Fee billing (DOMAIN.md §5): admin fees (ASO, ASC) and premiums (fully insured), per subscriber per month."""
import datetime
from collections import defaultdict

from django.db import transaction

from core import clock
from core.money import round_half_up
from parties.roles import Action, action_check
from plans.models import Coverage, Plan
from plans.periods import coverage_on
from plans.selectors import coverage_periods_for_members

from ..models import FeeBilling
from .ledger import (
    ADMIN_FEES_SPEC,
    F,
    Posting,
    T,
    _funding_lock,
    _post,
    accounts_ensure,
    premiums_spec,
    sponsor_spec,
)


def fee_billing_run(*, today: datetime.date | None = None, by=None) -> list[FeeBilling]:
    """DOMAIN.md §5: bill each plan once for the calendar month of `today`: admin_fee_pepm (ASO, ASC) or
    premium_pepm (fully insured) for every subscriber whose coverage of the plan is in force on
    `today`. A month already billed bills nothing; a month billed for 0 subscribers counts as billed;
    a month that no run fell in is never billed later."""
    if by is not None:
        action_check(user=by, action=Action.BILLING_RUN)
    today = today or clock.today()
    month = today.replace(day=1)
    with transaction.atomic():
        _funding_lock()
        plans = list(Plan.objects.exclude(fee_billings__month=month).order_by("pk").values_list(
            "id", "funding", "sponsor_id", "carrier_id", "admin_fee_pepm", "premium_pepm"))
        if not plans:
            return []
        plan_ids = {p[0] for p in plans}
        subscriber_ids = set(Coverage.objects.filter(plan_id__in=plan_ids, member__subscriber__isnull=True)
                             .values_list("member_id", flat=True))
        periods = coverage_periods_for_members(member_ids=subscriber_ids)
        count: dict[int, int] = defaultdict(int)
        for member_id in subscriber_ids:
            status, period = coverage_on(periods=periods.get(member_id, []), day=today)
            if status == "ok" and period[0] in plan_ids:
                count[period[0]] += 1
        specs = {ADMIN_FEES_SPEC}
        for _, funding, sponsor_id, carrier_id, _, _ in plans:
            specs.add(sponsor_spec(sponsor_id))
            if funding == F.FULLY_INSURED:
                specs.add(premiums_spec(carrier_id))
        acct = accounts_ensure(specs=specs)
        billings, postings = [], []
        for pid, funding, sponsor_id, carrier_id, admin_fee, premium in plans:
            premium_plan = funding == F.FULLY_INSURED
            pepm = premium if premium_plan else admin_fee
            amount = round_half_up(pepm * count[pid])
            kind = FeeBilling.Kind.PREMIUM if premium_plan else FeeBilling.Kind.ADMIN_FEE
            billing = FeeBilling(plan_id=pid, month=month, billed_on=today, kind=kind, subscribers=count[pid],
                                 pepm=pepm, amount=amount)
            billings.append(billing)
            if amount > 0:
                p = Posting(kind=T.PREMIUM if premium_plan else T.ADMIN_FEE, date=today, employer_id=sponsor_id,
                            key=f"fees:{pid}:{month:%Y-%m}",
                            memo=f"{billing.get_kind_display()} {month:%Y-%m}: {count[pid]} × {pepm}")
                target = acct[premiums_spec(carrier_id)] if premium_plan else acct[ADMIN_FEES_SPEC]
                p.move(source=acct[sponsor_spec(sponsor_id)], target=target, amount=amount)
                postings.append((billing, p))
        for (billing, _), txn_id in zip(postings, _post([p for _, p in postings])):
            billing.transaction_id = txn_id
        return FeeBilling.objects.bulk_create(billings)
