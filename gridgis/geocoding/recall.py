"""Candidate recall in PostgreSQL: the buildings an address could mean, for many addresses per query.

Recall keys are expressions over territory_building (migration 0001 indexes them), so the gazetteer is
always the imported buildings themselves. One statement recalls for a whole batch: the addresses go in as
arrays (`unnest`), and index scans find
- compound: every building of the named road and house number (the building named, or the lack of it,
  and road-level hits) — one scan per distinct road + house number in the batch, shared by every address
  naming them (a hotline file names the same few compounds again and again);
- numbers: the buildings with the house and building number named, on any road (so a mistyped road still
  gets here), those in the named community first, then roads sharing the most characters with the named
  one — skipped for a clean hit (the named road has these numbers, in the named community if any);
- house only, when no building number is named: compounds with that house number on any road (ditto).
A clean hit is seen in the compound's rows already (an anti-join, no scan); only the others (not clean, or
their compound had more rows than COMPOUND_LIMIT) check the table itself before the numbers scans.
Only an address that recalls nothing has its road looked up by pg_trgm (`recall_fallback`: the nearest
road names by trigram distance, from a GiST index).

Ranking inside the numbers scan uses plain string functions: pg_trgm's similarity() costs ~16 µs per
full address and ~4 µs per road name, too much for thousands of addresses per second; the scoring that
decides is done afterwards on the few rows kept (scoring.py).

Statements run as server-side prepared statements of the connection (gridgis.prepared): planning the recall
statement took twice as long as running it for one address. For up to FEW addresses (intake) the statement
hides their number from the planner, so PostgreSQL settles on one generic plan and stops planning.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

import psycopg
from django.db import connection, transaction

from gridgis.prepared import fetchall_prepared

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

# The rows found (`idx`: the compound's key k, or the address's i), then their community and street, joined
# once for the whole batch rather than inside each scan; for a few addresses, looked up row by row (LATERAL
# … LIMIT 1 stays a nested loop on the primary keys: no hash of every grid for three rows).
_WITH_NAMES = """
SELECT found.compound, found.idx, found.code, found.address, found.road, found.house, found.building, cm.name,
       st.name, found.x, found.y
FROM ({found}) found
LEFT JOIN territory_grid g ON g.id = found.grid_id
LEFT JOIN territory_community cm ON cm.id = g.community_id
LEFT JOIN territory_street st ON st.id = cm.street_id
"""
_WITH_NAMES_FEW = """
SELECT found.compound, found.idx, found.code, found.address, found.road, found.house, found.building, n.community,
       n.street, found.x, found.y
FROM ({found}) found
LEFT JOIN LATERAL (SELECT cm.name AS community, st.name AS street
                   FROM territory_grid g
                   JOIN territory_community cm ON cm.id = g.community_id
                   LEFT JOIN territory_street st ON st.id = cm.street_id
                   WHERE g.id = found.grid_id
                   LIMIT 1) n ON true
