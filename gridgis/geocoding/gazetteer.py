"""Geocoding hotline addresses against the building gazetteer (territory_building).

    geocode("站前明达社区建国路１２号３栋附近")  → GeocodeResult(method="building", confidence=0.95,
                                                             lonlat=(…), building_code="…"); .point
    geocode_many([...])                         → the same for each address, a few queries per batch

Pipeline: normalize.parse → recall (PostgreSQL: index scans on number and road keys, many addresses per
query) → scoring.decide (rapidfuzz; numbers must agree, names are evidence, ambiguity costs) → points
(ST_PointOnSurface of the building; for a road-level hit, the compound's point nearest its centroid).
At or above settings.GRIDGIS["GEOCODE_MIN_CONFIDENCE"] (0.8) the address is located; below, the result
carries no point, only the best candidates, for a person to choose.

Repeats cost nothing: geocode_many geocodes each distinct text once, and each distinct reading (road,
numbers, names) once; recall scans each compound once per batch.

geocode() runs in the caller's transaction and only reads (batches of more than recall.JIT_FREE_BATCH
addresses turn JIT off for a savepoint's span, and put it back).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings

from .normalize import AddressParts, parse, road_key
from .recall import Query, points, recall, recall_fallback
from .result import Candidate, GeocodeResult
from .scoring import Decision, decide

__all__ = ["BATCH", "geocode", "geocode_many", "min_confidence"]

BATCH = 20_000  # addresses per recall statement: each compound scanned once per batch, bounded memory


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
    found: list[GeocodeResult] = []
    for start in range(0, len(distinct), BATCH):
        found += _batch(distinct[start:start + BATCH], threshold)
    return found if len(distinct) == len(addresses) else _spread(found, same)


def _batch(addresses: Sequence[str], threshold: float) -> list[GeocodeResult]:
    parts = [parse(text) if text and text.strip() else AddressParts() for text in addresses]
    # What recall and scoring read of an address: addresses written differently but read alike decide once.
    at: dict[tuple, int] = {}
    same = [at.setdefault((p.road, p.house_number, p.building_number, p.community, p.street, bool(p.landmark_hint)),
                          len(at)) for p in parts]
    unique: list[AddressParts] = []
    for k, p in zip(same, parts, strict=True):
        if k == len(unique):
            unique.append(p)
    queries = [_query(p) for p in unique]
    rows = recall(queries)
    unfound = [i for i, found in enumerate(rows) if not found]
    if unfound:
        for i, found in enumerate(recall_fallback(queries, unfound)):
            if found:
                rows[i] = found
    decisions = [decide(p, r, threshold) for p, r in zip(unique, rows, strict=True)]
    results = [_result(d, xy) for d, xy in zip(decisions, _points(decisions), strict=True)]
    return results if len(results) == len(parts) else _spread(results, same)


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
