"""Retry and back-off decisions, and durations: parametrised tables with a fixed clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dialer.core.durations import DurationError, format_duration, parse_duration
from dialer.core.retry_policy import AttemptOutcome, RetryPolicy, next_step

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
Out = AttemptOutcome
POLICY = RetryPolicy()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("2h", 7200), ("7d", 604800), ("1h30m", 5400), (" 1D ", 86400)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)


@pytest.mark.parametrize("text", ["", "10", "m", "1.5h", "-5m", "0s", "10 minutes"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("outcome", "in_a_row", "delay", "contact"),
    [
        (Out.BUSY, 1, timedelta(minutes=10), False),
        (Out.BUSY, 2, timedelta(minutes=30), False),
        (Out.BUSY, 3, timedelta(hours=2), False),
        (Out.BUSY, 4, None, False),
        (Out.NO_ANSWER, 1, timedelta(hours=1), False),
        (Out.NO_ANSWER, 3, None, False),
        (Out.MACHINE, 1, timedelta(hours=1), True),
        (Out.CONGESTION, 2, timedelta(minutes=30), False),
        (Out.FAILED, 1, timedelta(minutes=5), False),
        (Out.PARTIAL, 1, timedelta(hours=4), True),
        (Out.PARTIAL, 2, timedelta(days=1), True),
        (Out.PARTIAL, 3, None, True),
        (Out.HEARD_FULL, 1, timedelta(days=7), True),
        (Out.LOST, 1, timedelta(0), False),
        (Out.INVALID_NUMBER, 1, None, False),
    ],
)
def test_next_step(outcome: AttemptOutcome, in_a_row: int, delay: timedelta | None, contact: bool) -> None:
    step = next_step(POLICY, outcome, in_a_row, T0)
    assert step.at == (None if delay is None else T0 + delay)
    assert step.counts_as_contact is contact
    assert step.reason


def test_a_campaign_policy_from_its_file() -> None:
    policy = RetryPolicy.of({"busy": ["1m"], "no_answer": []}, heard_full="3d")
    assert next_step(policy, Out.BUSY, 1, T0).at == T0 + timedelta(minutes=1)
    assert next_step(policy, Out.NO_ANSWER, 1, T0).at is None, "an empty list means no retries"
    assert next_step(policy, Out.CONGESTION, 1, T0).at is None, "an outcome left out is not retried"
    assert next_step(policy, Out.HEARD_FULL, 1, T0).at == T0 + timedelta(days=3)
    with pytest.raises(ValueError, match="unknown retry outcome"):
        RetryPolicy.of({"bussy": ["1m"]})
    with pytest.raises(ValueError, match="at least 1"):
        next_step(policy, Out.BUSY, 0, T0)
