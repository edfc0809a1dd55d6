"""The noise generator, and the property that parsing sees through every noise but typos."""

from __future__ import annotations

import random
import re
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridgis.geocoding import noise
from gridgis.geocoding.noise import (
    KINDS,
    LANDMARK_WORDS,
    building_word_variant,
    chinese_numerals,
    drop_levels,
    full_width,
    landmark,
    mixed,
    noisy_variants,
    spaces_punctuation,
    to_chinese_numeral,
    typo,
    unit_room_suffix,
)
from gridgis.geocoding.normalize import chinese_to_arabic, normalize, parse

STANDARD = "辽宁省鞍山市铁东区站前街道明达社区建国路12号3号楼"
TAIL = "建国路12号3号楼"

# Names with traps: numerals (二一九, 五一, 建设二道), suffix characters inside (铁路社区, 站前街 vs 站前街道,
# 园林大道), and 千 that is no number.
ROADS = ["建国路", "胜利路", "二一九路", "园林大道", "五一路", "湖南街", "站前街", "铁路街", "南胜利路", "鞍千路",
         "千山路", "建设二道街", "七一路", "东风街", "山南路", "青年巷", "和平大街", "东山街", "人民路", "钢都路"]
STREETS = ["站前街道", "解放街道", "山南街道", "园林街道", "东长甸街道", "和平街道", "新兴街道"]
COMMUNITIES = ["明达社区", "铁路社区", "五一社区", "二一九社区", "丽园社区", "烈士山社区", "胜利社区", "钢城社区",
               "园丁社区", "湖光社区"]


@st.composite
def standard_addresses(draw) -> tuple[str, tuple[str, str, str | None]]:
    """A GB/T 37149 address and its (road, house, building)."""
    road = draw(st.sampled_from(ROADS))
    house = draw(st.integers(1, 999))
    building = draw(st.none() | st.integers(1, 999))
    prefix = "".join([
        draw(st.sampled_from(["", "辽宁省"])), draw(st.sampled_from(["", "鞍山市"])),
        draw(st.sampled_from(["", "铁东区"])), draw(st.sampled_from(["", *STREETS])),
        draw(st.sampled_from(["", *COMMUNITIES])),
    ])
    address = f"{prefix}{road}{house}号" + (f"{building}号楼" if building else "")
    return address, (road, str(house), str(building) if building else None)


def numbers_of(parts):
    return parts.road, parts.house_number, parts.building_number


# --- each kind ----------------------------------------------------------------------------------------

def test_drop_levels():
    seen = {drop_levels(STANDARD, random.Random(seed)) for seed in range(40)}
    assert all(text.endswith(TAIL) and text != STANDARD for text in seen)
    assert "建国路12号3号楼" in seen  # every level gone
    assert any("站前明达社区" in text for text in seen)  # 街道 word dropped before a kept community
    assert drop_levels("建国路12号", random.Random(0)) == "建国路12号"  # nothing to drop


def test_building_word_variant():
    head = STANDARD.removesuffix("3号楼")
    seen = {building_word_variant(STANDARD, random.Random(seed)).removeprefix(head) for seed in range(60)}
    assert seen == {"3栋", "3幢", "3座", "3号", "3号栋", "3#楼"}  # never the standard 号楼 itself
    assert building_word_variant("建国路100号", random.Random(0)) == "建国路100号"


def test_chinese_numerals():
    texts = [chinese_numerals("建国路125号13号楼2单元301", random.Random(seed)) for seed in range(40)]
    assert all(re.search(r"[一二两三四五六七八九十百〇零]", t) for t in texts)
    assert {"建国路一百二十五号", "建国路一二五号"} <= {t[:t.index("号") + 1] for t in texts}
    assert all(t.startswith("建国路") for t in texts)


@pytest.mark.parametrize(("n", "positional", "digits"), [
    (1, "一", "一"), (10, "十", "一〇"), (12, "十二", "一二"), (20, "二十", "二〇"), (105, "一百零五", "一〇五"),
    (110, "一百一十", "一一〇"), (301, "三百零一", "三〇一"), (1008, "一千零八", "一〇〇八"),
    (1050, "一千零五十", "一〇五〇"), (9999, "九千九百九十九", "九九九九"),
])
def test_to_chinese_numeral(n, positional, digits):
    assert to_chinese_numeral(n) == positional
    assert to_chinese_numeral(n, style="digits") == digits


@given(st.integers(1, 9999), st.sampled_from(["positional", "digits"]), st.integers(0, 2**32))
def test_chinese_numerals_round_trip(n, style, seed):
    assert chinese_to_arabic(to_chinese_numeral(n, random.Random(seed), style)) == str(n)


