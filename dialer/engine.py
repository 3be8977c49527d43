"""The campaign engine: places rate-limited, window-aware calls over AMI and records how each one ended.

One asyncio process (``upravdolg run``). Per running campaign a runner holds

* a channel limit (:class:`Slots`: a semaphore whose size can change) — a call holds a slot from the
  claim until its outcome is recorded, and a freed slot wakes the runner at once;
* a token bucket for calls per second (dialer.core.pacing) — the token is taken right before Originate.

The database claims the work (dialer.campaign_store) and eligibility is decided at the moment of dialling.
An attempt is written (``dialling``) before its Originate and its outcome after the call settles, joined
with the IVR's listen report from our FastAGI listener. A change of a campaign's channels, rate or state
is read every ``engine.poll_interval`` (≤ 1 s).

Crash safety: at start and after every AMI reconnect the engine compares the calls the database believes
live with Asterisk's channels (``CoreShowChannels``; our ChannelId is the attempt id): live ones are
adopted and finished normally, vanished ones are recorded ``lost`` and retried without counting a contact.

Several workers and servers (docs/scale-out.md): the engine keeps one AMI link per Asterisk server and
dials through those that are connected and reconciled; the claim chooses the trunk under the shared limits
(dialer.campaign_store) from this worker's view of which trunks are up (dialer.core.trunk_health). Every
worker follows every call of ours on its servers — its own to record them, the others' in the tracker's
shadow book — renews its lease, and adopts the live calls of a worker whose lease ran out. While the
database is away nothing new is claimed; live calls go on and their outcomes are written when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from dialer.agi_server import FastAgiServer
from dialer.ami import AmiClient, OriginateRequest
from dialer.asterisk_config import SOUNDS_DIR
from dialer.campaign_spec import CampaignSpec
from dialer.campaign_store import ATTEMPT_PREFIX, CampaignStore, Nothing, RunningCampaign, Ticket, TrunksUp
from dialer.core.ami_codec import AmiMessage
from dialer.core.call_state import Call, CallState
from dialer.core.call_tracker import CallTracker
from dialer.core.campaign_progress import Progress, attempt_outcome
from dialer.core.ivr_request import IvrRequest
from dialer.core.listen_report import USER_EVENT, ListenReport, ReportFormatError, parse_user_event
from dialer.core.metrics import EngineMetrics, render
from dialer.core.outcomes import NetworkOutcome, network_outcome
from dialer.core.pacing import TokenBucket
from dialer.core.retry_policy import AttemptOutcome
from dialer.core.trunk_health import TrunkHealth
from dialer.errors import AmiConnectError, AmiTimeoutError, ListenError
from dialer.probe import NO_CHANNEL_GRACE_SECONDS, mask_number
from dialer.settings import Settings
from dialer.worker_store import AdoptedCall, WorkerStore

logger = logging.getLogger(__name__)
T = TypeVar("T")
NOT_PLACED_RETRY = timedelta(seconds=30)
REASON_REFRESH_SECONDS = 5.0
ANSWER_MARK_DELAY = 0.3  # seconds an answer mark waits for other database work to ride with
# The dialplan context an answered call runs, per IVR transport (asterisk_conf/extensions.conf).
OUTBOUND_CONTEXTS = {"fastagi": "upravdolg-outbound", "process": "upravdolg-outbound-process"}
IVR_UNAVAILABLE_EVENT = "UpravDolgIvrUnavailable"
FOREIGN_REPORTS = 20_000  # the other workers' listen reports kept for adoption
DB_RETRY_MAX = 10.0  # seconds between attempts to write an outcome while the database is away
NO_AMI = "нет связи с AMI"


@dataclass
class ServerLink:
    """One Asterisk server as this worker sees it."""

    name: str
    ami: AmiClient
    agi_address: str | None = None  # where that server reaches our FastAGI listener (None: its dialplan's)
    was_connected: bool = False
    reconciled_generation: int | None = None  # ami.reconnects when we last reconciled

    def usable(self) -> bool:
        """Connected, and its calls reconciled on this connection (a claim never races a reconcile)."""
        return self.ami.connected.is_set() and self.reconciled_generation == self.ami.reconnects


def default_worker_name() -> str:
    """Stable across restarts of the same host (so a restarted engine re-adopts its calls)."""
    return socket.gethostname()[:100] or "upravdolg"


class Slots:
    """A resizable semaphore: at most ``limit`` holders; lowering the limit never preempts a holder."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._changed = asyncio.Condition()

    async def acquire(self) -> None:
        async with self._changed:
            await self._changed.wait_for(lambda: self.used < self.limit)
            self.used += 1

    def try_acquire(self) -> bool:
        if self.used < self.limit:
            self.used += 1
            return True
        return False

    async def release(self) -> None:
        async with self._changed:
            self.used -= 1
            self._changed.notify_all()

    async def set_limit(self, limit: int) -> None:
        async with self._changed:
            self.limit = limit
            self._changed.notify_all()


