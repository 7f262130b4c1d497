"""The carrier analyst dashboard: URL names start with "carrier-"."""
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="carrier-home"),
    path("aging.csv", views.aging_csv, name="carrier-aging-csv"),
    path("invoices/", views.invoices, name="carrier-invoices"),
    path("invoices.csv", views.invoices_csv, name="carrier-invoices-csv"),
    path("fully-insured/", views.fully_insured, name="carrier-fully-insured"),
    path("fully-insured.csv", views.fully_insured_csv, name="carrier-fully-insured-csv"),
    path("premiums/", views.premiums, name="carrier-premiums"),
    path("premiums.csv", views.premiums_csv, name="carrier-premiums-csv"),
    path("stop-loss/", views.stop_loss, name="carrier-stop-loss"),
    path("stop-loss.csv", views.stop_loss_csv, name="carrier-stop-loss-csv"),
    path("attachment/", views.attachment, name="carrier-attachment"),
    path("attachment.csv", views.attachment_csv, name="carrier-attachment-csv"),
]
