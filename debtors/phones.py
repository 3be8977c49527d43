"""Russian phone numbers as billing centres write them -> E.164 (pure).

Cells hold one or several numbers in every shape: ``8 (912) 345-67-89, 83432123456``, ``+7 912 3456789``,
``9123456789``. A number we cannot place (a 6/7-digit local number without its city code, a foreign or
service number) is kept raw and flagged as not callable, never dropped.

This runs for every phone of a million-row import, so the common shapes take a fast path.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_SIMPLE_SEPARATORS = re.compile(r"[,;/\n]")
_WORD_SEPARATORS = re.compile(r"[,;/\n]|\s+(?:или|и|доп\.?)\s+", re.IGNORECASE)
_NOT_DIGITS = re.compile(r"\D")
_PUNCTUATION = str.maketrans("", "", " ()-+.\t\u00a0")


class ParsedPhone(NamedTuple):
    raw: str
    e164: str | None
    callable: bool
    problem: str = ""


def normalise(raw: str) -> ParsedPhone:
    """One number. Russia (+7) only: 11 digits with 7/8 first, or 10 digits."""
    text = raw.strip()
    digits = text.translate(_PUNCTUATION)
    if not digits.isdigit():
        digits = _NOT_DIGITS.sub("", text)
    length = len(digits)
    if length == 11 and digits[0] in "78":
        national = digits[1:]
    elif length == 10:
        national = digits
    elif length in (5, 6, 7):
        return ParsedPhone(text, None, False, "local number without a city code")
    elif not digits:
        return ParsedPhone(text, None, False, "no digits")
    else:
        return ParsedPhone(text, None, False, f"{length} digits, expected 10 or 11 (+7 …)")
    e164 = "+7" + national
    if national[0] not in "3489":
        return ParsedPhone(text, e164, False, "not a Russian geographic or mobile number")
    if national.startswith("80"):
        return ParsedPhone(text, e164, False, "service (8-80x) number")
    return ParsedPhone(text, e164, True)


def split_cell(cell: str) -> list[ParsedPhone]:
    """Every number in one spreadsheet cell, in order, without duplicates."""
    if not cell:
        return []
    lowered = cell.lower()
    words = " и" in lowered or "доп" in lowered
    parts = (_WORD_SEPARATORS if words else _SIMPLE_SEPARATORS).split(cell)
    if len(parts) == 1:
        return [normalise(cell)] if cell.strip() else []
    seen: set[str] = set()
    out: list[ParsedPhone] = []
    for part in parts:
        if not part.strip():
            continue
        phone = normalise(part)
        key = phone.e164 or phone.raw
        if key in seen:
            continue
        seen.add(key)
        out.append(phone)
    return out
