"""The provider dashboard: submit a claim, eligibility, the office's claims, its remittances."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="provider-home"),
    path("submit/", views.claim_new, name="provider-submit"),
    path("submit/line/", views.claim_new_line, name="provider-submit-line"),
    path("eligibility/", views.eligibility, name="provider-eligibility"),
    path("claims/", views.claim_list, name="provider-claims"),
    path("claims/<int:claim_id>/", views.claim_detail, name="provider-claim"),
    path("claims/<int:claim_id>/appeal/", views.claim_appeal_post, name="provider-claim-appeal"),
    path("remittances/", views.remittance_list, name="provider-remittances"),
    path("remittances/<int:remittance_id>/", views.remittance_detail, name="provider-remittance"),
]
