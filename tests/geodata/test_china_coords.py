"""geodata.china_coords: GCJ-02 / BD-09 / CGCS2000 to and from WGS84, with no database.

Forward transforms are checked against published reference values; the iterative inverses by
properties (round trips in metres, measured on the WGS84 ellipsoid with pyproj.Geod), since values
computed here from the same formulas would prove nothing. The "inside China" outline is checked with
named places on both sides of its borders and against shapely.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon, box

from geodata import china_coords as cc

GEOD = Geod(ellps="WGS84")
ROUND_TRIP_M = 0.01  # the goal (1 cm); the requirement is 0.5 m


def metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


OUTLINE = MultiPolygon([Polygon(ring) for ring in cc.CHINA_OUTLINE])


def _deep_cells(size: float = 0.5, margin: float = 0.05) -> list[tuple[float, float]]:
    """South-west corners of grid cells at least `margin`° (~5 km) inside the outline: points there,
    their GCJ-02 and BD-09 positions (≤ 1.5 km away) and their inverses are all in China."""
    inner = OUTLINE.buffer(-margin)
    return [
        (float(x), float(y))
        for x in np.arange(72.0, 136.0, size)
        for y in np.arange(17.0, 54.0, size)
        if inner.contains(box(x, y, x + size, y + size))
    ]


CELLS = _deep_cells()
unit = st.floats(min_value=0.0, max_value=1.0)
# Uniform over China (by cell), plus points right at 105°E, where the series has a √|lon − 105| cusp.
in_china = st.one_of(
    st.builds(lambda cell, u, v: (cell[0] + 0.5 * u, cell[1] + 0.5 * v), st.sampled_from(CELLS), unit, unit),
    st.tuples(st.floats(min_value=105.0 - 1e-6, max_value=105.0 + 1e-6), st.floats(min_value=25.0, max_value=40.0)),
)
PROPERTY = settings(max_examples=300, deadline=None)

# (lon, lat) of places whose side of the outline is not in doubt (> 3 km from it).
INSIDE = {
    "Beijing": (116.397, 39.909), "Shanghai": (121.473, 31.230), "Anshan": (122.994, 41.108),
    "Shenyang": (123.431, 41.806), "Dalian": (121.614, 38.914), "Dandong": (124.383, 40.125),
    "Harbin": (126.535, 45.803), "Mohe": (122.539, 52.972), "Fuyuan": (134.290, 48.365),
    "Hunchun": (130.366, 42.862), "Suifenhe": (131.152, 44.397), "Manzhouli": (117.435, 49.597),
    "Hailar": (119.766, 49.212), "Hohhot": (111.749, 40.842), "Erenhot": (111.977, 43.653),
    "Ejin Banner": (101.068, 41.954), "Hami": (93.515, 42.819), "Urumqi": (87.617, 43.826),
    "Altay": (88.141, 47.845), "Yining": (81.324, 43.917), "Kashgar": (75.990, 39.470),
    "Tashkurgan": (75.229, 37.772), "Hotan": (79.922, 37.114), "Shiquanhe": (80.096, 32.503),
    "Lhasa": (91.117, 29.647), "Shigatse": (88.881, 29.267), "Nyingchi": (94.362, 29.649),
    "Kunming": (102.833, 24.880), "Ruili": (97.851, 24.013), "Jinghong": (100.797, 22.007),
    "Nanning": (108.366, 22.817), "Haikou": (110.199, 20.044), "Sanya": (109.512, 18.253),
    "Zhanjiang": (110.359, 21.271), "Hong Kong": (114.169, 22.319), "Macau": (113.543, 22.199),
    "Xiamen": (118.089, 24.480), "Kinmen": (118.318, 24.432), "Fuzhou": (119.296, 26.074),
    "Taipei": (121.565, 25.033), "Kaohsiung": (120.301, 22.627), "Hualien": (121.601, 23.987),
    "Magong": (119.566, 23.566), "Qingdao": (120.383, 36.067), "Weihai": (122.120, 37.513),
    "Zhoushan": (122.207, 29.985), "Chengdu": (104.066, 30.573), "Xining": (101.778, 36.617),
    "Golmud": (94.903, 36.402),
}  # fmt: skip
CRUDE_BOX = (72.004, 137.8347, 0.8293, 55.8271)  # the usual "out of China" test: wrong for the first ones
OUTSIDE = {
    "Seoul": (126.978, 37.566), "Pyongyang": (125.754, 39.034), "Busan": (129.075, 35.180),
    "Osaka": (135.502, 34.694), "Fukuoka": (130.402, 33.590), "Naha": (127.681, 26.212),
    "Yonaguni": (123.004, 24.468), "Vladivostok": (131.886, 43.116), "Chita": (113.500, 52.033),
    "Ulaanbaatar": (106.906, 47.886), "Choibalsan": (114.530, 48.067), "Almaty": (76.946, 43.238),
    "Bishkek": (74.590, 42.875), "Islamabad": (73.048, 33.684), "Kathmandu": (85.324, 27.717),
    "Thimphu": (89.639, 27.472), "Dhaka": (90.412, 23.810), "Myitkyina": (97.396, 25.383),
    "Lashio": (97.750, 22.933), "Hanoi": (105.834, 21.028), "Haiphong": (106.688, 20.845),
    "Luang Prabang": (102.135, 19.886), "Bangkok": (100.502, 13.756), "Manila": (120.984, 14.599),
    "Singapore": (103.820, 1.352),
    # outside the crude box too
    "Tokyo": (139.692, 35.690), "Dushanbe": (68.787, 38.560), "London": (-0.128, 51.507),
    "null island": (0.0, 0.0), "New York": (-74.006, 40.713), "Sydney": (151.209, -33.869),
    "antimeridian": (180.0, 0.0), "south pole": (-180.0, -90.0), "out of range": (400.0, 100.0),
}  # fmt: skip

SCALAR = [cc.wgs84_to_gcj02, cc.gcj02_to_wgs84, cc.gcj02_to_bd09, cc.bd09_to_gcj02, cc.wgs84_to_bd09, cc.bd09_to_wgs84]
ARRAY = [
    cc.wgs84_to_gcj02_array, cc.gcj02_to_wgs84_array, cc.gcj02_to_bd09_array,
    cc.bd09_to_gcj02_array, cc.wgs84_to_bd09_array, cc.bd09_to_wgs84_array,
]  # fmt: skip
PAIRS = [  # (forward, inverse)
    (cc.wgs84_to_gcj02, cc.gcj02_to_wgs84),
    (cc.gcj02_to_bd09, cc.bd09_to_gcj02),
    (cc.wgs84_to_bd09, cc.bd09_to_wgs84),
]


# --- published reference values ------------------------------------------------------------------
# wandergis/coordtransform (README), the most widely copied implementation, at (116.404, 39.915) by
# Tiananmen. Its gcj02→wgs84 and bd09→gcj02 are one-step approximations, not exact inverses.
BEIJING = (116.404, 39.915)


@pytest.mark.parametrize(
    ("convert", "expected"),
    [
        (cc.wgs84_to_gcj02, (116.41024449916938, 39.91640428150164)),
        (cc.gcj02_to_bd09, (116.41036949371029, 39.92133699351021)),
        (cc.wgs84_to_bd09, (116.41662724378733, 39.922699552216216)),
    ],
)
def test_forward_transforms_match_published_values(convert, expected):
    assert convert(*BEIJING) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("inverse", "forward", "published_approximation"),
    [
        (cc.gcj02_to_wgs84, cc.wgs84_to_gcj02, (116.39775550083061, 39.91359571849836)),
        (cc.bd09_to_gcj02, cc.gcj02_to_bd09, (116.39762729119315, 39.90865673957631)),
    ],
)
def test_inverses_beat_the_published_one_step_approximations(inverse, forward, published_approximation):
    ours = inverse(*BEIJING)
    assert metres(*ours, *published_approximation) < 0.2  # the same point, give or take their error
    ours_miss = metres(*forward(*ours), *BEIJING)
    their_miss = metres(*forward(*published_approximation), *BEIJING)
    assert ours_miss < 1e-3
    assert their_miss > 100 * ours_miss


# --- round trips and shift sizes (hypothesis) -------------------------------------------------------


@PROPERTY
@given(point=in_china)
@pytest.mark.parametrize(("forward", "inverse"), PAIRS)
def test_inverse_of_forward_returns_the_point(forward, inverse, point):
    back = inverse(*forward(*point))
    assert metres(*back, *point) < ROUND_TRIP_M


@PROPERTY
@given(point=in_china)
@pytest.mark.parametrize(("forward", "inverse"), PAIRS)
def test_forward_of_inverse_returns_the_point(forward, inverse, point):
    again = forward(*inverse(*point))
    assert metres(*again, *point) < ROUND_TRIP_M
    # the iteration's own stopping rule, and some slack for the BD-09→GCJ-02→WGS84 chain
    assert max(abs(again[0] - point[0]), abs(again[1] - point[1])) < 5 * cc.TOLERANCE_DEG


@PROPERTY
@given(point=in_china)
def test_shift_sizes_are_plausible(point):
    gcj = cc.wgs84_to_gcj02(*point)
    bd = cc.gcj02_to_bd09(*gcj)
    assert 10 < metres(*point, *gcj) < 720  # measured over China: 18–702 m
    assert 750 < metres(*gcj, *bd) < 1000  # 768–979 m
    assert 650 < metres(*point, *bd) < 1550  # 689–1516 m


def test_round_trips_on_a_large_sample_are_sub_millimetre():
    rng = np.random.default_rng(7)
    corners = np.array(CELLS)[rng.integers(len(CELLS), size=200_000)]
    lon, lat = corners[:, 0] + 0.5 * rng.random(len(corners)), corners[:, 1] + 0.5 * rng.random(len(corners))
    for forward, inverse in [
        (cc.wgs84_to_gcj02_array, cc.gcj02_to_wgs84_array),
        (cc.gcj02_to_bd09_array, cc.bd09_to_gcj02_array),
        (cc.wgs84_to_bd09_array, cc.bd09_to_wgs84_array),
    ]:
        assert metres(*inverse(*forward(lon, lat)), lon, lat).max() < 1e-3
        assert metres(*forward(*inverse(lon, lat)), lon, lat).max() < 1e-3


# --- inside / outside China -------------------------------------------------------------------------


@pytest.mark.parametrize("name", INSIDE)
def test_places_in_china_are_shifted(name):
    lon, lat = INSIDE[name]
    assert cc.in_china(lon, lat)
    assert metres(lon, lat, *cc.wgs84_to_gcj02(lon, lat)) > 10
    assert metres(lon, lat, *cc.bd09_to_wgs84(lon, lat)) > 500


@pytest.mark.parametrize("name", OUTSIDE)
def test_places_outside_china_are_never_shifted(name):
    lon, lat = OUTSIDE[name]
    assert not cc.in_china(lon, lat)
    for convert in SCALAR:
        assert convert(lon, lat) == (lon, lat)
    for convert in ARRAY:
        out_lon, out_lat = convert([lon], [lat])
        assert (out_lon[0], out_lat[0]) == (lon, lat)
    for crs in cc.CRS_NAMES:
        assert cc.to_wgs84(lon, lat, crs) == (lon, lat)


def test_most_places_outside_are_ones_the_crude_box_would_shift():
    west, east, south, north = CRUDE_BOX
    in_box = [name for name, (lon, lat) in OUTSIDE.items() if west <= lon <= east and south <= lat <= north]
    assert len(in_box) >= 20  # Seoul … Singapore: all shifted by the usual bounding-box test


def test_grid_accelerated_test_agrees_with_shapely():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(70.0, 140.0, 400_000), rng.uniform(15.0, 56.0, 400_000)
    assert np.array_equal(cc.in_china_array(lon, lat), shapely.contains_xy(OUTLINE, lon, lat))
    # and the scalar path, on points near the outline (where the exact test is used)
    near = shapely.get_coordinates(shapely.segmentize(OUTLINE.boundary, 0.5)) + rng.normal(0, 0.01, (1, 2))
    assert [cc.in_china(x, y) for x, y in near] == list(shapely.contains_xy(OUTLINE, near[:, 0], near[:, 1]))


def test_outline_is_a_valid_multipolygon_of_mainland_and_taiwan():
    assert OUTLINE.is_valid
    assert len(cc.CHINA_OUTLINE) == 2
    assert 9.5e6 < _area_km2(OUTLINE) < 9.9e6  # China ~9.6 million km², plus the Bohai Sea and coast


def _area_km2(geometry) -> float:
    return sum(abs(GEOD.geometry_area_perimeter(part)[0]) for part in geometry.geoms) / 1e6


def test_outline_agrees_with_natural_earth():
    """Natural Earth 1:110m (shipped as a pyogrio test fixture): China and Taiwan's land borders
    are within 15 km of the outline, and their whole coastline is inside it."""
    pyogrio = pytest.importorskip("pyogrio")
    path = Path(pyogrio.__file__).parent / "tests/fixtures/naturalearth_lowres/naturalearth_lowres.shp"
    if not path.exists():
        pytest.skip("Natural Earth fixture not shipped with this pyogrio")
    world = pyogrio.read_dataframe(path)
    china = shapely.union_all(world[world.name.isin(["China", "Taiwan"])].geometry.values)
    neighbours = shapely.union_all(world[~world.name.isin(["China", "Taiwan"])].geometry.values)
    samples = shapely.points(shapely.get_coordinates(shapely.segmentize(china.boundary, 0.02)))
    land = shapely.distance(samples, neighbours) < 0.02
    assert shapely.distance(samples[land], OUTLINE.boundary).max() < 0.15
    assert shapely.contains(OUTLINE, samples[~land]).all()


# --- arrays and scalars -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(points=st.lists(in_china, min_size=1, max_size=20))
@pytest.mark.parametrize(("scalar", "array"), list(zip(SCALAR, ARRAY, strict=True)))
def test_array_and_scalar_versions_agree(scalar, array, points):
    lon, lat = np.array(points).T
    out_lon, out_lat = array(lon, lat)
    for i, point in enumerate(points):
        # Forward transforms agree to rounding; inverses each stop within TOLERANCE_DEG of the answer.
        assert scalar(*point) == pytest.approx((out_lon[i], out_lat[i]), abs=3 * cc.TOLERANCE_DEG)


def test_arrays_keep_shape_mix_inside_and_outside_and_leave_input_alone():
    lon = np.array([[116.404, 126.978], [-0.128, 122.994]])  # Beijing, Seoul / London, Anshan
    lat = np.array([[39.915, 37.566], [51.507, 41.108]])
    before = lon.copy(), lat.copy()
    out_lon, out_lat = cc.gcj02_to_wgs84_array(lon, lat)
    assert out_lon.shape == out_lat.shape == (2, 2)
    assert (out_lon[0, 1], out_lat[0, 1]) == (126.978, 37.566)
    assert (out_lon[1, 0], out_lat[1, 0]) == (-0.128, 51.507)
    assert (out_lon[1, 1], out_lat[1, 1]) == pytest.approx(cc.gcj02_to_wgs84(122.994, 41.108), abs=3e-9)
    assert np.array_equal(lon, before[0])
    assert np.array_equal(lat, before[1])


def test_arrays_broadcast_take_lists_and_accept_empty_input():
    out_lon, out_lat = cc.wgs84_to_gcj02_array([122.9, 123.0, 123.1], 41.1)
    assert out_lon.shape == out_lat.shape == (3,)
    assert out_lat[0] != out_lat[2]  # each point shifted on its own
    empty_lon, empty_lat = cc.bd09_to_wgs84_array(np.array([]), np.array([]))
    assert empty_lon.shape == empty_lat.shape == (0,)


def test_arrays_longer_than_a_chunk_convert_every_point():
    n = 3 * cc._CHUNK + 5
    lon, lat = np.full(n, 122.994), np.full(n, 41.108)
    lon[::7] = 126.978  # Seoul, unchanged
    out_lon, _ = cc.gcj02_to_wgs84_array(lon, lat)
    expected = cc.gcj02_to_wgs84(122.994, 41.108)[0]
    assert np.allclose(out_lon[lon != 126.978], expected, rtol=0, atol=3e-9)
    assert np.all(out_lon[::7] == 126.978)


# --- to_wgs84 dispatcher ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("crs", "expected"),
    [
        ("wgs84", lambda lon, lat: (lon, lat)),
        ("cgcs2000", lambda lon, lat: (lon, lat)),  # EPSG:4490: unchanged, even inside China
        ("gcj02", cc.gcj02_to_wgs84),
        ("bd09", cc.bd09_to_wgs84),
        (" GCJ02 ", cc.gcj02_to_wgs84),
    ],
)
def test_to_wgs84_dispatches_by_crs(crs, expected):
    anshan = INSIDE["Anshan"]
    assert cc.to_wgs84(*anshan, crs) == expected(*anshan)
    out_lon, out_lat = cc.to_wgs84_array([anshan[0]], [anshan[1]], crs)
    assert (out_lon[0], out_lat[0]) == pytest.approx(expected(*anshan), abs=3 * cc.TOLERANCE_DEG)


@pytest.mark.parametrize("crs", ["gcj-02", "EPSG:4326", "wgs 84", "", "mars", None, 4326])
def test_unknown_crs_is_a_value_error_naming_it(crs):
    with pytest.raises(ValueError, match="unknown CRS") as error:
        cc.to_wgs84(122.994, 41.108, crs)
    assert repr(crs) in str(error.value)
    with pytest.raises(ValueError, match="unknown CRS"):
        cc.to_wgs84_array([122.994], [41.108], crs)


# --- NaN and infinity: always ValueError -------------------------------------------------------------

BAD = [math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("convert", [*SCALAR, cc.in_china, lambda lon, lat: cc.to_wgs84(lon, lat, "wgs84")])
def test_non_finite_scalars_raise(convert, bad):
    with pytest.raises(ValueError, match="finite"):
        convert(bad, 41.1)
    with pytest.raises(ValueError, match="finite"):
        convert(123.0, bad)


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(
    "convert", [*ARRAY, cc.in_china_array, lambda lon, lat: cc.to_wgs84_array(lon, lat, "cgcs2000")]
)
def test_non_finite_values_anywhere_in_an_array_raise(convert, bad):
    lon = np.array([122.9, 123.0, 123.1])
    lat = np.array([41.1, 41.1, 41.1])
    lat[1] = bad
    with pytest.raises(ValueError, match="finite"):
        convert(lon, lat)
