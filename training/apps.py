from django.apps import AppConfig


class TrainingConfig(AppConfig):
    """The top floor's orchestration: scenario files and their runner, the demo world, the benchmarks.

    It drives the domain apps through their services; nothing below imports it."""

    name = "training"
    verbose_name = "Training and demo"
