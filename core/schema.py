"""The database schema, for commands a fresh checkout may run before anything else."""
import sys

from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def schema_migrate_if_needed(*, out=sys.stderr) -> int:
    """Apply any migrations the database lacks (saying so on `out`); return how many there were.

    Used by `run_scenario` and `bench_adjudication`: a trainer's or a tester's first command may be
    one of them, and a missing table is a worse answer than a migrated database."""
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        out.write(f"the database lacks {len(pending)} migration(s): applying them first\n")
        call_command("migrate", interactive=False, verbosity=0)
    return len(pending)
