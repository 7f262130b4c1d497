"""Reads for claims: what a user may see, accumulators, explanations of benefits, transition history."""
import datetime
import re
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet
from django_fsm_log.models import StateLog

from core.errors import NotFound
from parties.models import Member, Provider
from parties.roles import action_check, user_is_tpa_staff
from parties.validators import member_id_is_valid, npi_is_valid
from plans.models import Coverage
from plans.periods import plan_year_start_for

from .carc import CARC_MEANING
from .models import Accumulator, Claim, LineResult

ZERO = Decimal("0.00")


def claim_list_visible_to(*, user) -> QuerySet[Claim]:
    """The claims a login may see: TPA staff all, a provider its own, a sponsor its members',
    a carrier its plans', a member its family's. Anything else: none (and so 404)."""
    qs = Claim.objects.select_related("member", "provider", "plan", "plan__sponsor")
    if user_is_tpa_staff(user=user):
        return qs
    link = getattr(user, "party_link", None) if getattr(user, "is_authenticated", False) else None
    if link is None:
        return qs.none()
    role = link.role
    if role == "provider_staff":
        return qs.filter(provider_id=link.provider_id)
    if role == "employer_admin":
        return qs.filter(plan__sponsor_id=link.employer_id)
    if role == "carrier_analyst":  # the plans it pays claims for: an ASO plan's claims are the sponsor's
        return qs.filter(plan__carrier_id=link.carrier_id).exclude(plan__funding="ASO")
    if role == "member":
        member = link.member
        family_id = member.subscriber_id or member.pk
        if member.subscriber_id is None:
            return qs.filter(member__in=Member.objects.filter(pk=family_id) | Member.objects.filter(subscriber_id=family_id))
        return qs.filter(member_id=member.pk)
    return qs.none()


def accumulator_list_visible_to(*, user) -> QuerySet[Accumulator]:
    """Accumulators a login may see: a member's own, under a plan, when it may see one of that member's
    claims under that plan; a family's, under a plan, when it may see a claim of one of the family
    under that plan. (A dependent, or the provider who treated only the child, does not see the
    subscriber's own figures; a carrier sees nothing under a plan it does not pay for.)"""
    qs = Accumulator.objects.select_related("member", "plan__sponsor")
    if user_is_tpa_staff(user=user):
        return qs
    visible = claim_list_visible_to(user=user).order_by()
    own = visible.filter(member_id=OuterRef("member_id"), plan_id=OuterRef("plan_id"))
    family = visible.filter(plan_id=OuterRef("plan_id")).filter(
        Q(member_id=OuterRef("member_id")) | Q(member__subscriber_id=OuterRef("member_id")))
    return qs.filter(Q(scope=Accumulator.Scope.INDIVIDUAL) & Exists(own)
                     | Q(scope=Accumulator.Scope.FAMILY) & Exists(family))


def line_result_list_visible_to(*, user) -> QuerySet[LineResult]:
    """The line results of the claims a login may see."""
    qs = LineResult.objects.all()
    if user_is_tpa_staff(user=user):
        return qs
    return qs.filter(claim__in=claim_list_visible_to(user=user).order_by().values("pk"))


CLAIM_NUMBER = re.compile(r"^[Cc]?0*(\d{1,15})$")


def claim_search_condition(*, term: str) -> Q | None:
    """The claims a search term names: a claim number (C000000123 or 123), a member ID or name, an NPI
    or provider name, or an ID as submitted on a rejected claim. The members and providers are looked
    up first, so that every arm of the condition on claims is served by an index (a name matched
    inside the claims query would scan every claim)."""
    term = term.strip()
    if not term:
        return None
    found = CLAIM_NUMBER.match(term)
    # A name has letters and is no identifier: a claim number, member ID or NPI is matched exactly, never
    # looked for inside every member's name (a scan of the members).
    by_name = not (found or member_id_is_valid(term.upper()) or npi_is_valid(term))
    members = Q(member_id=term.upper()) | (Q(name__icontains=term) if by_name else Q(pk__in=[]))
    providers = Q(npi=term) | (Q(name__icontains=term) if by_name else Q(pk__in=[]))
    member_ids = list(Member.objects.filter(members).order_by().values_list("pk", flat=True))
    provider_ids = list(Provider.objects.filter(providers).order_by().values_list("pk", flat=True))
    q = (Q(member_id__any=member_ids) | Q(provider_id__any=provider_ids)
         | Q(state="rejected", submitted_member_id__iexact=term) | Q(state="rejected", submitted_npi__iexact=term))
    if found is not None:
        q |= Q(pk=int(found.group(1)))
    return q


