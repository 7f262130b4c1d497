"""The header every dashboard page shows: the business date, the login and the party it works for."""
from core import clock

from .access import ROLE_HOME, portal_role


def portal_header(request) -> dict:
    if not request.resolver_match or request.resolver_match.namespace != "portal":
        return {}
    user = request.user
    header = {"business_date": clock.today()}
    if user.is_authenticated:
        role = portal_role(user=user)
        link = getattr(user, "party_link", None) if role else None
        header.update({
            "portal_role": role,
            "portal_role_label": link.get_role_display() if link else ("Administrator" if role else ""),
            "portal_party": str(link.party) if link else "",
            "portal_home": ROLE_HOME.get(role, "portal:login"),
        })
    return header
