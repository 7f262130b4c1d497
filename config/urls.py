from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "TPA claims administration"
admin.site.site_title = "TPA claims"
admin.site.index_title = "Administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),  # the REST API, versioned under /api/v1/; schema and docs
    path("training/", include("training.urls")),  # demo training sessions
    path("", include("portal.urls")),  # the role dashboards; `/` is everyone's login page
]
