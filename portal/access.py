"""Which role's pages a login may open, and the refusals every page answers the same way.

What a login may *do* is `parties.roles` (checked by the services); which *objects* it may see is each
model's `*_visible_to(user)` selector (another party's object is a 404). This module only routes a
login to its role's pages: a page of another role is a 403, an anonymous request goes to the login page.
"""
import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from core.http import refusals_as_http
from parties.models import PartyLink
from parties.roles import role_of

R = PartyLink.Role

# The role's home page (URL name) and the header's name for it.
ROLE_HOME = {
    R.PROVIDER_STAFF: "portal:provider-home",
    R.CLAIMS_EXAMINER: "portal:examiner-home",
    R.SUPERVISOR: "portal:supervisor-home",
    R.EMPLOYER_ADMIN: "portal:employer-home",
    R.CARRIER_ANALYST: "portal:carrier-home",
    R.MEMBER: "portal:member-home",
    R.TRAINER: "training:home",  # the Training area (training/urls.py)
}


def portal_role(*, user) -> str | None:
    """The role whose pages the login works in: its party link's; a superuser without one is a supervisor."""
    role = role_of(user=user)
    if role is None and getattr(user, "is_superuser", False) and user.is_active:
        return R.SUPERVISOR
    return role


def role_page(*roles: str):
    """A page for logins of `roles`: anonymous -> the login page; another role -> 403; a domain refusal
    raised inside (NotFound, Forbidden) -> 404 / 403. The view gets `request.portal_role`."""
    allowed = frozenset(roles)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), "portal:login")
            role = portal_role(user=user)
            if role not in allowed:
                raise PermissionDenied("This page is for another role.")
            request.portal_role = role
            with refusals_as_http():
                return view(request, *args, **kwargs)
        wrapper.portal_roles = allowed
        return wrapper
    return decorate


STAFF = (R.CLAIMS_EXAMINER, R.SUPERVISOR)
