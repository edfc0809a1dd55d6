"""Reading the territory interchange format (shared/docs/interchange.md §1) from what users hand us.

PATH may be:
- a GeoPackage (`.gpkg`) holding layers named districts, streets, communities, grids, buildings and
  the attribute tables workers, departments;
- a folder with one file per layer: `districts.geojson` (or `.json`), `districts.shp`, …, and
  `workers.csv`, `departments.csv`;
- one single-layer file (`.geojson`, `.json`, `.shp`, `.csv`) named for its layer, exactly
  (`grids.geojson`) or as a suffix after `_` or `-` (`anshan_districts.geojson`), or with the layer
  given explicitly.

Column names are matched case-insensitively, Shapefile's 10-character truncations are recognised
(`community_` → community_code), and a few documented aliases from public data are accepted
(COLUMN_ALIASES: `adcode` → code for districts, the GB/T 2260 field name used by public boundary files).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataSourceError

from .layers import LAYER_BY_NAME, LAYERS, LayerSpec
from .problems import Problem

COLUMN_ALIASES: dict[str, dict[str, str]] = {
    "districts": {"adcode": "code"},
}
GEO_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".shp": "shapefile"}
SHAPEFILE_NAME_LIMIT = 10


class SourceError(ValueError):
    """PATH itself cannot be used (missing, empty folder, unnamed layer): nothing to report per layer."""


@dataclass(frozen=True)
class LayerSource:
    name: str  # the interchange layer name
    path: Path
    layer: str | None = None  # the layer inside a multi-layer file
    kind: str = "geojson"  # gpkg | geojson | shapefile | csv


@dataclass
class RawLayer:
    """A layer as read: attribute columns renamed to interchange names, geometries untouched."""

    spec: LayerSpec
    source: LayerSource
    frame: pd.DataFrame
    geoms: np.ndarray | None = None  # shapely geometries, None for attribute tables
    crs: str | None = None  # as declared by the file
    problems: list[Problem] = field(default_factory=list)


def discover(path: Path, layer: str | None = None) -> tuple[list[LayerSource], list[str]]:
    """The layers at PATH (in dependency order) and notes about anything ignored."""
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if layer is not None and layer not in LAYER_BY_NAME:
        raise SourceError(f"unknown layer {layer!r}; the layers are {', '.join(LAYER_BY_NAME)}")
    if path.is_dir():
        sources, notes = _discover_folder(path)
    elif path.suffix.lower() == ".gpkg":
        sources, notes = _discover_geopackage(path)
    else:
        sources, notes = [_single_file(path, layer)], []
    if not sources:
        expected = ", ".join(f"{s.name}.geojson" if s.spatial else f"{s.name}.csv" for s in LAYERS)
        raise SourceError(f"no interchange layers found in {path} (expected some of: {expected})")
    order = {spec.name: i for i, spec in enumerate(LAYERS)}
    return sorted(sources, key=lambda s: order[s.name]), notes


def _discover_folder(folder: Path) -> tuple[list[LayerSource], list[str]]:
    sources, notes = [], []
    for spec in LAYERS:
        suffixes = GEO_SUFFIXES if spec.spatial else {".csv": "csv"}
        found = [(folder / f"{spec.name}{sfx}", kind) for sfx, kind in suffixes.items()
                 if (folder / f"{spec.name}{sfx}").is_file()]
        if len(found) > 1:
            raise SourceError(f"{spec.name}: several files for one layer in {folder}: "
                              f"{', '.join(p.name for p, _ in found)}; keep one")
        sources.extend(LayerSource(spec.name, p, kind=kind) for p, kind in found)
    known = {s.path.name for s in sources}
    ignored = sorted(p.name for p in folder.iterdir()
                     if p.suffix.lower() in {*GEO_SUFFIXES, ".csv", ".gpkg"} and p.name not in known)
    if ignored:
        notes.append(f"ignored files that name no layer: {', '.join(ignored)}")
    return sources, notes


def _discover_geopackage(path: Path) -> tuple[list[LayerSource], list[str]]:
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
    except DataSourceError as exc:
        raise SourceError(f"{path.name} is not a geo file GDAL can read: {exc}") from exc
    sources = [LayerSource(n, path, layer=n, kind="gpkg") for n in names if n in LAYER_BY_NAME]
    ignored = [n for n in names if n not in LAYER_BY_NAME]
    return sources, [f"ignored layers of {path.name}: {', '.join(ignored)}"] if ignored else []


def _single_file(path: Path, layer: str | None) -> LayerSource:
    suffix = path.suffix.lower()
    kind = GEO_SUFFIXES.get(suffix, "csv" if suffix == ".csv" else None)
    name = layer or layer_named_by(path.stem)
    if name is None:
        raise SourceError(f"{path.name}: cannot tell which layer it holds; name it after its layer "
                          f"(e.g. districts.geojson or anshan_districts.geojson) or pass --layer")
    if kind is None:
        kind = "csv" if not LAYER_BY_NAME[name].spatial else "geojson"  # let GDAL judge the content
    return LayerSource(name, path, kind=kind)


def layer_named_by(stem: str) -> str | None:
    """`grids` → grids, `anshan_districts` / `tiedong-grids` → the layer after the last `_` or `-`."""
    stem = stem.lower()
    if stem in LAYER_BY_NAME:
        return stem
    for sep in ("_", "-"):
        tail = stem.rsplit(sep, 1)[-1]
        if sep in stem and tail in LAYER_BY_NAME:
            return tail
    return None


def read_layer(source: LayerSource) -> RawLayer:
    """Reads one layer; a file GDAL cannot read becomes a layer problem, not an exception."""
    spec = LAYER_BY_NAME[source.name]
    try:
        if source.kind == "csv":
            return RawLayer(spec, source, _rename(spec, _read_csv(source.path), source.kind))
        return _read_geo(spec, source)
    except (DataSourceError, UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        reason = f"{source.path.name} is not a readable {_kind_label(source.kind)} file: {_short(exc)}"
        return RawLayer(spec, source, pd.DataFrame(), problems=[Problem(source.name, reason)])


def _read_geo(spec: LayerSpec, source: LayerSource) -> RawLayer:
    # pyogrio's raw reader: arrays straight from GDAL, without building a GeoDataFrame first.
    meta, _, wkb, values = pyogrio.raw.read(source.path, layer=source.layer)
    rows = len(wkb) if wkb is not None else len(values[0]) if len(values) else 0
    frame = pd.DataFrame(dict(zip(meta["fields"], values, strict=True)), index=pd.RangeIndex(rows))
    raw = RawLayer(spec, source, _rename(spec, frame, source.kind), crs=meta["crs"])
    has_geometry = meta["geometry_type"] is not None and wkb is not None
    if spec.spatial and has_geometry:
        raw.geoms = shapely.from_wkb(wkb, on_invalid="ignore")  # unreadable → None: reported as missing
    if spec.spatial and not has_geometry:
        raw.problems.append(Problem(spec.name, "the layer has no geometry; districts, streets, communities, "
                                               "grids and buildings must be (Multi)Polygon layers"))
    return raw


def _read_csv(path: Path) -> pd.DataFrame:
    # Excel in China saves CSV as GB18030 (or UTF-8 with a BOM): accept both.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError:
            continue
    raise UnicodeDecodeError("utf-8", b"", 0, 1, "neither UTF-8 nor GB18030")


def _rename(spec: LayerSpec, frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Maps the file's column names onto the interchange field names."""
    wanted = spec.fields
    aliases = COLUMN_ALIASES.get(spec.name, {})
    mapping = {}
    for column in frame.columns:
        key = str(column).strip().lower()
        if key in wanted:
            target = key
        elif key in aliases:
            target = aliases[key]
        else:
            target = _untruncated(key, wanted) if kind == "shapefile" else None
        if target and target not in mapping.values() and target not in frame.columns:
            mapping[column] = target
    return frame.rename(columns=mapping)


def _untruncated(key: str, wanted: tuple[str, ...]) -> str | None:
    if len(key) != SHAPEFILE_NAME_LIMIT:
        return None
    matches = [name for name in wanted if name[:SHAPEFILE_NAME_LIMIT] == key]
    return matches[0] if len(matches) == 1 else None


def _kind_label(kind: str) -> str:
    return {"gpkg": "GeoPackage", "geojson": "GeoJSON", "shapefile": "Shapefile", "csv": "CSV"}[kind]


def _short(exc: Exception) -> str:
    text = str(exc).split(";")[0].strip()
    return text[:200]
