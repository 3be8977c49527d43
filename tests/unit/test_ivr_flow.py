"""The IVR conversation against a simulated channel with a clock: the debtor presses keys and hangs up at
given moments, and every command gets the reply Asterisk would give (res_agi.c semantics: STREAM FILE's
``result``/``endpos``, WAIT FOR DIGIT's timeout 0, -1 after a hang-up)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from dialer.core.agi_codec import AgiReply, parse_reply
from dialer.core.ivr_flow import CLOSING, Flow, failed_flow, ivr_flow, prepare
from dialer.core.ivr_request import IvrOptions, IvrRequest, IvrRequestError
from dialer.core.listen_report import Ending, ListenReport, parse_user_event
from dialer.core.message_plan import DebtorFacts, plan_message

FACTS = DebtorFacts("1002345", Decimal("12345.67"), 3)


def lengths_for(plan_prompts: list[str]) -> dict[str, int]:
    """Made-up but distinct prompt lengths (ms), so a wrong sum cannot pass by accident."""
    return {p: 300 + 37 * (i % 11) for i, p in enumerate(dict.fromkeys([*plan_prompts, *CLOSING]))}


@dataclass
class Channel:
    """A debtor on a simulated line: keys pressed at given ms after answer, a hang-up at a given ms."""

    lengths: dict[str, int]
    keys: list[tuple[int, str]] = field(default_factory=list)  # (at ms, key)
    hangup_at: int | None = None
    now: int = 0
    played: list[str] = field(default_factory=list)
    commands: list[list[str]] = field(default_factory=list)
    events: list[dict[str, str]] = field(default_factory=list)
    hung_up_by_us: bool = False
    variables: dict[str, str] = field(default_factory=dict)

    def _key_between(self, start: int, end: int, allowed: str) -> tuple[int, str] | None:
        for at, key in self.keys:
            if start <= at < end and key in allowed:
                self.keys.remove((at, key))
                return at, key
        return None

    def _dead(self) -> bool:
        return self.hangup_at is not None and self.now >= self.hangup_at

    def reply(self, line: bytes) -> AgiReply:
        words = shlex.split(line.decode())
        self.commands.append(words)
        verb = " ".join(words[:2]) if words[0] in {"STREAM", "WAIT", "SET"} else words[0]
        if verb == "EXEC":  # dead-capable: works after a hang-up too
            name, _, rest = words[2].partition(",")
            headers = dict(item.split(": ", 1) for item in rest.split(","))
            self.events.append({"UserEvent": name, **headers})
            return parse_reply("200 result=0")
        if self._dead():
            return parse_reply("200 result=-1 endpos=0" if verb == "STREAM FILE" else "200 result=-1")
        if verb == "STREAM FILE":
            name, escape = words[2], words[3]
            prompt = name.removeprefix("upravdolg/")
            length = self.lengths[prompt]
            end = self.now + length
            key = self._key_between(self.now, end, escape)
            stop = min(end, self.hangup_at if self.hangup_at is not None else end)
            if key is not None and key[0] < stop:
                played = key[0] - self.now
                self.now = key[0]
                self.played.append(prompt)
                return parse_reply(f"200 result={ord(key[1])} endpos={played * 8}")
            self.played.append(prompt)
            if stop < end:
                played = stop - self.now
                self.now = stop
                return parse_reply(f"200 result=-1 endpos={played * 8}")
            self.now = end
            return parse_reply(f"200 result=0 endpos={length * 8}")
        if verb == "WAIT FOR":
            timeout = int(words[3])
            end = self.now + timeout
            key = self._key_between(self.now, end, "0123456789*#")
            hangs_up = self.hangup_at is not None and self.hangup_at < end
            if hangs_up and (key is None or key[0] >= (self.hangup_at or 0)):
                self.now = self.hangup_at
                return parse_reply("200 result=-1")
            if key is not None:
                self.now = key[0]
                return parse_reply(f"200 result={ord(key[1])}")
            self.now = end
            return parse_reply("200 result=0")
        if verb == "SET VARIABLE":
            self.variables[words[2]] = words[3]
            return parse_reply("200 result=1")
        if verb == "HANGUP":
            self.hung_up_by_us = True
            return parse_reply("200 result=1")
        raise AssertionError(f"unexpected command {words}")


def run(flow: Flow, channel: Channel, *, cut_at_command: int | None = None) -> ListenReport:
    """Drive the flow; ``cut_at_command``: the AGI connection drops before that command's reply."""
    line = next(flow)
    count = 0
    while True:
        count += 1
        reply = None if cut_at_command is not None and count >= cut_at_command else channel.reply(line)
        try:
            line = flow.send(reply)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        assert count < 500, "the flow does not end"


def setup(options: IvrOptions | None = None, facts: DebtorFacts = FACTS) -> tuple[Flow, Channel, int]:
    options = options or IvrOptions()
    request = IvrRequest("att-1", facts, options)
    plan = plan_message(facts, completion=options.completion)
    lengths = lengths_for(plan.prompts())
    prepared = prepare(request, lengths)
    message_ms = sum(lengths[p] for p in plan.prompts())
    return ivr_flow("att-1", prepared, lengths, options), Channel(lengths), message_ms


