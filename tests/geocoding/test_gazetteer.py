"""Geocoding against the building gazetteer (real PostGIS, pg_trgm).

The gazetteer: the factory town (明达社区, whose three buildings have only their address filled in), plus
roads with look-alike names and shared house numbers — 建国路, 建设路 and 建国街 all have a No. 20 compound
of several buildings — a numeral road (二一九路), and one address that exists twice, in two communities
(民主路7号1号楼), which only the community tells apart.
"""

from __future__ import annotations

import random

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection, transaction

from gridgis.geocoding import gazetteer, recall
from gridgis.geocoding.gazetteer import geocode, geocode_many, min_confidence
from gridgis.geocoding.noise import KINDS, NOISES, mixed
from gridgis.territory.models import Building, Community, Grid

pytest_plugins = ["tests.territory_factories"]

PREFIX = "辽宁省鞍山市铁东区站前街道"
TARGET = f"{PREFIX}明达社区建国街20号2号楼"  # its look-alikes are two characters away at least


def square(minx: float, miny: float, maxx: float, maxy: float) -> MultiPolygon:
    return MultiPolygon(Polygon.from_bbox((minx, miny, maxx, maxy)), srid=4326)


@pytest.fixture
def city(town) -> dict[str, Building]:
    """Buildings by a short name: "建国路20-1" is 建国路20号1号楼 in 明达社区."""
    other = Community.objects.create(code="210302001003", name="胜利社区", street=town.street,
                                     geom=square(122.98, 41.08, 122.99, 41.09))
    other_grid = Grid.objects.create(code="210302001003001", name="胜利第一网格", community=other,
                                     geom=square(122.98, 41.08, 122.99, 41.09))
    plan = [  # (grid, community, road, house number, building numbers)
        (town.west, "明达社区", "建国路", "20", ["1", "2", "3"]),
        (town.west, "明达社区", "建设路", "20", ["1", "2"]),
        (town.west, "明达社区", "建国街", "20", ["1", "2"]),
        (town.west, "明达社区", "建国路", "22", ["1"]),
        (town.east, "明达社区", "二一九路", "5", ["1"]),
        (town.east, "明达社区", "民主路", "7", ["1"]),
        (other_grid, "胜利社区", "民主路", "7", ["1"]),
        (other_grid, "胜利社区", "建国路", "21", ["1", "2"]),
    ]
    out = {}
    for row, (grid, community, road, house, numbers) in enumerate(plan):
        for col, number in enumerate(numbers):
            x0, y0, _, _ = grid.geom.extent
            x, y = x0 + 0.0005 + col * 0.0004, y0 + 0.0005 + row * 0.0004
            name = f"{road}{house}-{number}" + ("@胜利" if community == "胜利社区" and road == "民主路" else "")
            out[name] = Building.objects.create(
                code=f"T-{len(out):03d}", address=f"{PREFIX}{community}{road}{house}号{number}号楼",
                road=road, house_number=house, building_number=number, grid=grid,
                geom=square(x, y, x + 0.0002, y + 0.0002),
            )
    return out


def located_at(result, building: Building) -> bool:
    return result.method == "building" and result.building_code == building.code


def test_exact_address_locates_the_building_at_its_point_on_surface(city):
    result = geocode(TARGET)
    assert located_at(result, city["建国街20-2"])
    assert result.confidence >= min_confidence()
    assert result.located
    assert result.point.srid == 4326
    assert city["建国街20-2"].geom.contains(result.point)
    assert result.candidates == []


def test_blank_gazetteer_columns_fall_back_to_the_address(town):
    # the factory's buildings have no road/house/building columns: the recall keys read the address
    result = geocode("建国路12号2号楼")
    assert result.method == "building"
    assert result.building_code == "B-002"


@pytest.mark.parametrize("kind", KINDS)
def test_each_noise_kind_still_finds_the_building(city, kind):
    rng = random.Random(kind)
    texts = {NOISES[kind](TARGET, rng) for _ in range(25)}
    results = geocode_many(sorted(texts))
    missed = [(t, r.method, round(r.confidence, 3)) for t, r in zip(sorted(texts), results, strict=True)
              if not located_at(r, city["建国街20-2"])]
    assert missed == []


