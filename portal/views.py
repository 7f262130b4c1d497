"""Everyone's pages: the login page at `/` (the role's home once logged in), logout, password change."""
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache

from .access import ROLE_HOME, portal_role


class PortalLoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        return reverse_lazy("portal:home")


@never_cache
def home(request):
    """`/`: the login page for anyone not logged in; a login's own home otherwise. A login with no role
    here (no party link) is sent to the admin, which decides what it may see."""
    if not request.user.is_authenticated:
        return PortalLoginView.as_view()(request)
    role = portal_role(user=request.user)
    if role is None:
        return redirect("admin:index")
    return redirect(ROLE_HOME[role])


login = PortalLoginView.as_view()
logout = auth_views.LogoutView.as_view(next_page=reverse_lazy("portal:home"))
password_change = auth_views.PasswordChangeView.as_view(
    template_name="portal/password_change.html", success_url=reverse_lazy("portal:password-change-done"))
password_change_done = auth_views.PasswordChangeDoneView.as_view(template_name="portal/password_change_done.html")
