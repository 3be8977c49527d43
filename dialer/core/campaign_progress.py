"""A debtor's progress in a campaign after each attempt, and an attempt's outcome (pure).

The outcome joins what the network did (dialer.core.outcomes) with the IVR's listen report: an answered
call is ``heard_full`` only when the IVR says the debtor heard the message through its completion segment;
answered without such a report (hung up early, IVR unreachable) is ``partial``; answered but the IVR could
not play the message (a prompt missing) is ``failed``, retried like a network failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dialer.core.listen_report import Ending, ListenReport
from dialer.core.outcomes import NetworkOutcome
from dialer.core.retry_policy import AttemptOutcome, RetryPolicy, next_step

_NETWORK = {
    NetworkOutcome.BUSY: AttemptOutcome.BUSY,
    NetworkOutcome.NO_ANSWER: AttemptOutcome.NO_ANSWER,
    NetworkOutcome.CONGESTION: AttemptOutcome.CONGESTION,
    NetworkOutcome.INVALID_NUMBER: AttemptOutcome.INVALID_NUMBER,
    NetworkOutcome.FAILED: AttemptOutcome.FAILED,
}


def attempt_outcome(network: NetworkOutcome, report: ListenReport | None) -> AttemptOutcome:
    if network is NetworkOutcome.ANSWERED:
        if report is not None and report.ended is Ending.FAILED:
            return AttemptOutcome.FAILED  # our IVR could not play the message: not a contact
        return (
            AttemptOutcome.HEARD_FULL if report is not None and report.completed else AttemptOutcome.PARTIAL
        )
    return _NETWORK[network]


@dataclass(frozen=True, slots=True)
class Progress:
    state: str  # due | done
    next_attempt_at: datetime | None
    streak_outcome: str | None
    streak: int
    counts_as_contact: bool
    note: str


def after_attempt(
    policy: RetryPolicy,
    outcome: AttemptOutcome,
    ended_at: datetime,
    *,
    streak_outcome: str | None,
    streak: int,
) -> Progress:
    """Where the debtor stands after an attempt that ended with ``outcome``.

    ``streak_outcome``/``streak``: the previous outcome and how many times in a row it came. A lost call
    (crash, Asterisk restart) neither extends nor breaks a streak.
    """
    if outcome is AttemptOutcome.LOST:
        step = next_step(policy, outcome, 1, ended_at)
        return Progress("due", step.at, streak_outcome, streak, False, step.reason)
    in_a_row = streak + 1 if streak_outcome == outcome.value else 1
    step = next_step(policy, outcome, in_a_row, ended_at)
    return Progress(
        "due" if step.at is not None else "done",
        step.at,
        outcome.value,
        in_a_row,
        step.counts_as_contact,
        step.reason,
    )
