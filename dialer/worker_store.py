"""Workers and their leases in the database (docs/scale-out.md «Workers, leases and adoption»).

A worker registers under its name with a random token, renews its lease every heartbeat, and stops
cleanly by stamping ``stopped_at``. A worker whose lease is older than the lease time is dead: one other
worker takes its row (``FOR UPDATE SKIP LOCKED``: one adopter wins), moves its live calls to itself and
marks it adopted, in one transaction. Times are the workers' own clocks (UTC, passed in): keep the hosts
in NTP sync, far closer than the lease.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import CallAttempt, Trunk, Worker
from dialer.campaign_store import LIVE_STATES
from dialer.errors import UpravDolgError
from dialer.processes import pid_alive


class WorkerConflict(UpravDolgError):
    """Another live worker has this name, or the embedded database already has a worker."""

    exit_code = 12


@dataclass(frozen=True, slots=True)
class AdoptedCall:
    attempt_id: str
    server: str
    trunk: str
    campaign_id: int | None


class WorkerStore:
    def __init__(self, sessions: sessionmaker[Session], name: str, *, lease: timedelta) -> None:
        self.sessions = sessions
        self.name = name
        self.lease = lease
        self.token = secrets.token_hex(16)
        self.host = socket.gethostname()[:200]
        self.pid = os.getpid()
        self.single_writer = sessions.kw["bind"].dialect.name == "sqlite"

    def register(self, servers: list[str], now: datetime) -> None:
        """Take this worker's name (raises :class:`WorkerConflict` while another live process holds it, or
        while any other worker is alive on SQLite, which runs one worker)."""
        fresh = now - self.lease
        with self.sessions.begin() as session:
            row = session.get(Worker, self.name, with_for_update=True)
            if row is not None and row.stopped_at is None and row.heartbeat_at > fresh:
                predecessor_gone = row.host == self.host and not pid_alive(row.pid)
                if not predecessor_gone:
                    raise WorkerConflict(
                        f"worker name {self.name!r} is in use by a live worker on {row.host} (pid {row.pid})",
                        hint="give each worker its own engine.worker, or wait for the other one to stop",
                    )
            if self.single_writer:
                other = session.scalar(
                    select(Worker.name).where(
                        Worker.name != self.name, Worker.stopped_at.is_(None), Worker.heartbeat_at > fresh
                    )
                )
                if other is not None:
                    raise WorkerConflict(
                        f"worker {other!r} is running on this SQLite database: the embedded database runs "
                        "one worker",
                        hint="stop it, or move the database to PostgreSQL to run several (docs/scale-out.md)",
                    )
            if row is None:
                row = Worker(name=self.name)
                session.add(row)
            row.token, row.host, row.pid = self.token, self.host, self.pid
            row.servers = ",".join(servers)
            row.started_at = row.heartbeat_at = now
            row.stopped_at, row.adopted_by = None, ""

    def heartbeat(self, now: datetime) -> bool:
        """Renew the lease. False: this run's row was taken over (adopted after a stall) — re-register."""
        with self.sessions.begin() as session:
            renewed: CursorResult[Any] = session.execute(  # type: ignore[assignment]
                update(Worker)
                .where(Worker.name == self.name, Worker.token == self.token, Worker.adopted_by == "")
                .values(heartbeat_at=now)
            )
            return bool(renewed.rowcount)

    def stop(self, now: datetime) -> None:
        with contextlib.suppress(Exception), self.sessions.begin() as session:
            session.execute(
                update(Worker)
                .where(Worker.name == self.name, Worker.token == self.token)
                .values(stopped_at=now, heartbeat_at=now)
            )

    def expired(self, now: datetime) -> list[str]:
        """Other workers whose lease ran out and whose calls nobody adopted yet."""
        with self.sessions() as session:
            return list(
                session.scalars(
                    select(Worker.name).where(
                        Worker.name != self.name,
                        Worker.heartbeat_at < now - self.lease,
                        Worker.adopted_by == "",
                    )
                )
            )

    def adopt(self, dead: str, now: datetime) -> list[AdoptedCall] | None:
        """Take over ``dead``'s live calls, once: None when another worker was first (or it came back)."""
        with self.sessions.begin() as session:
            row = session.scalar(
                select(Worker)
                .where(Worker.name == dead, Worker.heartbeat_at < now - self.lease, Worker.adopted_by == "")
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return None
            calls = [
                AdoptedCall(attempt_id, server, trunk, campaign_id)
                for attempt_id, server, trunk, campaign_id in session.execute(
                    select(CallAttempt.id, CallAttempt.server, CallAttempt.trunk, CallAttempt.campaign_id)
                    .where(CallAttempt.worker == dead, CallAttempt.state.in_(LIVE_STATES))
                    .with_for_update()
                )
            ]
            if calls:
                session.execute(
                    update(CallAttempt)
                    .where(CallAttempt.id.in_([c.attempt_id for c in calls]))
                    .values(worker=self.name)
                )
            row.adopted_by = self.name
            row.stopped_at = row.stopped_at or now
            return calls

    def workers(self) -> list[Worker]:
        with self.sessions() as session:
            rows = list(session.scalars(select(Worker).order_by(Worker.name)))
            session.expunge_all()
            return rows


def live_calls_by(session: Session, column: str) -> dict[str, int]:
    """Live calls (all workers) counted by ``worker``, ``server`` or ``trunk``."""
    key = {"worker": CallAttempt.worker, "server": CallAttempt.server, "trunk": CallAttempt.trunk}[column]
    live = CallAttempt.state.in_(LIVE_STATES)
    return {
        name: count for name, count in session.execute(select(key, func.count()).where(live).group_by(key))
    }


@dataclass(frozen=True, slots=True)
class WorkerRow:
    name: str
    state: str  # alive | stopped | lease expired | adopted by NAME
    host: str
    pid: int
    heartbeat_at: datetime
    live_calls: int
    servers: str


def worker_state(row: Worker, now: datetime, lease: timedelta) -> str:
    if row.adopted_by:
        return f"adopted by {row.adopted_by}"
    if row.stopped_at is not None:
        return "stopped"
    return "alive" if row.heartbeat_at >= now - lease else "lease expired"


def worker_rows(session: Session, now: datetime, lease: timedelta) -> list[WorkerRow]:
    """Every worker that ran on this database, with its state and live calls (CLI, dashboard)."""
    live = live_calls_by(session, "worker")
    return [
        WorkerRow(
            row.name,
            worker_state(row, now, lease),
            row.host,
            row.pid,
            row.heartbeat_at,
            live.get(row.name, 0),
            row.servers,
        )
        for row in session.scalars(select(Worker).order_by(Worker.name))
    ]


@dataclass(frozen=True, slots=True)
class TrunkRow:
    name: str
    server: str
    endpoint: str
    live_calls: int
    max_channels: int | None
    calls_per_second: float | None
    priority: int
    groups: str


def trunk_rows(session: Session) -> list[TrunkRow]:
    """The trunks the workers synced into the database, with their live calls (all workers)."""
    live = live_calls_by(session, "trunk")
    return [
        TrunkRow(
            row.name,
            row.server,
            row.endpoint,
            live.get(row.name, 0),
            row.max_channels,
            row.calls_per_second,
            row.priority,
            row.groups,
        )
        for row in session.scalars(select(Trunk).order_by(Trunk.priority.desc(), Trunk.name))
    ]