def claim_get_visible_to(*, user, claim_id: int) -> Claim | None:
    return claim_list_visible_to(user=user).filter(pk=claim_id).first()


def claim_line_results(*, claim: Claim) -> list[LineResult]:
    """The current round's line figures, in line order."""
    return list(
        LineResult.objects.filter(claim=claim, round=claim.adjudication_round).select_related("line").order_by("line__line_number")
    )


def claim_transitions(*, claim: Claim) -> list[StateLog]:
    ct = ContentType.objects.get_for_model(Claim)
    return list(StateLog.objects.filter(content_type=ct, object_id=claim.pk).select_related("by").order_by("timestamp", "pk"))


def accumulators_report_for(*, members: list[Member], as_of: datetime.date) -> dict[int, dict]:
    """member id -> its and its family's figures for the plan year holding `as_of` (SCENARIOS.md).

    On single coverage the family figures equal the member's own. Three queries for any number of members.
    """
    ids = [m.pk for m in members]
    family_of = {m.pk: m.subscriber_id or m.pk for m in members}
    plan_of: dict[int, tuple] = {}
    for member_id, plan_id, anchor in (
        Coverage.objects.filter(member_id__in=set(ids) | set(family_of.values()))
        .order_by("start").values_list("member_id", "plan_id", "plan__year_start")
    ):
        plan_of[member_id] = (plan_id, anchor)
    on_family = set(Coverage.objects.filter(member__subscriber_id__in=set(family_of.values()))
                    .values_list("member__subscriber_id", flat=True))
    rows = {(p, m, s, y): (d, o) for p, m, s, y, d, o in Accumulator.objects.filter(
        member_id__in=set(ids) | set(family_of.values())
    ).values_list("plan_id", "member_id", "scope", "plan_year_start", "deductible_met", "oop_met")}
    out = {}
    for m in members:
        plan = plan_of.get(m.pk) or plan_of.get(family_of[m.pk])
        if plan is None:
            out[m.pk] = {"plan_year": None, "deductible_met": "0.00", "out_of_pocket_met": "0.00",
                         "family_deductible_met": "0.00", "family_out_of_pocket_met": "0.00"}
            continue
        plan_id, anchor = plan
        year = plan_year_start_for(plan_year_anchor=anchor, day=as_of)
        ded, oop = rows.get((plan_id, m.pk, "individual", year), (ZERO, ZERO))
        if family_of[m.pk] in on_family:
            fded, foop = rows.get((plan_id, family_of[m.pk], "family", year), (ZERO, ZERO))
        else:
            fded, foop = ded, oop
        out[m.pk] = {"plan_year": year.isoformat(), "deductible_met": f"{ded:.2f}", "out_of_pocket_met": f"{oop:.2f}",
                     "family_deductible_met": f"{fded:.2f}", "family_out_of_pocket_met": f"{foop:.2f}"}
    return out


def explanation_of_benefits(*, claim: Claim) -> dict:
    """The member's explanation of benefits for an adjudicated claim: per line what was billed,
    allowed, what the plan paid, what the member owes and why (CARCs in words), plus the steps."""
    lines = claim_line_results(claim=claim)
    return {
        "claim_number": claim.claim_number,
        "member": str(claim.member) if claim.member_id else claim.submitted_member_id,
        "provider": str(claim.provider) if claim.provider_id else claim.submitted_npi,
        "service_date": claim.service_date,
        "received_date": claim.received_date,
        "state": claim.state,
        "lines": [
            {
                "line": r.line.line_number, "code": r.line.procedure_code, "units": r.line.units,
                "billed": r.line.billed, "allowed": r.allowed, "deductible": r.deductible, "copay": r.copay,
                "coinsurance": r.coinsurance, "not_covered": r.not_covered, "balance_billed": r.balance_billed,
                "plan_paid": r.plan_paid, "provider_write_off": r.provider_write_off,
                "member_owes": r.member_owes,
                "reason_codes": [(c, CARC_MEANING.get(c, "")) for c in r.reason_code_list],
                "trace": r.trace_text,
            }
            for r in lines
        ],
        "totals": {f: getattr(claim, f) for f in ("billed", "allowed", "deductible", "copay", "coinsurance",
                                                  "not_covered", "balance_billed", "plan_paid",
                                                  "member_responsibility", "provider_write_off")},
        "reason_codes": [(c, CARC_MEANING.get(c, "")) for c in claim.reason_code_list],
    }