def test_a_debtor_who_stays_hears_the_whole_message_once_then_goodbye() -> None:
    flow, channel, message_ms = setup()
    report = run(flow, channel)
    assert report.completed and report.ended is Ending.FINISHED
    assert report.heard_ms == report.message_ms == message_ms
    assert channel.played[: len(plan_message(FACTS).prompts())] == plan_message(FACTS).prompts()
    # silence after the menu: the menu is offered once more, then goodbye and a hang-up
    assert channel.played[-2:] == ["msg/menu", "msg/goodbye"]
    assert channel.hung_up_by_us
    assert [s.played_ms for s in report.segments] == [s.length_ms for s in report.segments]
    (event,) = channel.events
    assert parse_user_event(event) == ("att-1", report)


def test_hanging_up_mid_amount_reports_what_was_heard() -> None:
    flow, channel, _ = setup()
    plan = plan_message(FACTS)
    before_amount = sum(channel.lengths[p] for s in plan.segments[:2] for p in s.prompts)
    channel.hangup_at = before_amount + channel.lengths["msg/debt-is"] + 150  # in the first amount word
    report = run(flow, channel)
    assert report.ended is Ending.HUNG_UP and not report.completed
    assert report.heard_ms == channel.hangup_at
    amount = next(s for s in report.segments if s.name == "amount")
    assert amount.played_ms == channel.lengths["msg/debt-is"] + 150 < amount.length_ms
    assert [s.played_ms for s in report.segments if s.name in {"payment", "menu"}] == [0, 0]
    assert not channel.hung_up_by_us  # nobody to hang up on
    (event,) = channel.events  # sent on the dead channel
    assert parse_user_event(event)[1] == report


def test_completion_is_the_end_of_the_payment_segment_by_default_and_configurable() -> None:
    flow, channel, _ = setup()
    plan = plan_message(FACTS)
    through_payment = sum(channel.lengths[p] for s in plan.segments[:5] for p in s.prompts)
    assert plan.segments[4].name == "payment"
    channel.hangup_at = through_payment + 10  # just into «consequences»
    assert run(flow, channel).completed
    flow, channel, _ = setup()
    channel.hangup_at = through_payment - 10
    assert not run(flow, channel).completed
    flow, channel, _ = setup(IvrOptions(completion="consequences"))
    channel.hangup_at = through_payment + 10
    assert not run(flow, channel).completed


def test_key_2_during_the_message_is_a_promise() -> None:
    flow, channel, _ = setup()
    channel.keys = [(4000, "2")]
    report = run(flow, channel)
    assert report.promised and report.digits == "2" and report.ended is Ending.FINISHED
    assert report.heard_ms == 4000
    assert channel.played[-2:] == ["msg/promise-recorded", "msg/goodbye"]
    assert channel.hung_up_by_us


def test_key_1_repeats_the_message_and_counts_it() -> None:
    flow, channel, message_ms = setup()
    channel.keys = [(message_ms + 1000, "1")]  # during the wait after the menu
    report = run(flow, channel)
    assert report.repeats == 1 and report.digits == "1" and report.completed
    assert report.heard_ms == 2 * message_ms
    menu = next(s for s in report.segments if s.name == "menu")
    assert menu.played_ms == 2 * menu.length_ms
    assert channel.played.count("msg/greeting") == 2


def test_repeats_are_capped() -> None:
    flow, channel, _ = setup(IvrOptions(max_repeats=1))
    channel.keys = [(500, "1"), (1000, "1")]
    report = run(flow, channel)
    assert report.repeats == 1 and report.digits == "11"
    assert channel.played.count("msg/greeting") == 2 and channel.played[-1] == "msg/goodbye"


def test_key_0_transfers_and_leaves_the_call_to_the_dialplan() -> None:
    flow, channel, _ = setup()
    channel.keys = [(2500, "0")]
    report = run(flow, channel)
    assert report.ended is Ending.TRANSFERRED and report.transferred and report.digits == "0"
    assert channel.variables == {"UPRAVDOLG_TRANSFER": "1"}
    assert channel.played[-1] == "msg/connecting"
    assert not channel.hung_up_by_us


def test_key_0_without_an_operator_is_just_an_unknown_key() -> None:
    flow, channel, message_ms = setup(IvrOptions(operator=False))
    channel.keys = [(500, "0"), (message_ms + 700, "0")]  # ignored during the message; pressed at the menu
    report = run(flow, channel)
    assert report.ended is Ending.FINISHED and channel.variables == {}
    assert report.digits == "0"  # the one pressed where keys are read
    assert report.completed


def test_a_dropped_connection_still_returns_the_measurement() -> None:
    flow, channel, _ = setup()
    report = run(flow, channel, cut_at_command=4)
    assert report.ended is Ending.HUNG_UP and report.heard_ms == sum(
        channel.lengths[p] for p in channel.played
    )
    assert channel.events == []  # nothing could be sent


def test_missing_prompts_are_refused_by_name() -> None:
    plan_prompts = plan_message(FACTS).prompts()
    lengths = lengths_for(plan_prompts)
    del lengths["num/5"], lengths["msg/goodbye"]
    with pytest.raises(IvrRequestError, match=r"msg/goodbye, num/5"):
        prepare(IvrRequest("a", FACTS, IvrOptions()), lengths)


def test_the_failed_flow_reports_and_hangs_up() -> None:
    channel = Channel({})
    report = run(failed_flow("att-9", "no prompts"), channel)
    assert report.ended is Ending.FAILED and channel.hung_up_by_us
    assert parse_user_event(channel.events[0]) == ("att-9", report)
