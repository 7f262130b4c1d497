"""The job that keeps the dashboards' summary figures fresh: every 5 minutes (editable in the admin)."""
import json

from django.db import migrations

NAME = "dashboard figures (every 5 minutes)"


def install(apps, schema_editor):
    using = schema_editor.connection.alias
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.using(using).get_or_create(every=300, period="seconds")
    PeriodicTask.objects.using(using).update_or_create(name=NAME, defaults={
        "task": "portal.tasks.dashboard_figures_refresh", "interval": every, "crontab": None, "enabled": True,
        "args": json.dumps([]), "kwargs": json.dumps({})})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.using(schema_editor.connection.alias).filter(
        name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(install, remove)]
