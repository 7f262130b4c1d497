"""Claims, their lines, per-line adjudication results, and accumulators.

The claim's state pipeline is declared here, once, as django-fsm transitions (DOMAIN.md §3).
"""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, TransitionNotAllowed, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description

from parties.models import Member, Provider
from plans.models import Plan

from . import engine

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")

BUCKETS = (
    "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
    "plan_paid", "provider_write_off",
)
CLAIM_BUCKETS = ("billed", *BUCKETS, "member_responsibility")


class ClaimState(models.TextChoices):
    SUBMITTED = "submitted"
    REJECTED = "rejected"
    PENDED = "pended"
    APPROVED = "approved"
    DENIED = "denied"
    APPEALED = "appealed"
    AWAITING_FUNDS = "awaiting_funds"
    PAID = "paid"


S = ClaimState


class Claim(FSMModelMixin, models.Model):
    # What the provider sent, kept as sent so a rejection can say what was wrong.
    submitted_member_id = models.CharField("member ID as submitted", max_length=40)
    submitted_npi = models.CharField("NPI as submitted", max_length=40)
    # (member, state) is indexed below; every index here costs the batch UPDATE, so no more than needed.
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.PROTECT, related_name="claims",
                               db_index=False)
    # Indexed with the received date below (a provider's claims, newest first), not on its own.
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="claims",
                                 db_index=False)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="claims")
    service_date = models.DateField()
    received_date = models.DateField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", db_index=False)

    state = FSMField(default=S.SUBMITTED, choices=S.choices, protected=True, db_index=False)
    # SHA-1 of provider, member, service date and the multiset of (code, units, billed): an exact
    # duplicate (CARC 18) has the same key. Blank for a rejected claim. Not indexed: candidates are
    # found through (member, service_date), which costs the batch UPDATE far less than a random key.
    duplicate_key = models.CharField(max_length=40, blank=True)
    rejection_field = models.CharField(max_length=60, blank=True)
    rejection_message = models.CharField(max_length=300, blank=True)
    adjudication_round = models.PositiveSmallIntegerField(default=0)
    is_duplicate = models.BooleanField(default=False)
    duplicate_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                     db_index=False)
    family_coverage = models.BooleanField(default=False)
    plan_year_start = models.DateField(null=True, blank=True)
    adjudicated_on = models.DateField(null=True, blank=True)
    reason_codes = models.CharField(max_length=60, blank=True, help_text="The lines' CARCs, comma-separated, in numeric order.")

    billed = models.DecimalField(**MONEY)
    allowed = models.DecimalField(default=ZERO, **MONEY)
    deductible = models.DecimalField(default=ZERO, **MONEY)
    copay = models.DecimalField(default=ZERO, **MONEY)
    coinsurance = models.DecimalField(default=ZERO, **MONEY)
    not_covered = models.DecimalField(default=ZERO, **MONEY)
    balance_billed = models.DecimalField(default=ZERO, **MONEY)
    plan_paid = models.DecimalField(default=ZERO, **MONEY)
    member_responsibility = models.DecimalField(default=ZERO, **MONEY)
    provider_write_off = models.DecimalField(default=ZERO, **MONEY)

    paid_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["received_date", "id"]
        permissions = [
            ("review_claim", "Can approve or deny a pended claim"),
            ("appeal_claim", "Can record an appeal of a denied claim"),
        ]
        indexes = [
            # Work queues, in received order. Partial: a claim's row is in at most one of them, so a
            # state change adds one small index entry instead of one in a large (state, …) index.
            models.Index(fields=["received_date", "id"], condition=Q(state__in=["submitted", "appealed"]),
                         name="claim_adjudication_queue"),
            models.Index(fields=["received_date", "id"], condition=Q(state="pended"), name="claim_review_queue"),
            models.Index(fields=["received_date", "id"], condition=Q(state__in=["approved", "awaiting_funds"]),
                         name="claim_payment_queue"),
            models.Index(fields=["member", "service_date"], name="claim_member_service"),
            # The claim lists (admin, dashboards) show the newest received first, 50 at a time.
            models.Index(fields=["received_date", "id"], name="claim_received_order"),
            # A provider's own list, newest first; it replaces the plain foreign-key index (no index added
            # for the batch UPDATE to maintain).
            models.Index(fields=["provider", "received_date", "id"], name="claim_provider_received"),
            # Rejected claims are searched by the IDs as submitted (their member or provider may be unknown).
            models.Index(fields=["received_date"], condition=Q(state="rejected"), name="claim_rejected"),
            # Partial: almost every row has NULL here, so claim updates rarely touch these indexes, yet
            # the foreign-key checks on deleting a claim or a user still find their referencing rows.
            models.Index(fields=["duplicate_of"], condition=Q(duplicate_of__isnull=False), name="claim_duplicate_of"),
            models.Index(fields=["submitted_by"], condition=Q(submitted_by__isnull=False), name="claim_submitted_by"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(allowed__gte=0, deductible__gte=0, copay__gte=0, coinsurance__gte=0,
                            not_covered__gte=0, balance_billed__gte=0, plan_paid__gte=0,
                            member_responsibility__gte=0, provider_write_off__gte=0),
                name="claim_money_non_negative",
            ),
            # A rejected claim keeps what was sent (a negative charge is one reason to reject it).
            models.CheckConstraint(condition=Q(state="rejected") | Q(billed__gte=0), name="claim_billed_non_negative"),
            models.CheckConstraint(
                condition=Q(state="paid", paid_on__isnull=False) | (~Q(state="paid") & Q(paid_on__isnull=True)),
                name="claim_paid_on_iff_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.claim_number}"

    @property
    def claim_number(self) -> str:
        return f"C{self.pk:09d}" if self.pk else "(new)"

    @property
    def reason_code_list(self) -> list[str]:
        return [c for c in self.reason_codes.split(",") if c]

    # --- The pipeline (DOMAIN.md §3). Nothing else sets `state`. ---------------------------
    # `by` and `description` feed the transition log (django-fsm-log).

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.SUBMITTED, target=S.REJECTED)
    def reject(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[S.SUBMITTED, S.APPEALED], target=S.APPROVED)
    def approve(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[S.SUBMITTED, S.APPEALED], target=S.DENIED)
    def deny(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[S.SUBMITTED, S.APPEALED], target=S.PENDED)
    def pend(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.PENDED, target=S.APPROVED, permission="claims.review_claim")
    def review_approve(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.PENDED, target=S.DENIED, permission="claims.review_claim")
    def review_deny(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.DENIED, target=S.APPEALED)
    def appeal(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.APPROVED, target=S.AWAITING_FUNDS)
    def await_funds(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[S.APPROVED, S.AWAITING_FUNDS], target=S.PAID)
    def pay(self, *, paid_on, by=None, description=None):
        self.paid_on = paid_on


def claim_transition_target(name: str, source: str) -> str:
    """Where the declared transition `name` leads from `source`, read from django-fsm's own metadata.

    Batch paths (auto-adjudication of a chunk, a payment cycle) apply transitions with this: the same
    declared graph decides, they write the targets in one UPDATE and log every transition in one COPY,
    instead of dispatching two signals per claim. Raises TransitionNotAllowed like the method would.
    """
    meta = getattr(Claim, name)._django_fsm
    found = meta.get_transition(source)
    if found is None or found.conditions:
        raise TransitionNotAllowed(f"Can't {name} from state '{source}'.", method=name)
    return found.target


class ClaimLine(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    procedure_code = models.CharField(max_length=10)
    units = models.PositiveIntegerField(default=1)
    billed = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_number"], name="claim_line_number_unique"),
            models.CheckConstraint(condition=Q(units__gte=1), name="claim_line_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.claim} line {self.line_number}: {self.procedure_code} × {self.units}"


class LineResult(models.Model):
    """The figures one adjudication gave one line, with the steps that produced them.

    Each adjudication round writes a new set; the claim's current figures are its latest round.
    """

    # Indexed by the (claim, round) index and the (line, round) unique constraint below.
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="line_results", db_index=False)
    line = models.ForeignKey(ClaimLine, on_delete=models.CASCADE, related_name="results", db_index=False)
    round = models.PositiveSmallIntegerField()
    category = models.CharField(max_length=40, blank=True)
    fee = models.DecimalField(null=True, blank=True, **MONEY)
    allowed = models.DecimalField(**MONEY)
    deductible = models.DecimalField(**MONEY)
    copay = models.DecimalField(**MONEY)
    coinsurance = models.DecimalField(**MONEY)
    not_covered = models.DecimalField(**MONEY)
    balance_billed = models.DecimalField(**MONEY)
    provider_write_off = models.DecimalField(**MONEY)
    plan_paid = models.DecimalField(**MONEY)
    reason_codes = models.CharField(max_length=30, blank=True)
    denial_code = models.CharField(max_length=4, blank=True)
    # A trace record (claims.engine.TRACE_MARK ...; `trace_text` writes out its steps), or the steps
    # as text in rows written before records.
    trace = models.TextField(blank=True)

    class Meta:
        ordering = ["claim", "round", "line__line_number"]
        constraints = [
            models.UniqueConstraint(fields=["line", "round"], name="line_result_once_per_round"),
            models.CheckConstraint(
                condition=Q(allowed__gte=0, deductible__gte=0, copay__gte=0, coinsurance__gte=0, not_covered__gte=0,
                            balance_billed__gte=0, provider_write_off__gte=0, plan_paid__gte=0),
                name="line_result_money_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["claim", "round"])]

    @property
    def reason_code_list(self) -> list[str]:
        return [c for c in self.reason_codes.split(",") if c]

    @property
    def member_owes(self) -> Decimal:
        return engine.member_owes(self)

    @property
    def trace_text(self) -> str:
        """The steps that produced these figures, as a person reads them (one per line of text).
        Needs `line` (select it with the result)."""
        line = self.line
        return engine.trace_render(self.trace, out=self, line=engine.LineIn(
            billed=line.billed, units=line.units, code=line.procedure_code, category=self.category or None,
            fee=self.fee))


class Accumulator(models.Model):
    """Deductible and out-of-pocket met, per member (or per family: the subscriber's row) per plan year."""

    class Scope(models.TextChoices):
        INDIVIDUAL = "individual"
        FAMILY = "family"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accumulators")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="accumulators",
                               help_text="For a family accumulator: the subscriber.")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    plan_year_start = models.DateField()
    deductible_met = models.DecimalField(default=ZERO, **MONEY)
    oop_met = models.DecimalField("out-of-pocket met", default=ZERO, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "member", "scope", "plan_year_start"], name="accumulator_unique"),
            models.CheckConstraint(condition=Q(deductible_met__gte=0, oop_met__gte=0), name="accumulator_non_negative"),
            models.CheckConstraint(condition=Q(scope__in=["individual", "family"]), name="accumulator_scope_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.member} {self.plan_year_start}: ded {self.deductible_met}, OOP {self.oop_met}"



class ClaimAssignment(models.Model):
    """Who holds a claim of the examiners' work queue (pended or appealed), so that two examiners do not
    work the same one. A row exists only while the claim is held: released, or decided (it left the
    queue), the row is deleted (`claims.services.assignment`)."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="assignment")
    # Indexed: "my queue" is read from this side (an examiner holds a few claims of many).
    examiner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claim_assignments")
    taken_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.claim} held by {self.examiner}"
