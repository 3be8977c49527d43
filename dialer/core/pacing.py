"""Originate pacing: a token bucket that never lets more than ``rate`` calls per second through (pure).

Time is passed in (monotonic seconds), never read. With the default capacity of one token, consecutive
takes are at least ``1 / rate`` apart, so no one-second window ever holds more than ``ceil(rate)`` takes
(``rate`` may be fractional: 0.5 means one call every two seconds). A caller that comes late for a token
loses the time it was late — spacing takes on a fixed grid would let a late take and the next one fall
closer than ``1 / rate`` and break the limit. The engine therefore sleeps exactly :meth:`wait` seconds
(not ``sleep(1 / rate)`` after its own work, which drifts: ../shared/DESIGN.md), so it is late only by
scheduling jitter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    capacity: float = 1.0
    _tokens: float = 0.0
    _stamp: float | None = None

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self._tokens = self.capacity

    def _refill(self, now: float) -> None:
        if self._stamp is None:
            self._stamp = now
            return
        if now < self._stamp:
            raise ValueError("time went backwards: pass a monotonic clock")
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def try_take(self, now: float) -> bool:
        """Take a token if one is there at ``now``."""
        self._refill(now)
        if self._tokens >= 1.0 - 1e-9:
            self._tokens -= 1.0
            return True
        return False

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until a token will be there (0 if one is)."""
        self._refill(now)
        missing = 1.0 - self._tokens
        return 0.0 if missing <= 1e-9 else missing / self.rate

    def set_rate(self, now: float, rate: float) -> None:
        """Change the rate from ``now`` on; what was earned at the old rate is kept."""
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self._refill(now)
        self.rate = rate
