"""Call windows in the debtor's local time: weekdays, weekends, holidays, transfers, zones, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.core.call_window import CallWindow, DailySpan, WindowError

MSK = ZoneInfo("Europe/Moscow")
YEKT = ZoneInfo("Asia/Yekaterinburg")  # UTC+5
BERLIN = ZoneInfo("Europe/Berlin")  # has DST
DEFAULT = CallWindow()


def utc(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "zone", "allowed"),
    [
        (utc(2026, 11, 25, 5, 0), MSK, True),  # Wed 08:00 MSK: the first allowed minute
        (utc(2026, 11, 25, 4, 59), MSK, False),  # Wed 07:59 MSK
        (utc(2026, 11, 25, 18, 59), MSK, True),  # Wed 21:59 MSK
        (utc(2026, 11, 25, 19, 0), MSK, False),  # Wed 22:00 MSK: closed
        (utc(2026, 11, 28, 5, 30), MSK, False),  # Sat 08:30 MSK: weekends open at 09:00
        (utc(2026, 11, 28, 6, 0), MSK, True),  # Sat 09:00 MSK
        (utc(2026, 11, 28, 17, 0), MSK, False),  # Sat 20:00 MSK
        (utc(2026, 11, 4, 5, 30), MSK, False),  # Wed 4 November, a public holiday: 08:30 is too early
        (utc(2026, 1, 7, 16, 30), MSK, True),  # 7 January 19:30: holiday hours
        (utc(2026, 1, 7, 17, 30), MSK, False),  # 7 January 20:30
        (utc(2026, 11, 25, 3, 0), YEKT, True),  # 08:00 in Yekaterinburg is 06:00 in Moscow
        (utc(2026, 11, 25, 17, 0), YEKT, False),  # 22:00 in Yekaterinburg
    ],
)
def test_allows(instant: datetime, zone: ZoneInfo, allowed: bool) -> None:
    assert DEFAULT.allows(instant, zone) is allowed


def test_transfers_by_decree() -> None:
    window = CallWindow.of(
        "08:00-22:00", "09:00-20:00", extra_days_off=[date(2026, 1, 9)], working_days=[date(2026, 11, 28)]
    )
    assert window.is_day_off(date(2026, 1, 9))  # a Friday made a day off
    assert not window.is_day_off(date(2026, 11, 28))  # a Saturday made a working day
    assert window.allows(utc(2026, 11, 28, 5, 30), MSK)  # 08:30 on that Saturday is fine


@pytest.mark.parametrize(
    ("instant", "zone", "expected"),
    [
        (utc(2026, 11, 25, 10, 0), MSK, utc(2026, 11, 25, 10, 0)),  # open now
        (utc(2026, 11, 25, 2, 0), MSK, utc(2026, 11, 25, 5, 0)),  # before opening: 08:00 MSK
        (utc(2026, 11, 25, 20, 0), MSK, utc(2026, 11, 26, 5, 0)),  # after closing: tomorrow 08:00
        (utc(2026, 11, 27, 20, 0), MSK, utc(2026, 11, 28, 6, 0)),  # Friday night: Saturday 09:00
        (utc(2026, 12, 31, 20, 0), MSK, utc(2027, 1, 1, 6, 0)),  # New Year's Eve night: 1 Jan 09:00
        (utc(2026, 11, 25, 20, 0), YEKT, utc(2026, 11, 26, 3, 0)),  # 08:00 Yekaterinburg = 03:00 UTC
        # Berlin springs forward on 29 March 2026 (02:00 -> 03:00): Sunday opens 09:00 CEST = 07:00 UTC
        (utc(2026, 3, 28, 22, 0), BERLIN, utc(2026, 3, 29, 7, 0)),
        (utc(2026, 10, 24, 22, 0), BERLIN, utc(2026, 10, 25, 8, 0)),  # autumn back: 09:00 CET = 08:00 UTC
    ],
)
def test_next_opening(instant: datetime, zone: ZoneInfo, expected: datetime) -> None:
    assert DEFAULT.next_opening(instant, zone) == expected
    assert DEFAULT.allows(expected, zone)


@pytest.mark.parametrize("text", ["8:00-22:00", "08:00", "22:00-08:00", "08:00-24:01", "08:60-09:00"])
def test_bad_spans_are_refused(text: str) -> None:
    with pytest.raises(WindowError):
        DailySpan.parse(text)


def test_a_span_may_end_at_midnight() -> None:
    window = CallWindow.of("00:00-24:00", "00:00-24:00")
    assert window.allows(utc(2026, 11, 25, 20, 59), MSK)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        DEFAULT.allows(datetime(2026, 11, 25, 10, 0), MSK)  # noqa: DTZ001 - the point of the test
