from django.db import migrations

from gridgis.cases.categories import load_categories


def forwards(apps, schema_editor):
    load_categories(apps.get_model("cases", "Category"))


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_case_number_sequence")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
