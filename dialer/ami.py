"""AMI adapter on panoramisk: connect, login, liveness ping, reconnect, originate, event stream.

panoramisk 1.4 sends our actions and matches responses to them; we keep the parts it gets wrong or does
slowly out of its hands (see ../shared/ASTERISK.md and panoramisk issues #90/#97):

* we open the TCP connection ourselves (with a timeout) and hand it to ``Manager.connection_made``;
  panoramisk's own reconnect loop and its timeout-less pinger are switched off — :meth:`AmiClient.run`
  supervises the connection, pings with a timeout and reconnects with back-off;
* every action is awaited with ``asyncio.wait_for``; an Originate always carries ``Async: true`` (a sync
  Originate blocks the AMI session, and without the header panoramisk raises ``KeyError: 'async'``) and a
  ``ChannelId`` (else a failed call's events say ``<unknown>``);
* the bytes Asterisk sends are decoded by our own codec (dialer.core.ami_codec) in :class:`_Protocol`:
  events go straight to our subscribers as :class:`AmiMessage` (panoramisk's Message objects and its
  pattern dispatch cost more CPU per call than the rest of the engine), and only replies to a pending
  action are converted for panoramisk to resolve. An ``OriginateResponse`` is both: it completes our
  Async Originate in panoramisk and is an event of the call, so subscribers get it too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from dialer.core.ami_codec import AmiDecoder, AmiMessage, AmiRemoteError, MessageKind
from dialer.core.backoff import reconnect_delay
from dialer.errors import AmiAuthError, AmiConnectError, AmiTimeoutError
from dialer.settings import AmiSettings

logger = logging.getLogger(__name__)

_NEVER = 10**9  # seconds: disables panoramisk's own pinger
MAX_CHANNEL_ID = 149  # main/manager.c: ChannelId longer than AST_MAX_PUBLIC_UNIQUEID is refused


def to_ami_message(message: Mapping[str, Any]) -> AmiMessage:
    """panoramisk's Message (a case-insensitive dict, repeated headers as lists) as our AmiMessage."""
    pairs: list[tuple[str, str]] = []
    for key, value in message.items():
        if isinstance(value, list):
            pairs.extend((key, str(v)) for v in value)
        else:
            pairs.append((key, str(value)))
    return AmiMessage(tuple(pairs))


@dataclass(frozen=True, slots=True)
class OriginateRequest:
    """One call. ``channel`` is a dial string: ``Local/<number>@upravdolg-sim`` or ``PJSIP/<n>@<trunk>``.

    Either a dialplan target (``context``/``exten``/``priority``) or an ``application`` (+``data``).
    """

    channel_id: str
    channel: str
    timeout_ms: int
    context: str | None = None
    exten: str = "s"
    priority: int = 1
    application: str | None = None
    data: str = ""
    caller_id: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)

    def headers(self) -> dict[str, str | int | Sequence[str]]:
        if not self.channel_id or len(self.channel_id) > MAX_CHANNEL_ID:
            raise ValueError(f"ChannelId must be 1..{MAX_CHANNEL_ID} characters")
        if (self.context is None) == (self.application is None):
            raise ValueError("give either a dialplan context or an application")
        headers: dict[str, str | int | Sequence[str]] = {
            "Channel": self.channel,
            "Timeout": self.timeout_ms,
            "Async": "true",
            "ChannelId": self.channel_id,
            "OtherChannelId": f"{self.channel_id}-b",
        }
        if self.context is not None:
            headers.update({"Context": self.context, "Exten": self.exten, "Priority": self.priority})
        else:
            headers.update({"Application": self.application or "", "Data": self.data})
        if self.caller_id:
            headers["CallerID"] = self.caller_id
        if self.variables:
            headers["Variable"] = [f"{k}={v}" for k, v in self.variables.items()]
        return headers


def to_panoramisk(message: AmiMessage) -> Message:
    """Our AmiMessage as panoramisk's Message (repeated headers as a list), for it to match a reply."""
    headers: dict[str, Any] = {}
    for key, value in message.headers:
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    return Message(headers)


