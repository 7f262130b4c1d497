"""Supervisor pages."""
from django.shortcuts import render

from portal.access import R, role_page

ROLES = (R.SUPERVISOR,)


@role_page(*ROLES)
def home(request):
    return render(request, "portal/supervisor/home.html", {})
