"""Index for the wall map's per-territory-code counts (gridgis.stats.wallmap.code_counts): the open cases by
code, covering every column the count and the scope filter (cases_for) read, so that counting a whole city's
open cases is one index-only pass with no heap visit and no geometry read."""

from django.db import migrations

OPEN = "('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', 'verified')"
COLUMNS = "overdue, supervised, deadline, deadline_paused_at, created_by_id, handler_id, assignee_id"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("stats", "0001_wall_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS case_open_code_cover_idx ON cases_case "
            f"(territory_code varchar_pattern_ops) INCLUDE ({COLUMNS}) WHERE status IN {OPEN}",
            "DROP INDEX CONCURRENTLY IF EXISTS case_open_code_cover_idx",
        ),
    ]
