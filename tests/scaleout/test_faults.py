"""Two workers, two Asterisk hosts, one PostgreSQL: the limits hold across the workers, and the campaign
survives a killed worker, a host cut off the network and a PostgreSQL restart (docs/scale-out.md)."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from db.models import CallAttempt
from dialer.bootstrap import Storage
from tests.scaleout.conftest import (
    Watch,
    attempts,
    campaign_done,
    load_debtors,
    queue,
    start_campaign,
    wait_until,
)
from tests.scaleout.topology import AsteriskHost, WorkerProcess

StartWorker = Callable[..., WorkerProcess]
pytestmark = pytest.mark.timeout(300)


def numbers(count: int, digits: str) -> list[str]:
    """Simulated debtors (asterisk_conf/extensions.conf [upravdolg-sim-callee]): the last digit says
    what the debtor does — 0-3 listen to the whole message (10.5 s with the test prompts), 4 hangs up
    after 3 s, 5 after 8 s."""
    return [f"+7912777{i:03d}{digits[i % len(digits)]}" for i in range(count)]


def assert_recorded_once(storage: Storage, debtors: int, *, lost_retried: bool = False) -> list[CallAttempt]:
    """Every debtor called exactly once (no retries are configured; a call recorded ``lost`` is not a
    dialled attempt and is retried, when ``lost_retried``; an Originate Asterisk did not take is no call
    at all) and every call recorded."""
    made = [a for a in attempts(storage) if a.state != "not_placed"]  # Asterisk never took those
    per_debtor = Counter(a.debtor_id for a in made if not (lost_retried and a.outcome == "lost"))
    twice = [
        (a.debtor_id, a.worker, a.server, a.state, a.outcome, a.started_at, a.ended_at)
        for a in made
        if per_debtor[a.debtor_id] > 1
    ]
    assert len(per_debtor) == debtors and set(per_debtor.values()) == {1}, twice
    assert all(a.state in ("ended", "lost") and a.outcome for a in made), [
        (a.id, a.state, a.outcome) for a in made
    ]
    entries = queue(storage)
    assert all(e.attempts >= 1 and e.state != "calling" for e in entries), [
        (e.state, e.attempts) for e in entries
    ]
    if not lost_retried:
        assert all(e.attempts == 1 for e in entries)
    return made


def test_two_workers_share_the_limits_and_both_servers(
    hosts: list[AsteriskHost], storage: Storage, start_worker: StartWorker, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, numbers(24, "0145"))
    start_campaign(storage, max_channels=6, calls_per_second=5.0)
    watch = Watch(storage).start()
    workers = [start_worker("w1", hosts, trunk_channels=4), start_worker("w2", hosts, trunk_channels=4)]
    try:
        wait_until(lambda: campaign_done(storage), 150, "the campaign to finish", workers, storage)
    finally:
        watch.stop()
    for worker in workers:
        assert worker.stop() == 0, worker.text()
        assert "Traceback" not in worker.text(), worker.text()
    assert_recorded_once(storage, 24)
    assert watch.max_live() == 6, "the campaign's channels are used, and never more"
    assert max(watch.max_trunk("ast1-sim"), watch.max_trunk("ast2-sim")) <= 4
    assert all(s.doubled == 0 for s in watch.samples), "a debtor was dialled twice at once"
    made = attempts(storage)
    assert {a.worker for a in made} == {"w1", "w2"}, "both workers dialled"
    assert {a.server for a in made} == {"ast1", "ast2"}, "both servers carried calls"
    assert {a.trunk for a in made} == {"ast1-sim", "ast2-sim"}
    assert Counter(a.outcome for a in made)["heard_full"] == 12


def test_a_killed_workers_calls_are_adopted_and_recorded_once(
    hosts: list[AsteriskHost], storage: Storage, start_worker: StartWorker, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, numbers(30, "0123"))
    start_campaign(storage, max_channels=6, calls_per_second=5.0)
    watch = Watch(storage).start()
    w1, w2 = start_worker("w1", hosts), start_worker("w2", hosts)
    try:
        wait_until(
            lambda: bool(watch.samples) and watch.samples[-1].by_worker.get("w1", 0) >= 2,
            60,
            "w1 to have calls in progress",
            [w1, w2],
        )
        held = {a.id for a in attempts(storage) if a.worker == "w1" and a.state in ("dialling", "up")}
        w1.kill()  # SIGKILL: no drain, no lease given up, its FastAGI sessions gone
        killed_at = time.monotonic()
        wait_until(lambda: campaign_done(storage), 180, "the campaign to finish", [w2], storage)
    finally:
        watch.stop()
    assert w2.stop() == 0, w2.text()
    assert "Traceback" not in w2.text(), w2.text()
    assert_recorded_once(storage, 30)
    assert all(s.doubled == 0 for s in watch.samples), "a debtor was dialled twice at once"
    assert watch.max_live() <= 6
    assert watch.max_live(since=killed_at + 10) == 6, "the survivor fills the campaign's channels"
    made = {a.id: a for a in attempts(storage)}
    adopted = [made[i] for i in held]
    assert all(a.worker == "w2" for a in adopted), "the dead worker's calls belong to the survivor"
    # They ended while nobody owned them or after: the shadow book or the channels tell how, not `lost`.
    assert all(a.outcome != "lost" and a.ended_at is not None for a in adopted), [
        (a.id, a.outcome) for a in adopted
    ]
    assert f"worker w1 stopped renewing its lease: {len(held)} live call(s) adopted" in w2.text()


def test_a_host_cut_off_fails_over_and_its_calls_are_reconciled(
    hosts: list[AsteriskHost], storage: Storage, start_worker: StartWorker, tmp_path: Path
) -> None:
    ast2 = hosts[1]
    load_debtors(storage, tmp_path, numbers(30, "0123"))
    start_campaign(storage, max_channels=6, calls_per_second=5.0)
    watch = Watch(storage).start()
    workers = [start_worker("w1", hosts), start_worker("w2", hosts)]
    try:
        wait_until(
            lambda: bool(watch.samples) and watch.samples[-1].by_trunk.get("ast2-sim", 0) >= 2,
            60,
            "calls on ast2",
            workers,
        )
        on_ast2 = {a.id for a in attempts(storage) if a.server == "ast2" and a.state in ("dialling", "up")}
        ast2.cut()
        cut_at, cut_wall = time.monotonic(), time.time()
        time.sleep(20)
        # AMI liveness (ping 1 s + timeout 1 s here) notices within seconds; from then on only ast1 dials
        placed_during_cut = [a for a in attempts(storage) if a.started_at.timestamp() > cut_wall + 4]
        ast2.restore()
        wait_until(lambda: campaign_done(storage), 180, "the campaign to finish", workers, storage)
    finally:
        watch.stop()
    for worker in workers:
        assert worker.stop() == 0, worker.text()
    made_all = assert_recorded_once(storage, 30, lost_retried=True)
    lost = [a for a in made_all if a.outcome == "lost"]
    assert {a.id for a in lost} <= on_ast2, "only calls of the host cut off may be lost"
    assert placed_during_cut, "the campaign never stalls: calls were placed while ast2 was away"
    assert {a.server for a in placed_during_cut} == {"ast1"}, "new calls go to the other server"
    assert any("AMI of ast2 lost" in w.text() for w in workers)
    made = {a.id: a for a in attempts(storage)}
    assert all(made[i].state in ("ended", "lost") for i in on_ast2), "ast2's calls reconciled on its return"
    assert watch.max_live(since=cut_at + 5) <= 6


def test_a_postgresql_restart_pauses_claims_and_loses_no_outcome(
    hosts: list[AsteriskHost], storage: Storage, start_worker: StartWorker, tmp_path: Path
) -> None:
    load_debtors(storage, tmp_path, numbers(24, "0123"))
    start_campaign(storage, max_channels=6, calls_per_second=5.0)
    watch = Watch(storage).start()
    workers = [start_worker("w1", hosts), start_worker("w2", hosts)]
    try:
        wait_until(
            lambda: bool(watch.samples) and watch.samples[-1].live >= 4, 60, "calls in progress", workers
        )
        live_before = {a.id for a in attempts(storage) if a.state in ("dialling", "up")}
        restarted = subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *_cluster(), "restart"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        assert restarted.returncode == 0, restarted.stderr
        wait_until(lambda: campaign_done(storage), 180, "the campaign to finish", workers, storage)
    finally:
        watch.stop()
    for worker in workers:
        assert worker.stop() == 0, worker.text()
        assert "Traceback" not in worker.text(), worker.text()
    assert_recorded_once(storage, 24)
    made = {a.id: a for a in attempts(storage)}
    assert all(made[i].outcome != "lost" for i in live_before), "calls live across the restart were recorded"
    assert any("database unavailable" in w.text() for w in workers), "the outage was seen"
    assert watch.errors > 0, "the database really went away"
    assert all(s.doubled == 0 for s in watch.samples)


def _cluster() -> list[str]:
    """The one PostgreSQL cluster of this machine (version, name), as pg_lsclusters lists it."""
    listed = subprocess.run(
        ["pg_lsclusters", "-h"], capture_output=True, text=True, check=True
    ).stdout.split()
    return listed[:2]
