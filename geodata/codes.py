"""Territory codes per GB/T 30428.1: 6-digit division code (GB/T 2260) + 3-digit street +
3-digit community + 3-digit grid = 15 digits, e.g. 210302001002015."""

from __future__ import annotations

import re

LEVELS = ("district", "street", "community", "grid")
CODE_LENGTHS = {"district": 6, "street": 9, "community": 12, "grid": 15}
PARENT_LEVEL = {"street": "district", "community": "street", "grid": "community"}

_DIGITS = re.compile(r"\d+")
# GB/T 2260 province prefixes run 11–82; the first two digits must be one of them.
_PROVINCES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
}


class CodeError(ValueError):
    """A code that breaks the standard; the message says why."""


def validate_code(level: str, code: str) -> str:
    """Returns the code if it is a valid code of that level, else raises CodeError naming the reason."""
    expected = CODE_LENGTHS[level]
    if not isinstance(code, str) or not _DIGITS.fullmatch(code):
        raise CodeError(f"{level} code must be {expected} digits, got {code!r}")
    if len(code) != expected:
        raise CodeError(f"{level} code must be {expected} digits, got {len(code)} ({code})")
    if code[:2] not in _PROVINCES:
        raise CodeError(f"{code} does not start with a GB/T 2260 province code")
    if code[2:6] == "0000" or code[4:6] == "00":
        raise CodeError(f"{code[:6]} is a province or city code, not a county-level division")
    if expected > 6 and code[-3:] == "000":
        raise CodeError(f"{level} code {code} must not end in 000 (sequence numbers start at 001)")
    return code


def parent_code(level: str, code: str) -> str | None:
    """The code of the parent division, taken from the code's prefix."""
    if level == "district":
        return None
    return code[: CODE_LENGTHS[PARENT_LEVEL[level]]]


def validate_child_of(level: str, code: str, parent: str | None) -> None:
    """Raises CodeError unless `code` is under `parent` (when a parent code is given)."""
    if parent is None or parent == "":
        return
    if parent_code(level, code) != parent:
        raise CodeError(f"{level} code {code} is not under its parent {PARENT_LEVEL[level]} {parent}")


def normalize_code(value: object) -> str:
    """Codes read from files may arrive as numbers (e.g. 210302.0 from a Shapefile): bring them back
    to text without losing leading zeros that were never there to lose."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value or not value.is_integer():  # NaN or fraction
            return str(value)
        return str(int(value))
    return str(value).strip()
