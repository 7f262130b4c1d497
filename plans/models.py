"""Benefit plans, what they cover, who is covered when, what a procedure is worth, stop-loss."""
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from parties.models import Carrier, Employer, Member

from .periods import effective_period, periods_effective, periods_overlap

MONEY = {"max_digits": 14, "decimal_places": 2}
# Field validators name the field in a form; the CheckConstraints below hold the same rules in the DB.
NON_NEGATIVE = [MinValueValidator(Decimal("0.00"))]
RATE = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))]


class FundingArrangement(models.TextChoices):
    ASO = "ASO", "ASO (self-funded, TPA pays from the sponsor's account)"
    ASC = "ASC", "ASC (self-funded, carrier pays then bills the sponsor)"
    FULLY_INSURED = "FULLY_INSURED", "Fully insured"


SELF_FUNDED = (FundingArrangement.ASO, FundingArrangement.ASC)


class FeeSchedule(models.Model):
    """The allowed amounts the TPA has negotiated, per procedure code and unit."""

    name = models.CharField(max_length=200, unique=True)

    def __str__(self) -> str:
        return self.name


class FeeScheduleEntry(models.Model):
    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="entries")
    code = models.CharField("procedure code", max_length=10)
    description = models.CharField(max_length=200, blank=True)
    category = models.SlugField(max_length=40)
    fee = models.DecimalField("fee per unit", validators=NON_NEGATIVE, **MONEY)

    class Meta:
        ordering = ["schedule", "code"]
        verbose_name_plural = "fee schedule entries"
        constraints = [
            models.UniqueConstraint(fields=["schedule", "code"], name="fee_entry_code_unique"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="fee_entry_fee_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.category} {self.fee}"


class Plan(models.Model):
    sponsor = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="plans")
    name = models.CharField(max_length=200)
    funding = models.CharField("funding arrangement", max_length=16, choices=FundingArrangement.choices)
    carrier = models.ForeignKey(
        Carrier, null=True, blank=True, on_delete=models.PROTECT, related_name="plans",
        help_text="ASC and fully insured: the carrier whose account pays the claims.",
    )
    fee_schedule = models.ForeignKey(FeeSchedule, on_delete=models.PROTECT, related_name="plans")
    year_start = models.DateField(help_text="The plan year starts on this month and day every year.")
    deductible_individual = models.DecimalField(validators=NON_NEGATIVE, **MONEY)
    deductible_family = models.DecimalField(validators=NON_NEGATIVE, **MONEY)
    oop_max_individual = models.DecimalField("out-of-pocket max, individual", validators=NON_NEGATIVE, **MONEY)
    oop_max_family = models.DecimalField("out-of-pocket max, family", validators=NON_NEGATIVE, **MONEY)
    coinsurance = models.DecimalField(max_digits=5, decimal_places=4, validators=RATE,
                                      help_text="The member's share, 0.20 for 20 %.")
    oon_covered = models.BooleanField("out-of-network covered", default=False)
    oon_coinsurance = models.DecimalField("out-of-network coinsurance", max_digits=5, decimal_places=4, null=True,
                                          blank=True, validators=RATE)
    timely_filing_days = models.PositiveIntegerField(default=365)
    review_threshold = models.DecimalField(default=Decimal("25000.00"), validators=NON_NEGATIVE, **MONEY)
    admin_fee_pepm = models.DecimalField("admin fee PEPM", default=Decimal("0.00"), validators=NON_NEGATIVE, **MONEY)
    premium_pepm = models.DecimalField("premium PEPM", default=Decimal("0.00"), validators=NON_NEGATIVE, **MONEY)

    class Meta:
        ordering = ["sponsor__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(funding__in=["ASO", "ASC", "FULLY_INSURED"]), name="plan_funding_valid"
            ),
            models.CheckConstraint(
                condition=Q(funding="ASO") | Q(carrier__isnull=False), name="plan_carrier_when_needed"
            ),
            models.CheckConstraint(
                condition=Q(
                    deductible_individual__gte=0, deductible_family__gte=0, oop_max_individual__gte=0,
                    oop_max_family__gte=0, review_threshold__gte=0, admin_fee_pepm__gte=0, premium_pepm__gte=0,
                ),
                name="plan_money_non_negative",
            ),
            models.CheckConstraint(condition=Q(coinsurance__gte=0, coinsurance__lte=1), name="plan_coinsurance_0_1"),
            models.CheckConstraint(
                condition=Q(oon_coinsurance__isnull=True) | Q(oon_coinsurance__gte=0, oon_coinsurance__lte=1),
                name="plan_oon_coinsurance_0_1",
            ),
            models.CheckConstraint(
                condition=Q(oon_covered=False) | Q(oon_coinsurance__isnull=False),
                name="plan_oon_cover_has_coinsurance",
            ),
            models.CheckConstraint(
                condition=~Q(year_start__month=2, year_start__day=29), name="plan_year_start_not_feb_29"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sponsor})"

    def clean(self):
        errors = {}
        if self.funding in (FundingArrangement.ASC, FundingArrangement.FULLY_INSURED) and not self.carrier_id:
            errors["carrier"] = f"A {self.funding} plan needs the carrier whose account pays its claims."
        if self.oon_covered and self.oon_coinsurance is None:
            errors["oon_coinsurance"] = "Out-of-network cover needs an out-of-network coinsurance."
        if self.year_start and (self.year_start.month, self.year_start.day) == (2, 29):
            errors["year_start"] = "A plan year cannot start on February 29."
        if errors:
            raise ValidationError(errors)

    @property
    def self_funded(self) -> bool:
        return self.funding in SELF_FUNDED