"""

_COLUMNS = "i, k, road, road_alt, house, building, community"
_ARRAYS = ("%(i)b::int[], %(k)b::int[], %(road)b::text[], %(road_alt)b::text[], %(house)b::text[], "
           "%(building)b::text[], %(community)b::text[]")
# The addresses as rows. For a few, the arrays pass through a subquery the planner does not look into
# (OFFSET 0), so it cannot count them: every execution then costs the same, and after five PostgreSQL keeps
# one generic plan for the connection instead of planning each time (planning took twice the execution).
_ADDRESSES = f"SELECT * FROM unnest({_ARRAYS}) AS q({_COLUMNS})"  # noqa: S608
_ADDRESSES_FEW = (f"SELECT q.* FROM (SELECT {_ARRAYS} OFFSET 0) a({_COLUMNS}), "  # noqa: S608
                  f"unnest(a.i, a.k, a.road, a.road_alt, a.house, a.building, a.community) AS q({_COLUMNS})")
FEW = 20  # addresses: up to this many, the statement with the generic plan

# q: the addresses (k: their compound's key, NULL without a road); keys: each compound once, with the
# building numbers named in it, whose buildings bring their point along (a clean hit needs no second query).
_SCANS = f"""
WITH q AS MATERIALIZED ({{addresses}}), keys AS MATERIALIZED (
    SELECT k, min(road) AS road, min(road_alt) AS road_alt, min(house) AS house,
           array_agg(DISTINCT building) FILTER (WHERE building IS NOT NULL) AS named
    FROM q WHERE k IS NOT NULL GROUP BY k
), compound AS MATERIALIZED (
    SELECT q.k, c.code, c.address, c.road, q.house, c.building, c.grid_id, ST_X(c.p) AS x, ST_Y(c.p) AS y
    FROM keys q
    CROSS JOIN LATERAL (  -- OFFSET 0 (no flattening): each key and point computed once per row
        SELECT c.code, c.address, c.road, c.building, c.grid_id,
               CASE WHEN c.building = ANY(q.named) THEN ST_PointOnSurface(c.geom) END AS p
        FROM (SELECT b.code, b.address, {ROAD} AS road, {BUILDING} AS building, b.grid_id, b.geom
              FROM territory_building b
              WHERE {_ON_ROAD} AND {HOUSE} = q.house
              ORDER BY b.id
              LIMIT {COMPOUND_LIMIT}) c
        OFFSET 0) c
), unproven AS MATERIALIZED (
    SELECT q.* FROM q
    WHERE NOT EXISTS (SELECT FROM compound c
                      WHERE c.k = q.k AND (q.building IS NULL OR c.building = q.building)
                        AND (q.community IS NULL OR strpos(c.address, q.community) > 0))
), numbers AS MATERIALIZED (
    SELECT q.i, c.*
    FROM unproven q
    CROSS JOIN LATERAL (SELECT {_CLEAN} AS clean OFFSET 0) x  -- OFFSET 0: once, not once per scan
    CROSS JOIN LATERAL (
        (SELECT b.code, b.address, {ROAD} AS road, q.house, q.building, b.grid_id
         FROM territory_building b
         WHERE NOT x.clean AND {HOUSE} = q.house AND {BUILDING} = q.building
         ORDER BY {_IN_COMMUNITY} DESC NULLS LAST, {_UNSHARED} NULLS LAST, b.id
         LIMIT {NUMBERS_LIMIT})
        UNION ALL
        (SELECT b.code, b.address, {ROAD}, q.house, {BUILDING}, b.grid_id
         FROM territory_building b
         WHERE NOT x.clean AND q.building IS NULL AND {HOUSE} = q.house
         ORDER BY {_IN_COMMUNITY} DESC NULLS LAST, {_UNSHARED} NULLS LAST, b.id
         LIMIT {HOUSE_LIMIT})
    ) c
)
"""  # noqa: S608
_FOUND = """
    SELECT true AS compound, k AS idx, code, address, road, house, building, grid_id, x, y FROM compound
    UNION ALL
    SELECT false, i, code, address, road, house, building, grid_id, NULL, NULL FROM numbers"""
_RECALL = _SCANS.format(addresses=_ADDRESSES) + _WITH_NAMES.format(found=_FOUND)
_RECALL_FEW = _SCANS.format(addresses=_ADDRESSES_FEW) + _WITH_NAMES_FEW.format(found=_FOUND)

# The nearest road names by trigram distance (`<->`, 1 − similarity), from the GiST index in distance
# order; among those sharing any trigram, the named community's first.
_FALLBACK = _WITH_NAMES.format(found=f"""
    SELECT false AS compound, q.i AS idx, c.*
    FROM unnest(%(i)b::int[], %(road)b::text[], %(community)b::text[]) AS q(i, road, community)
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


class Row(NamedTuple):
    """A recalled building, with its keys as the indexes see them and its community and street (a tuple:
    thousands are made per batch)."""

    code: str
    address: str
    road: str | None
    house: str | None
    building: str | None
    community: str | None
    street: str | None
    point: tuple[float, float] | None = None  # (lon, lat), only where recall had it at hand


class Query(NamedTuple):
    """What recall needs from a parsed address."""

    road: str | None
    road_alt: str | None  # the road with its numerals spelt the other way, if it has any
    house: str | None
    building: str | None
    community: str | None


JIT_FREE_BATCH = 200  # above this many addresses a batch query's estimated cost would start JIT compiling


@contextmanager
def batch_settings(size: int) -> Iterator[None]:
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


