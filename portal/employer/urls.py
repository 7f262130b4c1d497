"""The employer (plan sponsor) dashboard: URL names start with "employer-"."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="employer-home"),
    path("spend.csv", views.spend_csv, name="employer-spend-csv"),
    path("net-cost.csv", views.net_cost_csv, name="employer-net-cost-csv"),
    path("funding/", views.funding, name="employer-funding"),
    path("funding/fund/", views.fund, name="employer-fund"),
    path("funding.csv", views.funding_csv, name="employer-funding-csv"),
    path("invoices/", views.invoices, name="employer-invoices"),
    path("invoices/pay/", views.pay, name="employer-pay"),
    path("invoices.csv", views.invoices_csv, name="employer-invoices-csv"),
    path("fees/", views.fees, name="employer-fees"),
    path("fees.csv", views.fees_csv, name="employer-fees-csv"),
    path("stop-loss/", views.stop_loss, name="employer-stop-loss"),
    path("stop-loss.csv", views.stop_loss_csv, name="employer-stop-loss-csv"),
]
