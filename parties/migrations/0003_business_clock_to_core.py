"""The business clock moved to the core app: its row is carried over, then the old table goes."""
from django.db import migrations


def carry_over(apps, schema_editor):
    old = apps.get_model("parties", "BusinessClock")
    new = apps.get_model("core", "BusinessClock")
    db = schema_editor.connection.alias
    for row in old.objects.using(db).all():
        new.objects.using(db).update_or_create(pk=row.pk, defaults={"simulated_date": row.simulated_date})


def carry_back(apps, schema_editor):
    old = apps.get_model("parties", "BusinessClock")
    new = apps.get_model("core", "BusinessClock")
    db = schema_editor.connection.alias
    for row in new.objects.using(db).all():
        old.objects.using(db).update_or_create(pk=row.pk, defaults={"simulated_date": row.simulated_date})


class Migration(migrations.Migration):
    dependencies = [
        ("parties", "0002_employer_ein_unique_message"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(name="BusinessClock"),
    ]
