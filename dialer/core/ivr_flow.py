"""The IVR conversation, sans-IO: a generator that yields AGI commands and receives their replies.

Written once, driven by two transports — the dialer's FastAGI listener (dialer.agi_server) and the pyst2
process AGI (agi_scripts/notify.py). What the debtor hears (dialer.core.message_plan):

    greeting → account → amount → months → payment → consequences → menu
    ── «1» the message again (at most ``max_repeats`` times), «2» a promise to pay, «0» an operator ──

Keys are accepted during the whole message, not only after the menu (a debtor who already knows the
amount may press «2» at once). Every prompt is played with ``STREAM FILE``; what was heard is measured
from its reply: a prompt that played to its end counts its full length (from the prompt index), one cut
short by a key or a hang-up counts ``endpos`` (8000 samples a second). The closing phrases (goodbye,
promise recorded, connecting) and menu replays are not part of the message and not counted as heard.

At the end the report goes out as an AMI ``UserEvent`` (dialer.core.listen_report) — before hanging up,
and also after the debtor hung up (``EXEC`` works on a dead channel). Drive the flow with ``None`` when the
connection is gone: it then returns what it measured without sending anything.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Mapping

from dialer.core.agi_codec import AgiReply, command
from dialer.core.ivr_request import IvrOptions, IvrRequest, IvrRequestError
from dialer.core.listen_report import Ending, ListenReport, SegmentListen, user_event_argument
from dialer.core.message_plan import MessagePlan, plan_message

SAMPLES_PER_MS = 8  # our prompts are 8 kHz
CLOSING = ("msg/goodbye", "msg/promise-recorded", "msg/connecting")
TRANSFER_VARIABLE = "UPRAVDOLG_TRANSFER"  # set to 1: the dialplan connects the debtor to the operator
MAX_MENU_ROUNDS = 3  # times the menu waits for a useful key before saying goodbye
Flow = Generator[bytes, AgiReply | None, ListenReport]


def sound(folder: str, prompt_id: str) -> str:
    """The name ``STREAM FILE`` takes for one of our prompts (sounds/<lang>/<folder>/<prompt id>)."""
    return f"{folder}/{prompt_id}"


def prompt_lengths(index_text: str, source: str) -> dict[str, int]:
    """Prompt id -> length in ms, from a prompt index (``index.json`` as `upravdolg sounds build` and
    `sounds import` write it); a damaged one is refused, naming ``source``."""
    try:
        index = json.loads(index_text)
        return {prompt: int(entry["ms"]) for prompt, entry in index.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IvrRequestError(f"{source} is not a prompt index ({exc}): rebuild it") from None


def prepare(request: IvrRequest, lengths: Mapping[str, int]) -> MessagePlan:
    """The debtor's message, checked against the built prompts (their lengths in ms): a missing prompt
    would play as silence and look like a hang-up, so it is refused here, by name."""
    plan = plan_message(request.facts, completion=request.options.completion)
    missing = sorted({p for p in (*plan.prompts(), *CLOSING) if p not in lengths})
    if missing:
        raise IvrRequestError(
            f"prompt(s) not built: {', '.join(missing)} (run `upravdolg sounds build` and `asterisk up`)"
        )
    return plan


class _Measure:
    """What the debtor heard so far."""

    def __init__(self, plan: MessagePlan, lengths: Mapping[str, int]) -> None:
        self.plan = plan
        self.lengths = lengths
        self.played = {s.name: 0 for s in plan.segments}
        self.completed = False
        self.digits = ""
        self.repeats = 0
        self.promised = False

    def heard(self, segment: str, prompt: str, reply: AgiReply) -> None:
        full = self.lengths[prompt]
        cut = min(full, (reply.endpos or 0) // SAMPLES_PER_MS)
        self.played[segment] += full if reply.result == 0 else cut

    def report(self, ended: Ending) -> ListenReport:
        segments = tuple(
            SegmentListen(s.name, self.played[s.name], sum(self.lengths[p] for p in s.prompts))
            for s in self.plan.segments
        )
        return ListenReport(
            heard_ms=sum(s.played_ms for s in segments),
            message_ms=sum(s.length_ms for s in segments),
            completed=self.completed,
            digits=self.digits,
            repeats=self.repeats,
            ended=ended,
            promised=self.promised,
            segments=segments,
        )


def _gone(reply: AgiReply | None) -> bool:
    """The line is gone: no connection, a dead channel (511), or ``result=-1`` (hung up)."""
    return reply is None or not reply.ok or reply.result is None or reply.result < 0


class _Gone(Exception):
    """Raised inside the flow when the line is gone; ``connected``: the AGI connection still answers."""

    def __init__(self, connected: bool) -> None:
        super().__init__("the line is gone")
        self.connected = connected


Step = Generator[bytes, AgiReply | None, str]


def _stream(
    folder: str, prompt: str, escape: str, measure: _Measure | None = None, segment: str = ""
) -> Step:
    """Play one prompt; the key that cut it short ("" when none). Measured when ``measure`` is given."""
    reply = yield command("STREAM FILE", sound(folder, prompt), escape)
    if measure is not None and reply is not None and reply.ok and reply.result is not None:
        measure.heard(segment, prompt, reply)
    if _gone(reply):
        raise _Gone(reply is not None)
    assert reply is not None and reply.result is not None
    return chr(reply.result) if reply.result else ""


def _wait_for_key(timeout_ms: int) -> Step:
    reply = yield command("WAIT FOR DIGIT", str(timeout_ms))
    if _gone(reply):
        raise _Gone(reply is not None)
    assert reply is not None and reply.result is not None
    return chr(reply.result) if reply.result else ""


def ivr_flow(attempt_id: str, plan: MessagePlan, lengths: Mapping[str, int], options: IvrOptions) -> Flow:
    """The whole conversation for one answered call; returns (and reports over AMI) the listen report."""
    measure = _Measure(plan, lengths)
    try:
        return (yield from _converse(attempt_id, plan, measure, options))
    except _Gone as gone:
        return (yield from _finish(attempt_id, measure, Ending.HUNG_UP, gone.connected))


def _converse(attempt_id: str, plan: MessagePlan, measure: _Measure, options: IvrOptions) -> Flow:
    escape = "120" if options.operator else "12"
    while True:
        key = yield from _message(plan, measure, options.folder, escape)
        key = yield from _menu(plan, measure, options, escape, key)
        if key == "1" and measure.repeats < options.max_repeats:
            measure.repeats += 1
            continue  # the message again
        if key == "2":
            measure.promised = True
            return (
                yield from _close(
                    attempt_id, measure, options.folder, ("msg/promise-recorded", "msg/goodbye")
                )
            )
        if key == "0":
            yield from _stream(options.folder, "msg/connecting", "")
            yield command("SET VARIABLE", TRANSFER_VARIABLE, "1")
            return (yield from _finish(attempt_id, measure, Ending.TRANSFERRED, True))
        return (yield from _close(attempt_id, measure, options.folder, ("msg/goodbye",)))


def _message(plan: MessagePlan, measure: _Measure, folder: str, escape: str) -> Step:
    """One pass of the message, measured; the key that cut it short ("" when it played through)."""
    for segment in plan.segments:
        for prompt in segment.prompts:
            key = yield from _stream(folder, prompt, escape, measure, segment.name)
            if key:
                return key
        if segment.name == plan.completion:
            measure.completed = True
    return ""


def _menu(plan: MessagePlan, measure: _Measure, options: IvrOptions, escape: str, key: str) -> Step:
    """The debtor's choice: «1», «2», «0» (when allowed), or "" — nothing useful after the menu was
    offered again (a timeout, or keys it does not know, MAX_MENU_ROUNDS times)."""
    for round_ in range(MAX_MENU_ROUNDS):
        if not key:
            key = yield from _wait_for_key(options.menu_timeout_ms)
        if key:
            measure.digits += key
            if key in escape:
                return key
        elif measure.digits or round_ > 0:
            return ""  # a second silence: goodbye
        # The menu again: part of the dialogue, not of the message, so not counted as heard.
        key = ""
        for prompt in plan.segments[-1].prompts:
            key = yield from _stream(options.folder, prompt, escape)
            if key:
                break
    return ""


def _close(attempt_id: str, measure: _Measure, folder: str, phrases: Iterable[str]) -> Flow:
    """Say the closing phrases, then report and hang up."""
    for phrase in phrases:
        yield from _stream(folder, phrase, "")
    return (yield from _finish(attempt_id, measure, Ending.FINISHED, True))


def _finish(attempt_id: str, measure: _Measure, ended: Ending, connected: bool) -> Flow:
    """Report over AMI (when the connection is still there, even on a dead channel); hang up after a
    goodbye (a transferred call goes on in the dialplan)."""
    report = measure.report(ended)
    if connected:
        reply = yield command("EXEC", "UserEvent", user_event_argument(attempt_id, report))
        if reply is not None and ended is Ending.FINISHED:
            yield command("HANGUP")
    return report


def failed_flow(attempt_id: str, problem: str) -> Flow:
    """The message cannot be played (``problem`` is logged by the transport): report it, hang up."""
    del problem  # the report's Ended says failed; the transport logs the reason
    report = ListenReport(heard_ms=0, message_ms=0, completed=False, ended=Ending.FAILED)
    reply = yield command("EXEC", "UserEvent", user_event_argument(attempt_id, report))
    if reply is not None:
        yield command("HANGUP")
    return report
