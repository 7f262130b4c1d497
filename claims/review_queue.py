"""Reads for the examiners' work queue: the pended and appealed claims, oldest first, with why each is
there, its age and its decision deadline, and who holds it (`claims.services.assignment`).

The queue is served by the partial indexes of `Claim.Meta` (`claim_review_queue` holds the pended
claims, `claim_adjudication_queue` the submitted and appealed ones): each state's claims are read in
received order from its own index, and on PostgreSQL the two short ordered reads are merged by the
database (UNION ALL of two LIMITed scans), so a page costs the same with a million claims behind it.
"""
import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet
from django_fsm_log.models import StateLog

from core.text import shown
from parties.roles import Action, action_check

from .errors import ClaimError
from .models import Claim, ClaimAssignment, ClaimState
from .selectors import claim_list_visible_to

S = ClaimState
QUEUE_STATES = (S.PENDED, S.APPEALED)
HOLDERS = ("all", "mine", "unassigned")
# The ERISA claims procedure (29 CFR 2560.503-1(f)(2)(iii)(B)): a post-service claim is decided within
# 30 days of its receipt.
DECISION_DAYS = 30
DUPLICATES_SHOWN = 10
# Why a claim is in the queue: the transition that put it there, and the words its log entry starts with.
QUEUE_ENTRY = {S.PENDED: ("pend", "pended for review: "), S.APPEALED: ("appeal", "appeal: ")}


def claim_review_queue(*, user, holder: str = "all", state: str = "", newest_first: bool = False,
                       within: int | None = None) -> QuerySet[Claim]:
    """The claims of the queue a login may review: `holder` "all", "mine" (held by `user`) or
    "unassigned"; `state` "pended", "appealed" or "" for both. Unordered: the caller sorts it by
    received date (`newest_first` as it will) and reads a slice; `within`, when given, is how deep
    that slice goes (the page's last row + 1), which lets PostgreSQL read each state's index only so far."""
    action_check(user=user, action=Action.CLAIM_REVIEW)
    if holder not in HOLDERS:
        raise ClaimError({"holder": [f"must be one of {', '.join(HOLDERS)}, got {shown(holder)}"]})
    if state and state not in QUEUE_STATES:
        raise ClaimError({"state": [f"must be one of {', '.join(QUEUE_STATES)}, got {shown(state)}"]})
    qs = claim_list_visible_to(user=user)
    if holder == "mine":  # read from the holds' side: an examiner holds a handful of claims
        return qs.filter(assignment__examiner=user, state__in=[state] if state else QUEUE_STATES)
    if holder == "unassigned":
        qs = qs.filter(assignment__isnull=True)
    if state:
        return qs.filter(state=state)
    if within is None or connection.vendor != "postgresql":
        return qs.filter(state__in=QUEUE_STATES)
    # A filter on both states could use neither partial index in order: read each alone, merge them.
    order = ["-received_date", "-id"] if newest_first else ["received_date", "id"]
    arms = [qs.filter(state=s).order_by(*order)[:within] for s in QUEUE_STATES]
    return arms[0].union(*arms[1:], all=True)


@dataclass
class QueueRow:
    """A claim of the queue as the examiner reads it."""

    claim: Claim
    age_days: int  # business date - received date
    deadline: datetime.date  # received + 30 days
    days_left: int  # negative when overdue
    reason: str  # why it pended (or the appeal's reason)
    holder: ClaimAssignment | None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


def decision_deadline(*, received: datetime.date) -> datetime.date:
    return received + datetime.timedelta(days=DECISION_DAYS)


def claim_queue_reasons(*, claims) -> dict[int, str]:
    """claim id -> why it is in the queue: the description of its latest pend (a pended claim) or
    appeal (an appealed one), in the words after its prefix. One query for any number of claims."""
    wanted = {c.pk: QUEUE_ENTRY[c.state] for c in claims if c.state in QUEUE_ENTRY}
    if not wanted:
        return {}
    ct = ContentType.objects.get_for_model(Claim)
    out: dict[int, str] = {}
    for object_id, transition, description in (
        StateLog.objects.filter(content_type=ct, object_id__in=list(wanted),
                                transition__in=[t for t, _ in QUEUE_ENTRY.values()])
        .order_by("timestamp", "pk").values_list("object_id", "transition", "description")
    ):
        entry, prefix = wanted[object_id]
        if transition == entry:  # the latest wins
            out[object_id] = (description or "").removeprefix(prefix)
    return out


def queue_reason(*, claim: Claim, transitions) -> str:
    """Why the claim is in the queue, from its transitions already read (`selectors.claim_transitions`)."""
    entry = QUEUE_ENTRY.get(claim.state)
    if entry is None:
        return ""
    transition, prefix = entry
    found = [row.description or "" for row in transitions if row.transition == transition]
    return found[-1].removeprefix(prefix) if found else ""


def claim_holders(*, claim_ids) -> dict[int, ClaimAssignment]:
    """claim id -> its hold (with the examiner), for the claims held. One query."""
    ids = list(claim_ids)
    if not ids:
        return {}
    return {a.claim_id: a for a in ClaimAssignment.objects.filter(claim_id__in=ids).select_related("examiner")}


def claim_queue_rows(*, claims, today: datetime.date) -> list[QueueRow]:
    """The page's claims with their age, deadline, reason and holder: two queries, whatever the page."""
    claims = list(claims)
    reasons = claim_queue_reasons(claims=claims)
    holders = claim_holders(claim_ids=[c.pk for c in claims])
    rows = []
    for claim in claims:
        deadline = decision_deadline(received=claim.received_date)
        rows.append(QueueRow(claim=claim, age_days=(today - claim.received_date).days, deadline=deadline,
                             days_left=(deadline - today).days, reason=reasons.get(claim.pk, ""),
                             holder=holders.get(claim.pk)))
    return rows


def claim_holder(*, claim: Claim) -> ClaimAssignment | None:
    """Who holds the claim now: nobody once it has left the queue (a hold left by the batch's
    re-adjudication of an appealed claim is not one)."""
    if claim.state not in QUEUE_STATES:
        return None
    return claim_holders(claim_ids=[claim.pk]).get(claim.pk)


def claim_possible_duplicates(*, claim: Claim, limit: int = DUPLICATES_SHOWN) -> list[Claim]:
    """Other claims of the same member on the same service date (the index `claim_member_service`),
    oldest first, at most `limit`: what an examiner compares before approving."""
    if claim.member_id is None:
        return []
    return list(Claim.objects.filter(member_id=claim.member_id, service_date=claim.service_date)
                .exclude(pk=claim.pk).select_related("provider").order_by("received_date", "id")[:limit])
