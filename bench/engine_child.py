"""One measured run of the campaign engine against the sandbox, in its own process (its own CPU and RSS).

    python -m bench.engine_child channels|rate|soak|ivr DATABASE_URL COUNT

The parent loads the debtors first (its own process: the engine's never imports the registry import).

* ``channels``: debtors whose simulated callee answers and hangs up after 3 s; 10 channels, a rate
  that never binds. The share of busy channels comes from the attempts' times after the run (nothing
  samples inside the engine's process); the parent watches Asterisk's own channel list for overshoot.
* ``rate``: debtors whose callee is congested at once; 50 channels, 5 calls/s. The achieved rate
  comes from the attempts' start times.
* ``soak``: the database already holds the debtors (e.g. a million); the engine selects them all and calls
  at 10 calls/s on 10 channels for 20 s, then stops. Reports peak RSS.

* ``ivr``: debtors who stay on the line and hear the whole conversation (message, menu, menu again,
  goodbye) with the IVR settings the parent gives in the environment (``UPRAVDOLG_IVR_*``: the transport,
  short tone prompts); 10 channels. Reports the engine's CPU per call.

Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bench.measure import peak_rss_mb
from db.models import CallAttempt
from dialer.bootstrap import Storage, make_engine_service, open_storage
from dialer.campaign_spec import parse_spec
from dialer.campaigns import apply_spec, set_state
from dialer.engine import Engine
from dialer.service_loop import run_service
from dialer.settings import Settings, load_settings

ALWAYS = {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"}
SOAK_SECONDS = 20.0


def _campaign(storage: Storage, **fields: Any) -> None:
    spec = parse_spec(
        {"name": "bench", "trunk": "sim", "dial_timeout": "6s", "window": ALWAYS,
         "retry": {"busy": [], "no_answer": [], "congestion": [], "partial": []}, **fields},
        source="bench",
    )  # fmt: skip
    apply_spec(storage.sessions, storage.organisation_id, spec, datetime.now(UTC))
    set_state(storage.sessions, storage.organisation_id, "bench", "running", datetime.now(UTC))


async def _channels(settings: Settings, storage: Storage, count: int) -> dict[str, float]:
    _campaign(storage, max_channels=10, calls_per_second=100.0)
    engine = make_engine_service(settings, storage)
    cpu, wall, main_cpu = time.process_time(), time.monotonic(), time.thread_time()
    await engine.run(until_idle=True)
    cpu, wall, main_cpu = time.process_time() - cpu, time.monotonic() - wall, time.thread_time() - main_cpu
    calls = engine.metrics.placed
    return {
        "calls": calls,
        "seconds": wall,
        "busy_share": _busy_share(storage, 10),
        "engine_peak_calls": engine.metrics.max_in_flight,
        "cpu_ms_per_call": cpu * 1000 / max(1, calls),
        "main_thread_cpu_ms_per_call": main_cpu * 1000 / max(1, calls),
        "refill_p50_ms": engine.metrics.refill_latency.percentile(0.5) * 1000,
        "refill_p95_ms": engine.metrics.refill_latency.percentile(0.95) * 1000,
        "originate_p95_ms": engine.metrics.originate_latency.percentile(0.95) * 1000,
        "peak_rss_mb": peak_rss_mb(),
    }


def _busy_share(storage: Storage, channels: int) -> float:
    """Calls in progress while work was due, as a share of the channels, from the attempts themselves
    (no sampler running in the engine's process): the time-weighted number of calls up between the first
    Originate and the last one (after it the queue is empty and channels only drain)."""
    with storage.sessions() as session:
        spans = [
            (_epoch(start), _epoch(end))
            for start, end in session.execute(select(CallAttempt.started_at, CallAttempt.ended_at))
            if end is not None
        ]
    if len(spans) < 2:
        return 0.0
    first, last = min(s for s, _ in spans), max(s for s, _ in spans)
    busy = sum(max(0.0, min(end, last) - max(start, first)) for start, end in spans)
    return busy / ((last - first) * channels)


def _epoch(value: datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


async def _until_idle(settings: Settings, storage: Storage, **campaign: Any) -> tuple[Engine, float]:
    """Run a campaign until the engine is idle; the engine and the CPU seconds its process used."""
    _campaign(storage, **campaign)
    engine = make_engine_service(settings, storage)
    cpu = time.process_time()
    await engine.run(until_idle=True)
    return engine, time.process_time() - cpu


async def _rate(settings: Settings, storage: Storage, count: int) -> dict[str, float]:
    _engine, cpu = await _until_idle(settings, storage, max_channels=50, calls_per_second=5.0)
    with storage.sessions() as session:
        starts = sorted(t.timestamp() for t in session.scalars(select(CallAttempt.started_at)))
    span = starts[-1] - starts[0] if len(starts) > 1 else float("nan")
    return {
        "calls": len(starts),
        "achieved_cps": (len(starts) - 1) / span,
        "cpu_ms_per_call": cpu * 1000 / max(1, len(starts)),
        "peak_rss_mb": peak_rss_mb(),
    }


async def _soak(settings: Settings, storage: Storage) -> dict[str, float]:
    _campaign(storage, max_channels=10, calls_per_second=10.0)
    engine = make_engine_service(settings, storage)
    stop = asyncio.Event()
    running = asyncio.create_task(engine.run(stop=stop))
    started = time.monotonic()
    for _ in range(int(SOAK_SECONDS * 10)):  # selecting a million debtors takes a while
        if engine.metrics.placed > 0:
            break
        await asyncio.sleep(0.1)
    first_call = time.monotonic() - started
    await asyncio.sleep(SOAK_SECONDS)
    stop.set()
    await asyncio.wait_for(running, 120)
    return {"calls": engine.metrics.placed, "first_call_s": first_call, "peak_rss_mb": peak_rss_mb()}


async def _ivr(settings: Settings, storage: Storage) -> dict[str, float]:
    engine, cpu = await _until_idle(settings, storage, max_channels=10, calls_per_second=100.0)
    with storage.sessions() as session:
        complete = session.scalar(
            select(func.count()).select_from(CallAttempt).where(CallAttempt.outcome == "heard_full")
        )
    return {
        "calls": engine.metrics.placed,
        "heard_full": complete or 0,
        "fastagi_sessions": engine.agi.sessions,
        "cpu_ms_per_call": cpu * 1000 / max(1, engine.metrics.placed),
    }


def main(scenario: str, url: str, count: int) -> dict[str, float]:
    ivr = {k: v for k, v in os.environ.items() if k.startswith("UPRAVDOLG_IVR_")}
    settings = load_settings(environ={"UPRAVDOLG_DATABASE_URL": url, "UPRAVDOLG_LOG_LEVEL": "WARNING", **ivr})
    with open_storage(settings) as storage:
        if scenario == "ivr":
            return run_service(_ivr(settings, storage))
        if scenario == "channels":
            return run_service(_channels(settings, storage, count))
        if scenario == "rate":
            return run_service(_rate(settings, storage, count))
        return run_service(_soak(settings, storage))


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))) + "\n")
