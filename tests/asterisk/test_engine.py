"""The campaign engine against the real sandbox Asterisk, on SQLite and PostgreSQL.

The simulated debtors (asterisk_conf/README.md) pick their behaviour by the last digit of the number; the
IVR plays the short test prompts (tests/asterisk/conftest.py: 700 ms each, a 10.5 s message for these
debtors), so "stays on the line" hears it all and "hangs up after 3 s / 8 s" hears part of it. The real
message is played in tests/asterisk/test_ivr.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from db.campaign_figures import rebuild
from db.models import CallAttempt, CampaignDebtor, CampaignHour
from debtors.registry_import import import_debtors
from dialer.ami import AmiClient
from dialer.bootstrap import Storage, make_engine_service
from dialer.campaign_spec import parse_spec
from dialer.campaigns import apply_spec, campaign_status, set_state
from dialer.engine import Engine
from dialer.sandbox import Sandbox
from dialer.settings import Settings
from tests.fixtures.registry_files import write_csv
from tests.sipp_uas import sipp_errors

HEADERS = ["Лицевой счёт", "ФИО", "Адрес", "Сумма задолженности", "Телефон"]
ALWAYS = {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"}
NO_RETRIES: dict[str, list[str]] = {"busy": [], "no_answer": [], "congestion": [], "partial": []}


def load_debtors(storage: Storage, tmp_path: Path, numbers: Sequence[str]) -> None:
    rows = [
        [f"{100 + i}", f"Должник {i}", f"ул. Тестовая, д. {i}", "5 000,00", n] for i, n in enumerate(numbers)
    ]
    report = import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "list.csv", [HEADERS, *rows]),
        now=datetime.now(UTC),
    )
    assert report.imported == len(numbers)


def start_campaign(storage: Storage, **fields: Any) -> str:
    data: dict[str, Any] = {
        "name": "Тест",
        "trunk": "sim",
        "max_channels": 10,
        "calls_per_second": 10.0,
        "dial_timeout": "6s",
        "window": ALWAYS,
        "retry": NO_RETRIES,
        **fields,
    }
    spec = parse_spec(data, source="test")
    apply_spec(storage.sessions, storage.organisation_id, spec, datetime.now(UTC))
    set_state(storage.sessions, storage.organisation_id, spec.name, "running", datetime.now(UTC))
    return spec.name


async def run_until_idle(engine: Engine, limit: float = 90.0) -> None:
    await asyncio.wait_for(engine.run(until_idle=True), limit)


def attempts(storage: Storage) -> list[CallAttempt]:
    with storage.sessions() as session:
        return list(session.scalars(select(CallAttempt).order_by(CallAttempt.started_at)))


def queue(storage: Storage) -> list[CampaignDebtor]:
    with storage.sessions() as session:
        return list(
            session.scalars(select(CampaignDebtor).order_by(CampaignDebtor.campaign_id, CampaignDebtor.id))
        )


def as_utc(value: datetime | None) -> datetime:
    assert value is not None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


# digit -> outcome, heard seconds (low, high) or None
EXPECTED = {
    0: ("heard_full", (10.5, 10.5)),
    1: ("heard_full", (10.5, 10.5)),
    4: ("partial", (2.8, 3.4)),
    5: ("partial", (7.8, 8.4)),
    6: ("busy", None),
    7: ("no_answer", None),
    8: ("congestion", None),
    9: ("partial", (3.9, 4.6)),  # presses «2» at 4 s: a promise to pay, the message cut short
}


async def test_each_digit_ends_in_its_outcome_and_next_attempt(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    numbers = [f"+7912555010{d}" for d in EXPECTED]
    load_debtors(storage, tmp_path, numbers)
    name = start_campaign(
        storage,
        retry={"busy": ["10m"], "no_answer": ["1h"], "congestion": ["5m"], "partial": ["4h"]},
        backoff={"heard_full": "7d"},
    )
    engine = make_engine_service(settings, storage)
    started = datetime.now(UTC)
    await run_until_idle(engine)
    by_number = {a.number: a for a in attempts(storage)}
    assert len(by_number) == len(numbers) == len(attempts(storage)), "one attempt per debtor"
    entries = {e.debtor_id: e for e in queue(storage)}
    delays = {"heard_full": timedelta(days=7), "partial": timedelta(hours=4), "busy": timedelta(minutes=10),
              "no_answer": timedelta(hours=1), "congestion": timedelta(minutes=5)}  # fmt: skip
    for digit, (outcome, heard) in EXPECTED.items():
        attempt = by_number[f"+7912555010{digit}"]
        assert (attempt.outcome, attempt.state) == (outcome, "ended"), digit
        if heard is None:
            assert attempt.answered_at is None and attempt.heard_ms is None, digit
        else:
            assert attempt.heard_ms is not None and heard[0] <= attempt.heard_ms / 1000 <= heard[1], (
                digit,
                attempt.heard_ms,
            )
            assert attempt.message_ms == 10500, digit
        assert attempt.counts_as_contact == (heard is not None), digit
        entry = entries[attempt.debtor_id]
        expected_next = as_utc(attempt.ended_at) + delays[outcome]
        assert entry.state == "due" and entry.streak == 1 and entry.attempts == 1, digit
        assert abs((as_utc(entry.next_attempt_at) - expected_next).total_seconds()) < 1, digit
        assert as_utc(attempt.started_at) >= started
    status = campaign_status(storage.sessions, storage.organisation_id, name, datetime.now(UTC))
    assert (status["placed"], status["answered"], status["heard_full"], status["partial"]) == (8, 5, 2, 3)
    assert (status["busy"], status["no_answer"], status["congestion"], status["in_flight"]) == (1, 1, 1, 0)
    assert sandbox.cli("core show channels count").startswith("0 active channels")
    # the rollups the engine kept call by call equal the ones recomputed from the attempts afterwards
    kept = rollups(storage)
    with storage.engine.begin() as connection:
        rebuild(connection)
    assert kept == rollups(storage) and len(kept[0]) >= 5
    assert sum(heard_full for *_, heard_full in kept[1]) == 2


def rollups(storage: Storage) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with storage.sessions() as session:
        hours = session.execute(
            select(CampaignHour.hour, CampaignHour.outcome, CampaignHour.calls, CampaignHour.answered,
                   CampaignHour.reported, CampaignHour.listened, CampaignHour.heard_ms)
            .order_by(CampaignHour.hour, CampaignHour.outcome)
        ).all()  # fmt: skip
        q = CampaignDebtor
        entries = session.execute(select(q.id, q.listens, q.heard_ms, q.heard_full).order_by(q.id)).all()
    return [tuple(h) for h in hours], [tuple(e) for e in entries]


class ChannelWatcher:
    """Polls Asterisk's own channel list (CoreShowChannels) on a separate AMI session."""

    def __init__(self, settings: Settings) -> None:
        self.client = AmiClient(settings.ami, settings.ami.read_secret())
        self.peak_calls = 0
        self.samples = 0
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ChannelWatcher:
        await self.client.connect()
        self._task = asyncio.create_task(self._poll())
        return self

    async def _poll(self) -> None:
        while True:
            channels = await self.client.live_channels()
            # A simulated call is two Local channels: ours (;1, Uniqueid = attempt id) and the callee's.
            calls = sum(
                1 for uniqueid in channels if uniqueid.startswith("ud-") and not uniqueid.endswith("-b")
            )
            self.peak_calls = max(self.peak_calls, calls)
            self.samples += 1
            await asyncio.sleep(0.05)

    async def __aexit__(self, *_exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()


async def test_max_channels_is_never_exceeded_as_asterisk_sees_it(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, [f"+791255502{i:02d}" for i in range(0, 90, 10)])  # all end in 0: stay
    start_campaign(storage, max_channels=3, calls_per_second=20.0)
    engine = make_engine_service(settings, storage)
    async with ChannelWatcher(settings) as watcher:
        await run_until_idle(engine)
    assert watcher.samples > 50
    assert watcher.peak_calls == 3, "the limit is reached and never exceeded"
    assert engine.metrics.max_in_flight == 3
    assert [a.outcome for a in attempts(storage)] == ["heard_full"] * 9


async def test_the_rate_limit_holds(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    load_debtors(
        storage, tmp_path, [f"+791255503{i:02d}" for i in range(8, 100, 10)]
    )  # all end in 8: instant
    start_campaign(storage, max_channels=10, calls_per_second=2.0)
    engine = make_engine_service(settings, storage)
    started = time.monotonic()
    await run_until_idle(engine)
    elapsed = time.monotonic() - started
    times = sorted(as_utc(a.started_at).timestamp() for a in attempts(storage))
    assert len(times) == 10
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.5 - 0.02, gaps
    assert (times[-1] - times[0]) / 9 == pytest.approx(0.5, rel=0.05)
    assert elapsed >= 4.5


async def test_a_debtor_who_heard_it_all_is_not_called_again_within_the_backoff(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, ["+79125550400"])
    start_campaign(storage, backoff={"heard_full": "1d"})
    await run_until_idle(make_engine_service(settings, storage))
    assert [a.outcome for a in attempts(storage)] == ["heard_full"]
    # A second campaign over the same debtor respects the pause too (it is the debtor's, not the campaign's).
    start_campaign(storage, name="Другая", backoff={"heard_full": "1d"})
    await run_until_idle(make_engine_service(settings, storage))
    assert len(attempts(storage)) == 1
    entries = queue(storage)
    assert entries[1].note == "прослушал сообщение полностью: пауза"
    assert as_utc(entries[1].next_attempt_at) > datetime.now(UTC) + timedelta(hours=23)


async def test_a_busy_number_is_retried_on_schedule(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, ["+79125550506"])
    start_campaign(storage, retry={**NO_RETRIES, "busy": ["3s", "2s"]})
    engine = make_engine_service(settings, storage)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop=stop))
    try:
        for _ in range(200):
            await asyncio.sleep(0.1)
            if len(attempts(storage)) == 3 and attempts(storage)[-1].state == "ended":
                break
        await asyncio.sleep(0.2)
        port = settings.engine.metrics_port
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            scraped = (await response.text()).splitlines()
    finally:
        stop.set()
        await asyncio.wait_for(running, 30)
    assert 'upravdolg_calls_total{outcome="busy"} 3' in scraped
    assert "upravdolg_calls_placed_total 3" in scraped and "upravdolg_ami_connected 1" in scraped
    made = attempts(storage)
    assert [a.outcome for a in made] == ["busy", "busy", "busy"]
    starts = [as_utc(a.started_at) for a in made]
    ends = [as_utc(a.ended_at) for a in made]
    assert 3.0 <= (starts[1] - ends[0]).total_seconds() <= 4.5
    assert 2.0 <= (starts[2] - ends[1]).total_seconds() <= 3.5
    (entry,) = queue(storage)
    assert (entry.state, entry.streak, entry.attempts) == ("done", 3, 3)


