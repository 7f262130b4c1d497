from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"

    def ready(self):
        import config.bulk  # noqa: F401  registers the `__any` lookup used by set-wise reads