def test_mixed_noises_still_find_the_building(city):
    rng = random.Random(5)
    texts = sorted({mixed(TARGET, rng)[1] for _ in range(60)})
    missed = [(t, r.method, round(r.confidence, 3)) for t, r in zip(texts, geocode_many(texts), strict=True)
              if not located_at(r, city["建国街20-2"])]
    assert missed == []


def test_landmark_lowers_the_confidence_but_still_locates(city):
    plain, near = geocode(TARGET), geocode(TARGET + "附近")
    assert located_at(near, city["建国街20-2"])
    assert min_confidence() <= near.confidence < plain.confidence


def test_mistyped_road_or_community_locates_with_less_confidence(city):
    for text in ("明达社区建过街20号2号楼", "站前街道明答社区建国街20号2号楼"):
        result = geocode(text)
        assert located_at(result, city["建国街20-2"]), text
        assert result.confidence < 1.0


def test_chinese_numeral_road_matches_digits(city):
    assert located_at(geocode("219路5号1号楼"), city["二一九路5-1"])
    assert located_at(geocode("二一九路五号一号楼"), city["二一九路5-1"])
    road_level = geocode("219路5号")
    assert road_level.method == "road"
    assert city["二一九路5-1"].geom.distance(road_level.point) < 1e-9


@pytest.mark.parametrize("text", ["建国路20号9号楼", "明达社区建国路22号2号楼"])
def test_a_building_number_the_compound_lacks_is_never_a_building_match(city, text):
    result = geocode(text)
    assert result.method == "road"
    assert result.building_code == ""
    house = text.split("路")[1].split("号")[0]
    compound = [b for b in city.values() if b.road == "建国路" and b.house_number == house]
    assert any(b.geom.distance(result.point) < 1e-9 for b in compound)
    assert all(c.score < min_confidence() for c in result.candidates)


def test_a_building_number_taken_from_another_road_is_not_matched_there(city):
    # 建国路22号 has no 2号楼 but 建设路 and 建国街 No. 20 … have; never "the nearest road with that number"
    result = geocode("建国路22号3号楼")
    assert result.building_code not in {b.code for b in city.values()}


def test_road_and_house_number_only_is_a_road_level_hit_on_that_compound(city):
    result = geocode("站前街道建国路20号")
    assert result.method == "road"
    assert result.building_code == ""
    assert min_confidence() <= result.confidence < 1.0
    compound = [city[f"建国路20-{n}"] for n in "123"]
    assert any(b.geom.distance(result.point) < 1e-9 for b in compound)  # on one of them, so in their grid
    assert {c.building_code for c in result.candidates} == {b.code for b in compound}


def test_same_house_number_on_a_road_in_another_community_is_its_own_compound(city):
    result = geocode("胜利社区建国路21号")
    assert result.method == "road"
    assert any(city[f"建国路21-{n}"].geom.distance(result.point) < 1e-9 for n in "12")


def test_unknown_road_is_not_located_but_gets_candidates(city):
    result = geocode("幸福大道20号1号楼")
    assert result.method == "none"
    assert not result.located
    assert result.building_code == ""
    assert result.confidence < min_confidence()
    assert 0 < len(result.candidates) <= 5
    assert [c.score for c in result.candidates] == sorted((c.score for c in result.candidates), reverse=True)
    same_numbers = {city[f"{road}20-1"].code for road in ("建国路", "建设路", "建国街")}
    assert {c.building_code for c in result.candidates} <= same_numbers


def test_road_without_house_number_is_not_located(city):
    result = geocode("建国路附近")
    assert result.method == "none"
    assert not result.located
    assert result.candidates  # the road's buildings, by trigram similarity of the road name
    assert all("建国路" in c.address for c in result.candidates[:3])


def test_ambiguous_address_stays_below_the_threshold(city):
    result = geocode("民主路7号1号楼")  # the same address in 明达社区 and 胜利社区
    assert result.method == "none"
    assert result.confidence < min_confidence()
    assert {c.building_code for c in result.candidates[:2]} == {city["民主路7-1"].code, city["民主路7-1@胜利"].code}
    assert located_at(geocode("胜利社区民主路7号1号楼"), city["民主路7-1@胜利"])
    assert located_at(geocode("站前街道明达社区民主路7号1号楼"), city["民主路7-1"])


def test_typo_between_two_look_alike_roads_is_ambiguous(city):
    # 建过路 is one character from both 建国路 and 建设路, and both have 20号1号楼 in 明达社区
    result = geocode("明达社区建过路20号1号楼")
    assert result.method == "none"
    assert result.confidence < min_confidence()


