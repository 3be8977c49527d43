"""Several workers and Asterisk servers on PostgreSQL (docs/scale-out.md): two Asterisk hosts on network
namespaces (tests/scaleout/topology.py), workers as real `upravdolg run` processes on the test host, one
PostgreSQL. What the tests look at is the database the workers share, sampled while they run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from db.models import CallAttempt, CampaignDebtor
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage
from dialer.campaign_spec import parse_spec
from dialer.campaigns import apply_spec, set_state
from dialer.sandbox import Sandbox
from dialer.settings import Settings
from tests.asterisk import conftest as asterisk_fixtures
from tests.conftest import _postgres_database
from tests.fixtures.registry_files import write_csv
from tests.scaleout.topology import AsteriskHost, WorkerProcess, build_hosts, launch_worker, log_tail

# The Asterisk tests' fixtures, offered here too (the sandbox with the short test prompts).
sandbox_settings = asterisk_fixtures.sandbox_settings
short_prompts = asterisk_fixtures.short_prompts
sandbox = asterisk_fixtures.sandbox
settings = asterisk_fixtures.settings

HEADERS = ["Лицевой счёт", "ФИО", "Адрес", "Сумма задолженности", "Телефон"]
ALWAYS = {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"}
LIVE = ("dialling", "up")
CAMPAIGN = "Масштаб"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.asterisk)
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def database_url() -> Iterator[str]:
    """Several workers share PostgreSQL (SQLite runs one worker)."""
    yield from _postgres_database()


@pytest.fixture
def hosts(sandbox: Sandbox) -> Iterator[list[AsteriskHost]]:
    """Two Asterisk hosts, ast1 and ast2, each on its own network namespace; removed afterwards."""
    built = build_hosts(sandbox, sandbox.ensure_secret(), ["ast1", "ast2"])
    try:
        yield built
    finally:
        for host in built:
            host.down()


# ---------------------------------------------------------------------------------------- the workers


@pytest.fixture
def start_worker(
    settings: Settings, sandbox: Sandbox, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start `upravdolg run` as worker NAME over the given hosts; every one still running is stopped."""
    started: list[WorkerProcess] = []

    def start(
        name: str, hosts: Sequence[AsteriskHost], trunk_channels: int = 4, **extra: Any
    ) -> WorkerProcess:
        worker = launch_worker(
            name,
            hosts,
            settings=settings,
            secret=sandbox.ensure_secret(),
            folder=tmp_path,
            trunk_channels=trunk_channels,
            **extra,
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.alive():
            worker.kill()


# ---------------------------------------------------------------------------------------- the campaign


def load_debtors(storage: Storage, tmp_path: Path, numbers: Sequence[str]) -> None:
    rows = [
        [f"{500 + i}", f"Должник {i}", f"ул. Сетевая, д. {i}", "5 000,00", n] for i, n in enumerate(numbers)
    ]
    report = import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "list.csv", [HEADERS, *rows]),
        now=datetime.now(UTC),
    )
    assert report.imported == len(numbers)


def start_campaign(storage: Storage, **fields: Any) -> None:
    data: dict[str, Any] = {
        "name": CAMPAIGN,
        "trunk": "sim",
        "max_channels": 6,
        "calls_per_second": 5.0,
        "dial_timeout": "8s",
        "window": ALWAYS,
        "retry": {"busy": [], "no_answer": [], "congestion": [], "partial": []},
        **fields,
    }
    spec = parse_spec(data, source="test")
    apply_spec(storage.sessions, storage.organisation_id, spec, datetime.now(UTC))
    set_state(storage.sessions, storage.organisation_id, spec.name, "running", datetime.now(UTC))


# ---------------------------------------------------------------------------------------- watching


@dataclass
class Sample:
    at: float
    live: int
    by_trunk: dict[str, int]
    by_worker: dict[str, int]
    doubled: int  # debtors with more than one live call


@dataclass
class Watch:
    """Samples the shared database every ``every`` seconds while the workers run."""

    storage: Storage
    every: float = 0.1
    samples: list[Sample] = field(default_factory=list)
    errors: int = 0
    failure: str = ""
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Watch:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        assert not self.failure, f"the watch failed: {self.failure}"

    def _run(self) -> None:
        live = CallAttempt.state.in_(LIVE)
        while not self._stop.is_set():
            try:
                with self.storage.sessions() as session:
                    by_trunk: dict[str, int] = {
                        trunk: count
                        for trunk, count in session.execute(
                            select(CallAttempt.trunk, func.count()).where(live).group_by(CallAttempt.trunk)
                        )
                    }
                    by_worker: dict[str, int] = {
                        worker: count
                        for worker, count in session.execute(
                            select(CallAttempt.worker, func.count()).where(live).group_by(CallAttempt.worker)
                        )
                    }
                    doubled = session.scalar(
                        select(func.count()).select_from(
                            select(CallAttempt.debtor_id)
                            .where(live)
                            .group_by(CallAttempt.debtor_id)
                            .having(func.count() > 1)
                            .subquery()
                        )
                    )
                self.samples.append(
                    Sample(time.monotonic(), sum(by_trunk.values()), by_trunk, by_worker, doubled or 0)
                )
            except SQLAlchemyError:
                self.errors += 1  # PostgreSQL restarting
            except Exception as exc:  # noqa: BLE001 - kept for the test to report, not lost in a thread
                self.failure = f"{type(exc).__name__}: {exc}"
                return
            self._stop.wait(self.every)

    def max_live(self, since: float = 0.0) -> int:
        return max((s.live for s in self.samples if s.at >= since), default=0)

    def max_trunk(self, trunk: str) -> int:
        return max((s.by_trunk.get(trunk, 0) for s in self.samples), default=0)


def attempts(storage: Storage) -> list[CallAttempt]:
    with storage.sessions() as session:
        rows = list(session.scalars(select(CallAttempt).order_by(CallAttempt.started_at)))
        session.expunge_all()
        return rows


def queue(storage: Storage) -> list[CampaignDebtor]:
    with storage.sessions() as session:
        rows = list(session.scalars(select(CampaignDebtor).order_by(CampaignDebtor.id)))
        session.expunge_all()
        return rows


def wait_until(
    predicate: Callable[[], bool],
    limit: float,
    what: str,
    logs: Sequence[WorkerProcess] = (),
    storage: Storage | None = None,
) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {w.name}:\n{log_tail(w.log, 30)}" for w in logs)
            state = ""
            if storage is not None:
                entries = Counter((e.state, e.note) for e in queue(storage))
                calls = Counter((a.worker, a.state, a.outcome) for a in attempts(storage))
                state = f"\nqueue: {dict(entries)}\nattempts: {dict(calls)}"
            raise AssertionError(f"timed out after {limit:g} s waiting for {what}{state}\n{tails}")
        time.sleep(0.2)


def campaign_done(storage: Storage) -> bool:
    """Every debtor of the campaign called, none due again now, and every call recorded."""
    now = datetime.now(UTC)
    with storage.sessions() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(CampaignDebtor)
            .where(
                (CampaignDebtor.attempts == 0)
                | ((CampaignDebtor.state == "due") & (CampaignDebtor.next_attempt_at <= now))
                | (CampaignDebtor.state == "calling")
            )
        )
        live = session.scalar(
            select(func.count()).select_from(CallAttempt).where(CallAttempt.state.in_(LIVE))
        )
        entries = session.scalar(select(func.count()).select_from(CampaignDebtor))
    return bool(entries) and waiting == 0 and live == 0
