"""What the IVR measured on one answered call, and its wire form: an AMI ``UserEvent`` (pure).

The report is the fact the back-off policy depends on: per segment of the message, how many milliseconds
played (from ``STREAM FILE``'s ``endpos``, or the prompt's sample count when it played to its end), the
total heard against the message's length, whether the completion segment was reached, the digits pressed,
how often the debtor asked for a repeat, and how the call ended.

Both IVR transports (the dialer's FastAGI listener and the pyst2 process AGI) send it as

    UserEvent(UpravDolgListen,Attempt: <id>,HeardMs: 41230,MessageMs: 41230,Completed: 1,Digits: 2,
              Repeats: 0,Promised: 1,Ended: finished,Segments: greeting=2300/2300 account=5120/5120 …)

which every dialer connected to that Asterisk receives — also when the debtor hung up mid-sentence
(``EXEC`` still works on a hung-up channel in an AGI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from dialer.core.ivr_request import valid_attempt_id

USER_EVENT = "UpravDolgListen"
_SEGMENT = re.compile(r"^([a-z_]+)=(\d+)/(\d+)$")


class Ending(Enum):
    HUNG_UP = "hung_up"  # the debtor hung up (or the line dropped) before the IVR was done
    FINISHED = "finished"  # the IVR said goodbye and hung up
    TRANSFERRED = "transferred"  # handed to an operator («0»)
    FAILED = "failed"  # the IVR could not play the message (a prompt missing, a bad request)


@dataclass(frozen=True, slots=True)
class SegmentListen:
    name: str
    played_ms: int  # summed over every pass (a repeat plays it again)
    length_ms: int  # one pass


@dataclass(frozen=True, slots=True)
class ListenReport:
    heard_ms: int  # the message's segments as played, over every pass (not the closing phrases)
    message_ms: int  # one pass of the message
    completed: bool  # the completion segment played to its end in some pass: "heard the whole message"
    digits: str = ""  # every key pressed, in order
    repeats: int = 0
    ended: Ending = Ending.FINISHED
    promised: bool = False  # pressed «2»: a promise to pay
    segments: tuple[SegmentListen, ...] = ()

    @property
    def heard_seconds(self) -> float:
        return self.heard_ms / 1000

    @property
    def message_seconds(self) -> float:
        return self.message_ms / 1000

    @property
    def transferred(self) -> bool:
        return self.ended is Ending.TRANSFERRED


def segments_text(segments: tuple[SegmentListen, ...]) -> str:
    """Per segment ``name=played/length`` (ms), space-separated: the UserEvent header and the stored form."""
    return " ".join(f"{s.name}={s.played_ms}/{s.length_ms}" for s in segments)


def parse_segments(text: str) -> tuple[SegmentListen, ...]:
    segments = []
    for item in text.split():
        match = _SEGMENT.match(item)
        if match is None:
            raise ReportFormatError(
                f"{USER_EVENT}: a segment must look like name=played/length, got {item!r}"
            )
        segments.append(SegmentListen(match.group(1), int(match.group(2)), int(match.group(3))))
    return tuple(segments)


class ReportFormatError(ValueError):
    """A ``UpravDolgListen`` event that is not one of ours (or is damaged)."""


def user_event_argument(attempt_id: str, report: ListenReport) -> str:
    """The argument of ``UserEvent(...)``: the event name, then ``Key: value`` headers, comma-separated
    (so no value may hold a comma; ours never do)."""
    if not valid_attempt_id(attempt_id):
        raise ValueError(f"attempt id {attempt_id!r} cannot travel in a UserEvent")
    headers = [
        USER_EVENT,
        f"Attempt: {attempt_id}",
        f"HeardMs: {report.heard_ms}",
        f"MessageMs: {report.message_ms}",
        f"Completed: {int(report.completed)}",
        f"Repeats: {report.repeats}",
        f"Promised: {int(report.promised)}",
        f"Ended: {report.ended.value}",
        f"Segments: {segments_text(report.segments)}",
    ]
    if report.digits:
        headers.insert(5, f"Digits: {report.digits}")
    return ",".join(headers)


def _int(headers: Mapping[str, str], name: str) -> int:
    value = headers.get(name, "").strip()
    if not value.isdigit():
        raise ReportFormatError(f"{USER_EVENT}: {name} must be a whole number, got {value!r}")
    return int(value)


def _flag(headers: Mapping[str, str], name: str) -> bool:
    value = headers.get(name, "").strip()
    if value not in {"0", "1"}:
        raise ReportFormatError(f"{USER_EVENT}: {name} must be 0 or 1, got {value!r}")
    return value == "1"


def parse_user_event(headers: Mapping[str, str]) -> tuple[str, ListenReport]:
    """The attempt id and report from a ``UserEvent`` named ``UpravDolgListen`` (AMI headers)."""
    attempt_id = headers.get("Attempt", "").strip()
    if not valid_attempt_id(attempt_id):
        raise ReportFormatError(f"{USER_EVENT}: no valid Attempt header (got {attempt_id!r})")
    ended_text = headers.get("Ended", "").strip()
    try:
        ended = Ending(ended_text)
    except ValueError:
        known = ", ".join(e.value for e in Ending)
        raise ReportFormatError(f"{USER_EVENT}: Ended must be one of {known}, got {ended_text!r}") from None
    digits = headers.get("Digits", "").strip()
    if any(c not in "0123456789*#" for c in digits):
        raise ReportFormatError(f"{USER_EVENT}: Digits may hold only 0-9, * and #, got {digits!r}")
    report = ListenReport(
        heard_ms=_int(headers, "HeardMs"),
        message_ms=_int(headers, "MessageMs"),
        completed=_flag(headers, "Completed"),
        digits=digits,
        repeats=_int(headers, "Repeats"),
        ended=ended,
        promised=_flag(headers, "Promised"),
        segments=parse_segments(headers.get("Segments", "")),
    )
    return attempt_id, report