@pytest.mark.parametrize("text", ["", "   ", "？？？", "胜利广场附近", "12号3号楼"])
def test_nothing_to_go_on_is_not_located(city, text):
    result = geocode(text)
    assert result.method == "none"
    assert not result.located


def test_threshold_comes_from_settings(city, settings):
    settings.GRIDGIS = {**settings.GRIDGIS, "GEOCODE_MIN_CONFIDENCE": 0.9}
    result = geocode("明达社区建过街20号2号楼")  # 0.85: located at the default threshold, not at 0.9
    assert result.method == "none"
    assert result.candidates[0].building_code == city["建国街20-2"].code


def test_geocode_many_equals_geocode_one_by_one(city, monkeypatch):
    texts = [TARGET, "建国路20号", "建国路20号9号楼", "幸福大道20号1号楼", "民主路7号1号楼", "", "建国路附近",
             "219路5号1号楼", "建国路12号1号楼", TARGET + "对面", "明达社区建过路20号1号楼", TARGET]
    one_by_one = [geocode(t) for t in texts]
    assert geocode_many(texts) == one_by_one
    monkeypatch.setattr(recall, "FEW", 0)  # the statement for many addresses (planned for their number)
    assert geocode_many(texts) == one_by_one
    monkeypatch.setattr(gazetteer, "CHUNK", 5)  # several chunks, recalled in a helper thread
    monkeypatch.setattr(recall, "JIT_FREE_BATCH", 2)  # and the big-batch settings path
    assert geocode_many(texts) == one_by_one


def test_geocode_leaves_the_callers_transaction_and_settings_as_they_were(city, monkeypatch):
    monkeypatch.setattr(recall, "JIT_FREE_BATCH", 0)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', '0.45', true), current_setting('jit')")
        _, jit = cursor.fetchone()
        Building.objects.filter(code=city["建国路22-1"].code).update(name="仍在事务中")
        geocode_many(["建国路附近", TARGET, "建国路20号"])  # the fallback, a point query, the big-batch path
        cursor.execute("SELECT current_setting('pg_trgm.similarity_threshold'), current_setting('jit')")
        assert cursor.fetchone() == ("0.45", jit)
        assert Building.objects.get(code=city["建国路22-1"].code).name == "仍在事务中"


def test_a_repeated_address_gets_the_same_result_as_an_object_of_its_own(city):
    texts = [TARGET, "建国路20号", TARGET, "幸福大道20号1号楼", "建国路20号", TARGET]
    results = geocode_many(texts)
    assert results == [geocode(t) for t in texts]
    first, *repeats = [r for t, r in zip(texts, results, strict=True) if t == TARGET]
    assert located_at(first, city["建国街20-2"])
    for result in repeats:  # changing one result's point or candidates in place leaves the others alone
        assert result is not first
        assert result.point is not first.point
    assert results[1].candidates is not results[4].candidates


def test_every_building_of_a_compound_in_one_batch_is_located_at_itself(city):
    # one compound scan serves all of them; each still gets its own building (and its point on surface)
    compound = [city[f"建国路20-{n}"] for n in "123"]
    results = geocode_many([b.address for b in compound] + ["建国路20号"])
    for building, result in zip(compound, results[:3], strict=True):
        assert located_at(result, building)
        assert building.geom.contains(result.point)
    assert results[3].method == "road"


def test_many_addresses_are_recalled_in_the_callers_transaction(city, monkeypatch):
    # chunks recalled in a helper thread still see what the caller wrote and has not committed
    monkeypatch.setattr(gazetteer, "CHUNK", 2)
    monkeypatch.setattr(recall, "JIT_FREE_BATCH", 2)
    with transaction.atomic():
        x0, y0, _, _ = city["建国路22-1"].geom.extent
        new = Building.objects.create(code="T-NEW", address=f"{PREFIX}明达社区建国路22号5号楼", road="建国路",
                                      house_number="22", building_number="5", grid=city["建国路22-1"].grid,
                                      geom=square(x0 + 0.001, y0, x0 + 0.0012, y0 + 0.0002))
        texts = [TARGET, "建国路20号", new.address, "219路5号1号楼", "幸福大道20号1号楼", new.address]
        results = geocode_many(texts)
        assert located_at(results[2], new)
        assert new.geom.contains(results[2].point)
        assert results == [geocode(t) for t in texts]
