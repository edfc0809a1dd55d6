"""Normalise and parse noisy Chinese addresses into GB/T 37149 levels (pure Python, no Django).

    normalize("辽宁省鞍山市 建国路十二号三栋二单元301室")  -> "辽宁省鞍山市建国路12号3号楼2单元301"
    parse("站前明达社区建国路１２号３幢附近")              -> AddressParts(community=…, road="建国路",
                                                           house_number="12", building_number="3", …)

The approach: `normalize` rewrites every spelling of the same thing to one form (half-width, Arabic
numerals in number positions only, 号楼 for every building word, no 室/户 markers). `parse` then cuts
the text into name pieces and number tokens; name pieces are split at level suffixes (省 市 区 街道
社区 路 …) wherever they occur, so missing levels and shuffled order cost nothing; number tokens are
assigned to 门牌号/楼牌号/单元/户 by their markers, and unmarked ones by position.

Chinese numerals are converted only next to a number marker (号, 栋, 单元, 室, -, …) because names
carry numerals too: 二一九路, 五一社区, 建设二道街 and 千山路 must survive normalisation.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, fields
from functools import lru_cache

__all__ = [
    "AddressParts", "KnownNames", "chinese_to_arabic", "display", "gazetteer_key", "normalize", "parse",
    "road_key", "search_key",
]

# ---------------------------------------------------------------------------------------------------
# Chinese numerals

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN = "".join(_CN_DIGITS) + "".join(_CN_UNITS)


def chinese_to_arabic(numeral: str) -> str:
    """一百零五 → 105, 十二 → 12, 一百五 → 150, 两千 → 2000; without 十百千 digit by digit: 三〇一 → 301."""
    if not any(ch in _CN_UNITS for ch in numeral):
        return "".join(str(_CN_DIGITS[ch]) for ch in numeral)
    total = current = 0
    last_unit = 1
    for ch in numeral:
        unit = _CN_UNITS.get(ch)
        if unit:
            total += (current or 1) * unit  # a bare 十 is 一十
            current, last_unit = 0, unit
        else:
            current = _CN_DIGITS[ch]
    if current and last_unit >= 100 and numeral[-2] in "百千":
        current *= last_unit // 10  # colloquial 一百五 = 150, 三千二 = 3200
    return str(total + current)


def _arabic(match: re.Match) -> str:
    return chinese_to_arabic(match.group())


# ---------------------------------------------------------------------------------------------------
# normalize

# Each sub below runs only when its trigger character is present: most addresses need few of them,
# and normalize+parse must stay well above 20,000 addresses/s.
_PUNCT = re.compile(r"[\s,.;:!?'\"()\[\]{}<>|_*+=&^%$@`，。、；：！？“”‘’（）【】《》〈〉「」『』…·"
                    r"\-‐‑‒–—―~～/\\]+")
_NUMERAL_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" + _CN)


def _separator(m: re.Match) -> str:
    """A separator between two numerals separates numbers (12 3栋, 12—3 are 12-3); elsewhere noise."""
    s, i, j = m.string, m.start(), m.end()
    return "-" if i and j < len(s) and s[i - 1] in _NUMERAL_CHARS and s[j] in _NUMERAL_CHARS else ""


_CN_RUN = re.compile(f"[{_CN}]+")
_CN_BEFORE = frozenset("号楼元门层-之栋幢座")  # after 号/单元/-…: 号三, 单元三〇一
_NUMBERED_NAME = ("号路", "号街", "号巷", "号大街", "号大道")
_CN_AFTER = ("号", "栋", "幢", "座", "单元", "室", "户", "层", "楼", "门", "-", "之")


def _numeral(m: re.Match) -> str:
    """Numerals in number position only: next to a number marker or at the end of the text."""
    s, i, j = m.string, m.start(), m.end()
    if s.startswith(_NUMBERED_NAME, j):
        return m.group()  # 三号路 is a name
    if (i and s[i - 1] in _CN_BEFORE) or j == len(s) or (s.startswith(_CN_AFTER, j) and not s.startswith("门口", j)):
        return chinese_to_arabic(m.group())
    return m.group()


_ORDINAL = re.compile(r"第(?=[0-9])")
_BUILDING_WORD = re.compile(r"([0-9A-Z])(?:号栋|号幢|号座|栋|幢|座)")
_COMPOUND = re.compile(r"(?<=[0-9])号院(?!内|里)")
_SUB_NUMBER = re.compile(r"([0-9]+)号之([0-9]+)")  # 12号之3 → 12之3号
_UNIT_WORD = re.compile(r"([0-9])(?:单元门|门洞|门(?!口|前|外|市))")  # 东北: 2门 = 2单元
_ROOM_WORD = re.compile(r"([0-9])(?:号房间|号房|房间|室|户|房)")
_ROOM_AFTER_UNIT = re.compile(r"(单元[0-9]+)号(?!楼)")
_COUNTRY = re.compile(r"^(?:中华人民共和国|中国)")


def normalize(text: str) -> str:
    """One spelling per address: half-width, no spaces or punctuation, Arabic house/building/unit/
    room numbers, 号楼 for 栋/幢/座/号楼, 单元 for 门, no 室/户 markers."""
    s = unicodedata.normalize("NFKC", text).upper()
    if "#" in s:
        s = s.replace("#", "号")  # 3#楼, 12#
    s = _PUNCT.sub(_separator, s)
    s = _CN_RUN.sub(_numeral, s)
    if "第" in s:
        s = _ORDINAL.sub("", s)
    if "栋" in s or "幢" in s or "座" in s:
        s = _BUILDING_WORD.sub(r"\1号楼", s)
    if "号院" in s:
        s = _COMPOUND.sub("号", s)
    if "之" in s:
        s = _SUB_NUMBER.sub(r"\1之\2号", s)
    if "门" in s:
        s = _UNIT_WORD.sub(r"\1单元", s)
    if "室" in s or "户" in s or "房" in s:
        s = _ROOM_WORD.sub(r"\1", s)
    if "单元" in s:
        s = _ROOM_AFTER_UNIT.sub(r"\1", s)
    if s.startswith("中"):
        s = _COUNTRY.sub("", s)
    return s


# ---------------------------------------------------------------------------------------------------
# parts

@dataclass(slots=True)  # not frozen: a frozen __init__ costs a tenth of the parse
class AddressParts:
    """An address cut into GB/T 37149 levels; None where the text does not say."""

    province: str | None = None
    city: str | None = None
    district: str | None = None
    street: str | None = None  # 街道 / 镇
    community: str | None = None  # 社区 / 居委会
    road: str | None = None  # 路(街巷)
    house_number: str | None = None  # 门牌号: "12", "12-3" (12之3号)
    building_number: str | None = None  # 楼牌号: "3", "A"
    unit: str | None = None  # 单元
    room: str | None = None  # 户 / 室
    floor: str | None = None  # 层, when said apart from the room
    poi: str | None = None  # what is named but is no level: 胜利广场, 明达小区
    cross_road: str | None = None  # a second road: 胜利路与建国路交叉口
    landmark_hint: str | None = None  # 附近 / 对面 / 旁边 / 门口 …: the address is near, not at

    def as_dict(self) -> dict[str, str | None]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


ADMIN_LEVELS = ("province", "city", "district", "street", "community")
_RANK = {level: i for i, level in enumerate((*ADMIN_LEVELS, "road"))}

# ---------------------------------------------------------------------------------------------------
# tokens: name pieces and number tokens

# 219路, 建设2道街, 3号路: digits that are part of a name
_NAME_AFTER_DIGITS = r"(?:大街|大道|路|街|巷|道|弄|胡同|社区|小区|区|村|号(?:大街|大道|路|街|巷))"
_NUM_MARK = r"号楼(?![下道前后顶])|号|单元|层|楼(?![下道前后顶])|-"  # 12号楼下: 楼下 is a landmark
_TOKEN = re.compile(
    rf"(?P<num>[0-9]++|[A-Z](?=号楼|号|单元|-))(?!{_NAME_AFTER_DIGITS})(?:之(?P<sub>[0-9]+))?(?P<mark>{_NUM_MARK})?"
    rf"|(?P<name>[^0-9A-Z]*+(?:(?:[0-9]++(?={_NAME_AFTER_DIGITS})|[A-Z](?!号楼|号|单元|-))[^0-9A-Z]*+)*+)"
)
_LANDMARK = re.compile(
    r"斜对面|对面|附近|旁边|边上|周边|周围|一带|门口|楼下|楼前|楼后|后面|后身|前面|东侧|西侧|南侧|北侧"
    r"|东边|西边|南边|北边|东北角|西北角|东南角|西南角|拐角|院内|院里|楼道|交叉口|交汇处|十字路口|路口|街口|巷口|道口|旁"
)
# Level suffixes, found wherever they are; the text since the previous suffix is the name's body.
# The lookarounds keep suffix characters inside names: 社区/小区 are no 区, 铁路社区 no 路, 市场 no 市,
# 公园大道 no 公园: a suffix followed by another level's word is part of that longer name. Every
# alternative starts with a plain character (lookbehinds come after it) so the scan stays fast.
_LEVEL_WORDS = {
    "province": ("省", "自治区", "特别行政区"),
    "city": ("市(?<![城超都]市)(?!场|区)",),
    "district": ("区(?<![社小园校景厂矿商街片辖营A-Z]区)", "县", "旗"),
    "street": ("街道", "镇"),
    "community": ("社区", "居委会", "村委会", "村"),
    "poi": ("广场", "小区", "花园", "家园", "公寓", "大厦", "大楼", "商场", "市场", "超市", "医院", "学校", "小学",
            "中学", "大学", "学院", "幼儿园", "公园", "银行", "酒店", "宾馆", "饭店", "车站", "中心", "新村", "商店",
            "宿舍"),
    "road": ("大街", "大道", "大路", "胡同", "路", "街", "巷", "道", "弄"),
}
_LEVEL_OF = {word[0] if "(" in word else word: level for level, words in _LEVEL_WORDS.items() for word in words}
_SUFFIX = re.compile(
    "(?:" + "|".join(w for words in _LEVEL_WORDS.values() for w in words) + ")"
    r"(?![路街巷道弄]|大街|大道|大路|胡同|社区|街道|小区|居委会|村)"
)
_CONNECTORS = ("与", "跟", "及", "交")  # not 和: 和平路


@lru_cache(maxsize=8192)  # the same province…road prefixes come again and again
def _segments(name: str) -> tuple[tuple[str | None, str], ...]:
    """Cut a name piece after each level suffix: [(level, text)]; level None for text with no suffix."""
    out: list[tuple[str | None, str]] = []
    start = 0
    for m in _SUFFIX.finditer(name):
        if m.start() == start:
            level = _LEVEL_OF[m.group()]
            if out and level in ("poi", "community"):  # 胜利路|小学 is one name
                out[-1] = (level, out[-1][1] + m.group())
                start = m.end()
            continue  # a suffix needs a body: 市府路 is a road, not 市 + 府路
        text = name[start:m.end()]
        level = _LEVEL_OF[m.group()]
        if level == "district" and len(text) <= 2:
            level = None  # 东区, 三区, A区: a part of an estate, no district has a one-character name
        if out and out[-1][0] == "road" and text.startswith(_CONNECTORS) and len(text) > 2:
            text = text[1:]  # 胜利路与建国路: the second road without 与
        out.append((level, text))
        start = m.end()
    if start < len(name):
        out.append((None, name[start:]))
    return tuple(out)


# ---------------------------------------------------------------------------------------------------
# known names (optional): split run-together levels and canonicalise names

_STEM_SUFFIX = {
    "province": re.compile(r"(?:省|自治区|特别行政区)$"),
    "city": re.compile(r"市$"),
    "district": re.compile(r"(?:区|县|旗)$"),
    "street": re.compile(r"(?:街道|镇|乡)$"),
    "community": re.compile(r"(?:社区|居委会|村委会|村)$"),
}
_ROAD_SUFFIX = re.compile(r"(?:大街|大道|大路|胡同|路|街|巷|道|弄)$")
_NAME_NUMERAL = re.compile(f"[{_CN}]*[零〇一二两三四五六七八九][{_CN}]*")


def road_key(road: str) -> str:
    """A road name with its numerals as digits, so 二一九路 and 219路 compare equal (千山路 stays)."""
    if not _CN_RUN.search(road):
        return road
    return _NAME_NUMERAL.sub(_arabic, road)


class KnownNames:
    """Names from the gazetteer, to split "站前明达社区" into 站前街道 + 明达社区 and to map a
    name as typed (明达, 219路) to the gazetteer's spelling. Build once, reuse for every parse."""

    def __init__(self, *, provinces: Iterable[str] = (), cities: Iterable[str] = (),
                 districts: Iterable[str] = (), streets: Iterable[str] = (), communities: Iterable[str] = (),
                 roads: Iterable[str] = ()):
        # piece (full name or stem) → [(level, canonical name)], highest level first
        self.pieces: dict[str, list[tuple[str, str]]] = {}
        by_level = {"province": provinces, "city": cities, "district": districts, "street": streets,
                    "community": communities}
        for level, names in by_level.items():
            for name in names:
                self._add(name, level, name)
                stem = _STEM_SUFFIX[level].sub("", name)
                if len(stem) >= 2 and stem != name:
                    self._add(stem, level, name)
        self.roads: dict[str, str] = {}  # road_key → canonical road
        stems: dict[str, set[str]] = {}
        for road in roads:
            self.roads[road_key(road)] = road
            stem = _ROAD_SUFFIX.sub("", road)
            if len(stem) >= 2:
                stems.setdefault(stem, set()).add(road)
        # a stem alone names a road only when one road has it (建国 → 建国路, unless 建国街 exists too)
        self.road_stems = {stem: next(iter(names)) for stem, names in stems.items() if len(names) == 1}
        self.longest = max((len(p) for p in self.pieces), default=0)

    def _add(self, piece: str, level: str, name: str) -> None:
        entries = self.pieces.setdefault(piece, [])
        if (level, name) not in entries:
            entries.append((level, name))
            entries.sort(key=lambda e: _RANK[e[0]])

    def exact(self, text: str, level: str | None) -> str | None:
        for lvl, name in self.pieces.get(text, ()):
            if lvl == level and name == text:
                return name
        return None

    def split(self, text: str, level: str | None) -> list[tuple[str | None, str]] | None:
        """Greedy longest known pieces from the left; None when no known piece is found."""
        out: list[tuple[str | None, str]] = []
        unknown, i, n, found = "", 0, len(text), False
        prev_rank = -1
        while i < n:
            for size in range(min(self.longest, n - i), 1, -1):
                entries = self.pieces.get(text[i:i + size])
                if entries:
                    break
            else:
                unknown += text[i]
                i += 1
                continue
            if unknown:
                out.append((None, unknown))
                unknown = ""
            # a stem of several levels: the one that continues the order (站前 before 明达社区)
            lvl, name = next((e for e in entries if _RANK[e[0]] > prev_rank), entries[0])
            if i + size == n and level is not None and any(e[0] == level for e in entries):
                lvl, name = next(e for e in entries if e[0] == level)
            out.append((lvl, name))
            prev_rank = _RANK[lvl]
            found = True
            i += size
        if not found:
            return None
        if unknown:
            out.append((level if level and _STEM_SUFFIX[level].search(unknown) else None, unknown))
        return out

    def road(self, text: str) -> tuple[str | None, str] | None:
        """(what precedes the road, canonical road) when text ends with a known road, else None."""
        hit = self.roads.get(road_key(text))
        if hit:
            return None, hit
        for start in range(1, len(text) - 1):
            hit = self.roads.get(road_key(text[start:]))
            if hit:
                return text[:start], hit
        return None

    def road_by_stem(self, text: str) -> tuple[str | None, str] | None:
        """A known road named without its 路/街 (建国12号), as a suffix of text."""
        for start in range(len(text) - 1):
            hit = self.road_stems.get(text[start:])
            if hit:
                return (text[:start] or None), hit
        return None


