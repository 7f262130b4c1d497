"""The funding app's error (a `core.errors.DomainError`, whose message dict names the field)."""
from core.errors import DomainError


class FundingError(DomainError):
    """Bad input to a funding service, named by its field; nothing was written."""
