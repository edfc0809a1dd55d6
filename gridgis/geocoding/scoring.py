"""Scoring recalled buildings against a parsed address (pure Python, rapidfuzz): a confidence 0–1.

Numbers are a gate, names are evidence. A building is a match only when its house and building numbers
are the ones named: recall already keeps to the house number, and a building whose building number
differs is at best listed as a candidate. Among the buildings that agree on the numbers, the names
decide: each level named (road, community, street) multiplies the score by its agreement — exact 1.0,
one wrong character in the road 0.85, two 0.55 — while a level not named costs nothing, so an exact road
with a mistyped community still locates. When the road typed is itself a real road with that house
number, reading it as another road costs more (OTHER_ROAD). Then ambiguity: when another building, or
another reading (the named road's compound without that building), scores nearly as well, the
confidence drops — to half for a tie — so two near-equal buildings never pass the threshold. Landmark
phrases (附近, 对面 …) lower it a little: near is not at.

Road-level hits are compounds (one road + house number in one community): scored on names the same way,
times a factor for not knowing the building, or for naming a building number the compound lacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from .normalize import AddressParts, road_key
from .recall import Row

ROAD_EDITS = (1.0, 0.85, 0.55, 0.35)  # road factor by wrong characters (Levenshtein): 0, 1, 2, more
OTHER_ROAD = 0.85  # a road other than the one typed, when the one typed is a real road with those numbers
COMMUNITY_COST = 0.25  # an exact road and numbers with a mistyped community still pass
STREET_COST = 0.15
NO_ROAD = 0.85  # numbers and a community, but no road: a compound of that community
NO_NAMES = 0.6  # numbers alone name a place only by chance
ROAD_LEVEL = 0.95  # the compound is known, the building was not named
MISSING_BUILDING = 0.85  # the compound is known, but not the building number named
LANDMARK = 0.95
AMBIGUITY_MARGIN = 0.2  # a runner-up this far behind (or further) costs nothing; a tie halves
WRONG_NUMBER = 0.6  # candidate list only: a building of the right compound with another number
WRONG_HOUSE = 0.4  # candidate list only: the road's buildings when its house number is unknown
MAX_CANDIDATES = 5

_ADMIN_SUFFIX = re.compile(r"(?:社区|居委会|村委会|村|街道|镇|乡)$")


@dataclass(frozen=True, slots=True)
class Decision:
    method: str  # "building" | "road" | "none"
    confidence: float
    building: Row | None = None
    compound: tuple[str, ...] = ()  # codes of the recalled buildings of a road-level hit's compound
    candidates: list[tuple[Row, float]] = field(default_factory=list)


@lru_cache(maxsize=4096)
def _road_key(road: str) -> str:
    return road_key(road)


@lru_cache(maxsize=4096)
def _stem(name: str) -> str:
    return _ADMIN_SUFFIX.sub("", name) or name


class _Names:
    """The names an address gives, compared with a building's (cached per distinct road/community/street)."""

    def __init__(self, road: str | None, community: str | None, street: str | None):
        self.road = _road_key(road) if road else None
        self.community = community  # may hold the street too: 站前明达社区 (街道 left out)
        self.street = street
        self.base = 1.0 if self.road else (NO_ROAD if self.community or self.street else NO_NAMES)
        self._cache: dict[tuple, tuple[float, bool]] = {}

    def look(self, row: Row) -> tuple[float, bool]:
        """The names' agreement with the row's, and whether the row is on the road named."""
        key = (row.road, row.community, row.street)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) > 256:  # bounded: the cache of _Names objects is too
                self._cache.clear()
            found = self._cache[key] = (self._agreement(row), bool(self.road and row.road)
                                        and _road_key(row.road) == self.road)
        return found

    def _agreement(self, row: Row) -> float:
        score = self.base
        if self.road:
            score *= ROAD_EDITS[min(road_edits(self.road, row.road), len(ROAD_EDITS) - 1)]
        if self.community and row.community:
            score *= 1.0 - COMMUNITY_COST * (1.0 - _contained(_stem(row.community), self.community))
        if self.street and row.street:
            score *= 1.0 - STREET_COST * (1.0 - _contained(_stem(row.street), self.street))
        return score


# The comparisons are pure: kept across addresses (a compound's buildings are asked for with the same names).
_names = lru_cache(maxsize=1024)(_Names)  # at most 1024 × 257 comparisons kept


def road_edits(typed_key: str, road: str | None) -> int:
    """Characters to change between the typed road and a building's (numerals as digits): 0 is the same road."""
    if not road:
        return len(ROAD_EDITS)
    return Levenshtein.distance(typed_key, _road_key(road))


