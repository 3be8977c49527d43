"""Durations as campaign files write them: ``30s``, ``10m``, ``2h``, ``7d``, ``1h30m`` (pure)."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhd])")
_WHOLE = re.compile(r"^(?:\d+[smhd])+$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class DurationError(ValueError):
    """Not a duration."""


def parse_duration(text: str) -> timedelta:
    compact = (text or "").strip().lower().replace(" ", "")
    if not _WHOLE.match(compact):
        raise DurationError(f"expected a duration like 30s, 10m, 2h, 7d or 1h30m, got {text!r}")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(compact))
    if seconds <= 0:
        raise DurationError(f"a duration must be longer than zero, got {text!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    parts = []
    for unit in ("d", "h", "m", "s"):
        count, seconds = divmod(seconds, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
