"""The FastAGI listener's adapter against a scripted peer speaking AGI's wire format: every way a session
ends delivers exactly one listen report (or none, when no call was ours). The proof that it works with
Asterisk is tests/asterisk/test_engine.py (every simulated-debtor digit, SIPp hang-ups)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shlex
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from dialer import agi_server
from dialer.agi_server import FastAgiServer
from dialer.core.ivr_flow import CLOSING
from dialer.core.listen_report import Ending, ListenReport, parse_user_event
from dialer.core.message_plan import DebtorFacts, plan_message

FACTS = "12:5.00:0"
PLAN = plan_message(DebtorFacts("12", Decimal("5.00"), 0))
LENGTH_MS = 1000  # every prompt of the test index
Listening = tuple[FastAgiServer, list[tuple[str, ListenReport]]]


def request(script: str = "notify", attempt: str = "ud-1", facts: str = FACTS) -> bytes:
    lines = [
        f"agi_network_script: {script}",
        "agi_request: agi://127.0.0.1:4573/" + script,
        "agi_channel: Local/79120000004@upravdolg-sim-00000001;1",
        "agi_uniqueid: " + attempt,
        f"agi_arg_1: {attempt}",
        f"agi_arg_2: {facts}",
        "agi_arg_3: completion=payment&repeats=0&menu=1000&operator=1&folder=test",
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
async def listener(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> AsyncIterator[Listening]:
    """A listener on a free port; afterwards, nothing may have failed inside it (asyncio logs an exception
    in a protocol callback as an error and closes the connection, which a test could mistake for a
    normal end)."""
    loop = asyncio.get_running_loop()
    failures: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: failures.append(context))
    reports: list[tuple[str, ListenReport]] = []
    index = tmp_path / "ru" / "test" / "index.json"
    index.parent.mkdir(parents=True)
    prompts = {key: {"ms": LENGTH_MS} for key in [*PLAN.prompts(), *CLOSING]}
    index.write_text(json.dumps(prompts))
    server = FastAgiServer("127.0.0.1", 0, tmp_path, lambda a, r: reports.append((a, r)))
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


async def play_along(peer: Peer, hang_up_at_command: int | None = None) -> list[list[str]]:
    """Answer as a channel that lets every prompt play to its end and never presses a key (or hangs up
    at command number ``hang_up_at_command``, mid-prompt, 400 ms into it); the commands received."""
    received: list[list[str]] = []
    while True:
        try:
            line = await peer.command()
        except TimeoutError:
            return received
        if not line:
            return received
        words = shlex.split(line)
        received.append(words)
        if hang_up_at_command is not None and len(received) == hang_up_at_command:
            peer.send("HANGUP\n200 result=-1 endpos=3200\n")  # both lines in one read
        elif words[0] == "STREAM":
            peer.send(f"200 result=0 endpos={LENGTH_MS * 8}\n")
        elif words[0] == "HANGUP":
            peer.send("200 result=1\n")
            return received
        else:  # WAIT FOR DIGIT (a timeout), EXEC UserEvent
            peer.send("200 result=0\n")


async def test_the_whole_message_then_goodbye_and_hangup(listener: Listening) -> None:
    server, reports = listener
    peer = await connect(server)
    peer.send(request())
    received = await play_along(peer)
    played = [w[2].removeprefix("test/") for w in received if w[0] == "STREAM"]
    assert played == [*PLAN.prompts(), "msg/menu", "msg/goodbye"]
    await settle(reports, 1)
    ((attempt, report),) = reports
    assert attempt == "ud-1" and report.completed and report.ended is Ending.FINISHED
    assert report.heard_ms == report.message_ms == LENGTH_MS * len(PLAN.prompts())
    user_events = [w for w in received if w[0] == "EXEC"]
    assert len(user_events) == 1 and user_events[0][1] == "UserEvent"
    _name, *items = user_events[0][2].split(",")
    assert parse_user_event(dict(item.split(": ", 1) for item in items)) == ("ud-1", report)
    assert await asyncio.wait_for(peer.reader.read(), 2) == b"", "the listener closes the session"


async def test_a_debtor_hanging_up_mid_sentence_is_reported_once(listener: Listening) -> None:
    server, reports = listener
    peer = await connect(server)
    peer.send(request(attempt="ud-2"))
    received = await play_along(peer, hang_up_at_command=3)
    await settle(reports, 1)
    peer.writer.close()
    await asyncio.sleep(0.05)
    ((attempt, report),) = reports
    assert attempt == "ud-2" and report.ended is Ending.HUNG_UP and not report.completed
    assert report.heard_ms == 2 * LENGTH_MS + 400
    assert received[-1][:2] == ["EXEC", "UserEvent"], "reported on the dead channel too"


async def test_a_dropped_connection_still_reports_what_was_heard(listener: Listening) -> None:
    server, reports = listener
    peer = await connect(server)
    for piece in (request(attempt="ud-3")[:40], request(attempt="ud-3")[40:]):  # the request split in two
        peer.send(piece)
        await asyncio.sleep(0.01)
    assert await peer.command() == "STREAM FILE test/msg/greeting 120"
    peer.send(f"200 result=0 endpos={LENGTH_MS * 8}\n")
    assert (await peer.command()).startswith("STREAM FILE test/org/name")
    peer.writer.close()
    await settle(reports, 1)
    ((attempt, report),) = reports
    assert attempt == "ud-3" and report.heard_ms == LENGTH_MS and report.ended is Ending.HUNG_UP


async def test_a_call_whose_message_cannot_be_played_is_reported_failed(
    listener: Listening, caplog: pytest.LogCaptureFixture
) -> None:
    server, reports = listener
    peer = await connect(server)
    peer.send(request(attempt="ud-4", facts="not-facts"))
    received = await play_along(peer)
    assert [w[0] for w in received] == ["EXEC", "HANGUP"]
    await settle(reports, 1)
    assert reports[0][0] == "ud-4" and reports[0][1].ended is Ending.FAILED
    assert "expected <account digits>:<debt>:<months>" in caplog.text
    caplog.clear()  # the error it logged is the expected one


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
