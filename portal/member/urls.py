"""The member dashboard: progress toward the deductible and out-of-pocket maximum, the claims with their
explanations of benefits, the ID card."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="member-home"),
    path("claims/", views.claims, name="member-claims"),
    path("claims/<int:claim_id>/", views.claim, name="member-claim"),
    path("claims/<int:claim_id>/eob/", views.claim_eob, name="member-claim-eob"),
    path("id-card/", views.id_card, name="member-id-card"),
]
