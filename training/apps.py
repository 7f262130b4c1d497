from django.apps import AppConfig


class TrainingConfig(AppConfig):
    """The top floor's orchestration: scenario files and their runner, the demo world, the benchmarks, and
    demo training sessions (a database per session: training/sandbox/).

    It drives the domain apps through their services; nothing below imports it."""

    name = "training"
    verbose_name = "Training and demo"

    def ready(self):
        from .sandbox import celery  # noqa: F401 - connects the publish signal that stamps a session's messages
        from .sandbox.connections import handler_install

        handler_install()
