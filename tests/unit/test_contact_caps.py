"""Contact caps: calendar and rolling periods in the debtor's local time."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from dialer.core.contact_caps import CapRules, blocked_until, next_allowed

MSK = ZoneInfo("Europe/Moscow")
CAL = CapRules()
ROLL = CapRules(mode="rolling")


def msk(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=MSK).astimezone(UTC)


def test_no_contacts_no_block() -> None:
    assert blocked_until([], msk(2026, 11, 25, 10), MSK, CAL) is None


def test_one_a_day_in_local_calendar_days() -> None:
    contacts = [msk(2026, 11, 25, 21, 30)]
    until, reason = blocked_until(contacts, msk(2026, 11, 25, 21, 45), MSK, CAL) or (None, "")
    assert until == msk(2026, 11, 26, 0, 0) and "day" in reason
    assert blocked_until(contacts, msk(2026, 11, 26, 8, 0), MSK, CAL) is None, "a new local day"
    rolling = blocked_until(contacts, msk(2026, 11, 26, 8, 0), MSK, ROLL)
    assert rolling is not None and rolling[0] == msk(2026, 11, 26, 21, 30), "rolling: 24 h after the contact"


def test_two_a_week_monday_to_sunday() -> None:
    contacts = [msk(2026, 11, 23, 10), msk(2026, 11, 24, 10)]  # Monday and Tuesday
    blocked = blocked_until(contacts, msk(2026, 11, 27, 10), MSK, CAL)
    assert blocked is not None and blocked[0] == msk(2026, 11, 30, 0, 0) and "week" in blocked[1]
    assert next_allowed(contacts, msk(2026, 11, 27, 10), MSK, CAL) == msk(2026, 11, 30, 0, 0)
    assert next_allowed(contacts, msk(2026, 11, 27, 10), MSK, ROLL) == msk(2026, 11, 30, 10, 0)


def test_eight_a_month() -> None:
    contacts = [msk(2026, 11, d, 10) for d in (2, 3, 9, 10, 16, 17, 23, 24)]
    assert next_allowed(contacts, msk(2026, 11, 30, 10), MSK, CAL) == msk(2026, 12, 1, 0, 0)
    blocked = blocked_until(contacts, msk(2026, 11, 30, 10), MSK, CAL)
    assert blocked is not None and "month" in blocked[1]


def test_the_latest_freeing_cap_wins_and_next_allowed_checks_again() -> None:
    rules = CapRules(per_day=1, per_week=1, per_month=8)
    contacts = [msk(2026, 11, 29, 12)]  # Sunday
    assert next_allowed(contacts, msk(2026, 11, 29, 13), MSK, rules) == msk(2026, 11, 30, 0, 0)
    rules = CapRules(per_day=5, per_week=1, per_month=8)
    contacts = [msk(2026, 11, 25, 12)]
    assert next_allowed(contacts, msk(2026, 11, 25, 13), MSK, rules) == msk(2026, 11, 30, 0, 0)


def test_misuse() -> None:
    with pytest.raises(ValueError, match="calendar or rolling"):
        CapRules(mode="weekly")
    with pytest.raises(ValueError, match="naive"):
        blocked_until([], datetime(2026, 11, 25, 10), MSK, CAL)  # noqa: DTZ001 - the point of the test
