"""The electronic index is append-only at the database level too: UPDATE and DELETE of an index entry are
refused by triggers on SQLite and PostgreSQL (a corrected document is a new entry, never an edit)."""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS case_files_index_no_update BEFORE UPDATE ON case_files_indexentry "
    "BEGIN SELECT RAISE(ABORT, 'the electronic index is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS case_files_index_no_delete BEFORE DELETE ON case_files_indexentry "
    "BEGIN SELECT RAISE(ABORT, 'the electronic index is append-only'); END",
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS case_files_index_no_update",
                  "DROP TRIGGER IF EXISTS case_files_index_no_delete"]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION case_files_index_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the electronic index is append-only'; END; $$ LANGUAGE plpgsql""",
    "DROP TRIGGER IF EXISTS case_files_index_append_only ON case_files_indexentry",
    "CREATE TRIGGER case_files_index_append_only BEFORE UPDATE OR DELETE ON case_files_indexentry "
    "FOR EACH ROW EXECUTE FUNCTION case_files_index_append_only()",
]
POSTGRES_REVERSE = ["DROP TRIGGER IF EXISTS case_files_index_append_only ON case_files_indexentry"]


def forwards(apps, schema_editor):
    statements = POSTGRES if schema_editor.connection.vendor == "postgresql" else SQLITE
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = POSTGRES_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("case_files", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
