"""The call lifecycle state machine and the settle rule."""

from __future__ import annotations

import pytest

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
from dialer.core.call_state import TRANSITIONS, Call, CallState, apply

ID = "att-1"


def run(*events: CallEvent) -> Call:
    call = Call(ID)
    for event in events:
        call = apply(call, event)
    return call


@pytest.mark.parametrize(
    ("start", "event", "expected"),
    [
        (CallState.ORIGINATING, ChannelCreated(ID, 1.0), CallState.DIALLING),
        (CallState.DIALLING, Ringing(ID, 1.0), CallState.RINGING),
        (CallState.RINGING, Answered(ID, 2.0), CallState.ANSWERED),
        (CallState.DIALLING, Answered(ID, 2.0), CallState.ANSWERED),
        (CallState.ANSWERED, HungUp(ID, 3.0, 16, "Normal Clearing"), CallState.ENDED),
        (CallState.RINGING, HungUp(ID, 3.0, 19, "No answer"), CallState.ENDED),
        (CallState.ENDED, Answered(ID, 4.0), CallState.ENDED),
        (CallState.ANSWERED, Ringing(ID, 4.0), CallState.ANSWERED),
        (CallState.ENDED, ChannelCreated(ID, 4.0), CallState.ENDED),
    ],
)
def test_transitions(start: CallState, event: CallEvent, expected: CallState) -> None:
    assert apply(Call(ID, state=start), event).state is expected


def test_the_table_only_moves_forward() -> None:
    order = list(CallState)
    for (before, _event), after in TRANSITIONS.items():
        assert order.index(after) > order.index(before)


def test_answered_call_settles_on_hangup_after_originate_success() -> None:
    call = run(ChannelCreated(ID, 0.0), Answered(ID, 1.0), OriginateResult(ID, 1.0, True, 4))
    assert not call.settled
    call = apply(call, HungUp(ID, 11.5, 16, "Normal Clearing"))
    assert call.settled and call.talk_seconds == pytest.approx(10.5)


def test_busy_settles_whether_originate_result_comes_before_or_after_the_hangup() -> None:
    before = run(ChannelCreated(ID, 0.0), OriginateResult(ID, 0.1, False, 5), HungUp(ID, 0.2, 0, ""))
    after = run(ChannelCreated(ID, 0.0), HungUp(ID, 0.2, 0, ""), OriginateResult(ID, 0.3, False, 5))
    assert before.settled and after.settled
    hung_up_only = run(ChannelCreated(ID, 0.0), HungUp(ID, 0.2, 0, ""))
    assert not hung_up_only.settled, "wait for the originate result before deciding"


def test_failure_without_any_channel_waits_for_the_adapter_to_settle_it() -> None:
    call = run(OriginateResult(ID, 0.0, False, 0))
    assert not call.settled and call.failed_without_channel
    late = apply(
        apply(apply(call, ChannelCreated(ID, 0.1)), DialEnded(ID, 0.1, "BUSY")), HungUp(ID, 0.2, 0, "")
    )
    assert late.settled and not late.failed_without_channel, "a failure can overtake its Newchannel"


def test_failure_with_a_live_channel_waits_for_the_hangup() -> None:
    call = run(ChannelCreated(ID, 0.0), OriginateResult(ID, 0.1, False, 0))
    assert not call.settled and not call.failed_without_channel


def test_facts_accumulate() -> None:
    call = run(
        ChannelCreated(ID, 0.0),
        Answered(ID, 1.0),
        Answered(ID, 1.5),
        DialEnded(ID, 1.0, "ANSWER"),
        DigitReceived(ID, 2.0, "1"),
        DigitReceived(ID, 3.0, "2"),
        LegHungUp(ID, 4.0, "Local/x;2", 16),
        LegHungUp(ID, 4.0, "Local/y;2", None),
        HungUp(ID, 4.1, 16, "Normal Clearing"),
        HungUp(ID, 9.0, 17, "late duplicate"),
    )
    assert call.answered_at == 1.0, "the first answer counts"
    assert call.digits == "12"
    assert call.leg_causes == (16,)
    assert (call.ended_at, call.hangup_cause) == (4.1, 16), "a duplicate hangup changes nothing"


def test_an_event_for_another_call_is_refused() -> None:
    with pytest.raises(ValueError, match="applied to call"):
        apply(Call(ID), Answered("other", 1.0))


def test_the_tracker_settles_a_call_on_request() -> None:
    from dialer.core.call_tracker import CallTracker

    tracker = CallTracker()
    tracker.track(ID)
    assert tracker.settle(ID) == Call(ID)
    assert tracker.settle(ID) is None and tracker.live == ()
