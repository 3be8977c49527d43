"""Scale-out benchmark (issue "Scale-out", item 4; docs/scale-out.md).

* Throughput when trunk capacity is the limit: the same campaign (debtors who answer and hang up after
  3 s, the campaign allowing twice a trunk's channels) run by 1 worker over 1 Asterisk host, then by
  2 workers over 2 hosts (tests/scaleout/topology.py: hosts on network namespaces). Calls ended per second
  in a steady window; target: 2 × 2 ≥ 1.8 × the 1 × 1 figure.
* Global max_channels overshoot: the campaign's live calls sampled from the shared database every 50 ms
  in the 2 × 2 run (and each trunk's); target 0.
* Claim latency under contention: p95 of the claim transaction (row locks included) as the workers report
  it (``upravdolg_claim_seconds_recent``), and with 8 claimers hammering one campaign directly (no
  Asterisk: each claim is finished at once), with the live calls sampled for overshoot.

Needs root (namespaces, the Asterisk chroot) and PostgreSQL; ``UPRAVDOLG_BENCH_WINDOW`` sets the window.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from db.models import CallAttempt
from dialer.asterisk_config import install_sounds
from dialer.bootstrap import Storage, make_campaign_store, open_storage
from dialer.campaign_store import Nothing
from dialer.core.call_state import Call, CallState
from dialer.core.retry_policy import AttemptOutcome
from dialer.sandbox import Sandbox
from dialer.settings import Settings, load_settings
from sounds.tones import write_tone_prompts
from tests.asterisk.conftest import SHORT_FOLDER, SHORT_PROMPT_MS
from tests.conftest import _postgres_database
from tests.scaleout.conftest import Watch, load_debtors, start_campaign
from tests.scaleout.topology import AsteriskHost, WorkerProcess, build_hosts, launch_worker

WINDOW = float(os.environ.get("UPRAVDOLG_BENCH_WINDOW", "40"))
TRUNK_CHANNELS = 5
CLAIMERS = 8


@contextmanager
def _database(folder: Path, build: Path) -> Iterator[tuple[Settings, Storage]]:
    for url in _postgres_database():
        settings = load_settings(
            environ={
                "UPRAVDOLG_DATABASE_URL": url,
                "UPRAVDOLG_IVR_SOUND_FOLDER": SHORT_FOLDER,
                "UPRAVDOLG_IVR_SOUNDS_BUILD": str(build),
                "UPRAVDOLG_IVR_MENU_TIMEOUT": "1.0",
            }
        )
        with open_storage(settings) as storage:
            yield settings, storage


def _quantile(worker: WorkerProcess, quantile: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{worker.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(rf'^upravdolg_claim_seconds_recent{{quantile="{quantile}"}} (\S+)$', text, re.M)
    return float(found.group(1)) if found else float("nan")


def _throughput(
    layout: list[list[AsteriskHost]], secret: str, folder: Path, build: Path
) -> tuple[float, int, int, float]:
    """(calls ended per second in the window, campaign overshoot, trunk overshoot, worst claim p95 s)."""
    max_channels = 2 * TRUNK_CHANNELS
    with _database(folder, build) as (settings, storage):
        load_debtors(storage, folder, [f"+7912888{i:03d}4" for i in range(600)])
        start_campaign(storage, max_channels=max_channels, calls_per_second=20.0, dial_timeout="8s")
        watch = Watch(storage, every=0.05).start()
        workers = [
            launch_worker(
                f"b{n}", hosts, settings=settings, secret=secret, folder=folder, trunk_channels=TRUNK_CHANNELS
            )
            for n, hosts in enumerate(layout, start=1)
        ]
        try:
            time.sleep(8)  # every channel busy: the steady state
            started = datetime.now(UTC)
            time.sleep(WINDOW)
            ended = datetime.now(UTC)
            p95 = max(_quantile(w, "0.95") for w in workers)
        finally:
            for worker in workers:
                worker.stop()
            watch.stop()
        with storage.sessions() as session:
            calls = session.scalar(
                select(func.count()).where(CallAttempt.ended_at >= started, CallAttempt.ended_at < ended)
            )
        trunk_peak = max((max(s.by_trunk.values(), default=0) for s in watch.samples), default=0)
        return (
            (calls or 0) / (ended - started).total_seconds(),
            max(0, watch.max_live() - max_channels),
            max(0, trunk_peak - TRUNK_CHANNELS),
            p95,
        )


def _contention(folder: Path, build: Path) -> tuple[float, float, int, float]:
    """(claim p50 s, claim p95 s, campaign overshoot, claims per second) with CLAIMERS threads."""
    max_channels = 4
    with _database(folder, build) as (settings, storage):
        load_debtors(storage, folder, [f"+791299{i:05d}" for i in range(20_000)])
        start_campaign(storage, max_channels=max_channels, calls_per_second=200.0)
        setup = make_campaign_store(settings, storage)
        (campaign,) = setup.running()
        setup.select_debtors(campaign.id, campaign.spec, datetime.now(UTC))
        setup.release()
        durations: list[float] = []
        lock = threading.Lock()
        stop = threading.Event()

        def claimer(index: int) -> None:
            store = make_campaign_store(settings, storage)
            store.worker = f"c{index}"
            own: list[float] = []
            while not stop.is_set():
                began = time.perf_counter()
                ticket = store.claim(campaign, datetime.now(UTC))
                own.append(time.perf_counter() - began)
                if isinstance(ticket, Nothing):
                    continue
                now = time.time()
                call = Call(
                    ticket.attempt_id,
                    state=CallState.ENDED,
                    channel_seen=True,
                    originate_success=True,
                    ended_at=now,
                    hangup_cause=19,
                )
                store.finish(ticket.attempt_id, call, AttemptOutcome.NO_ANSWER, None,
                             now=datetime.now(UTC), spec=campaign.spec)  # fmt: skip
            store.release()
            with lock:
                durations.extend(own)

        watch = Watch(storage, every=0.01).start()
        threads = [threading.Thread(target=claimer, args=(i,)) for i in range(CLAIMERS)]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(10)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        watch.stop()
        ordered = sorted(durations)
        return (
            ordered[len(ordered) // 2],
            ordered[int(len(ordered) * 0.95)],
            max(0, watch.max_live() - max_channels),
            len(ordered) / elapsed,
        )


def run() -> dict[str, float]:
    settings = load_settings(
        environ={k: v for k, v in os.environ.items() if not k.startswith("UPRAVDOLG_DATABASE")}
    )
    box = Sandbox(settings)
    box.up()
    with tempfile.TemporaryDirectory(prefix="upravdolg-bench-scaleout-") as name:
        folder = Path(name)
        build = folder / "prompts" / "build"
        write_tone_prompts(build, SHORT_FOLDER, SHORT_PROMPT_MS)
        install_sounds(box.root / "usr/share/asterisk/sounds", build.parent, SHORT_FOLDER, chroot=box.root)
        secret = box.ensure_secret()
        hosts = build_hosts(box, secret, ["ast1", "ast2"])
        try:
            one, _, _, _ = _throughput([[hosts[0]]], secret, folder, build)
            two, overshoot, trunk_overshoot, worker_p95 = _throughput([hosts, hosts], secret, folder, build)
        finally:
            for host in hosts:
                host.down()
        p50, p95, claim_overshoot, rate = _contention(folder, build)
    return {
        "calls_per_s_1x1": one,
        "calls_per_s_2x2": two,
        "speedup_2x2_vs_1x1": two / one if one else float("nan"),
        "max_channels_overshoot": float(overshoot),
        "trunk_overshoot": float(trunk_overshoot),
        "claim_p95_ms_workers_2x2": worker_p95 * 1000,
        f"claim_p50_ms_{CLAIMERS}_claimers": p50 * 1000,
        f"claim_p95_ms_{CLAIMERS}_claimers": p95 * 1000,
        f"claims_per_s_{CLAIMERS}_claimers": rate,
        "overshoot_under_contention": float(claim_overshoot),
    }