def claim_duplicate_candidates(*, member_dates: set[tuple[int, datetime.date]]) -> list[tuple]:
    """(id, received_date, duplicate_key, is_duplicate, state) of every non-rejected claim whose
    (member, service date) is one of `member_dates`: the claims a duplicate can be a copy of (the
    caller matches their keys)."""
    if not member_dates:
        return []
    from django.db import connection

    from core.bulk import array_literal

    if connection.vendor == "postgresql":
        members, days = zip(*sorted(member_dates))
        with connection.cursor() as cursor:
            # One index probe per (member, day), whatever the table's size: the planner, misjudging how
            # few rows match, would otherwise hash the whole claims table for every chunk (OFFSET 0
            # keeps the subquery a probe; a filter on the duplicate key turned it into a scan).
            cursor.execute(
                "SELECT c.id, c.received_date, c.duplicate_key, c.is_duplicate, c.state "
                "FROM unnest(%s::bigint[], %s::date[]) AS p(m, d) CROSS JOIN LATERAL ("
                "SELECT id, received_date, duplicate_key, is_duplicate, state FROM claims_claim "
                "WHERE member_id = p.m AND service_date = p.d AND state <> 'rejected' OFFSET 0) c",
                [array_literal(members), array_literal(days)],
            )
            return cursor.fetchall()
    return [
        row for row in Claim.objects.filter(member_id__any={m for m, _ in member_dates}).exclude(state="rejected")
        .values_list("id", "received_date", "duplicate_key", "is_duplicate", "state", "member_id", "service_date")
        if (row[5], row[6]) in member_dates
    ]


PAYMENT_COLS = ("id", "state", "plan_id", "provider_id", "plan_paid")


def claim_payment_queue_locked(*, states=("approved", "awaiting_funds"), sponsor_id: int | None = None,
                               funding: str | None = None) -> list[tuple]:
    """(id, state, plan id, provider id, plan_paid) of the claims in `states` (of one sponsor's plans of one
    arrangement, when given), oldest first (received date, then submission order), their rows locked
    until the caller's transaction ends: what a payment run pays (DOMAIN.md §5)."""
    qs = Claim.objects.filter(state__in=states)
    if sponsor_id is not None:
        qs = qs.filter(plan__sponsor_id=sponsor_id)
    if funding is not None:
        qs = qs.filter(plan__funding=funding)
    return list(qs.order_by("received_date", "id").select_for_update(of=("self",)).values_list(*PAYMENT_COLS))


def claim_access_by_id(*, user, claim_id: int, action) -> Claim:
    """The claim, for a login about to take `action` on it: NotFound (404) when it does not exist or
    the login may not see it (the same answer for both), Forbidden (403) when the login's role may
    not take that action (`parties.roles`)."""
    claim = claim_get_visible_to(user=user, claim_id=claim_id)
    if claim is None:
        raise NotFound({"claim": [f"no claim {claim_id}"]})
    action_check(user=user, action=action)
    return claim


def _limit_met_remaining(limit: Decimal, met: str) -> dict:
    met = Decimal(met)
    return {"limit": limit, "met": met, "remaining": max(limit - met, ZERO)}


