"""A folium map of coverage problems for the planner: one self-contained HTML file that opens offline.

folium links Leaflet, jQuery, Bootstrap and Font Awesome from CDNs and starts with OSM tiles. The planner
may be offline, so: no tiles, none of those links, and Leaflet's JS and CSS (from the project's npm
install, `leaflet_dir`) inlined into the page, its images as data: URIs. Nothing used here needs jQuery
or Bootstrap (folium's Popup does — hence GeoJsonPopup, which builds its content with plain DOM calls).

Every text that comes from data goes through _text before it reaches the page: folium's GeoJSON tooltips
and popups put property values into innerHTML as they are, and branca compiles each rendered script —
GeoJSON data included — as a Jinja template again, so a name holding "{{ ... }}" would run on the machine
writing the map. _text escapes HTML and writes braces as entities, which innerHTML turns back into braces.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from geodata.coverage import KIND_LABELS, KINDS, CoverageReport, as_wgs84

KIND_COLOURS = {
    "gap": "#d62728",
    "overlap": "#ff7f0e",
    "outside": "#9467bd",
    "split_building": "#1f77b4",
    "invalid": "#e377c2",
}
# 7 decimals of a degree is ~1 cm: plenty to draw with, and a third less HTML than full doubles.
DRAW_DECIMALS = 7
_IMAGE_URL = re.compile(r"url\((['\"]?)images/([\w.-]+\.(?:png|svg))\1\)")


class _OfflineMap(folium.Map):
    # Instead of folium's CDN links: Leaflet is inlined by _leaflet_assets.
    default_js: list[tuple[str, str]] = []
    default_css: list[tuple[str, str]] = []


class _Raw(Element):
    """Markup put into the page as it is. Not a template: Leaflet's source may contain `{{`."""

    _template = Template("{{ this.markup }}")

    def __init__(self, markup: str):
        super().__init__()
        self.markup = markup


class _Overlay(MacroElement):
    """Markup placed over the map (the legend), escaped by whoever builds it."""

    _template = Template("{% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}")

    def __init__(self, markup: str):
        super().__init__()
        self.markup = markup


class _MetricScale(MacroElement):
    """A metric-only scale bar (folium's control_scale adds feet and miles too)."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});"
        "{% endmacro %}"
    )


def _text(value: object) -> str:
    """Data text made safe for innerHTML and for branca's second pass through Jinja."""
    return html.escape(str(value)).replace("{", "&#123;").replace("}", "&#125;")


# --- Leaflet, inlined -------------------------------------------------------------------------------


def _leaflet_css(leaflet_dir: Path) -> str:
    css = (leaflet_dir / "leaflet.css").read_text(encoding="utf-8")
    return _IMAGE_URL.sub(lambda m: f"url({_data_uri(leaflet_dir / 'images' / m.group(2))})", css)


def _data_uri(path: Path) -> str:
    kind = "svg+xml" if path.suffix == ".svg" else "png"
    return f"data:image/{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_script(source: str) -> str:
    # "</script" inside the source would end the element early; "<\/" means the same to JavaScript.
    return "<script>" + source.replace("</", "<\\/") + "</script>"


def _leaflet_assets(figure: Figure, leaflet_dir: Path) -> None:
    leaflet_dir = Path(leaflet_dir)
    js = (leaflet_dir / "leaflet.js").read_text(encoding="utf-8")
    figure.header.add_child(_Raw(f"<style>{_leaflet_css(leaflet_dir)}</style>"), name="leaflet_css")
    figure.header.add_child(_Raw(_inline_script(js)), name="leaflet_js")


# --- layers -----------------------------------------------------------------------------------------


