"""Correlates the AMI event stream with the calls we originated (pure).

Only calls registered with :meth:`CallTracker.track` are followed: the AMI stream carries every call on
the Asterisk box, including other dialers' and other workers'. A call leaves the tracker when it settles.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.core.ami_codec import AmiMessage
from dialer.core.call_events import read_call_event
from dialer.core.call_state import Call, CallState, apply


@dataclass(frozen=True, slots=True)
class Update:
    """A tracked call changed; ``settled`` is True the one time it became final."""

    call: Call
    settled: bool


class CallTracker:
    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}

    def track(self, call_id: str) -> None:
        """Start following ``call_id`` (before sending its Originate, so no event is missed)."""
        if call_id in self._calls:
            raise ValueError(f"call {call_id!r} is already tracked")
        self._calls[call_id] = Call(call_id=call_id)

    def adopt(self, call_id: str, *, answered: bool, at: float) -> None:
        """Follow a call placed before we started (a restart): Asterisk still has its channel, so its
        Originate succeeded; only its end is still to come."""
        if call_id in self._calls:
            raise ValueError(f"call {call_id!r} is already tracked")
        self._calls[call_id] = Call(
            call_id=call_id,
            state=CallState.ANSWERED if answered else CallState.DIALLING,
            channel_seen=True,
            originate_success=True,
            answered_at=at if answered else None,
        )

    def forget(self, call_id: str) -> Call | None:
        """Stop following a call (e.g. its Originate was refused outright); returns its last state."""
        return self._calls.pop(call_id, None)

    def settle(self, call_id: str) -> Call | None:
        """Declare a call final as it stands (a failed originate that never got a channel); returns it."""
        return self._calls.pop(call_id, None)

    def get(self, call_id: str) -> Call | None:
        return self._calls.get(call_id)

    @property
    def live(self) -> tuple[Call, ...]:
        return tuple(self._calls.values())

    def feed(self, message: AmiMessage, received_at: float) -> Update | None:
        """Apply one AMI message; return the update of the call it concerned, if we track that call."""
        event = read_call_event(message, received_at)
        if event is None:
            return None
        call = self._calls.get(event.call_id)
        if call is None:
            return None
        after = apply(call, event)
        if after == call:
            return None
        if after.settled:
            del self._calls[call.call_id]
            return Update(after, settled=True)
        self._calls[call.call_id] = after
        return Update(after, settled=False)
