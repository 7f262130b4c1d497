"""The API's one write of its own: a claim submission held to its Idempotency-Key.

The claim itself is received by the one intake service (`claims.services.intake.claim_submit`, with
the login acting as `submitted_by`); what is added here is "a retried request returns the first claim,
never a second one". The key's row is inserted first, in the same transaction as the claim: a second
request with the key (a retry, or one racing the first) cannot insert it (the unique constraint
waits for the first transaction, then refuses), so it replays the stored answer. A refused submission
(bad input, a role that may not submit) rolls the key back with everything else: nothing is written.
"""
import hashlib
import json
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from claims.services.intake import claim_submit
from core.errors import DomainError

from .errors import IdempotencyKeyReused
from .models import IdempotencyKey
from .presenters import claim_detail

KEY_WIDTH = IdempotencyKey._meta.get_field("key").max_length
HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Submitted:
    status: int
    body: dict
    replayed: bool


def idempotency_key_parse(value: str | None) -> str | None:
    """The header's key: 1 to 255 printable ASCII characters; absent -> None (no idempotency asked)."""
    if value is None:
        return None
    if not value or len(value) > KEY_WIDTH or not value.isascii() or not value.isprintable():
        raise DomainError({HEADER: [f"must be 1 to {KEY_WIDTH} printable ASCII characters"]})
    return value


def request_fingerprint(payload) -> str:
    """The body's identity: SHA-256 of its canonical JSON (keys sorted; 150.10 and "150.10" differ)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _submit(*, user, payload: dict):
    return claim_submit(member_id=payload.get("member_id"), npi=payload.get("npi"),
                        service_date=payload.get("service_date"), lines=payload.get("lines"), submitted_by=user)


def _replay(*, row: IdempotencyKey, fingerprint: str) -> Submitted:
    if row.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused()
    return Submitted(status=row.response_status, body=json.loads(row.response_body), replayed=True)


def claim_submit_once(*, user, payload: dict, key: str | None) -> Submitted:
    """Submit a claim for `user`; with a key, at most once per (login, key). ClaimError, Forbidden:
    nothing written. The same key with another body: IdempotencyKeyReused (422), nothing written."""
    if key is None:
        return Submitted(status=201, body=claim_detail(_submit(user=user, payload=payload)), replayed=False)
    fingerprint = request_fingerprint(payload)
    found = IdempotencyKey.objects.filter(user=user, key=key).first()
    if found is not None:
        return _replay(row=found, fingerprint=fingerprint)
    try:
        with transaction.atomic():
            row = IdempotencyKey.objects.create(user=user, key=key, request_fingerprint=fingerprint)
            claim = _submit(user=user, payload=payload)
            body = claim_detail(claim)
            text = json.dumps(body)
            row.claim, row.response_status, row.response_body = claim, 201, text
            row.save(update_fields=["claim", "response_status", "response_body"])
    except IntegrityError:
        # Another request with this key got there first (and has committed: the insert waited for it).
        found = IdempotencyKey.objects.filter(user=user, key=key).first()
        if found is None:
            raise
        return _replay(row=found, fingerprint=fingerprint)
    return Submitted(status=201, body=json.loads(text), replayed=False)
