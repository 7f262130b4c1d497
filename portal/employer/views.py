"""Employer pages."""
from django.shortcuts import render

from portal.access import R, role_page

ROLES = (R.EMPLOYER_ADMIN,)


@role_page(*ROLES)
def home(request):
    return render(request, "portal/employer/home.html", {})
