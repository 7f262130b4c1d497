"""Examiner pages."""
from django.shortcuts import render

from portal.access import R, role_page

ROLES = (R.CLAIMS_EXAMINER, R.SUPERVISOR,)


@role_page(*ROLES)
def home(request):
    return render(request, "portal/examiner/home.html", {})
