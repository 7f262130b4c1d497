"""The REST API's views: thin. Each reads through the domain's visibility selectors and services
(another party's object is a 404, an action the role may not take a 403) and renders the answer;
every error is the one shape of `api.errors`."""
import datetime

from django.contrib.auth import authenticate
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.models import ClaimState
from claims.selectors import (
    claim_access_by_id,
    claim_list_visible_to,
    member_eligibility_on,
    member_eob_claims_visible_to,
    member_get_visible_to,
)
from core import clock
from core.dates import date_parse
from core.errors import DomainError, NotFound
from funding.selectors import (
    fee_billing_list_visible_to,
    funding_request_list_visible_to,
    reimbursement_invoice_list_visible_to,
    remittance_claims_for,
    remittance_list_visible_to,
    remittance_payment_list,
)
from interchange.fhir import coverage_resource, eob_bundle
from interchange.x12 import remittance_835
from parties.roles import Action, role_of

from . import presenters
from .errors import LockedOut
from .pagination import DEFAULT_LIMIT, MAX_ID, MAX_LIMIT, KeysetPagination, whole_number_param
from .serializers import (
    ClaimDetailSerializer,
    ClaimSubmitSerializer,
    ClaimSummarySerializer,
    EligibilitySerializer,
    ErrorSerializer,
    FeeBillingSerializer,
    FundingRequestSerializer,
    MeSerializer,
    ReimbursementInvoiceSerializer,
    RemittanceClaimSerializer,
    RemittanceSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from .services import HEADER, claim_submit_once, idempotency_key_parse
from .throttles import AnonymousRateThrottle, TokenRateThrottle

ERR = OpenApiResponse(ErrorSerializer)
# The errors every authenticated operation may answer (401 no or a bad token, 429 too many requests).
COMMON = {401: ERR, 429: ERR}
EARLIEST_DATE, LATEST_DATE = datetime.date(1900, 1, 1), datetime.date(9998, 12, 31)


def object_id(text, *, field: str, noun: str) -> int:
    """An id from the path: digits naming a row that can exist, else NotFound (the same as no such row)."""
    text = str(text)
    if not (text.isascii() and text.isdecimal()) or len(text) > 19 or not 0 < int(text) <= MAX_ID:
        raise NotFound({field: [f"no {noun} {text[:40]!r}"]})
    return int(text)


def id_path(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, OpenApiParameter.PATH, description=description)


def _paginated(request, view, queryset, present):
    paginator = KeysetPagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(present(page))


def _sponsor_filter(request, queryset, field: str):
    sponsor = whole_number_param(request, "sponsor", low=1, high=MAX_ID)
    return queryset.filter(**{field: sponsor}) if sponsor is not None else queryset


SPONSOR_PARAM = OpenApiParameter("sponsor", OpenApiTypes.INT, description="Only this sponsor's (employer id).")


class ApiView(APIView):
    pagination_class = KeysetPagination


# --- Logins ---------------------------------------------------------------------------------------

class TokenView(APIView):
    """A login's API token, for its username and password (django-axes counts the failures: five lock
    the login for a while, right password or not)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenRateThrottle, AnonymousRateThrottle]
    throttle_scope = "token"

    @extend_schema(operation_id="token_create", request=TokenRequestSerializer, auth=[],
                   responses={200: TokenSerializer, 400: ERR, 429: ERR}, tags=["logins"])
    def post(self, request):
        form = TokenRequestSerializer(data=request.data if isinstance(request.data, dict) else {})
        form.is_valid(raise_exception=True)
        django_request = request._request  # axes keeps its flags on Django's request, not DRF's wrapper
        user = authenticate(request=django_request, username=form.validated_data["username"],
                            password=form.validated_data["password"])
        if getattr(django_request, "axes_locked_out", False):
            # Answered here in the API's shape; axes' middleware would otherwise replace it with its page.
            django_request.axes_locked_out = False
            raise LockedOut()
        if user is None or not user.is_active:
            raise DomainError({"password": ["Unable to log in with this username and password."]})
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(ApiView):
    @extend_schema(operation_id="me", responses={200: MeSerializer, **COMMON}, tags=["logins"])
    def get(self, request):
        link = getattr(request.user, "party_link", None) if role_of(user=request.user) else None
        party = link and (link.provider or link.employer or link.carrier or link.member or link.tpa)
        return Response(MeSerializer({"username": request.user.get_username(), "role": role_of(user=request.user),
                                      "party": str(party) if party else None}).data)


# --- Claims -----------------------------------------------------------------------------------------

class ClaimListView(ApiView):
    @extend_schema(
        operation_id="claims_list", tags=["claims"],
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ClaimState.values,
                                     description="Only claims in this state.")],
        responses={200: ClaimSummarySerializer(many=True), 400: ERR, **COMMON},
    )
    def get(self, request):
        """The claims the login may see, newest first."""
        qs = claim_list_visible_to(user=request.user)
        status = request.query_params.get("status")
        if status is not None:
            if status not in ClaimState.values:
                raise DomainError({"status": [f"must be one of {', '.join(ClaimState.values)}"]})
            qs = qs.filter(state=status)
        return _paginated(request, self, qs, presenters.claim_summaries)

    @extend_schema(
        operation_id="claims_submit", tags=["claims"], request=ClaimSubmitSerializer,
        parameters=[OpenApiParameter(HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, description=(
            "Optional, 1 to 255 printable ASCII characters. A retry with the same key (same login) answers the "
            "first submission's response and submits nothing; the same key with a different body is refused "
            "(422 idempotency_key_reused)."))],
        responses={201: ClaimDetailSerializer, 400: ERR, 403: ERR, 415: ERR, 422: ERR, **COMMON},
    )
    def post(self, request):
        """Submit a claim, through the one intake service. A claim that fails an intake edit is stored
        `rejected` (201, with the field and the reason); malformed input is a 400 naming the field, and
        nothing is written."""
        payload = request.data
        if not isinstance(payload, dict):
            raise DomainError({"body": ["must be a JSON object with member_id, npi, service_date and lines"]})
        key = idempotency_key_parse(request.headers.get(HEADER))
        answer = claim_submit_once(user=request.user, payload=payload, key=key)
        headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
        return Response(answer.body, status=answer.status, headers=headers)


class ClaimDetailView(ApiView):
    @extend_schema(operation_id="claims_read", tags=["claims"], parameters=[id_path("claim_id", "The claim's id.")],
                   responses={200: ClaimDetailSerializer, 403: ERR, 404: ERR, **COMMON})
    def get(self, request, claim_id):
        """A claim's status, totals, outcome per line (figures, CARCs, the trace's steps) and timeline."""
        claim = claim_access_by_id(user=request.user, claim_id=object_id(claim_id, field="claim", noun="claim"),
                                   action=Action.CLAIM_VIEW)
        return Response(presenters.claim_detail(claim))


# --- Eligibility -------------------------------------------------------------------------------------

class EligibilityView(ApiView):
    @extend_schema(
        operation_id="eligibility_read", tags=["eligibility"],
        parameters=[OpenApiParameter("member_id", OpenApiTypes.STR, required=True, description="The member ID."),
                    OpenApiParameter("on", OpenApiTypes.DATE, description="The date asked about (default: today).")],
        responses={200: EligibilitySerializer, 400: ERR, 403: ERR, **COMMON},
    )
    def get(self, request):
        """Whether a member's coverage is in force on a date, its benefits, and the deductible and
        out-of-pocket met and remaining (a 270/271 exchange). For the logins that may submit claims."""
        member_id = request.query_params.get("member_id")
        if not member_id:
            raise DomainError({"member_id": ["a member ID is required"]})
        on = request.query_params.get("on")
        if on is None or on == "":
            on = clock.today()
        else:
            try:
                on = date_parse(on)
            except ValueError as exc:
                raise DomainError({"on": [str(exc)[:200]]}) from None
            if not EARLIEST_DATE <= on <= LATEST_DATE:
                raise DomainError({"on": [f"must be from {EARLIEST_DATE} to {LATEST_DATE}"]})
        answer = member_eligibility_on(member_id=member_id[:40], on=on, user=request.user)
        member, plan = answer["member"], answer["plan"]
        answer = {**answer,
                  "member": {"member_id": member.member_id, "name": member.name} if member else None,
                  "plan": {"id": plan.pk, "name": plan.name, "sponsor": plan.sponsor.name} if plan else None}
        return Response(EligibilitySerializer(answer).data)


# --- Remittances ---------------------------------------------------------------------------------------

def _remittance(request, remittance_id):
    found = remittance_list_visible_to(user=request.user).filter(
        pk=object_id(remittance_id, field="remittance", noun="remittance")).first()
    if found is None:
        raise NotFound({"remittance": [f"no remittance {str(remittance_id)[:40]}"]})
    return found


REMITTANCE_ID = id_path("remittance_id", "The remittance advice's id.")


class RemittanceListView(ApiView):
    @extend_schema(operation_id="remittances_list", tags=["remittances"],
                   responses={200: RemittanceSerializer(many=True), 400: ERR, **COMMON})
    def get(self, request):
        """The remittance advices the login may see (a provider its own), newest first."""
        return _paginated(request, self, remittance_list_visible_to(user=request.user), presenters.remittances)


class RemittanceDetailView(ApiView):
    @extend_schema(operation_id="remittances_read", tags=["remittances"], parameters=[REMITTANCE_ID],
                   responses={200: RemittanceSerializer, 404: ERR, **COMMON})
    def get(self, request, remittance_id):
        return Response(presenters.remittances([_remittance(request, remittance_id)])[0])


class RemittanceClaimsView(ApiView):
    @extend_schema(operation_id="remittances_claims", tags=["remittances"], parameters=[REMITTANCE_ID],
                   responses={200: RemittanceClaimSerializer(many=True), 400: ERR, 404: ERR, **COMMON})
    def get(self, request, remittance_id):
        """The claims a remittance paid, a page at a time: billed, paid, the patient's part and per line
        the adjustments (group, CARC, amount), as the 835 carries them."""
        remittance = _remittance(request, remittance_id)

        def present(payments):
            rows = remittance_claims_for(payments=payments)
            return RemittanceClaimSerializer([{**row, "payment_id": p.pk} for p, row in zip(payments, rows)],
                                             many=True).data
        return _paginated(request, self, remittance_payment_list(remittance=remittance), present)


class Remittance835View(ApiView):
    @extend_schema(operation_id="remittances_835", tags=["remittances"], parameters=[REMITTANCE_ID],
                   responses={(200, "application/edi-x12"): OpenApiTypes.STR, 404: ERR, **COMMON})
    def get(self, request, remittance_id):
        """The remittance as an X12 835 file (005010X221A1)."""
        remittance = _remittance(request, remittance_id)
        text = remittance_835(remittance=remittance)
        response = HttpResponse(text, content_type="application/edi-x12; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="remittance-{remittance.pk}.835"'
        return response


# --- Members (FHIR) -------------------------------------------------------------------------------------

MEMBER_ID = OpenApiParameter("member_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The member ID.")
PAGE_PARAMS = [
    OpenApiParameter("limit", OpenApiTypes.INT, description=f"Claims per page, 1 to {MAX_LIMIT} (default {DEFAULT_LIMIT})."),
    OpenApiParameter("before", OpenApiTypes.INT, description="Only claims with an id below this one (the next link)."),
]
FHIR = OpenApiResponse(OpenApiTypes.OBJECT, description="A FHIR R4 resource (JSON).")


class MemberEobView(ApiView):
    @extend_schema(operation_id="members_eobs", tags=["members"],
                   parameters=[MEMBER_ID, *PAGE_PARAMS],
                   responses={200: FHIR, 400: ERR, 404: ERR, **COMMON})
    def get(self, request, member_id):
        """The member's explanations of benefits, as a FHIR searchset Bundle of ExplanationOfBenefit
        (its priced claims the login may see, newest first, a page at a time: `limit`, `before`)."""
        member = member_get_visible_to(user=request.user, member_id=str(member_id)[:40])
        paginator = KeysetPagination()
        claims = paginator.paginate_queryset(member_eob_claims_visible_to(user=request.user, member=member),
                                             request, view=self)
        bundle = eob_bundle(claims=claims, base_url=request.build_absolute_uri("/api/v1/"))
        following = paginator.next_link()
        if following:
            bundle.setdefault("link", []).append({"relation": "next", "url": following})
        return Response(bundle)


class MemberCoverageView(ApiView):
    @extend_schema(operation_id="members_coverage", tags=["members"], parameters=[MEMBER_ID],
                   responses={200: FHIR, 404: ERR, **COMMON})
    def get(self, request, member_id):
        """The member's coverage, as a FHIR Coverage resource."""
        member = member_get_visible_to(user=request.user, member_id=str(member_id)[:40])
        return Response(coverage_resource(member=member, base_url=request.build_absolute_uri("/api/v1/")))


