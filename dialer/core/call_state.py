"""The lifecycle of one originated call, as a pure state machine driven by :mod:`call_events`.

States move only forward along the table below; an event that does not move the state may still add
facts (a late ``OriginateResponse`` after the hang-up, a digit). Asterisk's event order differs between
outcomes (seen in tests/fixtures/ami/: for a busy callee ``OriginateResponse`` comes *before* the hang-up,
for an answered one at answer time, for a nonexistent endpoint there is no channel at all), so a call is
*settled* — its facts are final — when both the hang-up and the originate result are known.

A failed originate with no channel seen yet is not settled by itself: ``OriginateResponse`` is raised
directly by the dialling thread while channel events travel through Stasis, so under load a failure can
overtake the ``Newchannel`` of the same call (seen here: a busy call's failure arrived first). The adapter
waits a short grace and then settles it (:meth:`CallTracker.settle`), since a call that never had a channel
gets no other event.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum

from dialer.core.call_events import (
    Answered,
    CallEvent,
    ChannelCreated,
    DialEnded,
    DigitReceived,
    HungUp,
    LegHungUp,
    OriginateResult,
    Ringing,
)


class CallState(Enum):
    ORIGINATING = "originating"  # Originate sent, no channel yet
    DIALLING = "dialling"  # the channel exists, the far end has not answered
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


# (state, event type) -> next state. Pairs not listed leave the state as it is.
TRANSITIONS: dict[tuple[CallState, type], CallState] = {
    (CallState.ORIGINATING, ChannelCreated): CallState.DIALLING,
    (CallState.ORIGINATING, Ringing): CallState.RINGING,
    (CallState.ORIGINATING, Answered): CallState.ANSWERED,
    (CallState.ORIGINATING, HungUp): CallState.ENDED,
    (CallState.DIALLING, Ringing): CallState.RINGING,
    (CallState.DIALLING, Answered): CallState.ANSWERED,
    (CallState.DIALLING, HungUp): CallState.ENDED,
    (CallState.RINGING, Answered): CallState.ANSWERED,
    (CallState.RINGING, HungUp): CallState.ENDED,
    (CallState.ANSWERED, HungUp): CallState.ENDED,
}


@dataclass(frozen=True, slots=True)
class Call:
    """Everything Asterisk told us about one call. Times are Asterisk's event timestamps (epoch s)."""

    call_id: str
    state: CallState = CallState.ORIGINATING
    channel_seen: bool = False
    originate_success: bool | None = None
    originate_reason: int | None = None
    dial_status: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    hangup_cause: int | None = None
    hangup_cause_text: str = ""
    leg_causes: tuple[int, ...] = ()
    digits: str = ""

    @property
    def settled(self) -> bool:
        return self.originate_success is not None and self.state is CallState.ENDED

    @property
    def failed_without_channel(self) -> bool:
        """The originate failed and no channel was seen (yet): settle after a grace if nothing follows."""
        return self.originate_success is False and not self.channel_seen

    @property
    def talk_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return max(0.0, self.ended_at - self.answered_at)


def apply(call: Call, event: CallEvent) -> Call:
    """The call after ``event``. Events for another call are a bug of the caller."""
    if event.call_id != call.call_id:
        raise ValueError(f"event for call {event.call_id!r} applied to call {call.call_id!r}")
    state = TRANSITIONS.get((call.state, type(event)), call.state)
    match event:
        case ChannelCreated():
            return replace(call, state=state, channel_seen=True)
        case Ringing():
            return replace(call, state=state, channel_seen=True)
        case Answered(at=at):
            if call.state is CallState.ENDED:
                return call
            return replace(call, state=state, channel_seen=True, answered_at=call.answered_at or at)
        case DialEnded(dial_status=status):
            return replace(call, dial_status=status)
        case OriginateResult(success=success, reason=reason):
            return replace(call, originate_success=success, originate_reason=reason)
        case HungUp(at=at, cause=cause, cause_text=text):
            if call.state is CallState.ENDED:
                return call
            return replace(
                call, state=state, channel_seen=True, ended_at=at, hangup_cause=cause, hangup_cause_text=text
            )
        case LegHungUp(cause=cause):
            if cause is None:
                return call
            return replace(call, leg_causes=(*call.leg_causes, cause))
        case DigitReceived(digit=digit):
            return replace(call, digits=call.digits + digit)
    return call  # pragma: no cover - the match above is exhaustive over CallEvent
