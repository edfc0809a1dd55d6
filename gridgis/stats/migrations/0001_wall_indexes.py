"""Index for the wall map (gridgis.stats.wallmap): the open cases by position. Partial, so it holds only the
live cases (a small share of a table that keeps every closed case) and the bbox filter of a view reads no
closed row. Plain SQL (a partial GiST index serving one query shape, no part of the model's state);
CONCURRENTLY, so a live table keeps taking cases while it is built."""

from django.db import migrations

OPEN = "('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', 'verified')"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0006_stats_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS case_open_location_gist ON cases_case USING gist (location) "
            f"WHERE status IN {OPEN}",
            "DROP INDEX CONCURRENTLY IF EXISTS case_open_location_gist",
        ),
    ]
