from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The ground floor: the business clock, money, dates, set-wise writes, validation, errors, the admin base.

    It imports no other app of the project; every other app may import it."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from . import bulk  # noqa: F401  registers the `__any` lookup used by set-wise reads
        from .sessions import session_mark_refreshed

        user_logged_in.connect(session_mark_refreshed, dispatch_uid="core.sessions.session_mark_refreshed")
