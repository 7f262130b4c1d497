"""The REST API: /api/v1/..., its OpenAPI 3 schema (/api/schema/) and docs page (/api/docs/)."""
from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.exceptions import NotFound

from . import views
from .docs import ApiDocsView

app_name = "api"


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@authentication_classes([])
@permission_classes([])
@throttle_classes([])
def unknown(request, rest=""):
    """Any other /api/ address: a 404 in the API's shape (not the site's HTML page)."""
    raise NotFound("No such API address.")


v1 = [
    path("token/", views.TokenView.as_view(), name="token"),
    path("me/", views.MeView.as_view(), name="me"),
    path("claims/", views.ClaimListView.as_view(), name="claims"),
    path("claims/<str:claim_id>/", views.ClaimDetailView.as_view(), name="claim"),
    path("eligibility/", views.EligibilityView.as_view(), name="eligibility"),
    path("remittances/", views.RemittanceListView.as_view(), name="remittances"),
    path("remittances/<str:remittance_id>/", views.RemittanceDetailView.as_view(), name="remittance"),
    path("remittances/<str:remittance_id>/claims/", views.RemittanceClaimsView.as_view(), name="remittance-claims"),
    path("remittances/<str:remittance_id>/835/", views.Remittance835View.as_view(), name="remittance-835"),
    path("members/<str:member_id>/eobs/", views.MemberEobView.as_view(), name="member-eobs"),
    path("members/<str:member_id>/coverage/", views.MemberCoverageView.as_view(), name="member-coverage"),
    path("funding-requests/", views.FundingRequestListView.as_view(), name="funding-requests"),
    path("funding-requests/<str:funding_request_id>/", views.FundingRequestDetailView.as_view(),
         name="funding-request"),
    path("reimbursement-invoices/", views.ReimbursementInvoiceListView.as_view(), name="reimbursement-invoices"),
    path("reimbursement-invoices/<str:invoice_id>/", views.ReimbursementInvoiceDetailView.as_view(),
         name="reimbursement-invoice"),
    path("fee-billings/", views.FeeBillingListView.as_view(), name="fee-billings"),
    path("fee-billings/<str:fee_billing_id>/", views.FeeBillingDetailView.as_view(), name="fee-billing"),
]

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", ApiDocsView.as_view(), name="docs"),
    path("v1/", include(v1)),
    re_path(r"^(?P<rest>.*)$", unknown, name="unknown"),
]