class CategoryBenefit(models.Model):
    """How a plan treats one service category: excluded, covered in full, or a copay."""

    class Treatment(models.TextChoices):
        EXCLUDED = "excluded", "Excluded (CARC 96)"
        COVERED_IN_FULL = "covered_in_full", "Covered in full (in network)"
        COPAY = "copay", "Copay (in network)"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="category_benefits")
    category = models.SlugField(max_length=40)
    treatment = models.CharField(max_length=16, choices=Treatment.choices)
    copay = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **MONEY)

    class Meta:
        ordering = ["plan", "category"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "category"], name="category_benefit_unique"),
            models.CheckConstraint(
                condition=(Q(treatment="copay", copay__isnull=False, copay__gte=0)
                           | (~Q(treatment="copay") & Q(copay__isnull=True))),
                name="category_benefit_copay_iff_copay",
            ),
        ]

    def __str__(self) -> str:
        if self.treatment == self.Treatment.COPAY:
            return f"{self.category}: copay {self.copay}"
        return f"{self.category}: {self.get_treatment_display()}"

    def clean(self):
        if self.treatment == self.Treatment.COPAY and self.copay is None:
            raise ValidationError({"copay": "A copay treatment needs the copay amount."})
        if self.treatment and self.treatment != self.Treatment.COPAY and self.copay is not None:
            raise ValidationError({"copay": "Only a copay treatment has a copay amount: leave this blank."})


class CoverageQuerySet(models.QuerySet):
    """The reads that coverage's own rules need (Coverage.clean); `plans.selectors` builds on them."""

    def effective_periods(self, *, member_ids, subscriber_of: dict | None = None) -> dict[int, list[tuple]]:
        """member id -> effective periods [(plan_id, start, end)], in two queries for any number of members.

        A dependent's missing start or end is its subscriber's current (latest) coverage's.
        """
        member_ids = set(member_ids)
        if not member_ids:
            return {}
        if subscriber_of is None:
            subscriber_of = dict(Member.objects.filter(pk__any=member_ids).order_by().values_list("pk", "subscriber_id"))
        wanted = member_ids | {s for s in subscriber_of.values() if s}
        raw: dict[int, list[tuple]] = {}
        for member_id, plan_id, start, end in (
            self.filter(member_id__any=wanted).order_by("member_id", "start", "pk")
            .values_list("member_id", "plan_id", "start", "end")
        ):
            raw.setdefault(member_id, []).append((plan_id, start, end))
        result = {}
        for member_id in member_ids:
            subscriber_id = subscriber_of.get(member_id)
            current = raw.get(subscriber_id, [None])[-1] if subscriber_id else None
            result[member_id] = periods_effective(raw.get(member_id, []), current)
        return result

    def subscriber_current_period(self, *, member: Member) -> tuple | None:
        """The (plan_id, start, end) of a dependent's subscriber's current coverage; None for a subscriber."""
        if not member.subscriber_id:
            return None
        periods = self.effective_periods(member_ids=[member.subscriber_id]).get(member.subscriber_id)
        return periods[-1] if periods else None

    def overlap_for(self, *, coverage: "Coverage") -> "Coverage | None":
        """Another coverage row of the same member whose effective dates overlap this one's."""
        subscriber_current = self.subscriber_current_period(member=coverage.member)
        my_period = effective_period(start=coverage.start, end=coverage.end, subscriber_current=subscriber_current)
        others = list(self.filter(member_id=coverage.member_id).exclude(pk=coverage.pk).order_by("start", "pk"))
        resolved = periods_effective([(o.plan_id, o.start, o.end) for o in others], subscriber_current)
        for other, (_, start, end) in zip(others, resolved):
            if periods_overlap(a=my_period, b=(start, end)):
                return other
        return None


