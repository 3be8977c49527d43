"""Contact caps per debtor across all campaigns (pure).

Defaults (../shared/DOMAIN.md): at most 1 answered call a day, 2 a week, 8 a month. Whether "a day / a week /
a month" means calendar periods in the debtor's local time (``calendar``: day, Monday-to-Sunday week,
calendar month) or sliding windows (``rolling``: 24 h, 7 days, 30 days) is the customer's lawyer's call —
both are here, ``calendar`` by default. Only contacts count (an answered call; busy and no answer do not).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class CapRules:
    per_day: int = 1
    per_week: int = 2
    per_month: int = 8
    mode: str = "calendar"  # calendar | rolling

    def __post_init__(self) -> None:
        if self.mode not in {"calendar", "rolling"}:
            raise ValueError(f"cap mode must be calendar or rolling, not {self.mode!r}")
        if min(self.per_day, self.per_week, self.per_month) < 0:
            raise ValueError("caps cannot be negative")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _calendar_periods(instant: datetime, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    local = instant.astimezone(zone).date()
    week_start = local - timedelta(days=local.weekday())
    month_start = local.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return [
        ("day", _midnight(local, zone), _midnight(local + timedelta(days=1), zone)),
        ("week", _midnight(week_start, zone), _midnight(week_start + timedelta(days=7), zone)),
        ("month", _midnight(month_start, zone), _midnight(next_month, zone)),
    ]


_ROLLING = {"day": timedelta(hours=24), "week": timedelta(days=7), "month": timedelta(days=30)}


def blocked_until(
    contacts: Sequence[datetime], instant: datetime, zone: ZoneInfo, rules: CapRules
) -> tuple[datetime, str] | None:
    """None if one more contact at ``instant`` keeps every cap; else when the first cap frees, and which."""
    if instant.tzinfo is None:
        raise ValueError("a naive datetime: pass an aware instant")
    caps = {"day": rules.per_day, "week": rules.per_week, "month": rules.per_month}
    worst: tuple[datetime, str] | None = None
    if rules.mode == "calendar":
        for name, start, end in _calendar_periods(instant, zone):
            used = sum(1 for c in contacts if start <= c < end)
            if used >= caps[name] and (worst is None or end > worst[0]):
                worst = (end, f"{used} contact(s) this {name} (cap {caps[name]})")
        return worst
    for name, span in _ROLLING.items():
        inside = sorted(c for c in contacts if instant - span < c <= instant)
        cap = caps[name]
        if len(inside) >= cap:
            frees = inside[len(inside) - cap] + span if cap else instant + span
            if worst is None or frees > worst[0]:
                worst = (frees, f"{len(inside)} contact(s) in the last {name} (cap {cap})")
    return worst


def next_allowed(
    contacts: Sequence[datetime], instant: datetime, zone: ZoneInfo, rules: CapRules
) -> datetime:
    """The earliest instant at or after ``instant`` at which one more contact keeps every cap."""
    moment = instant
    for _ in range(64):
        blocked = blocked_until(contacts, moment, zone, rules)
        if blocked is None:
            return moment
        moment = blocked[0]
    raise ValueError("caps never free (a cap of 0?)")
