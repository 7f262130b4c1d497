"""What the API keeps of its own: the idempotency keys of claim submissions."""
from django.conf import settings
from django.db import models

from claims.models import Claim


class IdempotencyKey(models.Model):
    """One `Idempotency-Key` a login sent with a claim submission, the body it came with (a SHA-256 of
    its canonical JSON) and the answer it got. The unique (login, key) constraint is what holds "one
    claim per key": a second request with the key, concurrent or later, cannot insert its row and
    replays the first answer instead (`api.services.claim_submit_once`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body's canonical JSON.")
    claim = models.ForeignKey(Claim, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    # The answer's JSON as sent (text, not jsonb: a replay is the same bytes, keys in the same order).
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="api_idempotency_key_once_per_login")]

    def __str__(self) -> str:
        return f"{self.key} ({self.user_id})"
