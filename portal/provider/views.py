"""Provider pages."""
from django.shortcuts import render

from portal.access import R, role_page

ROLES = (R.PROVIDER_STAFF,)


@role_page(*ROLES)
def home(request):
    return render(request, "portal/provider/home.html", {})
