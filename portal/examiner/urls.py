"""The examiner dashboard: the work queue and one claim with its actions."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="examiner-home"),
    path("claims/<int:claim_id>/", views.claim, name="examiner-claim"),
    path("claims/<int:claim_id>/take/", views.claim_take, name="examiner-claim-take"),
    path("claims/<int:claim_id>/release/", views.claim_release, name="examiner-claim-release"),
    path("claims/<int:claim_id>/review/", views.claim_review, name="examiner-claim-review"),
    path("claims/<int:claim_id>/adjudicate/", views.claim_adjudicate, name="examiner-claim-adjudicate"),
]
