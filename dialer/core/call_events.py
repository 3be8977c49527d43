"""Typed call events read from AMI messages (pure).

Which header identifies which channel (Asterisk 22, main/manager_channels.c and main/dial.c, and seen in
our sandbox transcripts under tests/fixtures/ami/):

* ``Newchannel`` / ``Newstate`` / ``Hangup`` / ``DTMFEnd`` describe the channel named by ``Uniqueid``; every
  channel of one call carries the originated channel's id as ``Linkedid``.
* ``DialBegin`` / ``DialEnd`` of an AMI Originate have no caller channel: the dialled channel is
  ``DestUniqueid`` (our ChannelId) and ``DialStatus`` is ANSWER, BUSY, NOANSWER, CONGESTION, CHANUNAVAIL,
  CANCEL, ... (apps/app_dial.c documents the values).
* ``OriginateResponse`` carries ``Uniqueid`` = the ChannelId we asked for, ``Response`` Success/Failure and
  ``Reason`` (main/pbx.c ``pbx_dial_reason``: 0 failure, 1 hangup, 3 no answer, 4 answered, 5 busy,
  8 congestion).
* ``Newstate`` ``ChannelState`` 6 is Up (include/asterisk/channelstate.h ``AST_STATE_UP``), 5 Ringing.
* ``Timestamp`` is present when manager.conf has ``timestampevents = yes`` (ours has): seconds since the
  epoch with microseconds, taken by Asterisk when it raised the event. We prefer it to the time we read
  the event, so durations do not depend on how fast we read.
"""

from __future__ import annotations

from dataclasses import dataclass

from dialer.core.ami_codec import AmiMessage, MessageKind

AST_STATE_RINGING = 5
AST_STATE_UP = 6


@dataclass(frozen=True, slots=True)
class ChannelCreated:
    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class Ringing:
    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class Answered:
    call_id: str
    at: float


@dataclass(frozen=True, slots=True)
class DialEnded:
    call_id: str
    at: float
    dial_status: str


@dataclass(frozen=True, slots=True)
class OriginateResult:
    call_id: str
    at: float
    success: bool
    reason: int | None


@dataclass(frozen=True, slots=True)
class HungUp:
    """The call's own channel (the one with our ChannelId) hung up."""

    call_id: str
    at: float
    cause: int | None
    cause_text: str


@dataclass(frozen=True, slots=True)
class LegHungUp:
    """Another channel of the same call (Local ;2 half, a bridged leg) hung up."""

    call_id: str
    at: float
    channel: str
    cause: int | None


@dataclass(frozen=True, slots=True)
class DigitReceived:
    call_id: str
    at: float
    digit: str


CallEvent = (
    ChannelCreated | Ringing | Answered | DialEnded | OriginateResult | HungUp | LegHungUp | DigitReceived
)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def event_time(message: AmiMessage, received_at: float) -> float:
    """Asterisk's own ``Timestamp`` of the event when present and sane, else when we received it."""
    stamp = message.get("Timestamp")
    if stamp:
        try:
            return float(stamp)
        except ValueError:
            pass
    return received_at


def read_call_event(message: AmiMessage, received_at: float) -> CallEvent | None:
    """The call event ``message`` stands for, or None when it says nothing about a call's progress."""
    if message.kind is not MessageKind.EVENT:
        return None
    at = event_time(message, received_at)
    name = message.name
    uniqueid = message.get("Uniqueid") or ""
    linkedid = message.get("Linkedid") or uniqueid
    if name == "OriginateResponse":
        return OriginateResult(
            call_id=uniqueid,
            at=at,
            success=(message.get("Response") or "").lower() == "success",
            reason=_int_or_none(message.get("Reason")),
        )
    if name == "DialEnd":
        return DialEnded(
            call_id=message.get("DestUniqueid") or "",
            at=at,
            dial_status=(message.get("DialStatus") or "").upper(),
        )
    if name == "Newchannel" and uniqueid == linkedid:
        return ChannelCreated(call_id=uniqueid, at=at)
    if name == "Newstate" and uniqueid == linkedid:
        state = _int_or_none(message.get("ChannelState"))
        if state == AST_STATE_UP:
            return Answered(call_id=uniqueid, at=at)
        if state == AST_STATE_RINGING:
            return Ringing(call_id=uniqueid, at=at)
        return None
    if name == "Hangup":
        cause = _int_or_none(message.get("Cause"))
        if uniqueid == linkedid:
            return HungUp(call_id=uniqueid, at=at, cause=cause, cause_text=message.get("Cause-txt") or "")
        return LegHungUp(call_id=linkedid, at=at, channel=message.get("Channel") or "", cause=cause)
    if name == "DTMFEnd" and uniqueid == linkedid and (message.get("Direction") or "").lower() == "received":
        digit = message.get("Digit") or ""
        return DigitReceived(call_id=uniqueid, at=at, digit=digit) if digit else None
    return None