# --- Sponsors' money ---------------------------------------------------------------------------------------

def _one(queryset, text, *, field: str, noun: str):
    found = queryset.filter(pk=object_id(text, field=field, noun=noun)).first()
    if found is None:
        raise NotFound({field: [f"no {noun} {str(text)[:40]}"]})
    return found


def _funding_requests(user):
    return funding_request_list_visible_to(user=user).select_related("employer")


class FundingRequestListView(ApiView):
    @extend_schema(operation_id="funding_requests_list", tags=["sponsors"], parameters=[SPONSOR_PARAM],
                   responses={200: FundingRequestSerializer(many=True), 400: ERR, **COMMON})
    def get(self, request):
        """ASO funding requests (what a payment run asked the sponsor to deposit), newest first."""
        qs = _sponsor_filter(request, _funding_requests(request.user), "employer_id")
        return _paginated(request, self, qs, presenters.funding_requests)


class FundingRequestDetailView(ApiView):
    @extend_schema(operation_id="funding_requests_read", tags=["sponsors"],
                   parameters=[id_path("funding_request_id", "The funding request's id.")],
                   responses={200: FundingRequestSerializer, 404: ERR, **COMMON})
    def get(self, request, funding_request_id):
        row = _one(_funding_requests(request.user), funding_request_id, field="funding_request",
                   noun="funding request")
        return Response(presenters.funding_requests([row])[0])


