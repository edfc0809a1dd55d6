"""Candidate recall in PostgreSQL: the buildings an address could mean, for many addresses per query.

Recall keys are expressions over territory_building (migration 0001 indexes them), so the gazetteer is
always the imported buildings themselves. One round trip recalls for a whole batch: the addresses go in
as arrays (`unnest`), and a LATERAL subquery per address unions three index scans:
- compound: every building of the named road and house number (the building named, or the lack of it,
  and road-level hits);
- numbers: the buildings with the house and building number named, on any road (so a mistyped road still
  gets here), those in the named community first, then roads sharing the most characters with the named
  one — skipped for a clean hit (the named road has these numbers, in the named community if any);
- house only, when no building number is named: compounds with that house number on any road (ditto).
Only an address that recalls nothing has its road looked up by pg_trgm (`recall_fallback`: the nearest
road names by trigram distance, from a GiST index).

Ranking inside the numbers scan uses plain string functions: pg_trgm's similarity() costs ~16 µs per
full address and ~4 µs per road name, too much for thousands of addresses per second; the scoring that
decides is done afterwards on the few rows kept (scoring.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction

# The key expressions exactly as the migration's indexes spell them (so the planner uses the indexes).
HOUSE = "geocoding_house_key(b.house_number, b.address)"
BUILDING = "geocoding_building_key(b.building_number, b.address)"
ROAD = "geocoding_road_key(b.road, b.address)"

NUMBERS_LIMIT = 8  # buildings with the numbers named, best first: the answer and its real competitors
COMPOUND_LIMIT = 40  # a compound has up to a dozen buildings in the demo city, more in real estates
HOUSE_LIMIT = 24
FALLBACK_NEAREST = 40  # buildings on the nearest road names, of which
FALLBACK_LIMIT = 8  # the best are kept

# Characters the two names do not share: a cheap stand-in for edit distance, to rank before scoring.
_UNSHARED = f"char_length(translate({ROAD}, q.road, '')) + char_length(translate(q.road, {ROAD}, ''))"
_IN_COMMUNITY = "strpos(b.address, q.community) > 0"
# The named road as typed, or in its other numeral spelling (219路 / 二一九路).
_ON_ROAD = f"{ROAD} = ANY(ARRAY[q.road, q.road_alt])"

# A clean hit: the named road has the house (and building) number, in the named community if one is named.
# Then the other roads with those numbers cannot compete (scoring.OTHER_ROAD) and are not ranked at all.
_CLEAN = f"""EXISTS (
    SELECT 1 FROM territory_building b
    WHERE {_ON_ROAD} AND {HOUSE} = q.house AND (q.building IS NULL OR {BUILDING} = q.building)
      AND (q.community IS NULL OR {_IN_COMMUNITY}))"""  # noqa: S608 (constants only, here and below)


def _point_if_named(xy: str) -> str:
    """The building named on the named road comes with its point: a clean hit needs no second query."""
    return f"CASE WHEN {BUILDING} = q.building THEN ST_{xy}(ST_PointOnSurface(b.geom)) END"


# Both recall queries: the rows `found` per address (q.i) first, then their community and street, joined
# once for the whole batch rather than inside each address's scans.
_WITH_NAMES = """
WITH found AS MATERIALIZED ({found})
SELECT found.i, found.code, found.address, found.road, found.house, found.building, cm.name, st.name,
       found.x, found.y
