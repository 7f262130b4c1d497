"""Writes for parties. Every write validates first (model.full_clean) and names the bad field."""
import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.validation import model_validate

from .models import Carrier, Employer, Member, PartyLink, Provider, Tpa
from .validators import member_id_generate


class PartyError(ValidationError):
    """The parties app's one error type: a ValidationError whose dict names the field."""


def _save_validated(obj, *, exclude=None):
    try:
        model_validate(obj, exclude=exclude)
    except ValidationError as exc:
        raise PartyError(exc.message_dict) from None
    obj.save()
    return obj


def tpa_create(*, name: str, ein: str = "") -> Tpa:
    return _save_validated(Tpa(name=name, ein=ein))


def carrier_create(*, name: str, naic_code: str = "") -> Carrier:
    return _save_validated(Carrier(name=name, naic_code=naic_code))


def employer_create(*, name: str, ein: str = "") -> Employer:
    return _save_validated(Employer(name=name, ein=ein))


def provider_register(*, name: str, npi: str, tin: str = "", network: str = Provider.Network.IN) -> Provider:
    return _save_validated(Provider(name=name, npi=str(npi), tin=tin, network=network))


def provider_update(*, provider: Provider, name: str, network: str) -> Provider:
    """Rename a provider or move it in or out of network (from then on: adjudicated claims keep theirs)."""
    provider.name, provider.network = name, network
    return _save_validated(provider)


def member_create(
    *, name: str, date_of_birth: datetime.date, employer: Employer | None = None,
    subscriber: Member | None = None, relationship: str = Member.Relationship.SUBSCRIBER,
) -> Member:
    """A member with a freshly generated member ID; enrolment in a plan is plans.services.

    The rules (family shape, a dependent's employer, date of birth) are Member.clean(); a dependent
    takes its subscriber's employer.
    """
    if subscriber is not None:
        employer = subscriber.employer
    for _ in range(5):
        member = Member(
            member_id=member_id_generate(), employer=employer, subscriber=subscriber,
            relationship=relationship, name=name, date_of_birth=date_of_birth,
        )
        try:
            with transaction.atomic():
                return _save_validated(member, exclude=["member_id"])
        except IntegrityError:  # a member ID collision: draw again
            continue
    raise PartyError({"member_id": ["Could not generate a unique member ID."]})


def user_link_party(*, user, role: str, party) -> PartyLink:
    """Tie a login to one party in one role (replacing any earlier link)."""
    if user is None or getattr(user, "pk", None) is None:
        raise PartyError({"user": ["A saved login is required."]})
    field = PartyLink.ROLE_PARTY.get(role)
    if field is None:
        raise PartyError({"role": [f"Unknown role {role!r}."]})
    expected = PartyLink._meta.get_field(field).related_model
    if not isinstance(party, expected):
        raise PartyError({field: [f"Role {role} links to a {expected._meta.verbose_name}."]})
    link, _ = PartyLink.objects.update_or_create(
        user=user, defaults={"role": role, "tpa": None, "provider": None, "employer": None, "carrier": None,
                             "member": None, field: party},
    )
    return link


def user_create_with_role(*, username: str, password: str, role: str, party, **extra) -> "PartyLink":
    User = get_user_model()
    with transaction.atomic():  # a refused link leaves no login behind
        user, created = User.objects.get_or_create(username=username, defaults=extra)
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        return user_link_party(user=user, role=role, party=party)