class _OriginateAction(Action):  # type: ignore[misc]  # panoramisk is untyped
    """Resolves ``accepted`` on Asterisk's immediate reply (the OriginateResponse that completes it
    reaches the subscribers through :class:`_Protocol`)."""

    def __init__(self, fields: Mapping[str, Any]) -> None:
        super().__init__(dict(fields))
        self.accepted: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

    def add_message(self, message: Message) -> bool:
        if not self.accepted.done():
            self.accepted.set_result(message)
        return bool(super().add_message(message))


class _Protocol(AMIProtocol):  # type: ignore[misc]  # panoramisk is untyped
    """panoramisk's protocol with our decoder on the receiving side (see the module docstring)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.decoder = AmiDecoder()
        self.on_events: Callable[[float, list[AmiMessage]], None] = lambda _at, _messages: None

    def data_received(self, data: bytes) -> None:
        try:
            messages = self.decoder.feed(data)
        except AmiRemoteError as exc:
            self.log.error("AMI peer sent something that is not AMI: %s", exc)
            self.transport.close()
            return
        if self.decoder.banner is not None and getattr(self, "version", None) is None:
            self.version: str | None = self.decoder.banner.partition("/")[2].strip()
        events: list[AmiMessage] = []
        for message in messages:
            action_id = message.action_id
            is_event = message.kind is MessageKind.EVENT
            if action_id is not None and action_id in self.responses:
                self.handle_message(to_panoramisk(message))
                if is_event and message.name.lower() == "originateresponse":
                    events.append(message)
            elif is_event:
                events.append(message)
                if message.name.lower() == "shutdown":
                    self.on_events(asyncio.get_running_loop().time(), events)
                    events = []
                    self.connection_lost(None)
        if events:
            self.on_events(asyncio.get_running_loop().time(), events)


class _Manager(Manager):  # type: ignore[misc]  # panoramisk is untyped
    """panoramisk's Manager without its own reconnect: connection loss is reported to the client."""

    pinger: asyncio.TimerHandle | None

    def __init__(self, on_lost: Callable[[Exception | None], None], **config: Any) -> None:
        super().__init__(**config)
        self._on_lost = on_lost

    def connection_lost(self, exc: Exception | None) -> None:
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        self._on_lost(exc)


EventListener = Callable[[float, AmiMessage], None]


class EventSubscription:
    """A bounded queue of AMI events for one consumer; overflow drops the oldest and counts it."""

    def __init__(self, client: AmiClient, maxsize: int) -> None:
        self._client = client
        self._queue: asyncio.Queue[tuple[float, AmiMessage]] = asyncio.Queue(maxsize)
        self.dropped = 0

    def put(self, received_at: float, message: AmiMessage) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait((received_at, message))

    async def get(self) -> tuple[float, AmiMessage]:
        """The next event and the loop time it was received at."""
        return await self._queue.get()

    def close(self) -> None:
        self._client._subscriptions.discard(self)

    async def __aiter__(self) -> AsyncIterator[tuple[float, AmiMessage]]:
        while True:
            yield await self.get()


