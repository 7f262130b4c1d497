"""Who may do what: the one role policy.

A login acts for one party in one role (`PartyLink`). This table says which actions each role may
take; which *objects* it may take them on is each model's `*_visible_to(user)` selector (another
party's object is not there for it: 404). The services that act for a user call `action_check`
after the visibility check, and the admin, the dashboards and the API call the same services, so
they cannot disagree. Django's model permissions still decide which admin pages TPA staff may open;
they never let a role act beyond this table.

A superuser is the TPA's own administrator: every action. A login with no party link has no role
and may take no action here, whatever permissions its user row carries.
"""
from enum import StrEnum

from core.errors import Forbidden

from .models import PartyLink


class Action(StrEnum):
    CLAIM_VIEW = "claim.view"
    CLAIM_SUBMIT = "claim.submit"
    CLAIM_REVIEW = "claim.review"  # approve or deny a pended claim
    CLAIM_APPEAL = "claim.appeal"  # record an appeal of a denied claim
    CLAIM_ADJUDICATE = "claim.adjudicate"  # adjudicate one claim now
    CLAIMS_ADJUDICATE_PENDING = "claims.adjudicate_pending"  # the batch over every party's claims
    PAYMENT_CYCLE_RUN = "payment_cycle.run"
    DEPOSIT_RECORD = "deposit.record"  # an ASO sponsor's deposit into its claims account
    REIMBURSEMENT_PAY = "reimbursement.pay"  # an ASC sponsor's reimbursement of its carrier
    BILLING_RUN = "billing.run"  # fee and premium billing, ASC reimbursement billing
    STOP_LOSS_EVALUATE = "stop_loss.evaluate"
    JOB_MANAGE = "job.manage"  # the scheduled jobs: enable, disable, change, run now
    CLOCK_SET = "clock.set"  # the business date
    LOGIN_MANAGE = "login.manage"  # logins, their roles and parties, lockouts
    PLAN_MANAGE = "plan.manage"  # the TPA, carriers, sponsors, providers, plans, fee schedules, stop-loss
    ENROLLMENT_MANAGE = "enrollment.manage"  # members and their coverage
    TRAINING_RUN = "training.run"  # demo training sessions: start, advance the clock, reset, end


A = Action
R = PartyLink.Role

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    R.PROVIDER_STAFF: frozenset({A.CLAIM_VIEW, A.CLAIM_SUBMIT, A.CLAIM_APPEAL}),
    R.CLAIMS_EXAMINER: frozenset({A.CLAIM_VIEW, A.CLAIM_SUBMIT, A.CLAIM_REVIEW, A.CLAIM_APPEAL, A.CLAIM_ADJUDICATE,
                                  A.CLAIMS_ADJUDICATE_PENDING, A.ENROLLMENT_MANAGE}),
    R.SUPERVISOR: frozenset(Action),
    R.EMPLOYER_ADMIN: frozenset({A.CLAIM_VIEW, A.DEPOSIT_RECORD, A.REIMBURSEMENT_PAY}),
    R.CARRIER_ANALYST: frozenset({A.CLAIM_VIEW}),
    R.MEMBER: frozenset({A.CLAIM_VIEW, A.CLAIM_APPEAL}),
    R.TRAINER: frozenset({A.TRAINING_RUN}),
}
TPA_ROLES = (R.CLAIMS_EXAMINER, R.SUPERVISOR)
ACTION_WORDS = {
    A.CLAIM_VIEW: "see claims", A.CLAIM_SUBMIT: "submit claims", A.CLAIM_REVIEW: "review pended claims",
    A.CLAIM_APPEAL: "appeal claims", A.CLAIM_ADJUDICATE: "adjudicate claims",
    A.CLAIMS_ADJUDICATE_PENDING: "run auto-adjudication", A.PAYMENT_CYCLE_RUN: "run a payment cycle",
    A.DEPOSIT_RECORD: "record deposits", A.REIMBURSEMENT_PAY: "record reimbursement payments",
    A.BILLING_RUN: "run billing", A.STOP_LOSS_EVALUATE: "run the stop-loss evaluation",
    A.JOB_MANAGE: "manage the scheduled jobs", A.CLOCK_SET: "move the business clock",
    A.LOGIN_MANAGE: "manage logins", A.PLAN_MANAGE: "change plans, parties and fee schedules",
    A.ENROLLMENT_MANAGE: "change members and their coverage",
    A.TRAINING_RUN: "run training sessions",
}


def role_of(*, user) -> str | None:
    """The login's role, or None (anonymous, or no party link)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.party_link.role
    except PartyLink.DoesNotExist:
        return None


def user_may(*, user, action: Action) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", True):
        return False
    if user.is_superuser:
        return True
    return action in ROLE_ACTIONS.get(role_of(user=user), frozenset())


def action_check(*, user, action: Action) -> None:
    """Forbidden (403) unless the user's role may take `action`."""
    if not user_may(user=user, action=action):
        raise Forbidden({"user": [f"Your role may not {ACTION_WORDS[action]}."]})


def user_is_tpa_staff(*, user) -> bool:
    """Superusers and the TPA's examiners and supervisors: they see every claim (one TPA runs this system)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or role_of(user=user) in TPA_ROLES


def user_is_outside_tpa(*, user) -> bool:
    """A login linked to a provider, sponsor, carrier or member rather than to the TPA. Such a login
    sees only what a `*_visible_to(user)` selector gives it; superusers and TPA staff see everything."""
    if user is None or getattr(user, "is_superuser", False):
        return False
    role = role_of(user=user)
    return role is not None and role not in TPA_ROLES
