"""SQLite only: an index the claim walks in queue order (see apps/labeling/services/queue.py). PostgreSQL uses the
partial index `task_claimable`; SQLite can use neither that partial index nor an index for `NULLS LAST`."""

from django.db import migrations

INDEX = "task_claim_order_sqlite"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON labeling_task "
            "(project_id, state, priority DESC, (queue_rank IS NULL), queue_rank, created_at, id)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0010_annotation_mask_area")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
