"""Geocoding hotline addresses against the building gazetteer (territory_building).

    geocode("站前明达社区建国路１２号３栋附近")  → GeocodeResult(method="building", confidence=0.95,
                                                             lonlat=(…), building_code="…"); .point
    geocode_many([...])                         → the same for each address, a few queries per batch

Pipeline: normalize.parse → recall (PostgreSQL: index scans on number and road keys, many addresses per
query) → scoring.decide (rapidfuzz; numbers must agree, names are evidence, ambiguity costs) → points
(ST_PointOnSurface of the building; for a road-level hit, the compound's point nearest its centroid).
At or above settings.GRIDGIS["GEOCODE_MIN_CONFIDENCE"] (0.8) the address is located; below, the result
carries no point, only the best candidates, for a person to choose.

Speed: one recall statement per address or per chunk of CHUNK distinct addresses, prepared once per
connection; repeats cost nothing (each distinct text, then each distinct reading — road, numbers, names —
is geocoded once, each compound scanned once per chunk); a standard address is proven a clean hit by its
compound's rows alone, and its building's point comes along, so it costs one compound scan and no second
query. Beyond one chunk, PostgreSQL recalls the next chunks while Python scores the last (_pipelined).

geocode() runs in the caller's transaction and only reads (batches of more than recall.JIT_FREE_BATCH
addresses turn JIT off for a savepoint's span, and put it back).
"""

from __future__ import annotations

import gc
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from .normalize import AddressParts, parse, road_key
from .recall import Query, Row, ask, batch_settings, collect, fetch, points, recall, recall_fallback
from .result import Candidate, GeocodeResult
from .scoring import Decision, decide

__all__ = ["CHUNK", "geocode", "geocode_many", "min_confidence"]

CHUNK = 1000  # distinct addresses per recall statement, when there are more (see _pipelined)
AHEAD = 2  # chunks parsed and sent while the oldest waits to be scored


def min_confidence() -> float:
    return float(settings.GRIDGIS.get("GEOCODE_MIN_CONFIDENCE", 0.8))


def geocode(address: str) -> GeocodeResult:
    """One address (case intake)."""
    return geocode_many([address])[0]


def geocode_many(addresses: Sequence[str]) -> list[GeocodeResult]:
    """Many addresses (bulk import, benchmark); each result is what geocode() gives for it alone. An address
    is geocoded once however often it comes (hotline files and imports repeat addresses a lot)."""
    threshold = min_confidence()
    at: dict[str, int] = {}
    same = [at.setdefault(text, len(at)) for text in addresses]
    distinct = list(at)
    if len(distinct) > CHUNK:
        with _no_cycle_collection():
            found = _pipelined(distinct, threshold)
    else:
        reading = _read(distinct)
        found = _decide(reading, recall(reading.queries), threshold)
    return found if len(distinct) == len(addresses) else _spread(found, same)


