"""Member pages."""
from django.shortcuts import render

from portal.access import R, role_page

ROLES = (R.MEMBER,)


@role_page(*ROLES)
def home(request):
    return render(request, "portal/member/home.html", {})
