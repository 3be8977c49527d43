"""What the network did with a call, decided from the facts Asterisk reported (pure).

Sources for the codes, in the order we trust them:

1. the call was answered (``Newstate`` Up on our channel) — nothing else matters;
2. ``DialEnd DialStatus`` of our channel (apps/app_dial.c: ANSWER, BUSY, NOANSWER, CONGESTION,
   CHANUNAVAIL, CANCEL, DONTCALL, TORTURE, INVALIDARGS);
3. Q.850 hang-up causes (include/asterisk/causes.h) of our channel and of the other legs of the call:
   1 unallocated number, 16 normal clearing, 17 user busy, 18 no user responding, 19 no answer,
   21 call rejected, 27 destination out of order, 28 invalid number format,
   34 no circuit available, 38 network out of order, 41 temporary failure, 42 switching equipment
   congestion. PJSIP maps 486/600 -> 17, 480 -> 19, 404 -> 1, 403/603 -> 21, 503 -> 34
   (res/res_pjsip_session.c / main/channel.c ``ast_sip_hangup_sip2cause``);
4. ``OriginateResponse Reason`` (main/pbx.c ``pbx_dial_reason``: 3 no answer, 5 busy, 8 congestion).
   For PJSIP rejections the reason is 0 (seen in our sandbox with a SIPp 486), so it comes last.

An answered call's remote hang-up reports cause 0 or 16 depending on the channel driver (seen here:
SIPp BYE gave 0): we never read "answered" from a cause.
"""

from __future__ import annotations

from enum import Enum

from dialer.core.call_state import Call


class NetworkOutcome(Enum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CONGESTION = "congestion"  # network congestion, channel unavailable, or rejected by the far end
    INVALID_NUMBER = "invalid_number"
    FAILED = "failed"  # nothing more specific is known


_DIAL_STATUS = {
    "BUSY": NetworkOutcome.BUSY,
    "NOANSWER": NetworkOutcome.NO_ANSWER,
    "CONGESTION": NetworkOutcome.CONGESTION,
    "CHANUNAVAIL": NetworkOutcome.CONGESTION,
}

_CAUSES = {
    17: NetworkOutcome.BUSY,
    18: NetworkOutcome.NO_ANSWER,
    19: NetworkOutcome.NO_ANSWER,
    21: NetworkOutcome.CONGESTION,
    27: NetworkOutcome.CONGESTION,
    34: NetworkOutcome.CONGESTION,
    38: NetworkOutcome.CONGESTION,
    41: NetworkOutcome.CONGESTION,
    42: NetworkOutcome.CONGESTION,
    1: NetworkOutcome.INVALID_NUMBER,
    28: NetworkOutcome.INVALID_NUMBER,
}

_REASONS = {
    3: NetworkOutcome.NO_ANSWER,
    5: NetworkOutcome.BUSY,
    8: NetworkOutcome.CONGESTION,
}


def network_outcome(call: Call) -> NetworkOutcome:
    """Classify a settled call. Unsettled calls are classified from what is known so far."""
    if call.answered_at is not None or call.dial_status == "ANSWER":
        return NetworkOutcome.ANSWERED
    if call.dial_status in _DIAL_STATUS:
        return _DIAL_STATUS[call.dial_status]
    for cause in (call.hangup_cause, *call.leg_causes):
        if cause is not None and cause in _CAUSES:
            return _CAUSES[cause]
    if call.originate_reason is not None and call.originate_reason in _REASONS:
        return _REASONS[call.originate_reason]
    return NetworkOutcome.FAILED
