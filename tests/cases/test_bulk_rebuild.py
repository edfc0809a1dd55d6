"""import_cases around a big load: which of the cases table's indexes it drops and rebuilds, and which it
leaves (bulk.rebuild), against real PostGIS on the factory town."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from gridgis.cases.bulk.importing import import_cases
from gridgis.cases.models import Case
from tests.cases.test_bulk import row, write_csv

pytest_plugins = ["tests.territory_factories"]


def index_oids() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexrelid::regclass::text, indexrelid::int FROM pg_index "
                       "WHERE indrelid = 'cases_case'::regclass")
        return dict(cursor.fetchall())


@pytest.mark.django_db
def test_indexes_no_imported_case_can_enter_stay_and_keep_serving(tmp_path, town, bob, alice):
    handled = Case.objects.create(number="20240301000001", description="已签收", received_at=timezone.now(),
                                  handler=alice, closed_at=timezone.now())
    before = index_oids()
    rows = [row(i, lon=122.991 + i * 1e-5, lat=41.1) for i in range(50)]
    report = import_cases(path=write_csv(tmp_path / "cases.csv", rows), rebuild_indexes=True)

    after = index_oids()
    assert report.imported == 50
    assert set(after) == set(before)
    # Imported history has no handler and no closing time: those partial indexes were not touched …
    for name in ("case_handler_idx", "case_closed_at_idx", "case_api_key_idx"):
        assert after[name] == before[name], name
        assert name not in report.rebuild_timings
    # … while every index the new rows enter was built again with them.
    for name in ("cases_case_number_key", "case_code_received_idx", "case_open_location_gist"):
        assert after[name] != before[name], name
    assert list(Case.objects.filter(handler=alice)) == [handled]
    assert list(Case.objects.filter(closed_at__isnull=False)) == [handled]
    assert Case.objects.filter(grid=town.west).count() == 50
