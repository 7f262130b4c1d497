from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PartiesConfig(AppConfig):
    name = "parties"
    verbose_name = "Parties"


class TpaAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's site: deny-by-default for logins outside the TPA
    (`parties.admin_scope`). Here, not there, because an app config may not import models."""

    default = False  # named in INSTALLED_APPS; "parties" itself stays PartiesConfig
    default_site = "parties.admin_scope.TpaAdminSite"
