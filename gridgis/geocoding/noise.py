"""Noisy variants of standard addresses, as hotline operators type them (pure, deterministic).

    rng = random.Random(7)
    noisy_variants("辽宁省鞍山市铁东区站前街道明达社区建国路12号3号楼", rng)
    → [("drop_levels", "明达社区建国路12号3号楼"), ("building_word_variant", "…建国路12号3栋"), …,
       ("mixed:chinese_numerals+landmark", "…建国路十二号三号楼对面")]

Each noise kind is one function taking a standard address and a seeded `random.Random`. Internally
an address is a list of typed pieces (levels, numbers, their marker words), so noises compose
(`mixed`) and never touch what they must not: typos stay in the road/community name, separators
never split a number. The address must be standard (GB/T 37149 order, Arabic numbers); the parser
under test is not used to read it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

__all__ = [
    "KINDS", "NOISES", "building_word_variant", "chinese_numerals", "drop_levels", "full_width", "landmark",
    "mixed", "noisy_variants", "spaces_punctuation", "to_chinese_numeral", "typo", "unit_room_suffix",
]

_STANDARD = re.compile(
    r"(?P<province>[^省]+?(?:省|自治区))?"
    r"(?P<city>[^市]+?市)?"
    r"(?P<district>[^区县]+?(?:(?<!社)区|县))?"
    r"(?P<street>.+?(?:街道|镇))?"
    r"(?P<community>.+?社区)?"
    r"(?P<road>.+?(?:大街|大道|路|街|巷|胡同|道|弄))"
    r"(?P<house>[0-9]+)号(?:(?P<building>[0-9A-Z]+)号楼)?(?:(?P<unit>[0-9]+)单元)?(?:(?P<room>[0-9]+)室?)?"
)
ADMIN = ("province", "city", "district", "street", "community")
NUMBERS = ("house", "building", "unit", "room")

Piece = tuple[str, str]  # (role, text); a number's marker word has role "<number>_mark"


def _pieces(address: str) -> list[Piece]:
    m = _STANDARD.fullmatch(address)
    if m is None:
        raise ValueError(f"not a standard address: {address!r}")
    out: list[Piece] = [(level, m.group(level)) for level in (*ADMIN, "road") if m.group(level)]
    out += [("house", m.group("house")), ("house_mark", "号")]
    for role, mark in (("building", "号楼"), ("unit", "单元"), ("room", "")):
        if m.group(role):
            out.append((role, m.group(role)))
            if mark:
                out.append((f"{role}_mark", mark))
    return out


def _render(pieces: list[Piece]) -> str:
    return "".join(text for _, text in pieces)


def _roles(pieces: list[Piece]) -> set[str]:
    return {role for role, _ in pieces}


def _replace(pieces: list[Piece], role: str, text: str) -> list[Piece]:
    return [(r, text if r == role else t) for r, t in pieces]


# ---------------------------------------------------------------------------------------------------
# the noises, on pieces

def _drop_levels(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """Leave out some administrative levels; sometimes also the 街道 word before a kept community."""
    levels = [role for role, _ in pieces if role in ADMIN]
    if not levels:
        return pieces
    dropped = set(rng.sample(levels, rng.randint(1, len(levels))))
    out = [(role, text) for role, text in pieces if role not in dropped]
    if "street" in _roles(out) and "community" in _roles(out) and rng.random() < 0.5:
        out = [(r, t.removesuffix("街道") if r == "street" else t) for r, t in out]  # 站前明达社区
    return out


BUILDING_WORDS = ("栋", "幢", "座", "号楼", "号", "号栋", "#楼")


def _building_word(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """The same building said another way: 3栋, 3幢, 3座, 3号, 3#楼 …"""
    current = dict(pieces).get("building_mark")
    if current in (None, "-"):  # no building, or a dash chain (12-3-2-301) that has no word to vary
        return pieces
    return _replace(pieces, "building_mark", rng.choice([w for w in BUILDING_WORDS if w != current]))


_CN_DIGITS = "零一二三四五六七八九"


