"""Dates as registries write them (pure): 05.11.2026, 5.11.26, 2026-11-05, 05/11/2026."""

from __future__ import annotations

import re
from datetime import date

_DMY = re.compile(r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")


class DateError(ValueError):
    """Not a date."""


def parse_date(text: str) -> date:
    value = (text or "").strip()
    try:
        if match := _YMD.match(value):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY.match(value):
            year = int(match[3])
            if year < 100:
                year += 2000
            return date(year, int(match[2]), int(match[1]))
    except ValueError:
        raise DateError(f"{value!r} is not a real calendar date") from None
    raise DateError(f"expected a date like 05.11.2026 or 2026-11-05, got {value!r}")