def _refine(segments: Iterable[tuple[str | None, str]], known: KnownNames) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for level, text in segments:
        if level == "road":
            hit = known.road(text)
            if hit is None:
                out.append((level, text))
                continue
            before, road = hit
            if before:
                out.extend(known.split(before, None) or [("poi", before)])
            out.append(("road", road))
        elif level == "poi" or (level is not None and known.exact(text, level)):
            out.append((level, text))
        else:
            out.extend(known.split(text, level) or [(level, text)])
    return out


# ---------------------------------------------------------------------------------------------------
# number assignment

_HOUSE, _BUILDING, _UNIT, _ROOM = range(4)
_EXPLICIT = {"号楼": _BUILDING, "单元": _UNIT}
_CANDIDATES = {"号": (_HOUSE, _BUILDING, _ROOM), "": (_HOUSE, _BUILDING, _UNIT, _ROOM),
               "-": (_HOUSE, _BUILDING, _UNIT, _ROOM), "号楼": (_HOUSE,)}
_Num = tuple[str, str, str, int]  # value, 之-number, marker ("" for none), run index


def _clean(value: str) -> str:
    return (value.lstrip("0") or "0") if value.isascii() and value.isdigit() else value


def _assign(nums: list[_Num], has_road: bool, road_led: bool) -> tuple[list[str | None], str | None]:
    """[house, building, unit, room] and floor. Explicit words (号楼, 单元, 层) anchor first; the
    other numbers take the first free slot after the previous number and before the next anchor.
    road_led: nums[0] opens the number run written right after the road."""
    n = len(nums)
    if road_led and n <= 2 and not nums[0][1]:  # the usual 12号 / 12号3号楼: no search needed
        first = nums[0][2]
        if n == 1 and first == "号":
            return [_clean(nums[0][0]), None, None, None], None
        if n == 2 and first == "号" and nums[1][2] == "号楼":
            return [_clean(nums[0][0]), _clean(nums[1][0]), None, None], None
    slot: list[int | None] = [None] * n
    filled: list[str | None] = [None, None, None, None]
    floor = None
    marks = [t[2] for t in nums]
    # 建国路12号楼: with no other building word, the road's "N号楼" is its house number
    road_house = road_led and has_road and marks[0] == "号楼" and marks.count("号楼") == 1
    for i, mark in enumerate(marks):
        k = _EXPLICIT.get(mark)
        if k is not None and filled[k] is None and not (i == 0 and road_house):
            filled[k], slot[i] = _clean(nums[i][0]), k
    last = -1
    i = 0
    while i < n:
        value, sub, mark, run = nums[i]
        i += 1
        if slot[i - 1] is not None:
            last = slot[i - 1]
            continue
        if mark == "层":
            floor = floor or _clean(value)
            continue
        limit = 4  # the next anchored slot
        for k in slot[i:]:
            if k is not None:
                limit = k
                break
        low = last + 1
        if low == 0 and not has_road and limit > _BUILDING:
            low = _BUILDING  # no road: a lone number is a building of the named place, not a house
        if mark == "楼":  # 3楼: a building when none is named yet, else a floor
            if filled[_BUILDING] is None and low <= _BUILDING < limit and (filled[_HOUSE] or has_road):
                filled[_BUILDING] = _clean(value)
                slot[i - 1] = last = _BUILDING
            else:
                floor = floor or _clean(value)
            continue
        for k in _CANDIDATES.get(mark, ()):
            if low <= k < limit and filled[k] is None:
                break
        else:
            continue  # more numbers than levels: dropped
        if k in (_BUILDING, _UNIT) and not mark and len(value) >= 3 and filled[_ROOM] is None and limit > _ROOM:
            k = _ROOM  # 3号楼301, 12号302: three bare digits are a room, not a unit or building
        value = _clean(value)
        if k == _HOUSE:
            if sub:
                value = f"{value}-{_clean(sub)}"
            elif mark == "-" and i < n and nums[i][3] == run and nums[i][2] == "号" and slot[i] is None:
                value = f"{value}-{_clean(nums[i][0])}"  # 12-3号: one house number with its 附号
                i += 1
        filled[k] = value
        slot[i - 1] = last = k
    return filled, floor


