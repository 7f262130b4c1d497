"""Files received in X12 and what became of them: the file with its 999, and each claim's outcome."""
from django.conf import settings
from django.db import models
from django.db.models import Q

from claims.models import Claim
from parties.models import Provider


class InboundFile(models.Model):
    """An 837 file imported (the command or a provider's upload): its 999 and its claims' counts.

    A file that is not X12 at all is refused whole and leaves no row."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted"  # every claim taken in (some may be rejected at intake, as any claim)
        PARTIAL = "partial"  # some claims taken in, some refused
        REJECTED = "rejected"  # no claim taken in

    name = models.CharField(max_length=255)
    received_at = models.DateTimeField()
    size_bytes = models.BigIntegerField(default=0)
    # The login that uploaded it (None: the command, acting as the system) and its provider.
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    provider = models.ForeignKey(Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="inbound_files")
    interchange_control = models.CharField("ISA13", max_length=9, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    claims_found = models.PositiveIntegerField(default=0)
    claims_accepted = models.PositiveIntegerField("claims taken in", default=0)
    claims_refused = models.PositiveIntegerField(default=0)
    errors_found = models.PositiveIntegerField(default=0)
    ack_999 = models.TextField("999 acknowledgment")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["provider", "received_at"], name="inbound_file_provider")]
        constraints = [
            models.CheckConstraint(condition=Q(claims_accepted__lte=models.F("claims_found")),
                                   name="inbound_file_accepted_le_found"),
            models.CheckConstraint(
                condition=Q(claims_found=models.F("claims_accepted") + models.F("claims_refused")),
                name="inbound_file_counts_add_up"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.status}, {self.claims_accepted}/{self.claims_found} claims)"


class InboundClaim(models.Model):
    """One claim of an inbound file: taken in (the claim it made, submitted or rejected at intake) or
    refused (nothing stored), with the field or segment at fault."""

    class Outcome(models.TextChoices):
        SUBMITTED = "submitted"  # stored, passed the intake edits
        REJECTED = "rejected"  # stored, rejected by an intake edit
        REFUSED = "refused"  # not stored: an X12 error in it, malformed, or not the uploader's to send

    file = models.ForeignKey(InboundFile, on_delete=models.CASCADE, related_name="claims")
    position = models.PositiveIntegerField(help_text="The claim's place in the file, from 1.")
    set_control = models.CharField("ST02", max_length=9, blank=True)
    patient_control_number = models.CharField("CLM01", max_length=38, blank=True)
    claim = models.OneToOneField(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="inbound")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    field = models.CharField(max_length=60, blank=True)
    message = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["file", "position"]
        constraints = [
            models.UniqueConstraint(fields=["file", "position"], name="inbound_claim_position_unique"),
            models.CheckConstraint(condition=Q(outcome="refused", claim__isnull=True) | ~Q(outcome="refused"),
                                   name="inbound_claim_refused_stores_nothing"),
        ]

    def __str__(self) -> str:
        return f"{self.file_id}#{self.position} {self.patient_control_number}: {self.outcome}"
