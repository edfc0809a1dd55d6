"""case_open_code_idx (0006) back where 0008, as first written, dropped it with territory_code's own indexes."""

from django.db import migrations

OPEN = "('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', 'verified')"


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0010_case_api_key"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS case_open_code_idx ON cases_case (territory_code varchar_pattern_ops) "
            f"WHERE status IN {OPEN}",
            migrations.RunSQL.noop,
        ),
    ]
