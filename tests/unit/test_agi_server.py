"""The FastAGI listener's adapter against a scripted peer speaking AGI's wire format: every way a session
ends delivers exactly one listen report (or none, when no call was ours). The proof that it works with
Asterisk is tests/asterisk/test_engine.py (every simulated-debtor digit, SIPp hang-ups)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from dialer import agi_server
from dialer.agi_server import FastAgiServer
from dialer.core.campaign_progress import ListenReport

PROMPTS = ("hello", "debt", "pay")
Listening = tuple[FastAgiServer, list[tuple[str, ListenReport]]]


def request(script: str = "notify", attempt: str = "ud-1") -> bytes:
    lines = [
        f"agi_network_script: {script}",
        "agi_request: agi://127.0.0.1:4573/" + script,
        "agi_channel: Local/79120000004@upravdolg-sim-00000001;1",
        "agi_uniqueid: " + attempt,
        f"agi_arg_1: {attempt}",
    ]
    return ("\n".join(lines) + "\n\n").encode()


class Peer:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def command(self) -> str:
        return (await asyncio.wait_for(self.reader.readline(), 2)).decode().strip()

    def send(self, data: bytes | str) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)


@pytest.fixture
async def listener(caplog: pytest.LogCaptureFixture) -> AsyncIterator[Listening]:
    """A listener on a free port; afterwards, nothing may have failed inside it (asyncio logs an exception
    in a protocol callback as an error and closes the connection, which a test could mistake for a
    normal end)."""
    loop = asyncio.get_running_loop()
    failures: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: failures.append(context))
    reports: list[tuple[str, ListenReport]] = []
    server = FastAgiServer("127.0.0.1", 0, PROMPTS, lambda a, r: reports.append((a, r)), full_after=2)
    await server.start()
    yield server, reports
    while PEERS:
        writer = PEERS.pop().writer
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    await server.close()
    loop.set_exception_handler(None)
    assert failures == [], "an exception escaped the listener"
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


PEERS: list[Peer] = []


async def connect(server: FastAgiServer) -> Peer:
    assert server._server is not None
    port = server._server.sockets[0].getsockname()[1]
    PEERS.append(Peer(*await asyncio.open_connection("127.0.0.1", port)))
    return PEERS[-1]


async def settle(reports: list[tuple[str, ListenReport]], count: int) -> None:
    for _ in range(100):
        if len(reports) >= count:
            return
        await asyncio.sleep(0.01)


async def test_the_whole_message_then_hangup(listener: Listening) -> None:
    server, reports = listener
    peer = await connect(server)
    peer.send(request())
    for prompt in PROMPTS:
        assert await peer.command() == f'STREAM FILE {prompt} ""'
        peer.send("200 result=0 endpos=16000\n")
    assert await peer.command() == "HANGUP"
    peer.send("200 result=1\n")
    await settle(reports, 1)
    assert reports == [("ud-1", ListenReport(heard_seconds=6.0, heard_full=True))]
    assert await asyncio.wait_for(peer.reader.read(), 2) == b"", "the listener closes the session"


async def test_a_debtor_hanging_up_mid_sentence_is_reported_once(listener: Listening) -> None:
    server, reports = listener
    peer = await connect(server)
    peer.send(request(attempt="ud-2"))
    assert await peer.command() == 'STREAM FILE hello ""'
    peer.send("200 result=0 endpos=8000\n")
    assert await peer.command() == 'STREAM FILE debt ""'
    peer.send("HANGUP\n200 result=-1 endpos=4000\n")  # split across nothing: both lines in one read
    await settle(reports, 1)
    peer.writer.close()
    await asyncio.sleep(0.05)
    assert reports == [("ud-2", ListenReport(heard_seconds=1.5, heard_full=False))]


async def test_a_dropped_connection_still_reports_what_was_heard(listener: Listening) -> None:
    server, reports = listener
    peer = await connect(server)
    for piece in (request(attempt="ud-3")[:40], request(attempt="ud-3")[40:]):  # the request split in two
        peer.send(piece)
        await asyncio.sleep(0.01)
    assert await peer.command() == 'STREAM FILE hello ""'
    peer.send("200 result=0 endpos=12000\n")
    assert await peer.command() == 'STREAM FILE debt ""'
    peer.writer.close()
    await settle(reports, 1)
    assert reports == [("ud-3", ListenReport(heard_seconds=1.5, heard_full=False))]


async def test_a_request_that_is_not_ours_is_hung_up_without_a_report(
    listener: Listening,
) -> None:
    server, reports = listener
    peer = await connect(server)
    peer.send(request(script="something-else"))
    assert await peer.command() == "HANGUP"
    assert await asyncio.wait_for(peer.reader.read(), 2) == b""
    garbage = await connect(server)
    garbage.send(b"GET / HTTP/1.0\r\n\r\n")
    assert await asyncio.wait_for(garbage.reader.read(), 2) == b"", "not AGI: closed"
    assert reports == []


async def test_a_silent_peer_is_dropped(listener: Listening, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(agi_server, "REQUEST_TIMEOUT", 0.1)
    server, reports = listener
    peer = await connect(server)
    assert await asyncio.wait_for(peer.reader.read(), 2) == b""
    assert reports == []
