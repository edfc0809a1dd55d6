"""Indexes for the indicators (gridgis.stats). The stats query reads the rows a period touches as a BitmapOr
of one range per timestamp (received, registered, closed, deadline, rated) plus the open cases, so each needs
an index of its own, twice: the timestamp alone serves a district (or the whole city), and (code, timestamp)
a street, community or grid — there the code prefix bounds the scan, instead of filtering a whole month of
the district's rows. Received/closed alone are indexed by the model already.

Plain SQL, not AddIndex: they serve one query shape and are no part of the model's state, so makemigrations
never proposes to drop them. CONCURRENTLY, so a live table keeps taking cases while they are built."""

from django.db import migrations

OPEN = "('received', 'registered', 'dispatched', 'accepted', 'in_progress', 'handled', 'verified')"

INDEXES = {
    "case_registered_at_idx": "(registered_at)",
    "case_deadline_idx": "(deadline)",
    "case_rated_at_idx": "(rated_at)",
    "case_code_received_idx": "(territory_code varchar_pattern_ops, received_at)",
    "case_code_registered_idx": "(territory_code varchar_pattern_ops, registered_at)",
    "case_code_closed_idx": "(territory_code varchar_pattern_ops, closed_at)",
    "case_code_deadline_idx": "(territory_code varchar_pattern_ops, deadline)",
    "case_code_rated_idx": "(territory_code varchar_pattern_ops, rated_at)",
    "case_open_code_idx": f"(territory_code varchar_pattern_ops) WHERE status IN {OPEN}",
}


def create(name: str, definition: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON cases_case {definition}",
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}",
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cases", "0005_timeline_append_only"),
    ]

    operations = [create(name, definition) for name, definition in INDEXES.items()]
