"""The claims app's errors (each a `core.errors.DomainError`, whose message dict names the field)."""
from core.errors import Conflict, DomainError


class ClaimError(DomainError):
    """Bad input to a claims service, named by its field; nothing was written."""


class ClaimConflict(ClaimError, Conflict):
    """The claim is no longer in the state the action expected (someone else acted first)."""
