"""When a debtor may be called, in the debtor's own local time (pure: the caller passes the instant).

Defaults (../shared/DOMAIN.md "Contact rules"): weekdays 08:00–22:00, weekends and Russian public holidays
09:00–20:00. Public holidays are the non-working days of the Labour Code art. 112 (1–6 and 8 January,
7 January, 23 February, 8 March, 1 May, 9 May, 12 June, 4 November); the government moves days off every
year by decree, so a deployment lists those transfers itself (``extra_days_off``, ``working_days``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Labour Code of the Russian Federation, art. 112 part 1 (month, day).
STATUTORY_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
)
_SPAN = re.compile(r"^\s*([01]\d|2[0-3]):([0-5]\d)\s*-\s*([01]\d|2[0-4]):([0-5]\d)\s*$")


class WindowError(ValueError):
    """A call window is written wrongly."""


@dataclass(frozen=True, slots=True)
class DailySpan:
    """[start, end) in local wall-clock time; end may be 24:00."""

    start: time
    end_minutes: int  # minutes after midnight, up to 1440

    @classmethod
    def parse(cls, text: str) -> DailySpan:
        match = _SPAN.match(text)
        if not match:
            raise WindowError(f"expected a span like 08:00-22:00, got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        end = h2 * 60 + m2
        if end > 24 * 60 or end <= h1 * 60 + m1:
            raise WindowError(f"the span {text!r} must end after it starts, at 24:00 at the latest")
        return cls(time(h1, m1), end)

    def contains(self, moment: time) -> bool:
        minutes = moment.hour * 60 + moment.minute + moment.second / 60 + moment.microsecond / 60e6
        return self.start.hour * 60 + self.start.minute <= minutes < self.end_minutes


@dataclass(frozen=True, slots=True)
class CallWindow:
    weekdays: DailySpan = field(default_factory=lambda: DailySpan.parse("08:00-22:00"))
    weekends: DailySpan = field(default_factory=lambda: DailySpan.parse("09:00-20:00"))
    extra_days_off: frozenset[date] = frozenset()  # transfers by decree, regional holidays
    working_days: frozenset[date] = frozenset()  # a Saturday made a working day by decree

    @classmethod
    def of(
        cls,
        weekdays: str,
        weekends: str,
        extra_days_off: Iterable[date] = (),
        working_days: Iterable[date] = (),
    ) -> CallWindow:
        return cls(
            DailySpan.parse(weekdays),
            DailySpan.parse(weekends),
            frozenset(extra_days_off),
            frozenset(working_days),
        )

    def is_day_off(self, day: date) -> bool:
        if day in self.working_days:
            return False
        return day.weekday() >= 5 or (day.month, day.day) in STATUTORY_HOLIDAYS or day in self.extra_days_off

    def span_for(self, day: date) -> DailySpan:
        return self.weekends if self.is_day_off(day) else self.weekdays

    def allows(self, instant: datetime, zone: ZoneInfo) -> bool:
        """May we call at ``instant`` (aware) a debtor who lives in ``zone``?"""
        local = _aware(instant).astimezone(zone)
        return self.span_for(local.date()).contains(local.time())

    def next_opening(self, instant: datetime, zone: ZoneInfo) -> datetime:
        """The earliest instant at or after ``instant`` when calling is allowed (UTC)."""
        local = _aware(instant).astimezone(zone)
        if self.span_for(local.date()).contains(local.time()):
            return _aware(instant).astimezone(UTC)
        day = local.date()
        for offset in range(0, 30):
            candidate_day = day + timedelta(days=offset)
            span = self.span_for(candidate_day)
            opening = datetime.combine(candidate_day, span.start, tzinfo=zone)
            # A wall-clock time skipped by a DST jump resolves to the instant after the gap.
            opening = opening.astimezone(UTC).astimezone(zone)
            if opening >= local:
                return opening.astimezone(UTC)
        raise WindowError("no opening within 30 days")  # pragma: no cover - every day has a span


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError("a naive datetime: pass an aware instant")
    return instant
