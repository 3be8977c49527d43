"""Where the next call goes, and whether it may go now (pure): the campaign's gate, then its trunks.

Several workers share the limits through the database (docs/scale-out.md): inside the claim's transaction
the store reads, under row locks, how many calls are live per campaign and per trunk and when each may
next originate, and asks these functions. They read no clock and touch no database.

**Rates** are a GCRA ("generic cell rate algorithm", a token bucket of one token kept as one timestamp):
each campaign and each trunk keeps ``tat``, the earliest moment its next call may originate. A call is
admitted when ``tat`` is not in the future; the new ``tat`` is ``max(tat, now) + 1 / rate`` — so a late
call loses the time it was late and two consecutive calls are never closer than ``1 / rate``, whichever
workers place them (the same guarantee as dialer.core.pacing.TokenBucket with a capacity of one).

**Trunks** are tried from the highest ``priority``; among equal priorities the least loaded (live calls
per channel) first, then by name, so equal trunks share the load. A trunk is skipped when it is down (its
Asterisk server is not reachable from this worker, or it failed recently), full, or its rate does not
allow a call yet. When none can take the call the answer says why (in Russian, for supervisors) and,
when only rates are in the way, when to look again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta


def admit(tat: datetime | None, now: datetime, interval: timedelta | None) -> datetime | None:
    """The new ``tat`` if a call may originate at ``now`` (None when it may not). ``interval`` None: no
    rate limit (the ``tat`` stays as it was)."""
    if interval is None:
        return tat
    if tat is not None and tat > now:
        return None
    return max(tat or now, now) + interval


def interval_of(calls_per_second: float | None) -> timedelta | None:
    """1 / rate as a timedelta (None: unlimited). Raises ValueError for a rate that is not positive."""
    if calls_per_second is None:
        return None
    if calls_per_second <= 0:
        raise ValueError(f"calls per second must be positive, got {calls_per_second}")
    return timedelta(seconds=1 / calls_per_second)


@dataclass(frozen=True, slots=True)
class Gate:
    """A campaign's (or a trunk's) limits and what is in use now."""

    live: int
    max_channels: int | None  # None: no channel limit of its own
    tat: datetime | None
    interval: timedelta | None

    def full(self) -> bool:
        return self.max_channels is not None and self.live >= self.max_channels

    def load(self) -> float:
        return 0.0 if not self.max_channels else self.live / self.max_channels


@dataclass(frozen=True, slots=True)
class TrunkState:
    name: str
    server: str
    priority: int
    gate: Gate
    up: bool  # its server reachable from this worker and the trunk not failing
    down_reason: str = ""


@dataclass(frozen=True, slots=True)
class Go:
    """Dial now over ``trunk``; store these ``tat`` values with the attempt's transaction."""

    trunk: TrunkState | None  # None only when the campaign has no trunks to choose from (legacy single)
    campaign_tat: datetime | None
    trunk_tat: datetime | None


@dataclass(frozen=True, slots=True)
class Wait:
    """No call now. ``until`` is when a rate next allows one (None: when a channel frees up)."""

    reason: str
    until: datetime | None


def _sooner(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def choose(campaign: Gate, trunks: Sequence[TrunkState], now: datetime) -> Go | Wait:
    """May the campaign place a call now, and over which trunk. ``trunks`` empty: the campaign dials over
    its one implicit trunk (no server choice, no trunk limits)."""
    if campaign.full():
        return Wait("заняты все каналы кампании", None)
    campaign_tat = admit(campaign.tat, now, campaign.interval)
    if campaign.interval is not None and campaign_tat is None:
        return Wait("ограничение скорости кампании", campaign.tat)
    if not trunks:
        return Go(None, campaign_tat, None)
    ordered = sorted(trunks, key=lambda t: (-t.priority, t.gate.load(), t.name))
    down = full = 0
    retry_at: datetime | None = None
    for trunk in ordered:
        if not trunk.up:
            down += 1
            continue
        if trunk.gate.full():
            full += 1
            continue
        trunk_tat = admit(trunk.gate.tat, now, trunk.gate.interval)
        if trunk.gate.interval is not None and trunk_tat is None:
            retry_at = _sooner(retry_at, trunk.gate.tat)
            continue
        return Go(trunk, campaign_tat, trunk_tat)
    if down == len(ordered):
        reasons = "; ".join(sorted({t.down_reason for t in ordered if t.down_reason}))
        return Wait("все линии недоступны" + (f" ({reasons})" if reasons else ""), None)
    if retry_at is not None:
        return Wait("ограничение скорости линий", retry_at)
    return Wait("заняты все линии", None)
