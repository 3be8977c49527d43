"""Correlates the AMI event stream with the calls we originated (pure).

Calls registered with :meth:`CallTracker.track` are followed and reported: the AMI stream carries every
call on the Asterisk box, including other dialers' and other workers'. A call leaves the tracker when it
settles.

With a ``shadow_prefix`` (our attempt ids' ``ud-``), the other workers' calls are followed too, silently,
in a bounded shadow book: when a worker dies, the one adopting its calls knows how those that ended in
the meantime ended (docs/scale-out.md). A shadow call is final once its hang-up is seen (the originate
result goes to the session that sent the Originate); a call is followed from its first channel event
only, and the book keeps the last ``shadow_limit`` of each kind, oldest dropped first.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from dialer.core.ami_codec import AmiMessage
from dialer.core.call_events import CallEvent, ChannelCreated, read_call_event
from dialer.core.call_state import Call, CallState, apply

DEFAULT_SHADOW_LIMIT = 20_000


@dataclass(frozen=True, slots=True)
class Update:
    """A tracked call changed; ``settled`` is True the one time it became final."""

    call: Call
    settled: bool


class CallTracker:
    def __init__(self, *, shadow_prefix: str | None = None, shadow_limit: int = DEFAULT_SHADOW_LIMIT) -> None:
        self._calls: dict[str, Call] = {}
        self._shadow_prefix = shadow_prefix
        self._shadow_limit = shadow_limit
        self._shadows: OrderedDict[str, Call] = OrderedDict()  # others' live calls
        self._ended: OrderedDict[str, Call] = OrderedDict()  # others' calls that ended

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
            if self._shadow_prefix is not None and event.call_id.startswith(self._shadow_prefix):
                self._shadow(event)
            return None
        after = apply(call, event)
        if after == call:
            return None
        if after.settled:
            del self._calls[call.call_id]
            return Update(after, settled=True)
        self._calls[call.call_id] = after
        return Update(after, settled=False)

    # -- the others' calls -------------------------------------------------------------------------
    def _shadow(self, event: CallEvent) -> None:
        call = self._shadows.get(event.call_id)
        if call is None:
            if not isinstance(event, ChannelCreated) or event.call_id in self._ended:
                return  # followed from its first channel only: a late event of a forgotten call is not one
            call = Call(call_id=event.call_id)
        after = apply(call, event)
        if after.state is CallState.ENDED:
            self._shadows.pop(event.call_id, None)
            self._remember(self._ended, after)
        else:
            self._remember(self._shadows, after)

    def _remember(self, book: OrderedDict[str, Call], call: Call) -> None:
        book[call.call_id] = call
        book.move_to_end(call.call_id)
        while len(book) > self._shadow_limit:
            book.popitem(last=False)

    def shadow_knows(self, call_id: str) -> bool:
        return call_id in self._shadows or call_id in self._ended

    def take_over(self, call_id: str) -> Call | None:
        """Adopt another worker's call from the shadow book: a live one is followed from now on (and
        returned as it stands); an ended one is returned final (its originate taken as a success: it had a
        channel). None: never seen."""
        ended = self._ended.pop(call_id, None)
        if ended is not None:
            return replace(ended, originate_success=True) if ended.originate_success is None else ended
        live = self._shadows.pop(call_id, None)
        if live is None:
            return None
        if call_id in self._calls:
            raise ValueError(f"call {call_id!r} is already tracked")
        live = replace(live, originate_success=True) if live.originate_success is None else live
        self._calls[call_id] = live
        return live

    @property
    def shadow_counts(self) -> tuple[int, int]:
        """(others' live calls followed, others' ended calls remembered)."""
        return len(self._shadows), len(self._ended)
