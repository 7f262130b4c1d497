from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The role dashboards: one module (and template folder) per role, on the top floor. Screens are
    thin: reads through the domain selectors (`*_visible_to(user)`), writes through the domain services,
    which check the role policy (`parties.roles`) for the user they act for."""

    name = "portal"
    verbose_name = "Dashboards"

    def ready(self):
        from . import urls  # noqa: F401  the role modules register their summary figures (portal.figures)
