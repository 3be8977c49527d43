"""The dialer's FastAGI listener (asyncio): Asterisk hands every answered call to it.

``asterisk_conf/extensions.conf`` runs ``AGI(agi://${UPRAVDOLG_AGI}/notify,<attempt>,<facts>,<options>)``
on the answered leg (dialer.core.ivr_request). For each connection we read the request, run the IVR
conversation (dialer.core.ivr_flow) with our own AGI codec, and hand its listen report to
``on_report(attempt_id, report)`` — the engine's callback — besides the ``UserEvent`` the flow sends over
AMI (which reaches every dialer connected to that Asterisk; the engine takes whichever comes first).

The prompts' lengths come from the built prompts' index (``<sounds build>/ru/<folder>/index.json``, as
``upravdolg sounds build``/``import`` write it and ``asterisk up`` installs it), read once per folder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import cast

from dialer.core.agi_codec import AgiConnection, AgiProtocolError, AgiReply, AgiRequest, Hangup, command
from dialer.core.ivr_flow import Flow, failed_flow, ivr_flow, prepare, prompt_lengths
from dialer.core.ivr_request import IvrRequest, IvrRequestError, valid_attempt_id
from dialer.core.listen_report import ListenReport
from dialer.errors import ListenError

logger = logging.getLogger(__name__)
LANGUAGE = "ru"  # the channel language the dialplan sets, and the sounds/<lang> folder the prompts are in
REQUEST_TIMEOUT = 5.0
REPLY_TIMEOUT = 900.0  # a STREAM FILE lasts as long as its prompt, WAIT FOR DIGIT at most a minute
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
        args = request.args
        self.attempt_id = args[0] if args and valid_attempt_id(args[0]) else ""
        if request.script != "notify" or not self.attempt_id:
            logger.warning("FastAGI request for %r without an attempt: hung up", request.script)
            self._write(command("HANGUP"))
            self._end(None)
            return
        try:
            call = IvrRequest.from_arguments(args)
            lengths = self.server.lengths(call.options.folder)
            self.flow = ivr_flow(self.attempt_id, prepare(call, lengths), lengths, call.options)
        except IvrRequestError as exc:
            logger.error(
                "attempt %s: the message cannot be played: %s",
                self.attempt_id,
                exc,
                extra={"action": "ivr_failed", "attempt_id": self.attempt_id},
            )
            self.flow = failed_flow(self.attempt_id, str(exc))
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
            "attempt %s heard %.1f of %.1f s (completed: %s, keys: %s, ended: %s)",
            self.attempt_id,
            report.heard_seconds,
            report.message_seconds,
            report.completed,
            report.digits or "-",
            report.ended.value,
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
    def __init__(self, host: str, port: int, sounds_build: Path, on_report: ReportSink) -> None:
        self.host = host
        self.port = port
        self.sounds_build = sounds_build
        self.on_report = on_report
        self._server: asyncio.Server | None = None
        self._lengths: dict[str, dict[str, int]] = {}
        self.sessions = 0

    def lengths(self, folder: str) -> dict[str, int]:
        """Prompt id -> length in ms of the built prompts of ``folder`` (read once; refused by name when
        missing or damaged, so the call is reported ``failed`` rather than measured against nothing)."""
        known = self._lengths.get(folder)
        if known is None:
            path = self.sounds_build / LANGUAGE / folder / "index.json"
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise IvrRequestError(f"{path} does not exist (run `upravdolg sounds build`)") from None
            except OSError as exc:
                raise IvrRequestError(f"{path} cannot be read: {exc}") from None
            known = self._lengths[folder] = prompt_lengths(text, str(path))
        return known

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
