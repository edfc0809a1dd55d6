"""The territory interchange format (shared/docs/interchange.md §1): layers, their fields and order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSpec:
    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    spatial: bool = True
    level: str | None = None  # the code level (geodata.codes) for territorial layers
    # Additions to the documented table that gridgis writes and reads back (interchange.md: add, never rename).
    extra: tuple[str, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return (*self.required, *self.optional, *self.extra)


# In dependency order: parents before children.
LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec("districts", ("code", "name"), (), level="district"),
    LayerSpec("streets", ("code", "name"), ("district_code",), level="street"),
    LayerSpec("communities", ("code", "name"), ("street_code",), level="community"),
    LayerSpec("grids", ("code", "name"), ("community_code", "households", "worker_id"), level="grid",
              extra=("population",)),
    LayerSpec(
        "buildings",
        ("code", "address"),
        ("grid_code", "road", "house_number", "building_number", "households", "population", "name"),
    ),
    LayerSpec("workers", ("id", "name"), ("phone", "grid_code", "role"), spatial=False),
    # An addition to the format (interchange.md: change only by adding): functional departments.
    LayerSpec("departments", ("code", "name"), ("district_code", "phone"), spatial=False),
)

LAYER_BY_NAME = {spec.name: spec for spec in LAYERS}
