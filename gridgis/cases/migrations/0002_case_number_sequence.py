from django.db import migrations


class Migration(migrations.Migration):
    """Case numbers come from a sequence: concurrent intakes never wait on each other for a number."""

    dependencies = [("cases", "0001_cases")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS cases_case_number_seq",
            "DROP SEQUENCE IF EXISTS cases_case_number_seq",
        ),
    ]
