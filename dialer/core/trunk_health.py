"""Whether a trunk is up, as this worker sees it (pure): a circuit breaker over the calls' results.

A trunk is down while its Asterisk server is unreachable (the AMI link: the engine tells us) and, after
``trip_after`` consecutive calls the trunk itself failed (Originate refused, no channel, congestion —
dialer.core.outcomes), for ``cool_down`` seconds; then one call is let through to probe it (half-open):
its success closes the breaker, its failure opens it for another ``cool_down``. A busy or unanswered
debtor is the trunk working, not failing. Time is monotonic seconds passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dialer.core.outcomes import NetworkOutcome

TRUNK_FAILURES = frozenset({NetworkOutcome.CONGESTION, NetworkOutcome.FAILED})


@dataclass
class _Breaker:
    failures: int = 0
    open_until: float | None = None
    probing: bool = False
    reason: str = ""


@dataclass
class TrunkHealth:
    trip_after: int = 5
    cool_down: float = 30.0
    _breakers: dict[str, _Breaker] = field(default_factory=dict)
    _servers_down: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.trip_after < 1 or self.cool_down <= 0:
            raise ValueError("trip_after must be >= 1 and cool_down > 0")

    # -- servers ---------------------------------------------------------------------------------
    def server_down(self, server: str, reason: str) -> None:
        self._servers_down[server] = reason

    def server_up(self, server: str) -> None:
        self._servers_down.pop(server, None)

    # -- trunks ----------------------------------------------------------------------------------
    def result(self, trunk: str, outcome: NetworkOutcome | None, now: float, detail: str = "") -> bool:
        """Record how a call over ``trunk`` went (None: Asterisk did not take the call at all). Returns
        True when this result opened the breaker (the trunk just went down)."""
        breaker = self._breakers.setdefault(trunk, _Breaker())
        if outcome is not None and outcome not in TRUNK_FAILURES:
            self._breakers[trunk] = _Breaker()
            return False
        breaker.failures += 1
        breaker.reason = detail or (outcome.value if outcome is not None else "вызов не принят")
        if breaker.probing or breaker.failures >= self.trip_after:
            was_closed = breaker.open_until is None
            breaker.open_until, breaker.probing = now + self.cool_down, False
            return was_closed
        return False

    def state(self, trunk: str, server: str, now: float) -> tuple[bool, str]:
        """(up, why not) for the next call over ``trunk`` on ``server``. Past its cool-down, an open
        breaker lets one probing call through (and counts it as started)."""
        if server in self._servers_down:
            return False, f"{server}: {self._servers_down[server]}"
        breaker = self._breakers.get(trunk)
        if breaker is None or breaker.open_until is None:
            return True, ""
        if breaker.probing:
            return False, f"{trunk}: проверочный звонок ({breaker.reason})"
        if now < breaker.open_until:
            return False, f"{trunk}: сбои вызовов ({breaker.reason})"
        return True, ""

    def probe_started(self, trunk: str, now: float) -> None:
        """A call goes over a trunk whose cool-down is over: only this one until its result is known."""
        breaker = self._breakers.get(trunk)
        if breaker is not None and breaker.open_until is not None and now >= breaker.open_until:
            breaker.probing = True

    def down_trunks(self, now: float) -> dict[str, str]:
        """Trunks whose breaker is open now, with why (for metrics and the supervisors' reason)."""
        return {
            name: b.reason
            for name, b in self._breakers.items()
            if b.open_until is not None and (b.probing or now < b.open_until)
        }
