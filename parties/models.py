"""Who takes part: the TPA, carriers, plan sponsors (employers), providers, members, and logins."""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.clock import today

from .validators import validate_ein, validate_member_id, validate_npi, validate_tin


class Tpa(models.Model):
    name = models.CharField(max_length=200, unique=True)
    ein = models.CharField("EIN", max_length=10, blank=True, validators=[validate_ein])

    class Meta:
        verbose_name = "TPA"
        verbose_name_plural = "TPAs"

    def __str__(self) -> str:
        return self.name


class Carrier(models.Model):
    name = models.CharField(max_length=200)
    naic_code = models.CharField("NAIC code", max_length=5, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Employer(models.Model):
    """A plan sponsor: the company that offers the plan to its employees."""

    name = models.CharField(max_length=200)
    ein = models.CharField("EIN", max_length=10, blank=True, validators=[validate_ein])

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ein"], condition=~Q(ein=""), name="employer_ein_unique",
                violation_error_code="unique", violation_error_message="An employer with this EIN already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Provider(models.Model):
    class Network(models.TextChoices):
        IN = "in", "In network"
        OUT = "out", "Out of network"

    name = models.CharField(max_length=200)
    npi = models.CharField("NPI", max_length=10, unique=True, validators=[validate_npi])
    tin = models.CharField("TIN", max_length=10, blank=True, validators=[validate_tin])
    network = models.CharField(max_length=3, choices=Network.choices, default=Network.IN)

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=Q(network__in=["in", "out"]), name="provider_network_valid")]

    def __str__(self) -> str:
        return f"{self.name} (NPI {self.npi})"

    @property
    def in_network(self) -> bool:
        return self.network == self.Network.IN


class Member(models.Model):
    """A subscriber (the employee) or a dependent enrolled under a subscriber."""

    class Relationship(models.TextChoices):
        SUBSCRIBER = "subscriber", "Subscriber"
        SPOUSE = "spouse", "Spouse"
        CHILD = "child", "Child"
        OTHER = "other", "Other dependent"

    member_id = models.CharField("member ID", max_length=10, unique=True, validators=[validate_member_id])
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="members")
    subscriber = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="dependents"
    )
    relationship = models.CharField(max_length=12, choices=Relationship.choices, default=Relationship.SUBSCRIBER)
    name = models.CharField(max_length=200)
    date_of_birth = models.DateField()

    class Meta:
        ordering = ["name"]
        constraints = [
            # A subscriber has no subscriber; a dependent always has one.
            models.CheckConstraint(
                condition=(Q(relationship="subscriber", subscriber__isnull=True)
                           | (~Q(relationship="subscriber") & Q(subscriber__isnull=False))),
                name="member_relationship_matches_subscriber",
            ),
        ]
        indexes = [models.Index(fields=["employer", "relationship"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.member_id})"

    def clean(self):
        """The member rules (one place): family shape, employer of a dependent, date of birth."""
        errors = {}
        if self.subscriber_id is not None:
            subscriber = self.subscriber
            if self.relationship == self.Relationship.SUBSCRIBER:
                errors["relationship"] = "A dependent's relationship is spouse, child or other."
            if self.pk is not None and subscriber.pk == self.pk:
                errors["subscriber"] = "A member cannot be its own subscriber."
            elif subscriber.subscriber_id is not None:
                errors["subscriber"] = "A dependent's subscriber must be a subscriber, not a dependent."
            elif self.pk is not None and Member.objects.filter(subscriber_id=self.pk).exists():
                errors["subscriber"] = "This member has dependents of its own and cannot become a dependent."
            if self.employer_id is not None and subscriber.employer_id != self.employer_id:
                errors["employer"] = f"A dependent has its subscriber's employer ({subscriber.employer})."
        elif self.relationship and self.relationship != self.Relationship.SUBSCRIBER:
            errors["subscriber"] = "A dependent needs its subscriber."
        if self.date_of_birth is not None and self.date_of_birth > today():
            errors["date_of_birth"] = "The date of birth cannot be in the future."
        if errors:
            raise ValidationError(errors)

    @property
    def is_subscriber(self) -> bool:
        return self.subscriber_id is None

    @property
    def family_subscriber_id(self) -> int:
        return self.subscriber_id or self.pk


class PartyLink(models.Model):
    """Ties one login to exactly one party and one role."""

    class Role(models.TextChoices):
        PROVIDER_STAFF = "provider_staff", "Provider staff"
        CLAIMS_EXAMINER = "claims_examiner", "Claims examiner"
        SUPERVISOR = "supervisor", "Supervisor"
        EMPLOYER_ADMIN = "employer_admin", "Employer admin"
        CARRIER_ANALYST = "carrier_analyst", "Carrier analyst"
        MEMBER = "member", "Member"
        TRAINER = "trainer", "Trainer"  # runs demo training sessions (the Training area), nothing else

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="party_link")
    role = models.CharField(max_length=20, choices=Role.choices)
    tpa = models.ForeignKey(Tpa, null=True, blank=True, on_delete=models.CASCADE)
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.CASCADE)
    employer = models.ForeignKey(Employer, null=True, blank=True, on_delete=models.CASCADE)
    carrier = models.ForeignKey(Carrier, null=True, blank=True, on_delete=models.CASCADE)
    member = models.ForeignKey(Member, null=True, blank=True, on_delete=models.CASCADE)

    ROLE_PARTY = {
        Role.PROVIDER_STAFF: "provider",
        Role.CLAIMS_EXAMINER: "tpa",
        Role.SUPERVISOR: "tpa",
        Role.EMPLOYER_ADMIN: "employer",
        Role.CARRIER_ANALYST: "carrier",
        Role.MEMBER: "member",
        Role.TRAINER: "tpa",
    }

    class Meta:
        constraints = [
            # Exactly the one party the role needs is set, and no other.
            models.CheckConstraint(
                condition=(
                    Q(role="provider_staff", provider__isnull=False, tpa__isnull=True, employer__isnull=True, carrier__isnull=True, member__isnull=True)
                    | Q(role__in=["claims_examiner", "supervisor", "trainer"], tpa__isnull=False, provider__isnull=True,
                        employer__isnull=True, carrier__isnull=True, member__isnull=True)
                    | Q(role="employer_admin", employer__isnull=False, tpa__isnull=True, provider__isnull=True, carrier__isnull=True, member__isnull=True)
                    | Q(role="carrier_analyst", carrier__isnull=False, tpa__isnull=True, provider__isnull=True, employer__isnull=True, member__isnull=True)
                    | Q(role="member", member__isnull=False, tpa__isnull=True, provider__isnull=True, employer__isnull=True, carrier__isnull=True)
                ),
                name="party_link_one_party_for_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.party}"

    def clean(self):
        """Exactly the one party that the role needs (the DB constraint, with a field to blame)."""
        field = self.ROLE_PARTY.get(self.role)
        if field is None:
            return
        errors = {}
        if getattr(self, f"{field}_id") is None:
            verbose = self._meta.get_field(field).related_model._meta.verbose_name
            errors[field] = f"A {self.get_role_display().lower()} is linked to a {verbose}."
        for other in sorted(set(self.ROLE_PARTY.values()) - {field}):
            if getattr(self, f"{other}_id") is not None:
                errors[other] = f"A {self.get_role_display().lower()} is linked to a {field} only: leave this blank."
        if errors:
            raise ValidationError(errors)

    @property
    def party(self):
        return getattr(self, self.ROLE_PARTY[self.role])