def _pipelined(texts: list[str], threshold: float) -> list[GeocodeResult]:
    """CHUNK addresses at a time: their recall statements run one after another in a helper thread, on this
    thread's connection and in its transaction (psycopg connections are thread-safe; the helper touches no
    Django), while this thread parses the next chunks and scores those already recalled — PostgreSQL and
    Python at work at the same time."""
    # In text order: the buildings of one compound (…路12号1号楼, …路12号2号楼) come in one chunk, one scan.
    order = sorted(range(len(texts)), key=lambda i: texts[i] or "")
    connection.ensure_connection()
    conn = connection.connection
    done: list[GeocodeResult] = []
    with batch_settings(len(texts)), ThreadPoolExecutor(1, thread_name_prefix="geocode-recall") as helper:
        jobs: deque = deque()
        for start in range(0, len(texts), CHUNK):
            reading = _read([texts[i] for i in order[start:start + CHUNK]])
            asked = ask(reading.queries)
            jobs.append((reading, asked, helper.submit(fetch, asked, conn)))
            if len(jobs) > AHEAD:  # bounded memory: a few chunks in flight, whatever the input's size
                reading, asked, job = jobs.popleft()
                done += _decide(reading, collect(asked, job.result()), threshold)
        for reading, asked, job in jobs:
            done += _decide(reading, collect(asked, job.result()), threshold)
    out: list[GeocodeResult] = [None] * len(texts)  # type: ignore[list-item]
    for i, result in zip(order, done, strict=True):
        out[i] = result
    return out


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Bulk geocoding makes hundreds of thousands of small objects, none in a reference cycle; the cyclic
    garbage collector, triggered by their number, kept walking every object of the process (a sixth of the
    time). Paused for the span (and put back as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class _Reading:
    """Addresses as parsed: addresses written differently but read alike (the same road, numbers and names,
    all that recall and scoring look at) are recalled and decided once."""

    same: list[int]  # per address, its reading
    parts: list[AddressParts]  # per reading
    queries: list[Query]  # per reading


def _read(addresses: Sequence[str]) -> _Reading:
    at: dict[tuple, int] = {}
    same: list[int] = []
    parts: list[AddressParts] = []
    for text in addresses:
        p = parse(text) if text and text.strip() else AddressParts()
        k = at.setdefault((p.road, p.house_number, p.building_number, p.community, p.street, bool(p.landmark_hint)),
                          len(at))
        if k == len(parts):
            parts.append(p)
        same.append(k)
    return _Reading(same, parts, [_query(p) for p in parts])


def _decide(reading: _Reading, rows: list[list[Row]], threshold: float) -> list[GeocodeResult]:
    unfound = [i for i, found in enumerate(rows) if not found]
    if unfound:
        for i, found in enumerate(recall_fallback(reading.queries, unfound)):
            if found:
                rows[i] = found
    decisions = [decide(p, r, threshold) for p, r in zip(reading.parts, rows, strict=True)]
    results = [_result(d, xy) for d, xy in zip(decisions, _points(decisions), strict=True)]
    return results if len(results) == len(reading.same) else _spread(results, reading.same)


def _spread(results: list[GeocodeResult], same: list[int]) -> list[GeocodeResult]:
    """results[same[i]] for each i; a repeat gets a result object of its own, as geocode() would give it (its
    point and candidate list may be changed in place)."""
    out: list[GeocodeResult] = []
    given = [False] * len(results)
    for k in same:
        result = results[k]
        if given[k]:
            result = GeocodeResult(result.method, result.confidence, result.lonlat, result.building_code,
                                   result.candidates[:])
        given[k] = True
        out.append(result)
    return out


def _points(decisions: list[Decision]) -> list[tuple[float, float] | None]:
    """Where each located decision points: recall brought a clean hit's point along; the rest in one query."""
    road_level = [i for i, d in enumerate(decisions) if d.compound]
    at_building, at_compound = points(
        [d.building.code for d in decisions if d.building is not None and d.building.point is None],
        [decisions[i].compound for i in road_level],
    )
    out = [(d.building.point or at_building.get(d.building.code)) if d.building is not None else None
           for d in decisions]
    for i, xy in zip(road_level, at_compound, strict=True):
        out[i] = xy
    return out


def _query(parts: AddressParts) -> Query:
    return Query(road=parts.road, road_alt=_other_spelling(parts.road), house=parts.house_number,
                 building=parts.building_number, community=parts.community)


_CHINESE_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")


def _other_spelling(road: str | None) -> str | None:
    """二一九路 → 219路 and 219路 → 二一九路: numbered roads are written both ways, the gazetteer uses one.
    (Digit by digit, as such names are read; 二十一路 → 21路 only one way.)"""
    if not road:
        return None
    arabic = road_key(road)
    if arabic != road:
        return arabic
    chinese = road.translate(_CHINESE_DIGITS)
    return chinese if chinese != road else None


def _result(decision: Decision, xy: tuple[float, float] | None) -> GeocodeResult:
    candidates = [Candidate(row.code, row.address, min(1.0, score)) for row, score in decision.candidates]
    confidence = min(1.0, max(0.0, decision.confidence))
    if decision.method == "none" or xy is None:  # no point (e.g. the building was just deleted): say so
        return GeocodeResult("none", confidence, None, "", candidates)
    code = decision.building.code if decision.building is not None else ""
    return GeocodeResult(decision.method, confidence, xy, code, candidates)
