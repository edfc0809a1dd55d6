"""The road trigram index as GiST instead of GIN: the fallback recall asks for the few nearest road names
(`<->`, KNN), which GiST answers in index order; GIN only filters by a similarity threshold, a setting
that had to be changed around each query, and then sorted every road that passed."""

import importlib

from django.db import migrations

keys = importlib.import_module("gridgis.geocoding.migrations.0001_gazetteer_keys")

GIN = f"CREATE INDEX geocoding_road_trgm_idx ON territory_building USING gin ({keys.R} gin_trgm_ops)"
GIST = f"CREATE INDEX geocoding_road_trgm_gist_idx ON territory_building USING gist ({keys.R} gist_trgm_ops)"


class Migration(migrations.Migration):

    dependencies = [
        ("geocoding", "0001_gazetteer_keys"),
    ]

    operations = [
        migrations.RunSQL(["DROP INDEX IF EXISTS geocoding_road_trgm_idx", GIST],
                          reverse_sql=["DROP INDEX IF EXISTS geocoding_road_trgm_gist_idx", GIN]),
    ]
