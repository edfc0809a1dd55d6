"""What geocoding an address gives the intake: a point and how sure we are, or the best candidates."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.gis.geos import Point


@dataclass(frozen=True)
class Candidate:
    building_code: str
    address: str
    score: float  # 0–1

    def as_dict(self) -> dict:
        return {"building_code": self.building_code, "address": self.address, "score": round(self.score, 3)}


@dataclass(frozen=True)
class GeocodeResult:
    method: str  # "building" | "road" | "none" (Case.GeocodeMethod values)
    confidence: float  # 0–1; accepted only at or above the threshold
    lonlat: tuple[float, float] | None = None  # WGS84, where located
    building_code: str = ""
    candidates: list[Candidate] = field(default_factory=list)

    @cached_property
    def point(self) -> Point | None:
        """The point located, made on first use: a GEOS Point costs ~10 µs, a bulk import may read lonlat only."""
        return None if self.lonlat is None else Point(*self.lonlat, srid=4326)

    @property
    def located(self) -> bool:
        return self.lonlat is not None