# ---------------------------------------------------------------------------------------------------
# parse

_ROAD_MOUTHS = frozenset(("路口", "街口", "巷口", "道口"))
_CONTACT = ("电话", "分机", "手机", "联系方式", "TEL")


def _drop_landmark(m: re.Match) -> str:
    word = m.group()
    return word[0] if word in _ROAD_MOUTHS else ""  # 建国路口: keep the road's 路


def parse(text: str, gazetteer_names: KnownNames | None = None) -> AddressParts:
    """Cut a (noisy) address into levels. Missing levels stay None; order does not matter except
    that the number run right after the road is taken as that road's house number first."""
    found: dict[str, str] = {}
    pois: list[str] = []
    roads: list[str] = []
    runs: list[list[_Num]] = []
    run: list[_Num] | None = None
    road_run = -1  # index of the number run written right after the road
    main_road: str | None = None  # that road, else the first one named
    hint: str | None = None
    prev_level: str | None = None  # level of the last name segment: what a number run follows
    contact = False  # after 电话/分机: the numbers are a phone's
    for num, sub, mark, name in _TOKEN.findall(normalize(text)):
        if num:
            if len(num) > 6 or contact:
                continue  # a phone or ID number, not part of an address
            if run is None:
                if prev_level == "road" and road_run < 0:
                    road_run, main_road = len(runs), roads[-1]
                run = []
                runs.append(run)
            run.append((num, sub, mark, len(runs)))
            continue
        if not name:
            continue  # the empty match findall makes at the end
        run = None
        contact = name.endswith(_CONTACT)
        if _LANDMARK.search(name):
            word = _LANDMARK.findall(name)[-1]
            hint = "路口" if word in _ROAD_MOUTHS else word
            name = _LANDMARK.sub(_drop_landmark, name)
        segments = _segments(name)
        if gazetteer_names is not None:
            segments = _gazetteer_segments(segments, gazetteer_names, bool(roads))
        prev_level = None
        for level, seg in segments:
            if level == "road":
                roads.append(seg)
            elif level is None or level == "poi" or level in found:
                pois.append(seg)
            else:
                found[level] = seg
            prev_level = level
    if main_road is None and roads:
        main_road = roads[0]
    nums = [t for r in ([runs[road_run], *runs[:road_run], *runs[road_run + 1:]] if road_run >= 0 else runs)
            for t in r]
    if nums:
        (house, building, unit, room), floor = _assign(nums, main_road is not None, road_run >= 0)
    else:
        house = building = unit = room = floor = None
    return AddressParts(
        province=found.get("province"), city=found.get("city"), district=found.get("district"),
        street=found.get("street"), community=found.get("community"), road=main_road,
        house_number=house, building_number=building, unit=unit, room=room, floor=floor,
        poi="".join(pois) or None, cross_road=next((r for r in roads if r != main_road), None),
        landmark_hint=hint,
    )


