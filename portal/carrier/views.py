"""Carrier pages."""
from django.shortcuts import render

from portal.access import R, role_page

ROLES = (R.CARRIER_ANALYST,)


@role_page(*ROLES)
def home(request):
    return render(request, "portal/carrier/home.html", {})