def _feature_collection(frame: gpd.GeoDataFrame) -> dict:
    """GeoJSON of a WGS84 frame, coordinates rounded for drawing; shapely writes the geometries in one
    vectorised call (geopandas' __geo_interface__ walks every coordinate in Python)."""
    frame = frame[~(frame.geometry.isna() | frame.geometry.is_empty)]
    rounded = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, DRAW_DECIMALS))
    properties = frame.drop(columns=frame.geometry.name).to_dict("records")
    features = [
        {"type": "Feature", "properties": props, "geometry": json.loads(geometry)}
        for props, geometry in zip(properties, shapely.to_geojson(rounded), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _labelled(frame: gpd.GeoDataFrame, noun: str) -> gpd.GeoDataFrame:
    """code + name (when there is one), escaped, as the one property a tooltip shows."""
    names = frame["name"].fillna("").astype(str) if "name" in frame.columns else ""
    labels = (noun + " " + frame["code"].astype(str) + " " + names).str.strip().map(_text)
    return gpd.GeoDataFrame({"label": labels}, geometry=as_wgs84(frame).geometry.values, crs=4326)


def _outline_layer(frame: gpd.GeoDataFrame, *, name: str, noun: str, style: dict) -> folium.GeoJson | None:
    data = _feature_collection(_labelled(frame, noun))
    if not data["features"]:
        return None  # folium's GeoJSON tooltips refuse a layer without features
    return folium.GeoJson(
        data,
        name=name,
        style_function=lambda _feature: style,
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False, sticky=True),
    )


def _problem_frame(report: CoverageReport, kind: str) -> gpd.GeoDataFrame:
    frame = report.to_geodataframe()
    frame = frame[(frame["kind"] == kind) & ~frame.geometry.is_empty]
    text = {
        "label": frame["label"] + " (" + frame["kind"] + ")",
        "community": frame["community_code"],
        "codes": frame["codes"].str.replace(",", ", "),
        "area": frame["area_m2"].map(lambda a: f"{a:,.1f} m²"),
        "detail": frame["detail"],
    }
    escaped = {key: values.astype(str).map(_text) for key, values in text.items()}
    return gpd.GeoDataFrame(escaped, geometry=frame.geometry.values, crs=4326)


def _problem_layer(report: CoverageReport, kind: str) -> folium.FeatureGroup | None:
    frame = _problem_frame(report, kind)
    if frame.empty:
        return None
    colour = KIND_COLOURS[kind]
    style = {"color": colour, "weight": 3, "fillColor": colour, "fillOpacity": 0.55}
    group = folium.FeatureGroup(name=f"{KIND_LABELS[kind]} ({len(frame)})")
    folium.GeoJson(
        _feature_collection(frame),
        style_function=lambda _feature: style,
        popup=folium.GeoJsonPopup(
            fields=["label", "community", "codes", "area", "detail"],
            aliases=["问题", "社区", "编码", "面积", "说明"],
        ),
        tooltip=folium.GeoJsonTooltip(fields=["label", "area"], labels=False),
    ).add_to(group)
    return group


# --- legend -----------------------------------------------------------------------------------------


def _legend(report: CoverageReport) -> str:
    counts = report.counts()
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;margin-right:6px;'
        f'vertical-align:middle;background:{KIND_COLOURS[kind]};opacity:.8"></span>'
        f"{_text(KIND_LABELS[kind])} ({kind}): {counts.get(kind, 0)}</div>"
        for kind in KINDS
    )
    outlines = (
        '<div style="margin-top:4px"><span style="display:inline-block;width:14px;border-top:3px solid #222;'
        'margin-right:6px;vertical-align:middle"></span>社区边界</div>'
        '<div><span style="display:inline-block;width:14px;border-top:1px dashed #555;margin-right:6px;'
        'vertical-align:middle"></span>网格边界</div>'
    )
    return (
        '<div class="coverage-legend" style="position:fixed;bottom:28px;right:12px;z-index:1000;'
        "background:#fff;padding:6px 10px;border:1px solid #999;border-radius:4px;font:12px/1.5 sans-serif;"
        f'width:280px"><strong>网格覆盖检查</strong><div>{_text(report.summary())}</div>'
        f"{rows}{outlines}</div>"
    )


# --- the map ----------------------------------------------------------------------------------------


def coverage_map(
    report: CoverageReport,
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    leaflet_dir: Path,
    title: str = "网格覆盖检查",
) -> folium.Map:
    """The problems of `report` over community and grid outlines, with a legend and a layer switcher."""
    figure = Figure(title=_text(title))
    # Centred on Anshan until _fit knows better (an empty territory keeps it).
    fmap = _OfflineMap(location=[41.1, 123.0], zoom_start=12, tiles=None).add_to(figure)
    _leaflet_assets(figure, leaflet_dir)
    community_style = {"color": "#222", "weight": 3, "fill": False}
    grid_style = {"color": "#555", "weight": 1, "dashArray": "4 3", "fillColor": "#888", "fillOpacity": 0.04}
    layers = [
        _outline_layer(grids, name="网格", noun="网格", style=grid_style),
        _outline_layer(communities, name="社区", noun="社区", style=community_style),
        *(_problem_layer(report, kind) for kind in KINDS),
    ]
    for layer in layers:
        if layer is not None:
            layer.add_to(fmap)
    folium.LayerControl(collapsed=False).add_to(fmap)
    fmap.add_child(_MetricScale())
    fmap.add_child(_Overlay(_legend(report)))
    _fit(fmap, communities, grids)
    return fmap


def _fit(fmap: folium.Map, *frames: gpd.GeoDataFrame) -> None:
    shapes = [as_wgs84(frame).geometry for frame in frames if len(frame)]
    bounds = [shape[~(shape.isna() | shape.is_empty)].total_bounds for shape in shapes]
    bounds = [b for b in bounds if np.isfinite(b).all()]
    if not bounds:
        return  # nothing to show: the map stays where it was created
    west, south = np.min([b[:2] for b in bounds], axis=0)
    east, north = np.max([b[2:] for b in bounds], axis=0)
    # Keep the right-hand column (layer switcher, legend) clear of the territory.
    fmap.fit_bounds([[south, west], [north, east]], padding_top_left=(20, 20), padding_bottom_right=(320, 20))


def write_coverage_map(
    report: CoverageReport,
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    path: Path,
    *,
    leaflet_dir: Path,
) -> Path:
    """Writes the map to `path` (one HTML file, no external resources) and returns the path."""
    path = Path(path)
    fmap = coverage_map(report, communities, grids, leaflet_dir=leaflet_dir)
    path.write_text(fmap.get_root().render(), encoding="utf-8")
    return path