class ReimbursementInvoiceListView(ApiView):
    @extend_schema(operation_id="reimbursement_invoices_list", tags=["sponsors"], parameters=[SPONSOR_PARAM],
                   responses={200: ReimbursementInvoiceSerializer(many=True), 400: ERR, **COMMON})
    def get(self, request):
        """ASC reimbursement invoices (the carrier's bills to the sponsor), newest first."""
        qs = _sponsor_filter(request, reimbursement_invoice_list_visible_to(user=request.user), "employer_id")
        return _paginated(request, self, qs, presenters.reimbursement_invoices)


class ReimbursementInvoiceDetailView(ApiView):
    @extend_schema(operation_id="reimbursement_invoices_read", tags=["sponsors"],
                   parameters=[id_path("invoice_id", "The invoice's id.")],
                   responses={200: ReimbursementInvoiceSerializer, 404: ERR, **COMMON})
    def get(self, request, invoice_id):
        row = _one(reimbursement_invoice_list_visible_to(user=request.user), invoice_id, field="invoice",
                   noun="invoice")
        return Response(presenters.reimbursement_invoices([row])[0])


class FeeBillingListView(ApiView):
    @extend_schema(operation_id="fee_billings_list", tags=["sponsors"], parameters=[SPONSOR_PARAM],
                   responses={200: FeeBillingSerializer(many=True), 400: ERR, **COMMON})
    def get(self, request):
        """Admin fees and premiums billed, newest first."""
        qs = _sponsor_filter(request, fee_billing_list_visible_to(user=request.user), "plan__sponsor_id")
        return _paginated(request, self, qs, presenters.fee_billings)


class FeeBillingDetailView(ApiView):
    @extend_schema(operation_id="fee_billings_read", tags=["sponsors"],
                   parameters=[id_path("fee_billing_id", "The fee billing's id.")],
                   responses={200: FeeBillingSerializer, 404: ERR, **COMMON})
    def get(self, request, fee_billing_id):
        row = _one(fee_billing_list_visible_to(user=request.user), fee_billing_id, field="fee_billing",
                   noun="fee billing")
        return Response(presenters.fee_billings([row])[0])
