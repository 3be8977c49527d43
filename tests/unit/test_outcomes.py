"""Network outcome classification: which Asterisk fact wins."""

from __future__ import annotations

import pytest

from dialer.core.call_state import Call, CallState
from dialer.core.outcomes import NetworkOutcome, network_outcome

Out = NetworkOutcome


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"answered_at": 1.0, "hangup_cause": 0}, Out.ANSWERED),
        ({"answered_at": 1.0, "hangup_cause": 17}, Out.ANSWERED),
        ({"dial_status": "ANSWER"}, Out.ANSWERED),
        ({"dial_status": "BUSY", "originate_reason": 5, "hangup_cause": 0}, Out.BUSY),
        ({"dial_status": "BUSY", "originate_reason": 0, "hangup_cause": 17}, Out.BUSY),
        ({"hangup_cause": 17}, Out.BUSY),
        ({"hangup_cause": 0, "leg_causes": (17,)}, Out.BUSY),
        ({"dial_status": "NOANSWER"}, Out.NO_ANSWER),
        ({"hangup_cause": 19, "originate_reason": 3}, Out.NO_ANSWER),
        ({"hangup_cause": 18}, Out.NO_ANSWER),
        ({"dial_status": "CONGESTION", "originate_reason": 8}, Out.CONGESTION),
        ({"dial_status": "CHANUNAVAIL"}, Out.CONGESTION),
        ({"hangup_cause": 21}, Out.CONGESTION),
        ({"hangup_cause": 34}, Out.CONGESTION),
        ({"hangup_cause": 0, "leg_causes": (34,)}, Out.CONGESTION),
        ({"hangup_cause": 1}, Out.INVALID_NUMBER),
        ({"hangup_cause": 28}, Out.INVALID_NUMBER),
        ({"originate_reason": 5}, Out.BUSY),
        ({"originate_reason": 3}, Out.NO_ANSWER),
        ({"originate_reason": 8}, Out.CONGESTION),
        ({"originate_reason": 0, "originate_success": False}, Out.FAILED),
        ({"hangup_cause": 16}, Out.FAILED),
        ({}, Out.FAILED),
    ],
)
def test_network_outcome(facts: dict[str, object], expected: NetworkOutcome) -> None:
    call = Call("c", state=CallState.ENDED, **facts)  # type: ignore[arg-type]
    assert network_outcome(call) is expected
