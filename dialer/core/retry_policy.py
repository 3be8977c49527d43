"""What happens after an attempt: when to call the debtor again, or not at all (pure).

A campaign gives delays per outcome; the list's length is how many times that outcome is retried
(``busy = ["10m", "30m", "2h"]``: the 1st busy waits 10 minutes, the 3rd waits 2 hours, a 4th busy in a row
ends the tries for busy). A debtor who heard the whole message is not called for ``heard_full`` (default
7 days, ../shared/DOMAIN.md). An invalid number is never retried; a call whose fate is unknown (lost in a
crash) is retried at once and does not count as a contact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from dialer.core.durations import format_duration, parse_duration


class AttemptOutcome(Enum):
    HEARD_FULL = "heard_full"
    PARTIAL = "partial"  # answered, did not hear the whole message
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"  # congestion, rejected, channel unavailable
    FAILED = "failed"
    MACHINE = "machine"  # answering machine (AMD on): never counts as heard
    INVALID_NUMBER = "invalid_number"
    LOST = "lost"  # the call vanished (crash, Asterisk restart): not a contact


# Outcomes that share a retry list.
RETRY_LIST = {
    AttemptOutcome.PARTIAL: "partial",
    AttemptOutcome.BUSY: "busy",
    AttemptOutcome.NO_ANSWER: "no_answer",
    AttemptOutcome.MACHINE: "no_answer",
    AttemptOutcome.CONGESTION: "congestion",
    AttemptOutcome.FAILED: "congestion",
}


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    delays: Mapping[str, tuple[timedelta, ...]] = field(
        default_factory=lambda: {
            "busy": tuple(parse_duration(d) for d in ("10m", "30m", "2h")),
            "no_answer": tuple(parse_duration(d) for d in ("1h", "4h")),
            "congestion": tuple(parse_duration(d) for d in ("5m", "30m")),
            "partial": tuple(parse_duration(d) for d in ("4h", "1d")),
        }
    )
    heard_full: timedelta = timedelta(days=7)

    @classmethod
    def of(cls, delays: Mapping[str, Sequence[str]], heard_full: str = "7d") -> RetryPolicy:
        unknown = set(delays) - {"busy", "no_answer", "congestion", "partial"}
        if unknown:
            raise ValueError(
                f"unknown retry outcome(s): {', '.join(sorted(unknown))} "
                "(expected busy, no_answer, congestion, partial)"
            )
        return cls(
            {k: tuple(parse_duration(v) for v in values) for k, values in delays.items()},
            parse_duration(heard_full),
        )


@dataclass(frozen=True, slots=True)
class NextStep:
    at: datetime | None  # None: no more attempts for this reason
    reason: str
    counts_as_contact: bool


def next_step(policy: RetryPolicy, outcome: AttemptOutcome, in_a_row: int, ended_at: datetime) -> NextStep:
    """After an attempt that ended at ``ended_at`` with ``outcome``, the ``in_a_row``-th such outcome in a
    row (1 for the first), when may the debtor be called next?"""
    if in_a_row < 1:
        raise ValueError("in_a_row counts this attempt: it is at least 1")
    if outcome is AttemptOutcome.LOST:
        return NextStep(ended_at, "the call was lost; retried without counting a contact", False)
    if outcome is AttemptOutcome.INVALID_NUMBER:
        return NextStep(None, "invalid number: never called again", False)
    if outcome is AttemptOutcome.HEARD_FULL:
        return NextStep(
            ended_at + policy.heard_full,
            f"heard the whole message: pause {format_duration(policy.heard_full)}",
            True,
        )
    kind = RETRY_LIST[outcome]
    delays = policy.delays.get(kind, ())
    answered = outcome in {AttemptOutcome.PARTIAL, AttemptOutcome.MACHINE}
    if in_a_row > len(delays):
        return NextStep(
            None,
            f"{outcome.value} {in_a_row} times in a row: no more tries ({len(delays)} allowed)",
            answered,
        )
    delay = delays[in_a_row - 1]
    return NextStep(
        ended_at + delay, f"{outcome.value} #{in_a_row}: retry in {format_duration(delay)}", answered
    )
