"""The transition log (django-fsm-log's table) keeps only the indexes its reads use.

Every claim transition adds a row, a million a day at scale, and django-fsm-log indexes six of its
columns: source and target state (twice each, with the LIKE opclass on PostgreSQL), content type
and user. Nothing here reads the log by state or content type: a claim's history is read by
`object_id`, and a deleted user's rows are found by `by_id` (only the few rows a person made have
one: a partial index). Their upkeep was most of the cost of writing the log.

The model still says db_index on those fields; its own later migrations introspect indexes by
column, so they find none to drop.
"""
from django.db import migrations

TABLE = "django_fsm_log_statelog"
DROPPED_COLUMNS = ({"source_state"}, {"state"}, {"content_type_id"}, {"by_id"})
BY_INDEX = "statelog_by_set"


def trim(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TABLE)
    for name, info in constraints.items():
        if info["index"] and not info["primary_key"] and not info["unique"] and not info.get("foreign_key") \
                and set(info["columns"]) in DROPPED_COLUMNS:
            schema_editor.execute(f'DROP INDEX {schema_editor.quote_name(name)}')
    schema_editor.execute(f'CREATE INDEX {BY_INDEX} ON {TABLE} (by_id) WHERE by_id IS NOT NULL')


def restore(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX {BY_INDEX}")
    StateLog = apps.get_model("django_fsm_log", "StateLog")
    for field in ("source_state", "state", "content_type", "by"):
        schema_editor.execute(schema_editor._create_index_sql(StateLog, fields=[StateLog._meta.get_field(field)]))


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0004_claim_list_indexes"),
        ("django_fsm_log", "0005_description_null"),
    ]

    operations = [migrations.RunPython(trim, restore)]
