"""The dialer's FastAGI listener (asyncio): Asterisk hands every answered call to it.

``asterisk_conf/extensions.conf`` runs ``AGI(agi://${UPRAVDOLG_AGI}/notify,<attempt id>)`` on the answered
leg. For each connection we read the request, run the message flow (dialer.core.message_flow) with our own
AGI codec, and hand its listen report to ``on_report(attempt_id, report)`` — the engine's callback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

from dialer.core.agi_codec import AgiConnection, AgiProtocolError, AgiReply, AgiRequest, Hangup, command
from dialer.core.campaign_progress import ListenReport
from dialer.core.message_flow import play_message
from dialer.errors import ListenError

logger = logging.getLogger(__name__)
REQUEST_TIMEOUT = 5.0
REPLY_TIMEOUT = 900.0  # a STREAM FILE lasts as long as its prompt
READ_BYTES = 4096
ReportSink = Callable[[str, ListenReport], None]


class _Session:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.connection = AgiConnection()
        self.pending: list[AgiRequest | AgiReply | Hangup] = []
        self.hung_up = False

    async def next_event(self, limit: float) -> AgiRequest | AgiReply | Hangup | None:
        while not self.pending:
            async with asyncio.timeout(limit):  # no task per read, unlike wait_for
                data = await self.reader.read(READ_BYTES)
            if not data:
                return None
            self.pending.extend(self.connection.receive(data))
        return self.pending.pop(0)

    async def request(self) -> AgiRequest | None:
        event = await self.next_event(REQUEST_TIMEOUT)
        return event if isinstance(event, AgiRequest) else None

    async def reply(self) -> AgiReply | None:
        while True:
            event = await self.next_event(REPLY_TIMEOUT)
            if isinstance(event, Hangup):
                self.hung_up = True
                continue
            return event if isinstance(event, AgiReply) else None


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
        try:
            self._server = await asyncio.start_server(self._handle, self.host, self.port, reuse_address=True)
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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        session = _Session(reader, writer)
        attempt_id = ""
        try:
            request = await session.request()
            if request is None:
                return
            attempt_id = request.args[0] if request.args else ""
            if request.script != "notify" or not attempt_id:
                logger.warning("FastAGI request for %r without an attempt: hung up", request.script)
                writer.write(command("HANGUP"))
                await writer.drain()
                return
            report = await self._run_flow(session)
            logger.info(
                "attempt %s heard %.1f s (full: %s)",
                attempt_id,
                report.heard_seconds,
                report.heard_full,
                extra={"action": "listen_report", "attempt_id": attempt_id},
            )
            self.on_report(attempt_id, report)
        except (TimeoutError, ConnectionError, AgiProtocolError) as exc:
            logger.warning(
                "FastAGI session for %s ended: %s", attempt_id or "?", exc, extra={"attempt_id": attempt_id}
            )
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _run_flow(self, session: _Session) -> ListenReport:
        flow = play_message(self.prompts, full_after=self.full_after)
        outgoing = next(flow)
        while True:
            reply: AgiReply | None
            try:
                session.writer.write(outgoing)
                await session.writer.drain()
                reply = await session.reply()
            except (ConnectionError, TimeoutError):
                reply = None
            try:
                outgoing = flow.send(reply)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
