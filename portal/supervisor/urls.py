"""The supervisor's pages: the dashboard, the claims behind its charts, the jobs."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="supervisor-home"),
    path("figures/refresh/", views.figures_refresh, name="supervisor-figures-refresh"),
    path("claims/", views.claims, name="supervisor-claims"),
    path("jobs/", views.jobs_page, name="supervisor-jobs"),
    path("jobs/payment-cycle/", views.payment_cycle_start, name="supervisor-payment-cycle-start"),
    path("jobs/<int:job_id>/", views.job, name="supervisor-job"),
]
