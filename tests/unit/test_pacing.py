"""The originate token bucket: exact limits, fractional rates, no drift, live rate changes."""

from __future__ import annotations

import itertools
import math

import pytest

from dialer.core.pacing import TokenBucket


def run(bucket: TokenBucket, seconds: float, step: float = 0.001, start: float = 100.0) -> list[float]:
    """A caller that asks as often as it can; returns the instants it got a token."""
    taken = []
    now = start
    while now < start + seconds:
        if bucket.try_take(now):
            taken.append(now)
        now += step
    return taken


@pytest.mark.parametrize("rate", [0.5, 1.0, 2.0, 3.3, 10.0])
def test_never_more_than_the_rate(rate: float) -> None:
    taken = run(TokenBucket(rate), seconds=20)
    gaps = [b - a for a, b in itertools.pairwise(taken)]
    assert min(gaps) >= 1 / rate - 1e-6
    for i, t in enumerate(taken):
        in_window = sum(1 for u in taken[i:] if u < t + 1.0)
        assert in_window <= math.ceil(rate)
    assert abs(len(taken) - (20 * rate + 1)) <= 1, "and no fewer than the rate allows"


def test_a_caller_that_waits_exactly_does_not_drift() -> None:
    bucket = TokenBucket(3.0)
    now, taken = 0.0, []
    for _ in range(301):
        now += bucket.wait(now)
        assert bucket.try_take(now)
        taken.append(now)
    assert taken[-1] == pytest.approx(100.0), "300 intervals of 1/3 s take exactly 100 s"


def test_a_late_caller_keeps_the_spacing() -> None:
    bucket = TokenBucket(2.0)
    assert bucket.try_take(0.0)
    assert not bucket.try_take(0.3)
    assert bucket.try_take(0.6)  # 0.1 s late for the token due at 0.5
    assert bucket.wait(0.6) == pytest.approx(0.5), "the next one is 1/rate after this take, not on a grid"


def test_an_idle_bucket_does_not_hoard() -> None:
    bucket = TokenBucket(5.0)
    assert bucket.try_take(0.0)
    assert bucket.try_take(100.0)
    assert not bucket.try_take(100.0), "capacity 1: no burst after a pause"


def test_rate_changes_take_effect_at_once() -> None:
    bucket = TokenBucket(1.0)
    assert bucket.try_take(0.0)
    bucket.set_rate(0.5, 10.0)
    assert bucket.wait(0.5) == pytest.approx(0.05)
    assert bucket.try_take(0.55)
    bucket.set_rate(0.55, 0.5)
    assert bucket.wait(0.55) == pytest.approx(2.0)


def test_misuse() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0)
    bucket = TokenBucket(1.0)
    bucket.try_take(5.0)
    with pytest.raises(ValueError, match="backwards"):
        bucket.try_take(4.0)
