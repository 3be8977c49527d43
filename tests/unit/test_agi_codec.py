"""The AGI codec, given bytes as Asterisk 22 sends them (res/res_agi.c)."""

from __future__ import annotations

import pytest

from dialer.core.agi_codec import (
    AgiConnection,
    AgiProtocolError,
    AgiReply,
    AgiRequest,
    Hangup,
    command,
    parse_reply,
)

REQUEST = (
    b"agi_network: yes\nagi_network_script: notify\nagi_request: agi://127.0.0.1:4573/notify\n"
    b"agi_channel: Local/79120000004@upravdolg-sim-00000001;1\nagi_language: ru\n"
    b"agi_uniqueid: att-1\nagi_arg_1: att-1\nagi_arg_2: x y\n\n"
)


def test_the_request_arrives_once_even_split_at_any_byte() -> None:
    for cut in range(1, len(REQUEST)):
        connection = AgiConnection()
        events = connection.receive(REQUEST[:cut]) + connection.receive(REQUEST[cut:])
        assert len(events) == 1
        request = events[0]
        assert isinstance(request, AgiRequest)
        assert (request.script, request.args, request.uniqueid) == ("notify", ("att-1", "x y"), "att-1")


@pytest.mark.parametrize(
    ("line", "code", "result", "data", "endpos"),
    [
        ("200 result=0 endpos=84480", 200, 0, "", 84480),
        ("200 result=-1 endpos=24160", 200, -1, "", 24160),
        ("200 result=50 endpos=33760", 200, 50, "", 33760),
        ("200 result=1 (timeout)", 200, 1, "timeout", None),
        ("200 result=1 (speech) endpos=0 results=2", 200, 1, "speech", 0),
        ("510 Invalid or unknown command", 510, None, "", None),
        ("511 Command Not Permitted on a dead channel or intercept routine", 511, None, "", None),
    ],
)
def test_replies(line: str, code: int, result: int | None, data: str, endpos: int | None) -> None:
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.endpos) == (code, result, data, endpos)
    assert reply.dead_channel == (code == 511)


def test_hangup_lines_are_events_and_never_shift_replies() -> None:
    connection = AgiConnection()
    connection.receive(REQUEST)
    events = connection.receive(b"HANGUP\n200 result=-1 endpos=24160\nHANGUP\n511 Command Not Permitted\n")
    assert [type(e) for e in events] == [Hangup, AgiReply, Hangup, AgiReply]
    assert isinstance(events[1], AgiReply) and events[1].endpos == 24160
    assert isinstance(events[3], AgiReply) and events[3].code == 511


def test_a_multi_line_520_is_one_reply() -> None:
    connection = AgiConnection()
    connection.receive(REQUEST)
    events = connection.receive(
        b"520-Invalid command syntax.  Proper usage follows:\n Usage: STREAM FILE <filename>\n"
        b"520 End of proper usage.\n200 result=0\n"
    )
    assert len(events) == 2
    usage = events[0]
    assert isinstance(usage, AgiReply) and usage.code == 520 and "Usage: STREAM FILE" in usage.text
    assert isinstance(events[1], AgiReply) and events[1].result == 0


def test_garbage_is_a_protocol_error() -> None:
    with pytest.raises(AgiProtocolError):
        AgiConnection().receive(b"GET / HTTP/1.1\n")
    connection = AgiConnection()
    connection.receive(REQUEST)
    with pytest.raises(AgiProtocolError):
        connection.receive(b"hello\n")
    with pytest.raises(AgiProtocolError):
        AgiConnection().receive(b"agi_x: " + b"y" * 70000)


def test_commands_quote_what_needs_quoting() -> None:
    assert command("STREAM FILE", "upravdolg/hello", "") == b'STREAM FILE upravdolg/hello ""\n'
    assert command("EXEC", "UserEvent", 'A,Key: v "q"') == b'EXEC UserEvent "A,Key: v \\"q\\""\n'
    with pytest.raises(ValueError, match="newlines"):
        command("EXEC", "a\nb")


def test_a_reply_reader_without_the_request() -> None:
    """A process AGI's stdin after pyst2 read the environment: replies and HANGUP lines only."""
    connection = AgiConnection(expect_request=False)
    events = connection.receive(b"HANGUP\n200 result=-1 endpos=4000\n")
    assert events == [Hangup(), AgiReply(200, -1, "", {"endpos": "4000"}, "result=-1 endpos=4000")]
    assert connection.request is None