def member_eligibility_on(*, member_id: str, on: datetime.date, user) -> dict:
    """What a 270/271 exchange answers for a member ID on a date: whether coverage is in force, under
    which plan, the copays and other treatments by category, and the deductible and out-of-pocket met
    and remaining, individual and (on family coverage) family, for the plan year holding `on`.

    A login that may submit claims may ask, for any member ID it was given (as a provider asks
    before a visit): the answer names the member but says nothing of its claims. `status`: "active",
    "invalid_id" (not a member ID at all: length, character or check character), "not_found",
    "before_coverage" or "after_coverage". At most nine queries, whatever the member.
    """
    # Imported here so that this reader's additions stay in one place of the module.
    from parties.roles import Action
    from plans.models import Plan
    from plans.periods import coverage_on
    from plans.selectors import coverage_context_for_members

    action_check(user=user, action=Action.CLAIM_SUBMIT)
    text = str(member_id or "").strip().upper()
    answer = {"member_id": text, "on": on, "in_force": False, "member": None, "plan": None, "benefits": [],
              "coverage_start": None, "coverage_end": None, "family_coverage": False, "plan_year_start": None,
              "plan_year_end": None, "deductible": None, "out_of_pocket": None, "family_deductible": None,
              "family_out_of_pocket": None}
    if not member_id_is_valid(text):
        return {**answer, "status": "invalid_id",
                "message": "Not a valid member ID (wrong length, character or check character)."}
    member = Member.objects.filter(member_id=text).first()
    if member is None:
        return {**answer, "status": "not_found", "message": f"No member has the ID {text}."}
    periods, _, on_family = coverage_context_for_members(member_ids=[member.pk])
    state, period = coverage_on(periods=periods.get(member.pk, []), day=on)
    answer.update(member=member, family_coverage=(member.subscriber_id or member.pk) in on_family)
    if period is None:
        return {**answer, "status": "before_coverage", "message": f"{member.name} has no coverage."}
    plan = Plan.objects.select_related("sponsor").get(pk=period[0])
    answer.update(plan=plan, coverage_start=period[1], coverage_end=period[2])
    if state == "before":
        return {**answer, "status": "before_coverage",
                "message": f"Not in force on {on}: the coverage starts on {period[1]}."}
    if state == "after":
        return {**answer, "status": "after_coverage", "message": f"Not in force on {on}: the coverage ended on {period[2]}."}
    year = plan_year_start_for(plan_year_anchor=plan.year_start, day=on)
    figures = accumulators_report_for(members=[member], as_of=on)[member.pk]
    answer.update(
        status="active", in_force=True, message=f"In force on {on} under {plan.name}.",
        benefits=[{"category": b.category, "label": b.category.replace("_", " "), "treatment": b.get_treatment_display(),
                   "copay": b.copay} for b in plan.category_benefits.order_by("category")],
        plan_year_start=year, plan_year_end=year.replace(year=year.year + 1) - datetime.timedelta(days=1),
        deductible=_limit_met_remaining(plan.deductible_individual, figures["deductible_met"]),
        out_of_pocket=_limit_met_remaining(plan.oop_max_individual, figures["out_of_pocket_met"]),
    )
    if answer["family_coverage"]:
        answer.update(
            family_deductible=_limit_met_remaining(plan.deductible_family, figures["family_deductible_met"]),
            family_out_of_pocket=_limit_met_remaining(plan.oop_max_family, figures["family_out_of_pocket_met"]),
        )
    return answer


# --- Read by the REST API (api/) ---------------------------------------------------------------

def member_get_visible_to(*, user, member_id: str) -> Member:
    """The member with this member ID, for a login about to read its explanations of benefits or its
    coverage: TPA staff any member; a member login its household (a subscriber its family, a dependent
    itself: the rule of `claim_list_visible_to`); a sponsor its own members; a provider or carrier a
    member one of whose claims it may see. NotFound (404) otherwise, the same as for no such member."""
    from parties.roles import role_of

    text = str(member_id or "").strip().upper()
    member = Member.objects.filter(member_id=text).first() if member_id_is_valid(text) else None
    if member is None:
        raise NotFound({"member_id": [f"no member {text[:40]}"]})
    if user_is_tpa_staff(user=user):
        return member
    role = role_of(user=user)
    link = user.party_link if role else None
    if role == "member":
        own = link.member
        seen = member.pk == own.pk or (own.subscriber_id is None and member.subscriber_id == own.pk)
    elif role == "employer_admin":
        seen = member.employer_id == link.employer_id
    elif role in ("provider_staff", "carrier_analyst"):
        seen = claim_list_visible_to(user=user).filter(member_id=member.pk).exists()
    else:
        seen = False
    if not seen:
        raise NotFound({"member_id": [f"no member {text}"]})
    return member


# Priced claims: not those still submitted, pended for review or rejected at intake (as the member's EOB page).
EOB_STATES = ("approved", "denied", "appealed", "awaiting_funds", "paid")


def member_eob_claims_visible_to(*, user, member: Member) -> QuerySet[Claim]:
    """The member's adjudicated claims (those an explanation of benefits speaks of) the login may see."""
    return claim_list_visible_to(user=user).filter(member_id=member.pk, state__in=EOB_STATES, adjudication_round__gt=0)