@dataclass(slots=True)
class Asked:
    """A recall statement's parameters for some queries, and how to read its rows back."""

    size: int  # queries
    asked: list[int]  # those with a house number: the others recall nothing
    keys: list[int | None]  # per asked query, its compound (road + house number), scanned once
    compounds: int
    params: dict[str, list]

    @property
    def statement(self) -> str:
        return _RECALL_FEW if len(self.asked) <= FEW else _RECALL


def ask(queries: Sequence[Query]) -> Asked:
    asked = [i for i, q in enumerate(queries) if q.house]
    compounds: dict[tuple[str, str], int] = {}  # (road, house) → k
    keys = [compounds.setdefault((queries[i].road, queries[i].house), len(compounds)) if queries[i].road else None
            for i in asked]
    params = {"i": asked, "k": keys, **{name: [getattr(queries[i], name) for i in asked]
                                        for name in ("road", "road_alt", "house", "building", "community")}}
    return Asked(len(queries), asked, keys, len(compounds), params)


def fetch(asked: Asked, conn: psycopg.Connection | None = None) -> list[tuple]:
    """The statement's rows (no Django: may run in another thread on the caller's connection)."""
    return fetchall_prepared(asked.statement, asked.params, binary=True, conn=conn) if asked.asked else []


def recall(queries: Sequence[Query]) -> list[list[Row]]:
    """Candidates per query (same order), by house/building numbers and the named road."""
    asked = ask(queries)
    with batch_settings(len(asked.asked)):
        return collect(asked, fetch(asked))


def collect(asked: Asked, rows: list[tuple]) -> list[list[Row]]:
    """The candidates per query from the statement's rows: its compound's buildings (shared, one Row each),
    then what the numbers scans found besides."""
    out: list[list[Row]] = [[] for _ in range(asked.size)]
    compounds: list[list[Row]] = [[] for _ in range(asked.compounds)]
    extra: dict[int, list[Row]] = {}
    for compound, idx, code, address, road, house, building, community, street, x, y in rows:
        row = Row(code, address, road, house, building, community, street, None if x is None else (x, y))
        if compound:
            compounds[idx].append(row)
        else:
            extra.setdefault(idx, []).append(row)
    for i, key in zip(asked.asked, asked.keys, strict=True):
        rows_i = out[i] = compounds[key][:] if key is not None else []
        more = extra.get(i)
        if more:  # the numbers scans may find the compound's buildings again: each building once
            seen = {row.code for row in rows_i}
            for row in more:
                if row.code not in seen:
                    seen.add(row.code)
                    rows_i.append(row)
    return out


def recall_fallback(queries: Sequence[Query], wanted: Sequence[int]) -> list[list[Row]]:
    """Buildings on the roads whose names are nearest the named one by pg_trgm (any house number), for
    the queries at `wanted`: candidates for a person, when nothing has the numbers named."""
    out: list[list[Row]] = [[] for _ in queries]
    asked = [i for i in wanted if queries[i].road]
    if asked:
        params = {"i": asked, "road": [queries[i].road for i in asked],
                  "community": [queries[i].community for i in asked]}
        with batch_settings(len(asked)):
            rows = fetchall_prepared(_FALLBACK, params, binary=True)
        for _, i, code, address, road, house, building, community, street, _, _ in rows:
            out[i].append(Row(code, address, road, house, building, community, street))
    return out


# A building's point is its point on surface; a compound's is the point of its buildings nearest to their
# centroid: on one of them, so in their grid even when the grid is not convex.
_POINTS = """
SELECT 'b', b.code, ST_X(b.p), ST_Y(b.p)
FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM territory_building WHERE code = ANY(%b::text[])) b
UNION ALL
SELECT 'c', c.k::text, ST_X(c.p), ST_Y(c.p)
FROM (SELECT k, ST_ClosestPoint(g, ST_Centroid(g)) AS p
      FROM (SELECT m.k, ST_Collect(b.geom ORDER BY b.code) AS g  -- in order: the same point every time
            FROM unnest(%b::int[], %b::text[]) AS m(k, code) JOIN territory_building b ON b.code = m.code
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
    with batch_settings(len(buildings) + len(compounds)):
        rows = fetchall_prepared(_POINTS, [sorted(set(buildings)), [k for k, _ in members],
                                           [code for _, code in members]], binary=True)
    for kind, key, x, y in rows:
        if kind == "b":
            at_building[key] = (x, y)
        else:
            at_compound[int(key)] = (x, y)
    return at_building, at_compound