def _gazetteer_segments(segments: Iterable[tuple[str | None, str]], known: KnownNames,
                        have_road: bool) -> list[tuple[str | None, str]]:
    segments = _refine(segments, known)
    if not have_road and segments and segments[-1][0] is None and not any(lv == "road" for lv, _ in segments):
        hit = known.road_by_stem(segments[-1][1])  # 建国12号: a known road without its 路
        if hit:
            segments[-1:] = [(None, hit[0]), ("road", hit[1])] if hit[0] else [("road", hit[1])]
    return segments


# ---------------------------------------------------------------------------------------------------
# keys and rendering

def search_key(parts: AddressParts) -> str:
    """The compact recall key: road (numerals as digits) + 门牌号 + 楼牌号, e.g. "建国路12号3号楼".
    Apply `gazetteer_key` to the gazetteer's columns to get the same key on the other side."""
    key = road_key(parts.road) if parts.road else ""
    if parts.house_number:
        key += parts.house_number + "号"
    if parts.building_number:
        key += parts.building_number + "号楼"
    return key


_FIELD_NUMBER = re.compile(r"[0-9A-Z]+(?:[-之][0-9]+)?")


def gazetteer_key(road: str, house_number: str, building_number: str) -> str:
    """search_key for a gazetteer row whose columns may read "12号"/"12", "1号楼"/"1栋"/"1"."""
    def number(field: str) -> str | None:
        m = _FIELD_NUMBER.search(normalize(field)) if field else None
        return _clean(m.group().replace("之", "-")) if m else None
    return search_key(AddressParts(road=road or None, house_number=number(house_number),
                                   building_number=number(building_number)))


def display(parts: AddressParts) -> str:
    """The standard rendering: 省市区县街道社区路 门牌号 楼牌号 单元 户, then what is only near."""
    out = [parts.province, parts.city, parts.district, parts.street, parts.community, parts.road,
           ("与" + parts.cross_road) if parts.cross_road else None, parts.poi]
    if parts.house_number:
        out.append(parts.house_number + "号")
    if parts.building_number:
        out.append(parts.building_number + "号楼")
    if parts.unit:
        out.append(parts.unit + "单元")
    if parts.floor:
        out.append(parts.floor + "层")
    if parts.room:
        out.append(parts.room + "室")
    out.append(parts.landmark_hint)
    return "".join(p for p in out if p)
