"""pg_trgm and the gazetteer's recall keys: indexes on expressions over territory_building, so the
gazetteer needs no table of its own and nothing to refresh after import_territory.

The key functions read the road/house/building columns and, where an import left them blank, the
standard address. Each body calls built-ins only (no search_path needed, so dumps restore) and is
IMMUTABLE, as index expressions must be. gridgis.geocoding.recall queries with the same expressions.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations



class TrigramExtensionKept(TrigramExtension):
    """pg_trgm, created if missing; left in place when this migration is unapplied, since other
    indexes (another app's, a benchmark's) may use it."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass


FULL_WIDTH = "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
HALF_WIDTH = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def number(value: str) -> str:
    """SQL for a number as normalize.parse writes it: "12号" → 12, "012" → 12, "12之3" → 12-3, "Ａ座" → A."""
    first = (f"substring(translate(upper({value}), '{FULL_WIDTH}', '{HALF_WIDTH}') "
             "FROM '[0-9A-Z]+(?:[-之][0-9]+)?')")
    return f"NULLIF(regexp_replace(replace({first}, '之', '-'), '^0+(?=[0-9])', ''), '')"


HOUSE = number("COALESCE(NULLIF(house_number, ''), substring(address FROM '([0-9０-９]+(?:[-之][0-9]+)?)号'))")
BUILDING = number("COALESCE(NULLIF(building_number, ''), "
                  "substring(address FROM '([0-9A-Z０-９Ａ-Ｚ]+)(?:号楼|栋|幢|座)'))")
# The address before its house number, less everything up to the last level word: the road.
ROAD = ("COALESCE(NULLIF(btrim(road), ''), NULLIF(regexp_replace(regexp_replace(address, '[0-9０-９]+号.*$', ''), "
        "'^.*(省|自治区|市|区|县|旗|街道|镇|乡|社区|居委会|村委会|村)', ''), ''))")

FUNCTIONS = {
    "geocoding_house_key(house_number text, address text)": HOUSE,
    "geocoding_building_key(building_number text, address text)": BUILDING,
    "geocoding_road_key(road text, address text)": ROAD,
}
CREATE_FUNCTIONS = [
    f"CREATE OR REPLACE FUNCTION {signature} RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {body} $$"
    for signature, body in FUNCTIONS.items()
]
DROP_FUNCTIONS = [f"DROP FUNCTION IF EXISTS {signature.split('(')[0]}(text, text)" for signature in FUNCTIONS]

H = "geocoding_house_key(house_number, address)"
B = "geocoding_building_key(building_number, address)"
R = "geocoding_road_key(road, address)"
INDEXES = {
    # number agreement first: a road typed wrong still reaches the buildings with its numbers
    "geocoding_numbers_idx": f"btree ({H}, {B})",
    # the compound on the named road: every building of road + house number
    "geocoding_road_house_idx": f"btree ({R}, {H})",
    # roads by trigram similarity, when no building has the numbers named
    "geocoding_road_trgm_idx": f"gin ({R} gin_trgm_ops)",
}
CREATE_INDEXES = [f"CREATE INDEX {name} ON territory_building USING {spec}" for name, spec in INDEXES.items()]
DROP_INDEXES = [f"DROP INDEX IF EXISTS {name}" for name in INDEXES]


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("territory", "0001_territory"),
    ]

    operations = [
        TrigramExtensionKept(),
        migrations.RunSQL(CREATE_FUNCTIONS, reverse_sql=DROP_FUNCTIONS),
        migrations.RunSQL(CREATE_INDEXES, reverse_sql=DROP_INDEXES),
    ]
