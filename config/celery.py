import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

# Tasks run in the training session that queued them, if any (training/sandbox/celery.py).
app = Celery("tpa", task_cls="training.sandbox.celery:SandboxTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