def engine_process(settings: Settings, tmp_path: Path) -> subprocess.Popen[bytes]:
    """`upravdolg run` in its own process (so it can be killed with SIGKILL)."""
    env = {
        **os.environ,
        "UPRAVDOLG_DATABASE_URL": settings.database.url,
        "UPRAVDOLG_IVR_SOUND_FOLDER": settings.ivr.sound_folder,
        "UPRAVDOLG_IVR_SOUNDS_BUILD": settings.ivr.sounds_build,
        "UPRAVDOLG_IVR_MENU_TIMEOUT": str(settings.ivr.menu_timeout),
        "UPRAVDOLG_ENGINE_METRICS_PORT": "0",  # the default ports may be taken (a demo left running)
        "UPRAVDOLG_API_PORT": "0",
    }
    with (tmp_path / "engine.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "dialer", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )


async def wait_for(predicate: Any, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def overlapping(made: Sequence[CallAttempt]) -> list[tuple[str, str]]:
    """Pairs of attempts to the same debtor that were live at the same time."""
    found = []
    for a in made:
        for b in made:
            if a.id < b.id and a.debtor_id == b.debtor_id:
                a_end = as_utc(a.ended_at) if a.ended_at else datetime.max.replace(tzinfo=UTC)
                b_end = as_utc(b.ended_at) if b.ended_at else datetime.max.replace(tzinfo=UTC)
                if as_utc(a.started_at) < b_end and as_utc(b.started_at) < a_end:
                    found.append((a.id, b.id))
    return found


async def test_kill_9_mid_campaign_then_restart(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    # 7 rings until the dial timeout (its call survives the engine); 0 answers and listens (its IVR session
    # dies with the engine, so Asterisk ends that call).
    load_debtors(storage, tmp_path, ["+79125550607", "+79125550600"])
    start_campaign(storage, dial_timeout="15s", retry={**NO_RETRIES, "no_answer": ["1h"]})
    process = engine_process(settings, tmp_path)
    try:
        await wait_for(
            lambda: sum(1 for a in attempts(storage) if a.state == "up") == 1 and len(attempts(storage)) == 2,
            30,
            "one call ringing and one answered",
        )
        await asyncio.sleep(1.0)
    finally:
        process.kill()
        process.wait(10)
    assert all(a.state in {"dialling", "up"} for a in attempts(storage)), "the engine died mid-call"
    await asyncio.sleep(1.0)
    engine = make_engine_service(settings, storage)
    await run_until_idle(engine, limit=60)
    made = attempts(storage)
    ringing = [a for a in made if a.number.endswith("7")]
    answered = [a for a in made if a.number.endswith("0")]
    assert [(a.outcome, a.state) for a in ringing] == [("no_answer", "ended")], "adopted, finished once"
    assert ringing[0].ended_at is not None and ringing[0].hangup_cause is not None
    # The answered call ended with its IVR session: lost (or, if still up, adopted and ended as partial),
    # then dialled again as a fresh attempt that heard the message.
    assert answered[0].outcome in {"lost", "partial"}
    assert answered[-1].outcome == "heard_full" and len(answered) == 2
    if answered[0].outcome == "lost":
        assert not answered[0].counts_as_contact
    assert overlapping(made) == [], "no debtor ever had two live calls"
    assert all(a.state in {"ended", "lost"} for a in made)
    assert sandbox.cli("core show channels count").startswith("0 active channels")


async def test_asterisk_dies_mid_campaign_and_comes_back(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, ["+79125550700", "+79125550710", "+79125550720"])
    name = start_campaign(storage, max_channels=2)
    engine = make_engine_service(settings, storage)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop=stop))
    try:
        await wait_for(lambda: sum(1 for a in attempts(storage) if a.state == "up") == 2, 30, "two calls up")
        pid = sandbox.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # no Hangup events: the two calls just vanish
        await wait_for(lambda: not engine.ami.connected.is_set(), 20, "the engine to notice")
        await asyncio.sleep(1.5)
        status = campaign_status(storage.sessions, storage.organisation_id, name, datetime.now(UTC))
        assert status["reason"] == "ожидание Asterisk (нет связи с AMI)"
        assert status["in_flight"] == 2
        await asyncio.to_thread(sandbox.down)  # what is left in the chroot
        await asyncio.to_thread(sandbox.up)
        await wait_for(
            lambda: sum(1 for a in attempts(storage) if a.outcome == "heard_full") == 3,
            90,
            "every debtor heard",
        )
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
    made = attempts(storage)
    lost = [a for a in made if a.outcome == "lost"]
    assert len(lost) == 2 and not any(a.counts_as_contact for a in lost)
    assert len(made) == 5 and overlapping(made) == []
    assert all(a.state in {"ended", "lost"} for a in made)
    assert engine.ami.reconnects >= 1


SIPP_CASES = {
    "answer-then-bye": ("uas_answer_wait_bye.xml", 3000, "partial", (2.7, 3.5)),
    "486-busy": ("uas_reject.xml", 500, "busy", None),
    "no-answer": ("uas_ring_no_answer.xml", 0, "no_answer", None),
}


@pytest.mark.parametrize("case", list(SIPP_CASES))
async def test_over_a_pjsip_trunk_to_sipp(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path, *, sipp: Any, case: str
) -> None:
    scenario, duration_ms, outcome, heard = SIPP_CASES[case]
    load_debtors(storage, tmp_path, ["+79125550901"])
    process = sipp(scenario, duration_ms)  # listening once it returns
    start_campaign(storage, trunk="sipp", dial_timeout="5s")
    await run_until_idle(make_engine_service(settings, storage), limit=60)
    (attempt,) = attempts(storage)
    sipp_said = f"SIPp: {sipp_errors(process) or 'no unexpected messages'}"
    sipp_said += f"; attempt {attempt.state} {attempt.detail!r}"
    assert (attempt.outcome, attempt.dial_string) == (outcome, "PJSIP/79125550901@sipp"), sipp_said
    if heard is None:
        assert attempt.answered_at is None, sipp_said
    else:
        assert attempt.heard_ms is not None and heard[0] <= attempt.heard_ms / 1000 <= heard[1], sipp_said
    process.wait(10)
    assert process.returncode == 0, f"SIPp did not see the call it expected; {sipp_said}"


async def test_changes_to_a_running_campaign_apply_within_a_second(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, [f"+791255511{i:02d}" for i in range(0, 100, 10)])  # all stay on the line
    name = start_campaign(storage, max_channels=1, calls_per_second=20.0)
    engine = make_engine_service(settings, storage)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop=stop))

    def live() -> int:
        return sum(1 for a in attempts(storage) if a.state in {"dialling", "up"})

    try:
        await wait_for(lambda: live() == 1, 20, "the first call")
        await asyncio.sleep(1.0)
        assert live() == 1, "one channel"
        spec = parse_spec(
            {"name": name, "max_channels": 3, "calls_per_second": 20.0, "dial_timeout": "6s",
             "window": ALWAYS, "retry": NO_RETRIES},
            source="test",
        )  # fmt: skip
        apply_spec(storage.sessions, storage.organisation_id, spec, datetime.now(UTC))
        changed = time.monotonic()
        await wait_for(lambda: live() == 3, 5, "three channels")
        assert time.monotonic() - changed <= 1.2
        set_state(storage.sessions, storage.organisation_id, name, "paused", datetime.now(UTC))
        paused = datetime.now(UTC)
        await asyncio.sleep(1.0)
        placed_before = len(attempts(storage))
        await asyncio.sleep(15.0)  # the three calls end (14 s: message, menu, goodbye); nothing new may start
        assert live() == 0
        assert len(attempts(storage)) == placed_before
        late = [a for a in attempts(storage) if as_utc(a.started_at) > paused + timedelta(seconds=1)]
        assert late == [], "no call started more than 1 s after the pause"
        status = campaign_status(storage.sessions, storage.organisation_id, name, datetime.now(UTC))
        assert (status["state"], status["reason"]) == ("paused", "кампания на паузе")
    finally:
        stop.set()
        await asyncio.wait_for(running, 60)
