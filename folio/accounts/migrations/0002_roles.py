from django.db import migrations

CODES = ["admin", "registry", "official", "head", "signer", "digital_coordinator", "auditor"]


def forwards(apps, schema_editor):
    Role = apps.get_model("accounts", "Role")
    for code in CODES:
        Role.objects.get_or_create(code=code)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
