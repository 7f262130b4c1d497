"""The dashboards' URLs: everyone's pages here, each role's in its own module (`portal/<role>/urls.py`)."""
from django.urls import include, path

from . import views
from .access import STAFF, R
from .carrier import urls as carrier_urls
from .employer import urls as employer_urls
from .examiner import urls as examiner_urls
from .explain import views as explain_views
from .member import urls as member_urls
from .provider import urls as provider_urls
from .supervisor import urls as supervisor_urls

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("password/", views.password_change, name="password-change"),
    path("password/done/", views.password_change_done, name="password-change-done"),
    # The explanations: the lifecycle and the glossary for every login; a claim explained under each role's
    # prefix (named like the role's pages, so the cross-party sweep walks them); a sponsor's money.
    path("explain/lifecycle/", explain_views.lifecycle, name="explain-lifecycle"),
    path("glossary/", explain_views.glossary, name="glossary"),
    path("explain/sponsors/<int:employer_id>/", explain_views.sponsor_money, name="explain-sponsor-money"),
    *[path(f"{prefix}/claims/<int:claim_id>/explained/", explain_views.claim_explained_page(*roles),
           name=f"{prefix}-claim-explained")
      for prefix, roles in (("provider", (R.PROVIDER_STAFF,)), ("examiner", STAFF), ("employer", (R.EMPLOYER_ADMIN,)),
                            ("carrier", (R.CARRIER_ANALYST,)), ("member", (R.MEMBER,)))],
    # Each role's pages under its own prefix; URL names start with the role ("provider-claims").
    path("provider/", include(provider_urls.urlpatterns)),
    path("examiner/", include(examiner_urls.urlpatterns)),
    path("supervisor/", include(supervisor_urls.urlpatterns)),
    path("employer/", include(employer_urls.urlpatterns)),
    path("carrier/", include(carrier_urls.urlpatterns)),
    path("member/", include(member_urls.urlpatterns)),
]
