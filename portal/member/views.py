"""The member's pages: its deductible and out-of-pocket progress (individual and family), its claims with
their explanations of benefits (printable), and a printable ID card.

What a member sees is the access layer's: a subscriber its own and its dependents' claims and figures,
a dependent only its own (`claims.selectors.claim_list_visible_to`); another family's claim is a 404.
The family figures are the family's totals, which a dependent sees too: the family deductible, once met,
ends the deductible of everyone in the family (DOMAIN.md), so each member needs to know where it stands.
"""
from django import forms
from django.http import HttpResponseNotAllowed
from django.shortcuts import render
from django.views.decorators.http import require_GET

from claims.models import Claim, ClaimState
from claims.selectors import claim_access_by_id, claim_list_visible_to
from core import clock
from parties.models import Member
from parties.roles import Action
from parties.selectors import family_members
from plans.selectors import member_id_card_for
from portal.access import R, role_page
from portal.claim_pages import claim_outcome
from portal.lists import list_page

from .eob import eob_context
from .progress import benefit_progress

ROLES = (R.MEMBER,)
RECENT_CLAIMS = 5
CLAIM_SORTS = {"service": "service_date", "received": "received_date", "billed": "billed",
               "owed": "member_responsibility"}


def _login_member(request) -> Member:
    return request.user.party_link.member


def _household(member: Member) -> list[Member]:
    """The members whose claims and figures the login sees: a subscriber's family (itself first, then
    its dependents by age), or a dependent alone. The same rule as claim_list_visible_to."""
    if member.subscriber_id is not None:
        return [member]
    return list(family_members(subscriber=member).order_by("subscriber_id", "date_of_birth", "pk"))


@require_GET
@role_page(*ROLES)
def home(request):
    member = _login_member(request)
    household = _household(member)
    today = clock.today()
    recent = list(claim_list_visible_to(user=request.user).order_by("-received_date", "-pk")[:RECENT_CLAIMS])
    return render(request, "portal/member/home.html", {
        "active": "home", "member": member, "today": today, "recent": recent, "several": len(household) > 1,
        **benefit_progress(member=member, household=household, today=today),
    })


class ClaimFilters(forms.Form):
    patient = forms.TypedChoiceField(label="Family member", required=False, coerce=int, empty_value=None)
    state = forms.ChoiceField(label="State", required=False,
                              choices=[("", "Any state"), *[(s.value, s.label) for s in ClaimState]])

    def __init__(self, *args, household: list[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [("", "Everyone"), *[(m.pk, m.name) for m in household]]


@require_GET
@role_page(*ROLES)
def claims(request):
    """The family's claims (a dependent's own), newest service first, filtered by family member and state.
    A filter with a bad value is named in a message and not applied."""
    household = _household(_login_member(request))
    form = ClaimFilters(request.GET or None, household=household)
    qs = claim_list_visible_to(user=request.user)
    if form.is_bound:
        form.is_valid()
        chosen = getattr(form, "cleaned_data", {})
        if chosen.get("patient"):
            qs = qs.filter(member_id=chosen["patient"])
        if chosen.get("state"):
            qs = qs.filter(state=chosen["state"])
    page = list_page(request, qs, sorts=CLAIM_SORTS, default="-service")
    return render(request, "portal/member/claims.html", {
        "active": "claims", "form": form, "page": page, "several": len(household) > 1,
    })


def _visible_claim(request, claim_id: int) -> Claim:
    """The claim, or 404 (another family's, or none): checked before the method, so any method gets it."""
    return claim_access_by_id(user=request.user, claim_id=claim_id, action=Action.CLAIM_VIEW)


@role_page(*ROLES)
def claim(request, claim_id: int):
    """One claim: its facts, its explanation of benefits, its outcome per line and its timeline."""
    found = _visible_claim(request, claim_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(request, "portal/member/claim.html", {
        "active": "claims", **claim_outcome(claim=found), **eob_context(claim=found),
    })


@role_page(*ROLES)
def claim_eob(request, claim_id: int):
    """The explanation of benefits alone, to print (the header and menu are not printed)."""
    found = _visible_claim(request, claim_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return render(request, "portal/member/claim_eob.html", {"active": "claims", **eob_context(claim=found)})


class CardChoice(forms.Form):
    card_of = forms.TypedChoiceField(label="Card of", coerce=int)

    def __init__(self, *args, household: list[Member], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["card_of"].choices = [(m.pk, m.name) for m in household]


@require_GET
@role_page(*ROLES)
def id_card(request):
    """A printable ID card (the plan, the member ID, the deductible and out-of-pocket maximum); a subscriber
    may print each of its family's."""
    member = _login_member(request)
    household = _household(member)
    form = CardChoice(request.GET or None, household=household, initial={"card_of": member.pk})
    shown = member
    if form.is_bound and form.is_valid():
        shown = next(m for m in household if m.pk == form.cleaned_data["card_of"])
    return render(request, "portal/member/id_card.html", {
        "active": "id-card", "form": form, "several": len(household) > 1, **member_id_card_for(member=shown),
    })
