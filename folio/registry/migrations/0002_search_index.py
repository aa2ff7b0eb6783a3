from django.db import migrations


def forwards(apps, schema_editor):
    from folio.registry.search import POSTGRES_DDL, SQLITE_DDL

    statements = POSTGRES_DDL if schema_editor.connection.vendor == "postgresql" else SQLITE_DDL
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    table = "registry_search" if schema_editor.connection.vendor == "postgresql" else "registry_fts"
    schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
