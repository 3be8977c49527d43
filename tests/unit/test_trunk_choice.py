"""The campaign gate, the shared rate (GCRA) and the choice of trunk (dialer/core/trunk_choice.py), and
the trunk circuit breaker (dialer/core/trunk_health.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dialer.core.outcomes import NetworkOutcome
from dialer.core.trunk_choice import Gate, Go, TrunkState, Wait, admit, choose, interval_of
from dialer.core.trunk_health import TrunkHealth

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
S = timedelta(seconds=1)
OPEN = Gate(live=0, max_channels=None, tat=None, interval=None)


def trunk(
    name: str,
    *,
    priority: int = 0,
    live: int = 0,
    cap: int | None = 10,
    tat: datetime | None = None,
    interval: timedelta | None = None,
    up: bool = True,
    server: str = "ast1",
    why: str = "",
) -> TrunkState:
    return TrunkState(name, server, priority, Gate(live, cap, tat, interval), up, why)


# ---- the shared rate ---------------------------------------------------------------------------------


def test_consecutive_admissions_are_never_closer_than_the_interval() -> None:
    interval = interval_of(2.0)  # 0.5 s
    assert interval == timedelta(milliseconds=500)
    tat = admit(None, T0, interval)
    assert tat == T0 + interval
    assert admit(tat, T0 + timedelta(milliseconds=499), interval) is None
    assert admit(tat, T0 + interval, interval) == T0 + 2 * interval


def test_a_late_call_loses_the_time_it_was_late() -> None:
    """Admitted 3 s after its tat: the next one is due 1/rate after *now*, not after the old tat."""
    interval = interval_of(1.0)
    late = T0 + 3 * S
    assert admit(T0, late, interval) == late + S


def test_fractional_rates_and_no_rate() -> None:
    assert interval_of(0.5) == timedelta(seconds=2)
    assert interval_of(None) is None
    assert admit(T0 + 10 * S, T0, None) == T0 + 10 * S, "unlimited: always admitted, tat unchanged"
    with pytest.raises(ValueError, match="positive"):
        interval_of(0)


def test_any_number_of_callers_sharing_one_tat_stay_within_the_rate() -> None:
    """Callers polling at random moments in one shared tat (as workers do through the database): no
    window of one second ever holds more than ceil(rate) admissions."""
    rng = random.Random(7)
    interval = interval_of(3.0)
    tat: datetime | None = None
    admitted: list[datetime] = []
    for step in sorted(rng.uniform(0, 20) for _ in range(2000)):
        now = T0 + timedelta(seconds=step)
        new = admit(tat, now, interval)
        if new is not None:
            tat = new
            admitted.append(now)
    assert len(admitted) >= 55, "the rate is used, not only respected"
    for i, moment in enumerate(admitted):
        within = [m for m in admitted[i:] if m < moment + S]
        assert len(within) <= 3


# ---- the choice --------------------------------------------------------------------------------------


def test_the_highest_priority_trunk_with_room_takes_the_call() -> None:
    chosen = choose(OPEN, [trunk("backup", priority=1), trunk("main", priority=10)], T0)
    assert isinstance(chosen, Go) and chosen.trunk is not None and chosen.trunk.name == "main"


def test_a_full_trunk_fails_over_to_the_next_priority() -> None:
    chosen = choose(OPEN, [trunk("backup", priority=1), trunk("main", priority=10, live=10)], T0)
    assert isinstance(chosen, Go) and chosen.trunk is not None and chosen.trunk.name == "backup"


def test_a_down_trunk_fails_over_and_all_down_says_why() -> None:
    trunks = [trunk("a", priority=10, up=False, why="ast1: нет связи с AMI"), trunk("b", server="ast2")]
    chosen = choose(OPEN, trunks, T0)
    assert isinstance(chosen, Go) and chosen.trunk is not None and chosen.trunk.name == "b"
    none = choose(OPEN, [trunk("a", up=False, why="ast1: нет связи с AMI")], T0)
    assert none == Wait("все линии недоступны (ast1: нет связи с AMI)", None)


def test_equal_priorities_share_the_load() -> None:
    trunks = [trunk("a", live=4), trunk("b", live=3)]
    chosen = choose(OPEN, trunks, T0)
    assert isinstance(chosen, Go) and chosen.trunk is not None and chosen.trunk.name == "b"
    even = choose(OPEN, [trunk("b", live=3), trunk("a", live=3)], T0)
    assert isinstance(even, Go) and even.trunk is not None and even.trunk.name == "a", "then by name"


def test_the_campaign_limits_come_first() -> None:
    full = Gate(live=20, max_channels=20, tat=None, interval=None)
    assert choose(full, [trunk("a")], T0) == Wait("заняты все каналы кампании", None)
    paced = Gate(live=0, max_channels=20, tat=T0 + S, interval=S)
    assert choose(paced, [trunk("a")], T0) == Wait("ограничение скорости кампании", T0 + S)


def test_a_trunk_rate_skips_to_another_trunk_or_says_when() -> None:
    a = trunk("a", priority=10, tat=T0 + S, interval=S)
    chosen = choose(OPEN, [a, trunk("b")], T0)
    assert isinstance(chosen, Go) and chosen.trunk is not None and chosen.trunk.name == "b"
    only = choose(OPEN, [a, trunk("c", live=10)], T0)
    assert only == Wait("ограничение скорости линий", T0 + S)
    assert choose(OPEN, [trunk("c", live=10)], T0) == Wait("заняты все линии", None)


def test_go_carries_the_new_rate_stamps() -> None:
    campaign = Gate(live=1, max_channels=5, tat=T0 - S, interval=S / 2)
    chosen = choose(campaign, [trunk("a", interval=S / 4)], T0)
    assert isinstance(chosen, Go)
    assert (chosen.campaign_tat, chosen.trunk_tat) == (T0 + S / 2, T0 + S / 4)
    assert choose(campaign, [], T0) == Go(None, T0 + S / 2, None), "no trunks: the implicit one"


# ---- the breaker -------------------------------------------------------------------------------------


def test_consecutive_trunk_failures_open_the_breaker_for_the_cool_down() -> None:
    health = TrunkHealth(trip_after=3, cool_down=30)
    assert not health.result("a", NetworkOutcome.CONGESTION, 0.0)
    assert not health.result("a", None, 1.0, "Originate refused")
    assert health.state("a", "ast1", 1.0) == (True, "")
    assert health.result("a", NetworkOutcome.FAILED, 2.0), "the third failure opens it"
    assert health.state("a", "ast1", 10.0) == (False, "a: сбои вызовов (failed)")
    assert health.down_trunks(10.0) == {"a": "failed"}
    assert health.state("b", "ast1", 10.0) == (True, ""), "another trunk is not affected"


def test_busy_and_unanswered_debtors_are_the_trunk_working() -> None:
    health = TrunkHealth(trip_after=2, cool_down=30)
    for outcome in (NetworkOutcome.CONGESTION, NetworkOutcome.BUSY, NetworkOutcome.CONGESTION):
        assert not health.result("a", outcome, 0.0)
    assert health.state("a", "ast1", 0.0) == (True, "")


def test_after_the_cool_down_one_probe_decides() -> None:
    health = TrunkHealth(trip_after=1, cool_down=30)
    assert health.result("a", NetworkOutcome.CONGESTION, 0.0)
    assert health.state("a", "ast1", 31.0) == (True, "")
    health.probe_started("a", 31.0)
    assert health.state("a", "ast1", 31.5)[0] is False, "one probing call at a time"
    assert not health.result("a", NetworkOutcome.CONGESTION, 32.0), "still down: not a new transition"
    assert health.state("a", "ast1", 40.0)[0] is False
    assert health.state("a", "ast1", 63.0) == (True, "")
    health.probe_started("a", 63.0)
    health.result("a", NetworkOutcome.ANSWERED, 70.0)
    assert health.state("a", "ast1", 70.0) == (True, "") and health.down_trunks(70.0) == {}


def test_an_unreachable_server_takes_its_trunks_down() -> None:
    health = TrunkHealth()
    health.server_down("ast2", "нет связи с AMI")
    assert health.state("x", "ast2", 0.0) == (False, "ast2: нет связи с AMI")
    assert health.state("x", "ast1", 0.0) == (True, "")
    health.server_up("ast2")
    assert health.state("x", "ast2", 0.0) == (True, "")