class Coverage(models.Model):
    """A period in which a member is enrolled in a plan.

    A dependent's start or end left empty follows its subscriber's current coverage (DOMAIN.md §1).
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="coverages")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="coverages")
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)

    objects = CoverageQuerySet.as_manager()

    class Meta:
        ordering = ["member", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(end__gte=F("start")),
                name="coverage_end_not_before_start",
            ),
        ]
        indexes = [models.Index(fields=["plan", "member"])]

    def __str__(self) -> str:
        return f"{self.member} in {self.plan.name}: {self.start or 'subscriber'} – {self.end or 'open'}"

    def clean(self):
        if self.member_id is None or self.plan_id is None:
            return
        member = self.member
        if member.subscriber_id is None and self.start is None:
            raise ValidationError({"start": "A subscriber's coverage needs a start date."})
        if self.plan.sponsor_id != member.employer_id:
            raise ValidationError({"plan": "The plan must be the member's employer's plan."})
        current = Coverage.objects.subscriber_current_period(member=member)
        if member.subscriber_id is not None and self.start is None and current is None:
            raise ValidationError({"start": "The subscriber has no coverage to follow: enrol the subscriber first "
                                            "or give this coverage a start date."})
        start, end = effective_period(start=self.start, end=self.end, subscriber_current=current)
        if start and end and end < start:
            field = "end" if self.end is not None or self.start is None else "start"
            raise ValidationError({field: f"Coverage cannot end ({end}) before it starts ({start})."})
        if getattr(self, "overlap_checked_by_caller", False):
            return  # an admin formset holding all of the member's rows checks them against each other
        clash = Coverage.objects.overlap_for(coverage=self)
        if clash is not None:
            raise ValidationError({"start": f"Overlaps the member's coverage {clash.start or 'subscriber'} – "
                                            f"{clash.end or 'open'}."})


class StopLossPolicy(models.Model):
    class Contract(models.TextChoices):
        TWELVE_TWELVE = "12/12", "12/12 (incurred and paid in 12 months)"
        TWELVE_FIFTEEN = "12/15", "12/15 (incurred in 12, paid in 15 months)"

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="stop_loss_policies")
    carrier = models.ForeignKey(Carrier, on_delete=models.PROTECT, related_name="stop_loss_policies")
    start = models.DateField()
    contract = models.CharField(max_length=5, choices=Contract.choices)
    specific_attachment = models.DecimalField(validators=NON_NEGATIVE, **MONEY)
    aggregate_attachment = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **MONEY)
    expected_claims = models.DecimalField(null=True, blank=True, validators=NON_NEGATIVE, **MONEY)
    aggregate_factor = models.DecimalField(max_digits=6, decimal_places=4, null=True, blank=True)

    class Meta:
        verbose_name_plural = "stop-loss policies"
        constraints = [
            models.CheckConstraint(condition=Q(contract__in=["12/12", "12/15"]), name="stop_loss_contract_valid"),
            models.CheckConstraint(condition=Q(specific_attachment__gte=0), name="stop_loss_specific_non_negative"),
            models.CheckConstraint(
                condition=Q(aggregate_attachment__isnull=True) | Q(aggregate_attachment__gte=0),
                name="stop_loss_aggregate_non_negative",
            ),
            models.CheckConstraint(
                condition=(Q(aggregate_attachment__isnull=True)
                           | (Q(expected_claims__isnull=True) & Q(aggregate_factor__isnull=True))),
                name="stop_loss_aggregate_amount_or_expected_not_both",
            ),
            models.CheckConstraint(
                # Both or neither (spelled out: a comparison with NULL would let one alone pass).
                condition=Q(expected_claims__isnull=True, aggregate_factor__isnull=True)
                | Q(expected_claims__isnull=False, aggregate_factor__isnull=False, expected_claims__gte=0,
                    aggregate_factor__gt=0),
                name="stop_loss_expected_claims_with_factor",
            ),
            models.UniqueConstraint(fields=["plan", "start"], name="stop_loss_one_policy_per_start"),
        ]

    def __str__(self) -> str:
        return f"Stop-loss {self.contract} for {self.plan.sponsor} from {self.start}"

    def clean(self):
        errors = {}
        if self.plan_id and not self.plan.self_funded:
            errors["plan"] = "Stop-loss cover exists only for self-funded (ASO, ASC) plans."
        if self.aggregate_attachment is not None and (self.expected_claims is not None or self.aggregate_factor is not None):
            errors["aggregate_attachment"] = "Give an aggregate attachment or expected claims with a factor, not both."
        if (self.expected_claims is None) != (self.aggregate_factor is None):
            errors["aggregate_factor"] = "Expected claims and the aggregate factor go together."
        elif self.aggregate_factor is not None and self.aggregate_factor <= 0:
            errors["aggregate_factor"] = "The aggregate factor is a multiplier greater than 0, such as 1.25."
        if errors:
            raise ValidationError(errors)


class StopLossLaser(models.Model):
    """A member-specific attachment point that replaces the policy's for that member."""

    policy = models.ForeignKey(StopLossPolicy, on_delete=models.CASCADE, related_name="lasers")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="stop_loss_lasers")
    attachment = models.DecimalField(validators=NON_NEGATIVE, **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["policy", "member"], name="stop_loss_laser_unique"),
            models.CheckConstraint(condition=Q(attachment__gte=0), name="stop_loss_laser_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Laser {self.attachment} on {self.member}"

    def clean(self):
        # The policy may be unsaved yet (the admin's add page validates its lasers first): use the object.
        policy = StopLossLaser.policy.field.get_cached_value(self, None) if self.policy_id is None else self.policy
        if policy is not None and policy.plan_id is not None and self.member_id is not None:
            if self.member.employer_id != policy.plan.sponsor_id:
                raise ValidationError({"member": f"{self.member} is not a member of {policy.plan.sponsor}."})