class Engine:
    def __init__(
        self,
        store: CampaignStore,
        ami: AmiClient | Mapping[str, AmiClient],
        settings: Settings,
        *,
        clock: Callable[[], datetime],
        workers: WorkerStore | None = None,
        agi_addresses: Mapping[str, str | None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        clients = ami if isinstance(ami, Mapping) else {store.default_server: ami}
        addresses = agi_addresses or {}
        self.links = {name: ServerLink(name, client, addresses.get(name)) for name, client in clients.items()}
        self.workers = workers
        self.tracker = CallTracker(shadow_prefix=ATTEMPT_PREFIX)
        self.health = TrunkHealth(settings.engine.trunk_trip_after, settings.engine.trunk_cool_down)
        self.metrics = EngineMetrics()
        self.runners: dict[int, CampaignRunner] = {}
        self._settled: dict[str, asyncio.Future[Call]] = {}
        self._reports: dict[str, asyncio.Future[ListenReport]] = {}
        self._foreign_reports: OrderedDict[str, ListenReport] = OrderedDict()
        self._lost: set[str] = set()  # our calls that vanished while AMI was away
        self._claimed: set[str] = set()  # attempts claimed by this process, not yet handed to place()
        self._answered: set[str] = set()  # live calls whose answer is recorded
        self._route: dict[str, tuple[str, str]] = {}  # our live calls: attempt id -> (server, trunk)
        # Answer marks ride along with the next database job (one thread hop fewer per call), or are
        # written on their own after ANSWER_MARK_DELAY: a supervisor sees an answered call as such at once.
        self._answer_marks: dict[str, datetime] = {}
        self._answer_flush: asyncio.TimerHandle | None = None
        self._db_pool = ThreadPoolExecutor(1, thread_name_prefix="engine-db")
        self._db_ok_since: float | None = None  # loop time since the database has been answering
        self._tasks: set[asyncio.Task[Any]] = set()
        self.agi = FastAgiServer(
            settings.agi.listen_host,
            settings.agi.listen_port,
            Path(settings.ivr.sounds_build) if settings.ivr.sounds_build else SOUNDS_DIR / "build",
            self._on_listen_report,
        )
        self.ivr_options = settings.ivr.options()
        self.outbound_context = OUTBOUND_CONTEXTS[settings.ivr.transport]

    @property
    def ami(self) -> AmiClient:
        """The first server's AMI client (the only one in the single-server setup)."""
        return next(iter(self.links.values())).ami

    # -- plumbing ----------------------------------------------------------------------------------
    async def db(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` on the database thread; answer marks waiting to be written go first."""
        loop = asyncio.get_running_loop()
        marks = self._take_answer_marks()
        if not marks:
            return await loop.run_in_executor(self._db_pool, lambda: function(*args, **kwargs))

        def with_marks() -> T:
            self._write_answer_marks(marks)
            return function(*args, **kwargs)

        return await loop.run_in_executor(self._db_pool, with_marks)

    def _take_answer_marks(self) -> dict[str, datetime]:
        marks, self._answer_marks = self._answer_marks, {}
        if self._answer_flush is not None:
            self._answer_flush.cancel()
            self._answer_flush = None
        return marks

    def _write_answer_marks(self, marks: dict[str, datetime]) -> None:
        """On the database thread: a failed mark is logged, never in the way of the work it rode with
        (the attempt's answer time is written again with its outcome)."""
        try:
            self.store.answered(marks)
        except self.store.db_errors as exc:
            logger.warning("recording answered calls failed: %s", exc, extra={"action": "db_failed"})
        except Exception:
            logger.exception("recording answered calls failed", extra={"action": "db_failed"})

    def _flush_answer_marks(self) -> None:
        """Answer marks that found no other database work to ride with within ANSWER_MARK_DELAY."""
        self._answer_flush = None
        marks = self._take_answer_marks()
        if marks:  # _write_answer_marks logs its own failures
            asyncio.get_running_loop().run_in_executor(self._db_pool, self._write_answer_marks, marks)

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("engine task failed", exc_info=task.exception(), extra={"action": "task_failed"})

    def _on_listen_report(self, attempt_id: str, report: ListenReport) -> None:
        """Hand the IVR's report to the call waiting for it (the future exists from before the Originate).
        It comes twice for our own FastAGI calls (directly, and as the UserEvent): the first one counts. A
        report for a call we do not follow (another worker's, or one already recorded) is dropped."""
        future = self._reports.get(attempt_id)
        if future is None:
            # another worker's call: kept in case we adopt it (docs/scale-out.md)
            self._foreign_reports[attempt_id] = report
            while len(self._foreign_reports) > FOREIGN_REPORTS:
                self._foreign_reports.popitem(last=False)
        elif not future.done():
            future.set_result(report)

    def _on_user_event(self, message: AmiMessage) -> None:
        name = message.get("UserEvent")
        if name == USER_EVENT:
            try:
                attempt_id, report = parse_user_event({k: v for k, v in reversed(message.headers)})
            except ReportFormatError as exc:
                logger.warning("ignored a damaged listen report: %s", exc, extra={"action": "listen_report"})
                return
            self._on_listen_report(attempt_id, report)
        elif name == IVR_UNAVAILABLE_EVENT:
            logger.error(
                "attempt %s: Asterisk could not reach the IVR (agi.listen_host/listen_port, UPRAVDOLG_AGI "
                "in extensions.conf); the answered call was hung up without the message",
                message.get("Attempt") or "?",
                extra={"action": "ivr_unavailable", "attempt_id": message.get("Attempt") or ""},
            )

    @property
    def in_flight(self) -> int:
        return len(self._settled)

    # -- AMI events --------------------------------------------------------------------------------
    def _on_ami_event(self, received_at: float, message: AmiMessage) -> None:
        """Every AMI event, as the connection decodes it (a listener: no queue, no task hop per event)."""
        if message.get("Event") == "UserEvent":
            self._on_user_event(message)
            return
        update = self.tracker.feed(message, received_at)
        if update is None:
            return
        call = update.call
        if update.settled:
            self._resolve(call)
        elif call.failed_without_channel:
            asyncio.get_running_loop().call_later(
                NO_CHANNEL_GRACE_SECONDS, self._settle_without_channel, call.call_id
            )
        elif (
            call.state is CallState.ANSWERED
            and call.answered_at is not None
            and call.call_id not in self._answered
        ):
            self._answered.add(call.call_id)  # recorded once, not on every later event of the call
            self._answer_marks[call.call_id] = datetime.fromtimestamp(call.answered_at, self.clock().tzinfo)
            if self._answer_flush is None:
                self._answer_flush = asyncio.get_running_loop().call_later(
                    ANSWER_MARK_DELAY, self._flush_answer_marks
                )

    def _resolve(self, call: Call) -> None:
        future = self._settled.get(call.call_id)
        if future is not None and not future.done():
            future.set_result(call)

    def _settle_without_channel(self, call_id: str) -> None:
        call = self.tracker.get(call_id)
        if call is not None and call.failed_without_channel:
            self.tracker.settle(call_id)
            self._resolve(call)

    # -- one call ----------------------------------------------------------------------------------
    def _call_variables(self, ticket: Ticket, link: ServerLink) -> dict[str, str]:
        """The answered leg's channel variables: what the dialplan hands the IVR, the operator, and where
        this server reaches our FastAGI listener (a channel variable outranks the dialplan's global)."""
        attempt_id, facts, options = IvrRequest(ticket.attempt_id, ticket.facts, self.ivr_options).arguments()
        variables = {"UPRAVDOLG_ATTEMPT": attempt_id, "UPRAVDOLG_FACTS": facts, "UPRAVDOLG_IVR": options}
        if self.settings.ivr.operator:
            variables["UPRAVDOLG_OPERATOR"] = self.settings.ivr.operator
        if link.agi_address:
            variables["UPRAVDOLG_AGI"] = link.agi_address
        return variables

    async def place(
        self, ticket: Ticket, spec: CampaignSpec, chain: Chain | None = None
    ) -> AttemptOutcome | None:
        """Originate the ticket's call, follow it to its end, record the outcome. None: not placed.

        With a ``chain``, the hop that records the outcome also claims the channel's next call when the
        runner allows it then (one database round trip per call instead of two); see :class:`Chain`."""
        loop = asyncio.get_running_loop()
        attempt_id = ticket.attempt_id
        link = self.links.get(ticket.server)
        self._settled[attempt_id] = loop.create_future()
        self._claimed.discard(attempt_id)
        self._reports[attempt_id] = loop.create_future()
        self._route[attempt_id] = (ticket.server, ticket.trunk)
        self.tracker.track(attempt_id)
        log_extra = {"action": "originate", "attempt_id": attempt_id, "debtor_id": ticket.debtor_id}
        try:
            if link is None:
                await self._not_placed(
                    attempt_id, f"server {ticket.server!r} is not in this worker's [[asterisk]]"
                )
                return None
            request = OriginateRequest(
                channel_id=attempt_id,
                channel=ticket.dial_string,
                timeout_ms=int(spec.dial_timeout_seconds * 1000),
                context=self.outbound_context,
                variables=self._call_variables(ticket, link),
            )
            started = loop.time()
            try:
                reply = await link.ami.originate(request)
            except (AmiTimeoutError, AmiConnectError) as exc:
                await self._not_placed(attempt_id, str(exc))
                return None
            if (reply.get("Response") or "").lower() != "success":
                detail = f"Originate refused: {reply.get('Message') or reply.name}"
                self._trunk_result(ticket.trunk, None, detail)
                await self._not_placed(attempt_id, detail)
                return None
            self.metrics.originate_latency.observe(loop.time() - started)
            self.metrics.placed += 1
            logger.info("originated %s to %s", attempt_id, mask_number(ticket.number), extra=log_extra)
            return await self._record_end(attempt_id, spec, chain)
        finally:
            self._forget(attempt_id)

    async def _record_end(
        self, attempt_id: str, spec: CampaignSpec, chain: Chain | None = None
    ) -> AttemptOutcome:
        """Wait for a followed call to end and record its outcome (``lost`` if it never ends)."""
        limit = spec.dial_timeout_seconds + self.settings.engine.call_margin
        try:
            call = await asyncio.wait_for(self._settled[attempt_id], limit)
        except TimeoutError:
            call = self.tracker.forget(attempt_id) or Call(attempt_id)
            return await self._finish(attempt_id, call, AttemptOutcome.LOST, None, spec, chain=chain)
        return await self._conclude(attempt_id, call, spec, chain)

    def _forget(self, attempt_id: str) -> None:
        """Stop following a call, whichever way it went."""
        self._settled.pop(attempt_id, None)
        self._reports.pop(attempt_id, None)
        self._answered.discard(attempt_id)
        self._route.pop(attempt_id, None)
        self.tracker.forget(attempt_id)

    async def _conclude(
        self, attempt_id: str, call: Call, spec: CampaignSpec, chain: Chain | None = None
    ) -> AttemptOutcome:
        if attempt_id in self._lost:
            self._lost.discard(attempt_id)
            return await self._finish(attempt_id, call, AttemptOutcome.LOST, None, spec, chain=chain)
        network = network_outcome(call)
        self._trunk_result(self._route.get(attempt_id, ("", ""))[1], network)
        report: ListenReport | None = None
        if network is NetworkOutcome.ANSWERED:
            future = self._reports.get(attempt_id)
            if future is not None:
                with contextlib.suppress(TimeoutError):
                    report = await asyncio.wait_for(asyncio.shield(future), self.settings.engine.report_grace)
        outcome = attempt_outcome(network, report)
        return await self._finish(attempt_id, call, outcome, report, spec, chain=chain)

    async def _finish(
        self,
        attempt_id: str,
        call: Call,
        outcome: AttemptOutcome,
        report: ListenReport | None,
        spec: CampaignSpec,
        *,
        chain: Chain | None = None,
    ) -> AttemptOutcome:
        campaign = chain.runner.chainable() if chain is not None else None
        if chain is None or campaign is None:
            progress = await self._write(
                f"the outcome of {attempt_id}",
                self.store.finish,
                attempt_id,
                call,
                outcome,
                report,
                now=self.clock(),
                spec=spec,
            )
        else:
            chain.freed_at = asyncio.get_running_loop().time()
            now = self.clock()
            trunks_up = self.trunks_up()

            def finish_then_claim() -> tuple[Progress | None, Ticket | Nothing | None]:
                progress = self.store.finish(attempt_id, call, outcome, report, now=now, spec=spec)
                try:
                    return progress, self.claim_timed(campaign, now, trunks_up)
                except Exception:  # the outcome is written; the next call is claimed the usual way
                    logger.warning(
                        "claiming the next call failed", exc_info=True, extra={"action": "db_failed"}
                    )
                    return progress, None

            progress, chain.following = await self._write(f"the outcome of {attempt_id}", finish_then_claim)
        if progress is not None:
            self.metrics.count_outcome(outcome.value)
        logger.info(
            "attempt %s ended: %s%s",
            attempt_id,
            outcome.value,
            f" (heard {report.heard_seconds:g} s)" if report else "",
            extra={"action": "attempt_ended", "attempt_id": attempt_id, "outcome": outcome.value},
        )
        return outcome

    async def _not_placed(self, attempt_id: str, detail: str) -> None:
        self.tracker.forget(attempt_id)
        self.metrics.not_placed += 1
        logger.warning("attempt %s not placed: %s", attempt_id, detail, extra={"attempt_id": attempt_id})
        await self._write(
            f"attempt {attempt_id} not placed", self.store.not_placed, attempt_id, detail, self.clock(),
            NOT_PLACED_RETRY,
        )  # fmt: skip

    async def _write(self, what: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """A write that must not be lost (an outcome): retried while the database is away, with back-off,
        for up to ``engine.call_margin``; then the error is raised (the attempt stays live in the database
        and the next start reconciles it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.engine.call_margin
        delay = 0.2
        while True:
            try:
                result = await self.db(function, *args, **kwargs)
            except self.store.db_errors as exc:
                self._db_failed(exc)
                if loop.time() + delay > deadline:
                    raise
                logger.warning("database unavailable, retrying %s in %.1f s: %s", what, delay, exc,
                               extra={"action": "db_retry"})  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(DB_RETRY_MAX, delay * 2)
                continue
            self._db_answered()
            return result

    def _db_failed(self, exc: BaseException) -> None:
        if self._db_ok_since is not None:
            logger.warning("database unavailable: %s", exc, extra={"action": "db_lost"})
        self._db_ok_since = None

    def _db_answered(self) -> None:
        if self._db_ok_since is None:
            self._db_ok_since = asyncio.get_running_loop().time()

    # -- trunks ------------------------------------------------------------------------------------
    def _trunk_result(self, trunk: str, outcome: NetworkOutcome | None, detail: str = "") -> None:
        if not trunk:
            return
        if self.health.result(trunk, outcome, asyncio.get_running_loop().time(), detail):
            why = detail or (outcome.value if outcome else "?")
            logger.warning("trunk %s is down for %.0f s: %s", trunk, self.health.cool_down, why,
                           extra={"action": "trunk_down", "trunk": trunk})  # fmt: skip

    def trunks_up(self) -> TrunksUp:
        """This worker's view of every configured trunk: up, or why not (its server's link, its breaker)."""
        now = asyncio.get_running_loop().time()
        view: TrunksUp = {}
        for name, config in self.store.topology.trunks.items():
            link = self.links.get(config.server)
            if link is None:
                view[name] = (False, f"{config.server}: нет в настройках этого обработчика")
            elif not link.usable():
                view[name] = (False, f"{config.server}: {NO_AMI}")
            else:
                view[name] = self.health.state(name, config.server, now)
        return view

    def claim_timed(self, campaign: RunningCampaign, now: datetime, trunks_up: TrunksUp) -> Ticket | Nothing:
        """The store's claim (on the database thread), its duration observed for the metrics; a probing
        call over a trunk whose breaker is half-open is noted as started."""
        started = time.perf_counter()
        result = self.store.claim(campaign, now, trunks_up)
        self.metrics.claim_latency.observe(time.perf_counter() - started)
        return result

    def may_dial(self) -> bool:
        """Some server is connected and reconciled (a claim never races a reconcile)."""
        return any(link.usable() for link in self.links.values())

    # -- reconciliation ----------------------------------------------------------------------------
    async def reconcile(
        self, link: ServerLink | None = None, uncertain: set[str] | None = None
    ) -> tuple[int, int]:
        """Compare the calls we believe live on ``link``'s server with its channels. Calls of a previous run
        (a crash) or of a worker we adopted that Asterisk still has are followed; ours that were live when
        AMI went away (``uncertain``) and every other vanished call are recorded lost — unless the shadow
        book saw how it ended. Returns (followed, lost)."""
        link = link or next(iter(self.links.values()))
        uncertain = uncertain or set()
        # the single-server setup also finds the calls of versions that did not record the server
        server = None if len(self.links) == 1 else link.name
        believed = await self.db(self.store.live_attempts, server=server)
        ours_in_doubt = [a for a in uncertain if a in self._settled]
        unknown = [(a, c) for a, c in believed if a not in self._settled and a not in self._claimed]
        if not unknown and not ours_in_doubt:
            return 0, 0
        channels = await link.ami.live_channels()
        followed = lost = 0
        for attempt_id in ours_in_doubt:
            if attempt_id not in channels:
                self._lost.add(attempt_id)
                self.tracker.forget(attempt_id)
                self._resolve(Call(attempt_id))
                lost += 1
        for attempt_id, campaign_id in unknown:
            spec = await self.db(self.store.campaign_spec, campaign_id) if campaign_id is not None else None
            if spec is None:
                continue
            if await self._pick_up(attempt_id, spec, link.name, channels):
                followed += 1
            else:
                lost += 1
        logger.info("reconciled %s: %d followed, %d lost", link.name, followed, lost,
                    extra={"action": "reconcile", "server": link.name})  # fmt: skip
        return followed, lost

    async def _pick_up(
        self, attempt_id: str, spec: CampaignSpec, server: str, channels: Mapping[str, str] | None
    ) -> bool:
        """Take charge of a call this worker owns but does not follow (a restart, an adoption): from the
        shadow book if it saw the call, else from the server's channels (None: not asked yet). True when
        the call is followed or recorded with its real outcome, False when it is recorded lost."""
        loop = asyncio.get_running_loop()
        known = self.tracker.take_over(attempt_id)
        report = self._foreign_reports.pop(attempt_id, None)
        self._route[attempt_id] = (server, "")
        if known is not None and known.settled:
            network = network_outcome(known)
            outcome = attempt_outcome(network, report if network is NetworkOutcome.ANSWERED else None)
            await self._finish(attempt_id, known, outcome, report, spec)
            self._route.pop(attempt_id, None)
            return True
        if known is None:
            if channels is None or attempt_id not in channels:
                await self._finish(attempt_id, Call(attempt_id), AttemptOutcome.LOST, None, spec)
                self._route.pop(attempt_id, None)
                return False
            answered = channels[attempt_id].lower() == "up"
            self.tracker.adopt(attempt_id, answered=answered, at=self.clock().timestamp())
        self._settled[attempt_id] = loop.create_future()
        self._reports[attempt_id] = loop.create_future()
        if report is not None:
            self._reports[attempt_id].set_result(report)
        task = self.spawn(self._follow_adopted(attempt_id, spec))
        task.is_adopted = True  # type: ignore[attr-defined]
        return True

    async def _follow_adopted(self, attempt_id: str, spec: CampaignSpec) -> None:
        try:
            await self._record_end(attempt_id, spec)
        finally:
            self._forget(attempt_id)

    # -- leases and adoption -----------------------------------------------------------------------
    async def _lease_loop(self, stop: asyncio.Event) -> None:
        """Renew this worker's lease; adopt the calls of workers whose lease ran out (docs/scale-out.md).
        Others are judged only after the database has answered us for a whole lease: after an outage
        every lease looks old."""
        workers = self.workers
        assert workers is not None
        loop = asyncio.get_running_loop()
        lease = self.settings.engine.worker_lease
        while not stop.is_set():
            try:
                if not await self.db(workers.heartbeat, self.clock()):
                    logger.warning("this worker's lease was taken over: registering again",
                                   extra={"action": "lease_lost"})  # fmt: skip
                    await self.db(workers.register, list(self.links), self.clock())
                self._db_answered()
                if self._db_ok_since is not None and loop.time() - self._db_ok_since >= lease:
                    for dead in await self.db(workers.expired, self.clock()):
                        calls = await self.db(workers.adopt, dead, self.clock())
                        if calls is not None:
                            await self._take_over(dead, calls)
            except self.store.db_errors as exc:
                self._db_failed(exc)
            except (AmiTimeoutError, AmiConnectError) as exc:
                logger.warning("adoption interrupted: %s", exc, extra={"action": "adopt_failed"})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.engine.heartbeat_interval)

    async def _take_over(self, dead: str, calls: list[AdoptedCall]) -> None:
        """Follow or record the live calls adopted from ``dead``."""
        logger.warning("worker %s stopped renewing its lease: %d live call(s) adopted", dead, len(calls),
                       extra={"action": "adopted", "worker": dead})  # fmt: skip
        self.metrics.adopted += len(calls)
        unseen: dict[str, list[tuple[str, CampaignSpec]]] = {}
        for call in calls:
            spec = await self.db(self.store.campaign_spec, call.campaign_id) if call.campaign_id else None
            if spec is None:
                continue
            if self.tracker.shadow_knows(call.attempt_id):
                await self._pick_up(call.attempt_id, spec, call.server, None)
            else:
                unseen.setdefault(call.server, []).append((call.attempt_id, spec))
        for server, pending in unseen.items():
            link = self.links.get(server)
            channels = await link.ami.live_channels() if link is not None and link.usable() else None
            if link is not None and channels is None:
                continue  # the server is away: reconciled when it is back (the calls are ours now)
            for attempt_id, spec in pending:
                await self._pick_up(attempt_id, spec, server, channels)

    # -- the main loop -----------------------------------------------------------------------------
    async def run(self, *, until_idle: bool = False, stop: asyncio.Event | None = None) -> None:
        stop = stop or asyncio.Event()
        ami_stop = asyncio.Event()
        lease_stop = asyncio.Event()
        if self.workers is not None:  # a name conflict refuses to start before anything else
            await self.db(self.workers.register, list(self.links), self.clock())
        for warning in await self.db(self.store.sync_trunks, self.clock()):
            logger.warning("%s", warning, extra={"action": "trunk_config"})
        self._db_answered()
        await self.agi.start()
        try:
            metrics_site = await self._start_metrics()
        except ListenError:
            await self.agi.close()
            self._db_pool.shutdown(wait=False)
            raise
        ami_tasks = [asyncio.ensure_future(link.ami.run(ami_stop)) for link in self.links.values()]
        for link in self.links.values():
            link.ami.add_listener(self._on_ami_event)
        lease_task = self.spawn(self._lease_loop(lease_stop)) if self.workers is not None else None
        try:
            while not stop.is_set():
                await self._watch_connections()
                try:
                    await self._sync_runners()
                    if until_idle and await self._idle():
                        break
                    self._db_answered()
                except self.store.db_errors as exc:
                    self._db_failed(exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.engine.poll_interval)
        finally:
            await self._shut_down(lease_task, lease_stop, ami_stop, ami_tasks, metrics_site)

    async def _shut_down(
        self,
        lease_task: asyncio.Task[Any] | None,
        lease_stop: asyncio.Event,
        ami_stop: asyncio.Event,
        ami_tasks: list[asyncio.Task[None]],
        metrics_site: web.AppRunner | None,
    ) -> None:
        """Let live calls end, then close everything in order; the lease is given up last."""
        for runner in self.runners.values():
            runner.stop()
        await self._drain(keep={lease_task} if lease_task is not None else set())
        lease_stop.set()
        if lease_task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(lease_task, 5)
        for link in self.links.values():
            link.ami.remove_listener(self._on_ami_event)
        ami_stop.set()
        for task in ami_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(task, 5)
        await self.agi.close()
        if metrics_site is not None:
            await metrics_site.cleanup()
        if self.workers is not None:
            with contextlib.suppress(Exception):
                await self.db(self.workers.stop, self.clock())
        with contextlib.suppress(Exception):
            await self.db(self.store.release)
        self._db_pool.shutdown(wait=True)

    def metrics_text(self) -> str:
        return render(
            self.metrics,
            in_flight=self.in_flight,
            in_flight_by_campaign={r.campaign.name: r.in_flight for r in self.runners.values()},
            ami_connected=all(link.ami.connected.is_set() for link in self.links.values()),
            ami_reconnects=sum(link.ami.reconnects for link in self.links.values()),
            servers={name: link.usable() for name, link in self.links.items()},
            trunks_down={name: why for name, (up, why) in self.trunks_up().items() if not up},
            database_up=self._db_ok_since is not None,
        )

    async def _start_metrics(self) -> web.AppRunner | None:
        """Prometheus ``/metrics`` on ``engine.metrics_host:metrics_port`` (port 0: off)."""
        settings = self.settings.engine
        if not settings.metrics_port:
            return None

        async def metrics(_request: web.Request) -> web.Response:
            return web.Response(text=self.metrics_text(), content_type="text/plain", charset="utf-8")

        app = web.Application()
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(
                runner, settings.metrics_host, settings.metrics_port, reuse_address=True
            ).start()
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(
                f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: "
                f"{exc.strerror or exc}",
                hint="set engine.metrics_port to a free port, or 0 to turn the endpoint off",
            ) from None
        logger.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)
        return runner

    async def _watch_connections(self) -> None:
        """Per server: on losing AMI, its trunks are down for us; on each new connection, reconcile its
        calls before dialling through it again."""
        for link in self.links.values():
            await self._watch(link)

    async def _watch(self, link: ServerLink) -> None:
        connected = link.ami.connected.is_set()
        if link.was_connected != connected:
            for runner in self.runners.values():
                runner.wake.set()  # a runner waiting for a channel re-reads the connection
        if link.was_connected and not connected:
            live = sum(1 for server, _trunk in self._route.values() if server == link.name)
            logger.warning(
                "AMI of %s lost with %d call(s) in progress: its trunks are down until it is back",
                link.name,
                live,
                extra={"action": "ami_lost", "server": link.name},
            )
            self.health.server_down(link.name, NO_AMI)
        generation = link.ami.reconnects
        if connected and link.reconciled_generation != generation:
            # Every call of ours in progress there was placed on an earlier connection: check each one.
            uncertain = (
                {a for a, (server, _t) in self._route.items() if server == link.name}
                if link.reconciled_generation is not None
                else set()
            )
            try:
                await self.reconcile(link, uncertain)
                link.reconciled_generation = generation
                self.health.server_up(link.name)
                for runner in self.runners.values():
                    runner.wake.set()
            except (AmiTimeoutError, AmiConnectError) as exc:
                logger.warning("reconciliation of %s failed: %s", link.name, exc,
                               extra={"action": "reconcile_failed", "server": link.name})  # fmt: skip
                connected = False
            except self.store.db_errors as exc:
                self._db_failed(exc)
                connected = False
        link.was_connected = connected

    async def _sync_runners(self) -> None:
        """One runner per running or paused campaign; a campaign that stopped lets its runner go."""
        seen = set()
        for campaign in await self.db(self.store.running):
            seen.add(campaign.id)
            runner = self.runners.get(campaign.id)
            if runner is None:
                runner = CampaignRunner(self, campaign)
                self.runners[campaign.id] = runner
                runner.task = self.spawn(runner.run())
            else:
                await runner.update(campaign)
        for campaign_id in list(self.runners):
            if campaign_id not in seen:
                self.runners.pop(campaign_id).stop()

    async def _idle(self) -> bool:
        if self.in_flight:
            return False
        now = self.clock()
        for runner in self.runners.values():
            if not runner.ready or runner.in_flight or runner.claiming:
                return False
            if runner.campaign.state == "running" and await self.db(
                self.store.has_due_work, runner.campaign.id, now
            ):
                return False
        return True

    async def _drain(self, keep: set[asyncio.Task[Any]]) -> None:
        """Let live calls end normally (their outcome is recorded); stop everything else but ``keep``
        (the lease: renewed while the calls end, so nobody adopts them meanwhile)."""
        deadline = asyncio.get_running_loop().time() + self.settings.engine.call_margin
        while asyncio.get_running_loop().time() < deadline:
            calls = [
                t for t in self._tasks if getattr(t, "is_call", False) or getattr(t, "is_adopted", False)
            ]
            reachable = [
                a for a, (server, _t) in self._route.items()
                if server in self.links and self.links[server].ami.connected.is_set()
            ]  # fmt: skip
            if not calls or not reachable:
                break
            await asyncio.wait(calls, timeout=1.0)
        # Calls still unsettled (AMI is down) stay live in the database: the next start reconciles them.
        others = [task for task in self._tasks if task not in keep]
        for task in others:
            task.cancel()
        if others:
            await asyncio.wait(others, timeout=5)


class Chain:
    """One channel's run of calls: when a call's outcome is recorded and the runner may dial at once
    (running, AMI reconciled, the rate allows, the channel limit not lowered), the same database hop
    claims the next debtor and the channel goes straight to it, without being released."""

    def __init__(self, runner: CampaignRunner) -> None:
        self.runner = runner
        self.following: Ticket | Nothing | None = None
        self.freed_at: float | None = None


class CampaignRunner:
    """Dials one campaign's due debtors within its channel and rate limits."""

    def __init__(self, engine: Engine, campaign: RunningCampaign) -> None:
        self.engine = engine
        self.campaign = campaign
        self.slots = Slots(campaign.spec.max_channels)
        self.bucket = TokenBucket(campaign.spec.calls_per_second)
        self.wake = asyncio.Event()
        self.stopping = False
        self.ready = False  # debtors selected at least once
        self.in_flight = 0
        # a claim is on its way to the database, or its ticket not yet handed to a call: not idle (a claimed
        # debtor is no longer due, so without this an idle check could end the run and drop the ticket)
        self.claiming = False
        self.task: asyncio.Task[Any] | None = None
        self._reason = ""
        self._reason_at = 0.0
        self._selected_at = 0.0
        self._freed_at: float | None = None

    async def update(self, campaign: RunningCampaign) -> None:
        if campaign.revision == self.campaign.revision:
            return
        loop = asyncio.get_running_loop()
        old = self.campaign.spec
        self.campaign = campaign
        if campaign.spec.max_channels != old.max_channels:
            await self.slots.set_limit(campaign.spec.max_channels)
        if campaign.spec.calls_per_second != old.calls_per_second:
            self.bucket.set_rate(loop.time(), campaign.spec.calls_per_second)
        if campaign.spec.select != old.select:
            self._selected_at = 0.0
        self.wake.set()

    @property
    def reason(self) -> str:
        """What the runner last told supervisors."""
        return self._reason

    def stop(self) -> None:
        self.stopping = True
        self.wake.set()

    async def _say(self, reason: str) -> None:
        """Tell supervisors why nothing is being dialled (written when it changes, and as a heartbeat)."""
        loop = asyncio.get_running_loop()
        if reason != self._reason or loop.time() - self._reason_at > REASON_REFRESH_SECONDS:
            self._reason, self._reason_at = reason, loop.time()
            logger.debug("campaign %s: %s", self.campaign.name, reason)
            try:
                await self.engine.db(
                    self.engine.store.set_reason, self.campaign.id, reason, self.engine.clock()
                )
            except self.engine.store.db_errors:
                self._reason_at = 0.0  # written again once the database is back

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once on a campaign change, a change of the AMI connection, or stop (the
        wake-up is cleared once per round of the runner's loop, so none is lost between the checks)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), max(0.0, seconds))

    async def run(self) -> None:
        engine = self.engine
        loop = asyncio.get_running_loop()
        poll = engine.settings.engine.poll_interval
        while not self.stopping:
            self.wake.clear()
            if loop.time() - self._selected_at > engine.settings.engine.selection_interval or not self.ready:
                try:
                    added = await engine.db(
                        engine.store.select_debtors, self.campaign.id, self.campaign.spec, engine.clock()
                    )
                except engine.store.db_errors as exc:
                    engine._db_failed(exc)
                    await self._sleep(poll)
                    continue
                self._selected_at, self.ready = loop.time(), True
                if added:
                    logger.info("campaign %s: %d debtor(s) selected", self.campaign.name, added)
            if self.campaign.state != "running":
                await self._say("кампания на паузе")
                await self._sleep(poll)
                continue
            if not engine.may_dial():
                await self._say(f"ожидание Asterisk ({NO_AMI})")
                await self._sleep(poll)
                continue
            if not self.slots.try_acquire():
                await self._say("идёт обзвон")  # every channel is busy: that is calling, not a reason
                if not await self._wait_for_slot():
                    continue
            await self._dial_one()

    async def _dial_one(self) -> None:
        """Holding a channel: wait for the rate, claim a due debtor, originate. Releases the channel on
        every path that does not place a call (a placed call releases it when its outcome is written)."""
        engine = self.engine
        if not await self._wait_for_token() or not engine.may_dial():
            await self.slots.release()
            return
        self.claiming = True
        try:
            result = await engine.db(engine.claim_timed, self.campaign, engine.clock(), engine.trunks_up())
        except engine.store.db_errors as exc:
            self.claiming = False
            engine._db_failed(exc)
            await self.slots.release()
            self._reason = "нет связи с базой данных"
            await self._sleep(engine.settings.engine.poll_interval)
            return
        engine._db_answered()
        if isinstance(result, Nothing):
            self.claiming = False
            await self.slots.release()
            await self._say(result.reason)
            wait = engine.settings.engine.poll_interval
            if result.next_due is not None:
                wait = min(wait * 2, max(0.05, (result.next_due - engine.clock()).total_seconds()))
            await self._sleep(wait)
            return
        await self._before_originate(result, self._freed_at)
        self._freed_at = None
        self.in_flight += 1
        self.claiming = False
        engine.metrics.max_in_flight = max(engine.metrics.max_in_flight, engine.in_flight + 1)
        task = engine.spawn(self._call(result, self.campaign.spec))
        task.is_call = True  # type: ignore[attr-defined]
        await self._say("идёт обзвон")

    async def _wait_for_slot(self) -> bool:
        """Wait for a free channel (True: we hold it), or for a campaign change (False)."""
        acquire = asyncio.ensure_future(self.slots.acquire())
        woke = asyncio.ensure_future(self.wake.wait())
        await asyncio.wait(
            {acquire, woke}, timeout=REASON_REFRESH_SECONDS, return_when=asyncio.FIRST_COMPLETED
        )
        woke.cancel()
        if not acquire.done():
            acquire.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acquire
        return acquire.done() and not acquire.cancelled() and acquire.exception() is None

    async def _wait_for_token(self) -> bool:
        """Sleep until the rate allows a call; False when something changed meanwhile (look again)."""
        loop = asyncio.get_running_loop()
        delay = self.bucket.wait(loop.time())
        if delay > 0:
            await self._sleep(delay)
        return not self.wake.is_set() and not self.stopping and self.bucket.wait(loop.time()) <= 0

    async def _take_token(self) -> None:
        """Take the token right before the Originate (if the rate was lowered while we claimed, wait)."""
        loop = asyncio.get_running_loop()
        for _ in range(1000):
            if self.bucket.try_take(loop.time()):
                return
            await asyncio.sleep(self.bucket.wait(loop.time()))
        raise RuntimeError("the token bucket never refilled")  # pragma: no cover - rate > 0 always refills

    async def _before_originate(self, ticket: Ticket, freed_at: float | None) -> None:
        """A claimed call about to be placed: ours (not another run's to reconcile), within the rate, and
        the time since its channel was freed measured."""
        self.engine._claimed.add(ticket.attempt_id)
        await self._take_token()
        if freed_at is not None:
            self.engine.metrics.refill_latency.observe(asyncio.get_running_loop().time() - freed_at)

    def chainable(self) -> RunningCampaign | None:
        """The campaign to claim a channel's next call for in the same hop, if dialling on is allowed now."""
        loop = asyncio.get_running_loop()
        if (
            self.stopping
            or self.campaign.state != "running"
            or not self.engine.may_dial()
            or self.slots.used > self.slots.limit
            or self.bucket.wait(loop.time()) > 0
        ):
            return None
        return self.campaign

    async def _call(self, ticket: Ticket, spec: CampaignSpec) -> None:
        engine = self.engine
        chain = Chain(self)
        try:
            while True:
                chain.following = chain.freed_at = None
                await engine.place(ticket, spec, chain)
                following = chain.following
                if not isinstance(following, Ticket):
                    break
                await self._before_originate(following, chain.freed_at)
                ticket, spec = following, self.campaign.spec
        finally:
            self.in_flight -= 1
            self._freed_at = asyncio.get_running_loop().time()
            await self.slots.release()