FROM found
LEFT JOIN territory_grid g ON g.id = found.grid_id
LEFT JOIN territory_community cm ON cm.id = g.community_id
LEFT JOIN territory_street st ON st.id = cm.street_id
"""

_RECALL = _WITH_NAMES.format(found=f"""
    SELECT q.i, c.*
    FROM unnest(%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[])
         AS q(i, road, road_alt, house, building, community)
    CROSS JOIN LATERAL (SELECT {_CLEAN} AS clean) x
    CROSS JOIN LATERAL (
        (SELECT b.code, b.address, {ROAD} AS road, q.house, {BUILDING} AS building, b.grid_id,
                {_point_if_named("X")} AS x, {_point_if_named("Y")} AS y
         FROM territory_building b
         WHERE {_ON_ROAD} AND {HOUSE} = q.house
         ORDER BY b.id
         LIMIT {COMPOUND_LIMIT})
        UNION ALL
        (SELECT b.code, b.address, {ROAD}, q.house, q.building, b.grid_id, NULL, NULL
         FROM territory_building b
         WHERE NOT x.clean AND {HOUSE} = q.house AND {BUILDING} = q.building
         ORDER BY {_IN_COMMUNITY} DESC NULLS LAST, {_UNSHARED} NULLS LAST, b.id
         LIMIT {NUMBERS_LIMIT})
        UNION ALL
        (SELECT b.code, b.address, {ROAD}, q.house, {BUILDING}, b.grid_id, NULL, NULL
         FROM territory_building b
         WHERE NOT x.clean AND q.building IS NULL AND {HOUSE} = q.house
         ORDER BY {_IN_COMMUNITY} DESC NULLS LAST, {_UNSHARED} NULLS LAST, b.id
         LIMIT {HOUSE_LIMIT})
    ) c""")  # noqa: S608

# The nearest road names by trigram distance (`<->`, 1 − similarity), from the GiST index in distance
# order; among those sharing any trigram, the named community's first.
_FALLBACK = _WITH_NAMES.format(found=f"""
    SELECT q.i, c.*
    FROM unnest(%s::int[], %s::text[], %s::text[]) AS q(i, road, community)
    CROSS JOIN LATERAL (
        SELECT near.code, near.address, near.road, near.house, near.building, near.grid_id, NULL::float8 AS x,
               NULL::float8 AS y
        FROM (SELECT b.id, b.code, b.address, {ROAD} AS road, {HOUSE} AS house, {BUILDING} AS building, b.grid_id,
                     {ROAD} <-> q.road AS distance, {_IN_COMMUNITY} AS in_community
              FROM territory_building b
              ORDER BY {ROAD} <-> q.road
              LIMIT {FALLBACK_NEAREST}) near
        WHERE near.distance < 1
        ORDER BY near.distance, near.in_community DESC NULLS LAST, near.id
        LIMIT {FALLBACK_LIMIT}
    ) c""")  # noqa: S608


@dataclass(frozen=True, slots=True)
class Row:
    """A recalled building, with its keys as the indexes see them and its community and street."""

    code: str
    address: str
    road: str | None
    house: str | None
    building: str | None
    community: str | None
    street: str | None
    point: tuple[float, float] | None = None  # (lon, lat), only where recall had it at hand


@dataclass(frozen=True, slots=True)
class Query:
    """What recall needs from a parsed address."""

    road: str | None
    road_alt: str | None  # the road with its numerals spelt the other way, if it has any
    house: str | None
    building: str | None
    community: str | None


JIT_FREE_BATCH = 200  # above this many addresses a batch query's estimated cost would start JIT compiling


@contextmanager
def _batch_settings(size: int) -> Iterator[None]:
    """No JIT for big batches: compiling the batch query costs ~250 ms, far more than running it. Set
    for a savepoint's span (or a transaction of its own) and put back; on an error the savepoint's
    rollback undoes it."""
    if size <= JIT_FREE_BATCH:
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
        previous, _ = cursor.fetchone()
        yield
        cursor.execute("SELECT set_config('jit', %s, true)", [previous])


def _fetch(query: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def recall(queries: Sequence[Query]) -> list[list[Row]]:
    """Candidates per query (same order), by house/building numbers and the named road."""
    out: list[list[Row]] = [[] for _ in queries]
    asked = [i for i, q in enumerate(queries) if q.house]
    if asked:
        names = ("road", "road_alt", "house", "building", "community")
        params = [asked, *([getattr(queries[i], name) for i in asked] for name in names)]
        with _batch_settings(len(asked)):
            _collect(_fetch(_RECALL, params), out)
    return out


def recall_fallback(queries: Sequence[Query], wanted: Sequence[int]) -> list[list[Row]]:
    """Buildings on the roads whose names are nearest the named one by pg_trgm (any house number), for
    the queries at `wanted`: candidates for a person, when nothing has the numbers named."""
    out: list[list[Row]] = [[] for _ in queries]
    asked = [i for i in wanted if queries[i].road]
    if asked:
        params = [asked, [queries[i].road for i in asked], [queries[i].community for i in asked]]
        with _batch_settings(len(asked)):
            _collect(_fetch(_FALLBACK, params), out)
    return out


def _collect(rows: list[tuple], out: list[list[Row]]) -> None:
    at: dict[tuple[int, str], int] = {}  # (query, code) → position in out[query]
    for i, code, address, road, house, building, community, street, x, y in rows:
        row = Row(code, address, road, house, building, community, street, None if x is None else (x, y))
        k = at.get((i, code))
        if k is None:
            at[(i, code)] = len(out[i])
            out[i].append(row)
        elif row.point is not None:  # the compound and numbers scans both found it: keep the point
            out[i][k] = row


# A building's point is its point on surface; a compound's is the point of its buildings nearest to their
# centroid: on one of them, so in their grid even when the grid is not convex.
_POINTS = """
SELECT 'b', b.code, ST_X(b.p), ST_Y(b.p)
FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM territory_building WHERE code = ANY(%s)) b
UNION ALL
SELECT 'c', c.k::text, ST_X(c.p), ST_Y(c.p)
FROM (SELECT k, ST_ClosestPoint(g, ST_Centroid(g)) AS p
      FROM (SELECT m.k, ST_Collect(b.geom ORDER BY b.code) AS g  -- in order: the same point every time
            FROM unnest(%s::int[], %s::text[]) AS m(k, code) JOIN territory_building b ON b.code = m.code
            GROUP BY m.k) compound) c
"""


def points(buildings: Sequence[str], compounds: Sequence[Sequence[str]]
           ) -> tuple[dict[str, tuple[float, float]], list[tuple[float, float] | None]]:
    """(lon, lat) of buildings by code, and of compounds (each given by its buildings' codes) in order;
    one round trip."""
    at_building: dict[str, tuple[float, float]] = {}
    at_compound: list[tuple[float, float] | None] = [None] * len(compounds)
    if not buildings and not compounds:
        return at_building, at_compound
    members = [(k, code) for k, codes in enumerate(compounds) for code in codes]
    with _batch_settings(len(buildings) + len(compounds)):
        rows = _fetch(_POINTS, [sorted(set(buildings)), [k for k, _ in members], [code for _, code in members]])
    for kind, key, x, y in rows:
        if kind == "b":
            at_building[key] = (x, y)
        else:
            at_compound[int(key)] = (x, y)
    return at_building, at_compound
