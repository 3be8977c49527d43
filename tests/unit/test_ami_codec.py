"""The AMI codec: framing, leftovers, banner, bounds, and action encoding."""

from __future__ import annotations

import pytest

from dialer.core.ami_codec import (
    AmiDecoder,
    AmiLocalError,
    AmiMessage,
    AmiRemoteError,
    MessageKind,
    encode_action,
    parse_frames,
)

EVENT = b"Event: Hangup\r\nUniqueid: a-1\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
RESPONSE = b"Response: Success\r\nActionID: x-1\r\nMessage: Originate successfully queued\r\n\r\n"


def test_given_two_messages_and_a_partial_when_parsed_then_leftover_is_the_partial() -> None:
    messages, leftover = parse_frames(EVENT + RESPONSE + b"Event: Newch")
    assert [m.name for m in messages] == ["Hangup", "Success"]
    assert [m.kind for m in messages] == [MessageKind.EVENT, MessageKind.RESPONSE]
    assert leftover == b"Event: Newch"


def test_given_no_terminator_then_nothing_is_parsed() -> None:
    assert parse_frames(b"Event: Hangup\r\nCause: 16\r\n") == ([], b"Event: Hangup\r\nCause: 16\r\n")


def test_headers_are_case_insensitive_and_values_trimmed() -> None:
    (message,), _ = parse_frames(EVENT)
    assert message["uniqueid"] == "a-1"
    assert message.get("CAUSE-TXT") == "Normal Clearing"
    assert "cause" in message
    assert message.get("Missing") is None
    with pytest.raises(KeyError):
        message["Missing"]


def test_repeated_headers_are_kept_in_order() -> None:
    (message,), _ = parse_frames(b"Response: Success\r\nOutput: a\r\nOutput: b\r\n\r\n")
    assert message.get_all("output") == ["a", "b"]
    assert message.get("Output") == "a"


def test_a_line_without_colon_is_kept_as_output() -> None:
    (message,), _ = parse_frames(b"Response: Follows\r\nraw text line\r\n\r\n")
    assert message.get_all("Output") == ["raw text line"]


def test_undecodable_bytes_do_not_break_the_stream() -> None:
    (message,), _ = parse_frames(b"Event: VarSet\r\nValue: \xff\xfe\r\n\r\n")
    assert message.name == "VarSet"
    assert "\ufffd" in (message.get("Value") or "")


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 10_000])
def test_decoder_gives_the_same_messages_whatever_the_chunking(chunk: int) -> None:
    stream = b"Asterisk Call Manager/11.0.0\r\n" + EVENT + RESPONSE + EVENT
    decoder = AmiDecoder()
    got: list[AmiMessage] = []
    for start in range(0, len(stream), chunk):
        got.extend(decoder.feed(stream[start : start + chunk]))
    assert decoder.banner == "Asterisk Call Manager/11.0.0"
    assert [m.name for m in got] == ["Hangup", "Success", "Hangup"]
    assert got[0] == got[2]


def test_decoder_refuses_a_peer_that_is_not_ami() -> None:
    with pytest.raises(AmiRemoteError, match="not an Asterisk Manager Interface"):
        AmiDecoder().feed(b"SSH-2.0-OpenSSH_9.2\r\n")


def test_decoder_refuses_a_peer_that_never_greets() -> None:
    with pytest.raises(AmiRemoteError, match="banner"):
        AmiDecoder().feed(b"x" * 200)


def test_decoder_bounds_an_unterminated_message() -> None:
    decoder = AmiDecoder(max_message_bytes=100)
    decoder.feed(b"Asterisk Call Manager/11.0.0\r\n")
    with pytest.raises(AmiRemoteError, match="larger than 100 bytes"):
        decoder.feed(b"Event: X\r\n" + b"Key: value\r\n" * 20)


def test_encode_action_repeats_sequence_headers_and_renders_bools() -> None:
    data = encode_action("Originate", "o-1", {"Async": True, "Timeout": 3000, "Variable": ["A=1", "B=2"]})
    assert data == (
        b"Action: Originate\r\nActionID: o-1\r\nAsync: true\r\nTimeout: 3000\r\n"
        b"Variable: A=1\r\nVariable: B=2\r\n\r\n"
    )
    (decoded,), leftover = parse_frames(data)
    assert decoded.get_all("Variable") == ["A=1", "B=2"] and leftover == b""


@pytest.mark.parametrize(
    ("action", "headers", "message"),
    [
        ("Originate", {"Channel": "Local/1\r\nAction: Command"}, "line break"),
        ("Bad:Name", {}, "invalid AMI action"),
        ("Ping", {"Bad Header": "x"}, "invalid AMI header name"),
        ("Ping", {"ActionID": "x"}, "set by encode_action"),
    ],
)
def test_encode_action_refuses_injection_and_misuse(
    action: str, headers: dict[str, str], message: str
) -> None:
    with pytest.raises(AmiLocalError, match=message):
        encode_action(action, "id-1", headers)