def _contained(name: str, text: str) -> float:
    """How well `name` appears in `text` (站前明达社区 contains 明达): rapidfuzz partial ratio, 0–1."""
    if not text:
        return 0.0
    return 1.0 if name in text else fuzz.partial_ratio(name, text) / 100.0


def _ambiguity(best: float, runner_up: float) -> float:
    gap = max(0.0, best - runner_up)
    return 0.5 + 0.5 * min(1.0, gap / AMBIGUITY_MARGIN)


def decide(parts: AddressParts, rows: list[Row], threshold: float) -> Decision:
    """The building, else the compound, that the address names, with a confidence; else candidates."""
    names = _names(parts.road, parts.community, parts.street)
    house, building = parts.house_number, parts.building_number
    landmark = LANDMARK if parts.landmark_hint else 1.0
    look = names.look
    looked = [look(row) for row in rows]
    if names.road and any(same for _, same in looked):
        # the road typed is a real road with this house number: reading it as another costs more
        scored = [(row, s if same else s * OTHER_ROAD) for row, (s, same) in zip(rows, looked, strict=True)]
    else:
        scored = [(row, s) for row, (s, _) in zip(rows, looked, strict=True)]
    compounds = _compounds(scored, house, building)
    best_b, conf_b = _best_building(scored, compounds, house, building)
    if best_b is not None and conf_b * landmark >= threshold:
        return Decision("building", conf_b * landmark, building=best_b)
    best_c, conf_c = _best_compound(compounds, building)
    candidates = _candidates(scored, house, building)
    if best_c is not None and conf_c * landmark >= threshold:
        return Decision("road", conf_c * landmark, compound=tuple(best_c.codes), candidates=candidates)
    return Decision("none", max(conf_b, conf_c) * landmark, candidates=candidates)


@dataclass(slots=True)
class _Compound:
    """The buildings of one road + house number in one community, as recalled."""

    key: tuple[str, str, str]
    score: float  # the names' agreement, times MISSING_BUILDING when the named building isn't here
    codes: list[str]
    has_building: bool


def _compounds(scored: list[tuple[Row, float]], house: str | None, building: str | None
               ) -> dict[tuple[str, str, str], _Compound]:
    found: dict[tuple[str, str, str], _Compound] = {}
    if house is None:
        return found
    for row, score in scored:
        if row.house != house or not row.road:
            continue
        key = (row.road, house, row.community or "")  # the same road and number elsewhere is another place
        compound = found.get(key)
        if compound is None:
            found[key] = _Compound(key, max(0.0, score), [row.code], building is not None and row.building == building)
            continue
        if score > compound.score:
            compound.score = score
        compound.codes.append(row.code)
        if building is not None and row.building == building:
            compound.has_building = True
    if building is not None:
        for compound in found.values():
            if not compound.has_building:
                compound.score *= MISSING_BUILDING
    return found


def _best_building(scored: list[tuple[Row, float]], compounds: dict[tuple[str, str, str], _Compound],
                   house: str | None, building: str | None) -> tuple[Row | None, float]:
    if house is None or building is None:
        return None, 0.0
    agreeing = [(row, s) for row, s in scored if row.building == building and row.house == house]
    if not agreeing:
        return None, 0.0
    if len(agreeing) > 1:
        agreeing.sort(key=lambda rs: (-rs[1], rs[0].code))
    best, score = agreeing[0]
    runner_up = agreeing[1][1] if len(agreeing) > 1 else 0.0
    # another reading: the caller meant a compound that lacks this building number (the number is wrong)
    own = (best.road, best.house, best.community or "")
    for key, compound in compounds.items():
        if key != own and compound.score > runner_up:
            runner_up = compound.score
    return best, score * _ambiguity(score, runner_up)


def _best_compound(compounds: dict[tuple[str, str, str], _Compound], building: str | None
                   ) -> tuple[_Compound | None, float]:
    if not compounds:
        return None, 0.0
    ranked = sorted(compounds.values(), key=lambda c: (-c.score, c.key))
    best = ranked[0]
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    factor = ROAD_LEVEL if building is None else 1.0  # MISSING_BUILDING is already in the score
    return best, best.score * factor * _ambiguity(best.score, runner_up)


def _candidates(scored: list[tuple[Row, float]], house: str | None, building: str | None
                ) -> list[tuple[Row, float]]:
    """The best few buildings, numbers weighed in, for a person to choose from."""
    def weight(row: Row) -> float:
        if house is None or row.house != house:
            return WRONG_HOUSE
        return 1.0 if building is None or row.building == building else WRONG_NUMBER

    ranked = sorted(((row, s * weight(row)) for row, s in scored), key=lambda rs: (-rs[1], rs[0].code))
    return ranked[:MAX_CANDIDATES]
