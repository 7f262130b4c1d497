"""The provider dashboard: submit a claim, eligibility, the office's claims, its remittances."""
from django.urls import path

from . import views, x12

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
    path("remittances/<int:remittance_id>/835/", x12.remittance_835_download, name="provider-remittance-835"),
    path("upload/", x12.upload_837, name="provider-upload-837"),
]
