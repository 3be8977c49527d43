"""The dialer's FastAGI listener (asyncio): Asterisk hands every answered call to it.

``asterisk_conf/extensions.conf`` runs ``AGI(agi://${UPRAVDOLG_AGI}/notify,<attempt id>)`` on the answered
leg. For each connection we read the request, run the message flow (dialer.core.message_flow) with our own
AGI codec, and hand its listen report to ``on_report(attempt_id, report)`` — the engine's callback.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import cast

from dialer.core.agi_codec import AgiConnection, AgiProtocolError, AgiReply, AgiRequest, Hangup, command
from dialer.core.campaign_progress import ListenReport
from dialer.core.message_flow import Flow, play_message
from dialer.errors import ListenError

logger = logging.getLogger(__name__)
REQUEST_TIMEOUT = 5.0
REPLY_TIMEOUT = 900.0  # a STREAM FILE lasts as long as its prompt
MAX_COMMANDS = 1000  # a flow told the line is gone must finish within this many steps
ReportSink = Callable[[str, ListenReport], None]


class _Session(asyncio.Protocol):
    """One FastAGI connection, driven by callbacks (no task, no stream objects per call): bytes go through
    our AGI codec, the request starts the message flow, each reply advances it, and the flow's listen
    report goes to the server's sink when it ends — also when the connection drops mid-sentence."""

    def __init__(self, server: FastAgiServer) -> None:
        self.server = server
        self.connection = AgiConnection()
        self.transport: asyncio.Transport | None = None
        self.flow: Flow | None = None
        self.attempt_id = ""
        self.done = False
        self._timer: asyncio.TimerHandle | None = None

    # -- asyncio.Protocol ----------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass asyncio's
        self.server.sessions += 1
        self._arm(REQUEST_TIMEOUT, "no AGI request")

    def data_received(self, data: bytes) -> None:
        try:
            events = self.connection.receive(data)
        except AgiProtocolError as exc:
            self._end(f"protocol error: {exc}")
            return
        for event in events:
            if self.done:
                return
            if isinstance(event, AgiRequest):
                self._start(event)
            elif not isinstance(event, Hangup) and self.flow is not None:
                # A HANGUP line says nothing the flow needs: the reply to its command says it (-1).
                self._advance(event)

    def connection_lost(self, exc: Exception | None) -> None:
        self._end("connection closed" if exc is None else f"connection lost: {exc}")

    # -- the flow ------------------------------------------------------------------------------------
    def _start(self, request: AgiRequest) -> None:
        self.attempt_id = request.args[0] if request.args else ""
        if request.script != "notify" or not self.attempt_id:
            logger.warning("FastAGI request for %r without an attempt: hung up", request.script)
            self._write(command("HANGUP"))
            self._end(None)
            return
        self.flow = play_message(self.server.prompts, full_after=self.server.full_after)
        self._write(next(self.flow))

    def _advance(self, reply: AgiReply) -> None:
        outgoing = self._step(reply)
        if outgoing is None:
            self._end(None)
        else:
            self._write(outgoing)

    def _step(self, reply: AgiReply | None) -> bytes | None:
        """Give the flow its reply; its next command, or None once it has finished (and reported)."""
        assert self.flow is not None
        try:
            return self.flow.send(reply)
        except StopIteration as finished:
            self.flow = None
            self._report(finished.value)
            return None

    def _write(self, data: bytes) -> None:
        self._arm(REPLY_TIMEOUT, "no reply to an AGI command")
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _report(self, report: ListenReport) -> None:
        logger.info(
            "attempt %s heard %.1f s (full: %s)",
            self.attempt_id,
            report.heard_seconds,
            report.heard_full,
            extra={"action": "listen_report", "attempt_id": self.attempt_id},
        )
        self.server.on_report(self.attempt_id, report)

    def _end(self, problem: str | None) -> None:
        """Close the session once; a flow still running learns the line is gone (reply None) and
        returns what it measured, which is reported."""
        if self.done:
            return
        self.done = True
        if self._timer is not None:
            self._timer.cancel()
        interrupted = self.flow is not None
        for _ in range(MAX_COMMANDS):
            if self.flow is None or self._step(None) is None:
                break
        if problem is not None and (interrupted or problem != "connection closed"):
            logger.warning(
                "FastAGI session for %s ended: %s",
                self.attempt_id or "?",
                problem,
                extra={"attempt_id": self.attempt_id},
            )
        if self.transport is not None:
            self.transport.close()

    def _arm(self, seconds: float, problem: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(seconds, self._end, problem)


class FastAgiServer:
    def __init__(
        self,
        host: str,
        port: int,
        prompts: Sequence[str],
        on_report: ReportSink,
        *,
        full_after: int | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.prompts = tuple(prompts)
        self.full_after = full_after
        self.on_report = on_report
        self._server: asyncio.Server | None = None
        self.sessions = 0

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                lambda: _Session(self), self.host, self.port, reuse_address=True
            )
        except OSError as exc:
            raise ListenError(
                f"cannot listen for FastAGI on {self.host}:{self.port}: {exc.strerror or exc}",
                hint="is another `upravdolg run` running? (agi.listen_host / agi.listen_port)",
            ) from None
        logger.info("FastAGI listening on %s:%d", self.host, self.port, extra={"action": "agi_listen"})

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