class AmiClient:
    """One logical AMI session that stays up: constructed once by the composition root."""

    def __init__(self, settings: AmiSettings, secret: str) -> None:
        self._settings = settings
        self._secret = secret
        self._manager: _Manager | None = None
        self._subscriptions: set[EventSubscription] = set()
        self._listeners: list[EventListener] = []
        self._ids = itertools.count(1)
        self._lost: asyncio.Event = asyncio.Event()
        self._booted: asyncio.Event = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnects = 0

    @property
    def where(self) -> str:
        return f"{self._settings.host}:{self._settings.port}"

    # -- connection -------------------------------------------------------------------------------
    async def connect(self, *, wait_fully_booted: bool = True) -> None:
        """Open one connection and log in. Raises AmiConnectError / AmiAuthError / AmiTimeoutError."""
        loop = asyncio.get_running_loop()
        s = self._settings
        try:
            transport, protocol = await asyncio.wait_for(
                loop.create_connection(_Protocol, s.host, s.port), s.connect_timeout
            )
        except TimeoutError:
            raise AmiConnectError(
                f"no answer from AMI at {self.where} within {s.connect_timeout:g} s",
                hint="check ami.host/ami.port and that Asterisk is running (`upravdolg asterisk status`)",
            ) from None
        except OSError as exc:
            raise AmiConnectError(
                f"cannot connect to AMI at {self.where}: {exc.strerror or exc}",
                hint="is Asterisk running? start the sandbox with `upravdolg asterisk up`",
            ) from None
        self._lost = asyncio.Event()
        self._booted = asyncio.Event()
        manager = _Manager(
            self._connection_lost,
            loop=loop,
            host=s.host,
            port=s.port,
            username=s.username,
            secret=self._secret,
            events="on",
            ping_delay=_NEVER,
            ping_interval=_NEVER,
        )
        protocol.on_events = self._dispatch
        connected: asyncio.Future[tuple[Any, Any]] = loop.create_future()
        connected.set_result((transport, protocol))
        manager.connection_made(connected)
        self._manager = manager
        try:
            reply = await asyncio.wait_for(asyncio.shield(manager.authenticated_future), s.action_timeout)
        except TimeoutError:
            self._close_manager()
            raise AmiTimeoutError(
                f"{self.where} accepted the connection but did not answer the AMI login within "
                f"{s.action_timeout:g} s",
                hint="is that port really Asterisk's AMI (manager.conf port)?",
            ) from None
        except (ConnectionError, asyncio.CancelledError):
            self._close_manager()
            raise AmiConnectError(f"AMI at {self.where} closed the connection during login") from None
        if not reply.success:
            self._close_manager()
            raise AmiAuthError(
                f"Asterisk refused the AMI login of user {s.username!r} at {self.where}: "
                f"{reply.get('Message', 'no reason given')}",
                hint="the secret must match manager.conf: check UPRAVDOLG_AMI_SECRET or ami.secret_file "
                "(the sandbox writes it on `upravdolg asterisk up`)",
            )
        if wait_fully_booted:
            try:
                await asyncio.wait_for(self._booted.wait(), s.action_timeout)
            except TimeoutError:
                self._close_manager()
                raise AmiTimeoutError(
                    f"logged in to {self.where} but Asterisk did not report FullyBooted within "
                    f"{s.action_timeout:g} s",
                    hint="Asterisk may still be starting; see `upravdolg asterisk logs`",
                ) from None
        self.connected.set()
        logger.info("AMI connected", extra={"action": "ami_connected", "ami": self.where})

    def _connection_lost(self, exc: Exception | None) -> None:
        if self.connected.is_set():
            logger.warning("AMI connection lost: %s", exc or "closed", extra={"action": "ami_lost"})
        self.connected.clear()
        self._lost.set()

    def _close_manager(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            manager.close()
        self.connected.clear()

    async def close(self) -> None:
        """Log off (best effort) and close."""
        if self._manager is not None and self.connected.is_set():
            with contextlib.suppress(Exception):
                await self.send("Logoff", reply_timeout=1.0)
        self._close_manager()

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the session alive until ``stop``: ping with a timeout, reconnect with back-off."""
        failures = 0
        s = self._settings
        while not stop.is_set():
            if not self.connected.is_set():
                delay = reconnect_delay(failures, s.reconnect_min, s.reconnect_max)
                if delay:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), delay)
                    if stop.is_set():
                        break
                try:
                    await self.connect()
                except (AmiConnectError, AmiTimeoutError, AmiAuthError) as exc:
                    failures += 1
                    logger.warning(
                        "AMI reconnect failed (%d): %s",
                        failures,
                        exc,
                        extra={"action": "ami_reconnect_failed"},
                    )
                    continue
                if failures:
                    self.reconnects += 1
                failures = 0
            lost_wait = asyncio.ensure_future(self._lost.wait())
            stop_wait = asyncio.ensure_future(stop.wait())
            await asyncio.wait(
                {lost_wait, stop_wait}, timeout=s.ping_interval, return_when=asyncio.FIRST_COMPLETED
            )
            lost_wait.cancel()
            stop_wait.cancel()
            if stop.is_set() or not self.connected.is_set():
                failures = max(failures, 1)
                continue
            try:
                await self.ping()
            except (AmiTimeoutError, AmiConnectError) as exc:
                logger.warning("AMI liveness ping failed: %s", exc, extra={"action": "ami_ping_failed"})
                self._close_manager()
                failures = 1
        await self.close()

    # -- actions ----------------------------------------------------------------------------------
    def _require(self) -> _Manager:
        if self._manager is None or not self.connected.is_set():
            raise AmiConnectError(f"not connected to AMI at {self.where}")
        return self._manager

    def next_action_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"

    async def _request(
        self, action: str, reply_timeout: float | None, headers: dict[str, Any], waiting_for: str
    ) -> list[Message]:
        """Send one action; its reply as a list (one response, or a whole event list)."""
        manager = self._require()
        fields = {"Action": action, "ActionID": self.next_action_id(action.lower()), **headers}
        future = manager.send_action(fields)
        limit = self._settings.action_timeout if reply_timeout is None else reply_timeout
        try:
            reply = await asyncio.wait_for(future, limit)
        except TimeoutError:
            raise AmiTimeoutError(f"Asterisk did not {waiting_for} {action} within {limit:g} s") from None
        return reply if isinstance(reply, list) else [reply]

    async def send(self, action: str, reply_timeout: float | None = None, **headers: Any) -> AmiMessage:
        """Send one action and return its (first) response."""
        return to_ami_message((await self._request(action, reply_timeout, headers, "answer"))[0])

    async def send_list(
        self, action: str, reply_timeout: float | None = None, **headers: Any
    ) -> list[AmiMessage]:
        """Send an action whose answer is an event list (``EventList: start`` … ``…Complete``)."""
        reply = await self._request(action, reply_timeout, headers, "finish answering")
        return [to_ami_message(m) for m in reply]

    async def live_channels(self) -> dict[str, str]:
        """Every channel up in Asterisk now: Uniqueid -> ChannelStateDesc (``CoreShowChannels``; our
        ChannelId is the Uniqueid of the channel we originated, main/manager_channels.c)."""
        found: dict[str, str] = {}
        for message in await self.send_list("CoreShowChannels"):
            if message.name.lower() == "coreshowchannel":
                found[message.get("Uniqueid") or ""] = message.get("ChannelStateDesc") or ""
        return found

    async def ping(self) -> float:
        """Round-trip time of a Ping action, in seconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        await self.send("Ping", reply_timeout=self._settings.ping_timeout)
        return loop.time() - started

    async def originate(self, request: OriginateRequest) -> AmiMessage:
        """Queue one call. Returns Asterisk's immediate reply (``Response: Success`` when queued).

        The call's progress — including the ``OriginateResponse`` — arrives on the event stream.
        Never hangs: the immediate reply is awaited with ``ami.action_timeout``.
        """
        manager = self._require()
        fields: dict[str, Any] = {
            "Action": "Originate",
            "ActionID": f"orig-{request.channel_id}",
            **request.headers(),
        }
        action = _OriginateAction(fields)
        manager.send_action(action)
        try:
            reply = await asyncio.wait_for(asyncio.shield(action.accepted), self._settings.action_timeout)
        except TimeoutError:
            raise AmiTimeoutError(
                f"Asterisk did not accept Originate {request.channel_id} within "
                f"{self._settings.action_timeout:g} s"
            ) from None
        return to_ami_message(reply)

    # -- events -----------------------------------------------------------------------------------
    def subscribe(self, maxsize: int = 10000) -> EventSubscription:
        subscription = EventSubscription(self, maxsize)
        self._subscriptions.add(subscription)
        return subscription

    def add_listener(self, listener: EventListener) -> None:
        """Call ``listener(received_at, event)`` for every event, synchronously as it is decoded (for a
        consumer that keeps up by construction; a failing listener is logged, never breaks the stream)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: EventListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _dispatch(self, received_at: float, messages: list[AmiMessage]) -> None:
        subscriptions = tuple(self._subscriptions)
        listeners = tuple(self._listeners)
        for message in messages:
            if not self._booted.is_set() and message.name.lower() == "fullybooted":
                self._booted.set()
            for subscription in subscriptions:
                subscription.put(received_at, message)
            for listener in listeners:
                try:
                    listener(received_at, message)
                except Exception:
                    logger.exception("AMI event listener failed on %s", message.name)
