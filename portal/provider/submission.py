"""A claim form sent twice makes one claim: the form carries a one-time token, kept with the claim it made.

The intake service is the one every channel uses; this only makes the provider's form idempotent
under a double click, a reload or a retry (a file import or the API has keys of their own).
"""
import uuid

from django.db import IntegrityError, transaction

from claims.models import Claim
from claims.services import claim_submit

from ..models import ClaimSubmissionToken


def claim_submitted_with(*, user, token: uuid.UUID) -> Claim | None:
    """The claim this login's form with `token` made, if it was sent before."""
    claim_id = (ClaimSubmissionToken.objects.filter(user=user, token=token, claim__isnull=False)
                .values_list("claim_id", flat=True).first())
    return Claim.objects.filter(pk=claim_id).first() if claim_id else None


def claim_submit_once(*, user, token: uuid.UUID, member_id: str, npi: str, service_date, lines) -> tuple[Claim, bool]:
    """`claims.services.claim_submit` once per (login, token): (the claim, whether it was made before).

    The token's row is written first, in the claim's transaction: a second request with the same
    token waits on the unique constraint until the first commits, then finds its claim. A refusal
    (ClaimError) rolls the token back with everything else, so the corrected form can be sent again.
    """
    earlier = claim_submitted_with(user=user, token=token)
    if earlier is not None:
        return earlier, True
    try:
        with transaction.atomic():
            ClaimSubmissionToken.objects.create(user=user, token=token)
            claim = claim_submit(member_id=member_id, npi=npi, service_date=service_date, lines=lines,
                                 submitted_by=user)
            ClaimSubmissionToken.objects.filter(user=user, token=token).update(claim=claim)
    except IntegrityError:
        earlier = claim_submitted_with(user=user, token=token)
        if earlier is None:
            raise
        return earlier, True
    return claim, False