def to_chinese_numeral(n: int, rng: random.Random | None = None, style: str = "positional") -> str:
    """1–9999 in Chinese: positional 十二 / 一百零五 / 两千, or digit by digit 一二 / 三〇一."""
    if style == "digits":
        zero = rng.choice("零〇") if rng else "〇"
        return "".join(zero if d == "0" else _CN_DIGITS[int(d)] for d in str(n))
    if not 0 < n < 10000:
        raise ValueError(f"{n} is out of 1–9999")
    if 10 <= n < 20:
        return "十" + (_CN_DIGITS[n - 10] if n > 10 else "")  # 十二, not 一十二
    out, pending_zero = "", False
    for unit, value in (("千", 1000), ("百", 100), ("十", 10), ("", 1)):
        digit = n // value % 10
        if digit:
            out += ("零" if pending_zero else "") + _CN_DIGITS[digit] + unit
            pending_zero = False
        elif out:
            pending_zero = True
    if rng and out[:2] in ("二千", "二百") and rng.random() < 0.5:
        out = "两" + out[1:]
    return out


def _chinese_numerals(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """House, building, unit and room numbers in Chinese, each positional or digit by digit."""
    out = []
    numbers = [role for role, text in pieces if role in NUMBERS and text.isdigit()]
    chosen = set(rng.sample(numbers, rng.randint(1, len(numbers)))) if numbers else set()
    for role, text in pieces:
        if role in chosen:
            text = _in_chinese(role, text, rng)
        out.append((role, text))
    return out


def _in_chinese(role: str, number: str, rng: random.Random) -> str:
    if number == "2" and role in ("building", "unit") and rng.random() < 0.3:
        return "两"  # 两单元, 两号楼: said, if not written, that way
    style = rng.choice(("positional", "digits")) if len(number) > 1 else "positional"
    return to_chinese_numeral(int(number), rng, style)


_FULL_WIDTH = str.maketrans({ch: chr(ord(ch) + 0xFEE0) for ch in "0123456789-#ABCDEFGHIJKLMNOPQRSTUVWXYZ"})


def _full_width(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """Digits, letters, - and # typed full-width (１２号３栋), as Chinese input methods do."""
    return [(role, text.translate(_FULL_WIDTH)) for role, text in pieces]


def _unit_room(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """A unit and room after the building: 2单元301, 2单元301室, 2门301, 3-2-301, 12-3-2-301."""
    roles = _roles(pieces)
    base = [(r, t) for r, t in pieces if r not in ("unit", "unit_mark", "room", "room_mark")]
    unit, room = str(rng.randint(1, 6)), str(rng.randint(1, 18) * 100 + rng.randint(1, 4))
    styles = ["单元", "单元室", "单元户", "门", "单元号"]
    if "building" in roles:
        styles += ["dash", "all_dash"]
    style = rng.choice(styles)
    if style in ("dash", "all_dash"):
        base = _replace(base, "building_mark", "-")
        if style == "all_dash":
            base = _replace(base, "house_mark", "-")
        return [*base, ("unit", unit), ("unit_mark", "-"), ("room", room)]
    unit_word = "门" if style == "门" else "单元"
    suffix = style.removeprefix("单元") if style != "门" else ""
    tail = [("unit", unit), ("unit_mark", unit_word), ("room", room)]
    return [*base, *tail, *([("room_mark", suffix)] if suffix else [])]


_SEPARATORS = (" ", " ", "  ", "\u3000", ",", "，", "、", "。", ":", "：", "-", "——", "/", "(", ")", "（", "）")
_NUMERALS = frozenset("0123456789０１２３４５６７８９零〇一二两三四五六七八九十百千")


def _spaces_punctuation(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """Spaces and punctuation between the parts, or inside a name; never between two numerals,
    where a separator means "next number" (12 3栋 is 12-3)."""
    chars = [(role, ch) for role, text in pieces for ch in text]
    spots = [i for i in range(1, len(chars)) if not (chars[i - 1][1] in _NUMERALS and chars[i][1] in _NUMERALS)]
    if not spots:
        return pieces
    cuts = set(rng.sample(spots, min(len(spots), rng.randint(1, 4))))
    out: list[Piece] = []
    for i, (role, ch) in enumerate(chars):
        if i in cuts:
            out.append(("sep", rng.choice(_SEPARATORS)))
        if out and out[-1][0] == role:
            out[-1] = (role, out[-1][1] + ch)
        else:
            out.append((role, ch))
    return out


_NAME_SUFFIX = re.compile(r"(?:社区|大街|大道|路|街|巷|胡同|道|弄)$")
# Homophones and look-alikes operators slip into; the pool for the rest. None of them is a numeral
# or a level/number word, so a typo never turns a name into a level or a number.
_HOMOPHONES = {"建": "见健", "国": "过果郭", "明": "名鸣民", "达": "答", "胜": "圣盛", "利": "力立丽",
               "民": "明敏", "光": "广", "华": "化花", "东": "冬", "新": "心欣", "兴": "星", "和": "河合",
               "平": "苹", "安": "按", "春": "纯", "阳": "扬洋", "荣": "容", "福": "富", "林": "临",
               "园": "圆", "湖": "胡", "南": "楠", "北": "贝", "西": "希", "青": "清", "长": "常", "文": "闻"}
_POOL = "见健过果名鸣答圣盛力立丽敏广化花冬心欣星河合苹按纯扬洋容富临圆楠贝希清常闻"


def _typo(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """One character of the road's or community's name replaced or deleted; never a numeral (二一九路
    keeps 二一九) nor the 路/社区 word, so numbers and level words survive."""
    targets = []
    for index, (role, text) in enumerate(pieces):
        if role in ("road", "community"):
            stem = _NAME_SUFFIX.sub("", text)
            spots = [i for i, ch in enumerate(stem) if ch not in _NUMERALS]
            if spots:
                targets.append((index, stem, spots))
    if not targets:
        return pieces
    index, stem, spots = rng.choice(targets)
    role, text = pieces[index]
    i = rng.choice(spots)
    if len(stem) >= 2 and rng.random() < 0.3:
        new = text[:i] + text[i + 1:]
    else:
        choices = _HOMOPHONES.get(text[i]) or _POOL
        new = text[:i] + rng.choice([c for c in choices if c != text[i]]) + text[i + 1:]
    return [*pieces[:index], (role, new), *pieces[index + 1:]]


LANDMARK_WORDS = ("附近", "对面", "门口", "旁边")


def _landmark(pieces: list[Piece], rng: random.Random) -> list[Piece]:
    """Near, not at: 建国路12号对面, …3号楼门口."""
    return [*pieces, ("landmark", rng.choice(LANDMARK_WORDS))]


_PIECE_NOISES: dict[str, Callable[[list[Piece], random.Random], list[Piece]]] = {
    "drop_levels": _drop_levels,
    "typo": _typo,
    "unit_room_suffix": _unit_room,
    "building_word_variant": _building_word,
    "chinese_numerals": _chinese_numerals,
    "full_width": _full_width,
    "landmark": _landmark,
    "spaces_punctuation": _spaces_punctuation,
}
KINDS: tuple[str, ...] = tuple(_PIECE_NOISES)  # in the order mixed applies them


# ---------------------------------------------------------------------------------------------------
# public: one function per kind, on strings

def _public(kind: str) -> Callable[[str, random.Random], str]:
    noise = _PIECE_NOISES[kind]

    def apply(address: str, rng: random.Random) -> str:
        return _render(noise(_pieces(address), rng))

    apply.__name__ = kind
    apply.__doc__ = noise.__doc__
    return apply


drop_levels = _public("drop_levels")
building_word_variant = _public("building_word_variant")
chinese_numerals = _public("chinese_numerals")
full_width = _public("full_width")
unit_room_suffix = _public("unit_room_suffix")
spaces_punctuation = _public("spaces_punctuation")
typo = _public("typo")
landmark = _public("landmark")
NOISES: dict[str, Callable[[str, random.Random], str]] = {
    kind: globals()[kind] for kind in KINDS
}


def mixed(address: str, rng: random.Random, kinds: Sequence[str] | None = None) -> tuple[str, str]:
    """2–3 noises together (or the given ones), applied in KINDS order: ("mixed:a+b", text)."""
    if kinds is None:
        kinds = rng.sample(KINDS, rng.randint(2, 3))
    ordered = [k for k in KINDS if k in kinds]
    pieces = _pieces(address)
    for kind in ordered:
        pieces = _PIECE_NOISES[kind](pieces, rng)
    return "mixed:" + "+".join(ordered), _render(pieces)


def noisy_variants(address: str, rng: random.Random, mixes: int = 2) -> list[tuple[str, str]]:
    """One variant per noise kind, then `mixes` mixed ones. Group by kind.partition(":")[0]."""
    pieces = _pieces(address)
    out = [(kind, _render(noise(list(pieces), rng))) for kind, noise in _PIECE_NOISES.items()]
    out += [mixed(address, rng) for _ in range(mixes)]
    return out
