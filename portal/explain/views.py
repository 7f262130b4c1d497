"""The explanations' pages: the whole claim lifecycle, the glossary, a claim explained (its lifecycle
path and its money, for every role that may see the claim: another party's claim is a 404, the same
check as the role's own claim page), and a sponsor's money this plan year (TPA staff, or the sponsor)."""
from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.http import require_GET

from claims.selectors import claim_access_by_id, claim_transitions
from core import clock
from core.errors import NotFound
from parties.models import Employer
from parties.roles import Action, user_is_tpa_staff
from portal.access import ROLE_HOME, STAFF, R, role_page

from .glossary import DOMAIN_DOC, glossary_terms
from .lifecycle import lifecycle_diagram
from .money_flow import claim_money_flow, sponsor_money_flow

EVERY_ROLE = tuple(ROLE_HOME)
# The role's own claim page, to go back to (an employer and a carrier have this page only).
CLAIM_PAGE = {R.PROVIDER_STAFF: "portal:provider-claim", R.CLAIMS_EXAMINER: "portal:examiner-claim",
              R.SUPERVISOR: "portal:examiner-claim", R.MEMBER: "portal:member-claim"}


@require_GET
@role_page(*EVERY_ROLE)
def lifecycle(request):
    return render(request, "portal/explain/lifecycle.html", {"diagram": lifecycle_diagram()})


@require_GET
@role_page(*EVERY_ROLE)
def glossary(request):
    return render(request, "portal/explain/glossary.html", {"terms": glossary_terms(), "source": DOMAIN_DOC.name})


def claim_explained_page(*roles: str):
    """A claim explained, for logins of `roles`: the claim is found (or 404) before the method is looked at."""
    @role_page(*roles)
    def claim_explained(request, claim_id: int):
        claim = claim_access_by_id(user=request.user, claim_id=claim_id, action=Action.CLAIM_VIEW)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        timeline = claim_transitions(claim=claim)
        return render(request, "portal/explain/claim.html", {
            "claim": claim, "timeline": timeline, "back": CLAIM_PAGE.get(request.portal_role),
            "money": claim_money_flow(claim=claim, user=request.user),
        })
    return claim_explained


@role_page(*STAFF, R.EMPLOYER_ADMIN)
def sponsor_money(request, employer_id: int):
    """A sponsor's money flows this plan year: any sponsor's for TPA staff, its own for a sponsor (another's: 404)."""
    found = Employer.objects.filter(pk=employer_id).first()
    if found is None or not (user_is_tpa_staff(user=request.user) or request.user.party_link.employer_id == found.pk):
        raise NotFound({"employer": [f"no sponsor {employer_id}"]})
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(request, "portal/explain/sponsor.html", {
        "employer": found, "sponsor_money": sponsor_money_flow(employer=found, today=clock.today()),
    })
