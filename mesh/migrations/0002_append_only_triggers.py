"""On PostgreSQL, refuse UPDATE and DELETE on the sealed tables: the log is append-only below the ORM too.

TRUNCATE stays possible for a deliberate wipe (and for test-database flushes). SQLite relies on the services
and the read-only admin; `manage.py mesh_audit` catches edits on either database.
"""

from __future__ import annotations

from django.db import migrations

TABLES = ["mesh_logentry", "mesh_treenode", "mesh_event", "mesh_checkpoint", "mesh_receipt", "mesh_trailcommit"]

FUNCTION = """
CREATE OR REPLACE FUNCTION mesh_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'StarBridge tables are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION mesh_refuse_change()"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS mesh_refuse_change()")


class Migration(migrations.Migration):
    dependencies = [("mesh", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
