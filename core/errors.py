"""The one error base of the domain, and the refusals every app shares.

Every app raises its own subclass of `DomainError` (`PartyError`, `PlanError`, `ClaimError`,
`FundingError`): a Django `ValidationError` whose message dict names the field. Screens and the API
map the classes below to HTTP in one place: `NotFound` 404 (also for an object the user may not see),
`Forbidden` 403 (an action the user's role may not take), `Conflict` 409 (someone acted first),
anything else 400.
"""
from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """Bad input or a refused action, with the field it concerns: {field: [messages]}."""

    http_status = 400

    def text(self) -> str:
        """The messages in one line, each after its field ("amount: must be greater than 0.00")."""
        return "; ".join(f"{field}: {' '.join(msgs)}" if field != "__all__" else " ".join(msgs)
                         for field, msgs in self.message_dict.items())


class NotFound(DomainError):
    """No such object, or one the user may not see: the same answer for both."""

    http_status = 404


class Forbidden(DomainError):
    """The user may see the object, but its role may not take this action."""

    http_status = 403


class Conflict(DomainError):
    """The object is no longer in the state the action expected (someone else acted first)."""

    http_status = 409
