"""AmiClient against tiny fake peers: it never hangs and says clearly what went wrong.

A fake peer is fine for these failure modes (a port that is not AMI, a server that stops answering); the
proof that the client works with Asterisk is tests/asterisk/test_calls.py against the real sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from panoramisk.message import Message

from dialer.ami import AmiClient, OriginateRequest, to_ami_message
from dialer.core.ami_codec import AmiDecoder, AmiMessage, parse_frames
from dialer.errors import AmiConnectError, AmiTimeoutError
from dialer.settings import AmiSettings

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture
async def fake_peer() -> AsyncIterator[Callable[[Handler], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> int:
        async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await handler(reader, writer)
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

        server = await asyncio.start_server(guarded, "127.0.0.1", 0)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def settings(port: int) -> AmiSettings:
    return AmiSettings(port=port, connect_timeout=1.0, action_timeout=0.5, ping_timeout=0.5)


async def test_a_silent_peer_gives_a_login_timeout(fake_peer: Callable[[Handler], Awaitable[int]]) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(1000):
            pass  # never answer, until the client gives up and closes

    port = await fake_peer(silent)
    client = AmiClient(settings(port), "secret")
    with pytest.raises(AmiTimeoutError, match="did not answer the AMI login"):
        await asyncio.wait_for(client.connect(), 3)


async def test_an_originate_that_is_never_answered_times_out(
    fake_peer: Callable[[Handler], Awaitable[int]],
) -> None:
    received: list[bytes] = []

    async def answers_login_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        buffer = b""
        while chunk := await reader.read(4096):
            buffer += chunk
            messages, buffer = parse_frames(buffer)
            for message in messages:
                received.append(chunk)
                if message.get("Action") == "Login":
                    writer.write(
                        f"Response: Success\r\nActionID: {message.action_id}\r\n"
                        "Message: Authentication accepted\r\n\r\n"
                        "Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n".encode()
                    )
                    await writer.drain()

    port = await fake_peer(answers_login_only)
    client = AmiClient(settings(port), "secret")
    await asyncio.wait_for(client.connect(), 3)
    request = OriginateRequest("att-1", "Local/79120000001@upravdolg-sim", 5000, application="Wait", data="1")
    with pytest.raises(AmiTimeoutError, match=r"did not accept Originate att-1"):
        await asyncio.wait_for(client.originate(request), 3)
    with pytest.raises(AmiTimeoutError, match="did not answer Ping"):
        await asyncio.wait_for(client.ping(), 3)
    await client.close()
    sent = b"".join(received)
    assert b"Async: true" in sent and b"ChannelId: att-1" in sent


async def test_events_and_replies_are_routed_from_bytes_split_anywhere(
    fake_peer: Callable[[Handler], Awaitable[int]],
) -> None:
    """Events reach subscribers (even split mid-line across reads), replies reach the action waiting for
    them, an OriginateResponse reaches both, and Shutdown ends the session."""

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send_in_pieces(data: bytes) -> None:
            for start in range(0, len(data), 7):
                writer.write(data[start : start + 7])
                await writer.drain()
                await asyncio.sleep(0)

        await send_in_pieces(b"Asterisk Call Manager/11.0.0\r\n")
        buffer = b""
        while chunk := await reader.read(4096):
            buffer += chunk
            messages, buffer = parse_frames(buffer)
            for message in messages:
                action_id = message.action_id
                if message.get("Action") == "Login":
                    await send_in_pieces(
                        f"Response: Success\r\nActionID: {action_id}\r\n\r\n"
                        "Event: FullyBooted\r\nStatus: Fully Booted\r\n\r\n".encode()
                    )
                elif message.get("Action") == "Originate":
                    await send_in_pieces(
                        f"Response: Success\r\nActionID: {action_id}\r\nMessage: Originate successfully "
                        "queued\r\n\r\nEvent: Newchannel\r\nUniqueid: att-2\r\nChannel: Local/1@x-1;1"
                        "\r\nCallerIDName: Иванов\r\n\r\n"
                        f"Event: OriginateResponse\r\nActionID: {action_id}\r\nResponse: Failure\r\n"
                        "Uniqueid: att-2\r\nReason: 5\r\n\r\n".encode()
                    )
                elif message.get("Action") == "Ping":
                    await send_in_pieces(
                        f"Response: Success\r\nActionID: {action_id}\r\nPing: Pong\r\n\r\n"
                        "Event: Shutdown\r\nShutdown: Cleanly\r\n\r\n".encode()
                    )

    port = await fake_peer(peer)
    client = AmiClient(settings(port), "secret")
    events = client.subscribe()
    heard: list[str] = []

    def listener(_at: float, message: AmiMessage) -> None:
        heard.append(message.name)
        if message.name == "FullyBooted":
            raise RuntimeError("a failing listener must not break the stream")

    client.add_listener(listener)
    await asyncio.wait_for(client.connect(), 3)
    request = OriginateRequest("att-2", "Local/1@x", 5000, application="Wait", data="1")
    reply = await asyncio.wait_for(client.originate(request), 3)
    assert (reply.name, reply.get("Message")) == ("Success", "Originate successfully queued")
    await asyncio.wait_for(client.ping(), 3)
    seen = [(await asyncio.wait_for(events.get(), 3))[1] for _ in range(4)]
    assert [m.name for m in seen] == ["FullyBooted", "Newchannel", "OriginateResponse", "Shutdown"]
    assert seen[1].get("CallerIDName") == "Иванов" and seen[2].get("Reason") == "5"
    assert heard == [m.name for m in seen], "listeners hear what subscribers get, in order"
    client.remove_listener(listener)
    await asyncio.sleep(0.05)
    assert not client.connected.is_set(), "Shutdown ends the session"
    await client.close()


async def test_nothing_listening_is_a_connect_error() -> None:
    client = AmiClient(settings(1), "secret")
    with pytest.raises(AmiConnectError, match=r"cannot connect to AMI at 127\.0\.0\.1:1\b"):
        await client.connect()


async def test_actions_need_a_connection() -> None:
    client = AmiClient(settings(5038), "secret")
    with pytest.raises(AmiConnectError, match="not connected"):
        await client.ping()


def test_originate_request_always_sets_async_and_channel_id() -> None:
    headers = OriginateRequest(
        "a-1", "PJSIP/7912@sipp", 30000, context="upravdolg-outbound", variables={"UPRAVDOLG_ATTEMPT": "a-1"}
    ).headers()
    assert headers["Async"] == "true"
    assert headers["ChannelId"] == "a-1"
    assert (headers["Context"], headers["Exten"], headers["Priority"]) == ("upravdolg-outbound", "s", 1)
    assert headers["Variable"] == ["UPRAVDOLG_ATTEMPT=a-1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"channel_id": ""}, "ChannelId"),
        ({"channel_id": "x" * 150}, "ChannelId"),
        ({"context": None}, "either a dialplan context or an application"),
        ({"application": "Wait"}, "either a dialplan context or an application"),
    ],
)
def test_originate_request_refuses_misuse(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "channel_id": "a-1",
        "channel": "Local/1@x",
        "timeout_ms": 1000,
        "context": "ctx",
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        OriginateRequest(**fields).headers()  # type: ignore[arg-type]


def test_panoramisk_messages_convert_with_repeated_headers() -> None:
    message = Message({"Response": "Success", "Output": ["a", "b"], "ActionID": "x"})
    converted = to_ami_message(message)
    assert converted.name == "Success" and converted.action_id == "x"
    assert converted.get_all("Output") == ["a", "b"]
    assert AmiDecoder().banner is None
