"""The schema's docs page: Swagger UI served from the vendored copy in api/static/api/vendor/ (no CDN:
the page works offline). Signed-in users try operations with their session (the CSRF header is sent)."""
from django.templatetags.static import static
from drf_spectacular.views import SpectacularSwaggerView

SWAGGER_UI = "api/vendor/swagger-ui-5.35.0"


class ApiDocsView(SpectacularSwaggerView):
    url_name = "api:schema"
    title = "TPA claims API"

    @staticmethod
    def _swagger_ui_resource(filename):
        return static(f"{SWAGGER_UI}/{filename}")

    @staticmethod
    def _swagger_ui_favicon():
        return static(f"{SWAGGER_UI}/favicon-32x32.png")
