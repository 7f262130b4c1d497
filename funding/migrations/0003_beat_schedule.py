"""Install the periodic jobs (funding.schedule) into django-celery-beat's tables."""
from django.db import migrations


def install(apps, schema_editor):
    from funding.schedule import beat_schedule_install

    beat_schedule_install(apps=apps, using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("funding", "0002_ledger_triggers"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
