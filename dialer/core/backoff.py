"""Reconnect back-off (pure): exponential from ``minimum``, doubling per failed attempt, capped."""

from __future__ import annotations


def reconnect_delay(failures: int, minimum: float, maximum: float) -> float:
    """Seconds to wait before the next attempt after ``failures`` consecutive failed ones (0 -> none)."""
    if failures <= 0:
        return 0.0
    if minimum <= 0 or maximum < minimum:
        raise ValueError("need 0 < minimum <= maximum")
    return min(maximum, minimum * 2.0 ** min(failures - 1, 62))