def test_full_width():
    text = full_width(STANDARD + "2单元301", random.Random(0))
    assert "１２号３号楼２单元３０１" in text
    assert unicodedata.normalize("NFKC", text) == STANDARD + "2单元301"


def test_unit_room_suffix():
    forms = set()
    for seed in range(80):
        text = unit_room_suffix(STANDARD, random.Random(seed))
        parts = parse(text)
        assert numbers_of(parts) == ("建国路", "12", "3"), text
        assert parts.unit is not None
        assert parts.room is not None
        assert f"{parts.unit}单元{parts.room}" in normalize(text) or f"{parts.unit}-{parts.room}" in text
        forms.add(re.sub(r"\d+", "N", text.removeprefix(STANDARD[:-len("12号3号楼")])))
    assert {"N号N号楼N单元N", "N号N号楼N单元N室", "N号N号楼N单元N户", "N号N号楼N门N", "N号N号楼N单元N号",
            "N号N-N-N", "N-N-N-N"} == forms
    # a road-level address has no building to hang a dash chain on
    assert all("-" not in unit_room_suffix("建国路100号", random.Random(s)) for s in range(40))


def test_spaces_punctuation():
    for seed in range(60):
        text = spaces_punctuation(STANDARD + "2单元301", random.Random(seed))
        assert text != STANDARD + "2单元301"
        assert normalize(text) == normalize(STANDARD + "2单元301"), text


def test_typo():
    for seed in range(60):
        text = typo(STANDARD, random.Random(seed))
        assert re.findall(r"\d+", text) == ["12", "3"]
        assert text.endswith("12号3号楼")
        assert text.startswith("辽宁省鞍山市铁东区站前街道")
        changed = text.removeprefix("辽宁省鞍山市铁东区站前街道")
        assert changed != "明达社区建国路12号3号楼"
        assert changed.count("社区") == 1  # level words survive
        assert "路12号" in changed
    # names made of numerals are left alone, so their numerals can't be mistaken for numbers
    assert typo("二一九社区二一九路5号", random.Random(0)) == "二一九社区二一九路5号"


def test_landmark():
    text = landmark(STANDARD, random.Random(0))
    assert text.startswith(STANDARD)
    assert text.removeprefix(STANDARD) in LANDMARK_WORDS
    assert parse(text).landmark_hint == text.removeprefix(STANDARD)


def test_mixed():
    kinds = {mixed(STANDARD, random.Random(seed))[0] for seed in range(50)}
    assert all(2 <= len(k.removeprefix("mixed:").split("+")) <= 3 for k in kinds)
    label, _ = mixed(STANDARD, random.Random(1), kinds=["full_width", "chinese_numerals"])
    assert label == "mixed:chinese_numerals+full_width"  # always applied in KINDS order


def test_noisy_variants_are_deterministic():
    a = noisy_variants(STANDARD, random.Random(42))
    assert a == noisy_variants(STANDARD, random.Random(42))
    assert [kind for kind, _ in a][:len(KINDS)] == list(KINDS)
    assert [kind.partition(":")[0] for kind, _ in a][len(KINDS):] == ["mixed", "mixed"]
    assert a != noisy_variants(STANDARD, random.Random(43))


def test_not_a_standard_address():
    with pytest.raises(ValueError, match="not a standard address"):
        noisy_variants("胜利广场附近", random.Random(0))


def test_every_kind_has_a_function():
    assert set(noise.NOISES) == set(KINDS)
    assert all(noise.NOISES[k].__name__ == k for k in KINDS)


# --- the property ---------------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(standard_addresses(), st.integers(0, 2**32))
def test_parse_sees_through_noise(example, seed):
    """Every noise keeps road, house and building as parsed; a typo changes the road only."""
    address, truth = example
    assert numbers_of(parse(address)) == truth
    for kind, text in noisy_variants(address, random.Random(seed), mixes=3):
        parts = parse(text)
        if "typo" in kind:
            assert numbers_of(parts)[1:] == truth[1:], (kind, text)
            if kind == "typo" and text.endswith(address[address.rfind(truth[0]):]):  # it hit the community
                assert parts.road == truth[0], (kind, text)
        else:
            assert numbers_of(parts) == truth, (kind, text)


@settings(max_examples=300, deadline=None)
@given(standard_addresses(), st.integers(0, 2**32))
def test_typo_never_touches_numbers(example, seed):
    address, _ = example
    text = typo(address, random.Random(seed))
    assert re.findall(r"\d+", text) == re.findall(r"\d+", address)
    assert len(text) in (len(address), len(address) - 1)
