"""AMI event handling cost: our codec + call tracker over the transcript captured from our sandbox.

Sizing input for AMI event load (events per second one dialer process can follow). Replays
tests/fixtures/ami/sim-all-digits.ami (10 calls, ~100 events) many times with fresh call ids.
"""

from __future__ import annotations

import time
from pathlib import Path

from dialer.core.ami_codec import AmiDecoder
from dialer.core.call_tracker import CallTracker

TRANSCRIPT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "ami" / "sim-all-digits.ami"
ROUNDS = 300


def run() -> dict[str, float]:
    data = TRANSCRIPT.read_bytes()
    banner, _, body = data.partition(b"\r\n")
    events = 0
    settled = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    for round_no in range(ROUNDS):
        # Fresh ids each round, so the tracker follows 10 new calls every time.
        stream = body.replace(b"sim-", f"r{round_no}-".encode())
        decoder = AmiDecoder()
        tracker = CallTracker()
        for digit in range(10):
            tracker.track(f"r{round_no}-{digit}")
        messages = decoder.feed(banner + b"\r\n" + stream)
        for message in messages:
            update = tracker.feed(message, 0.0)
            settled += 1 if update is not None and update.settled else 0
        events += len(messages)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    if settled != ROUNDS * 10:
        raise RuntimeError(f"expected {ROUNDS * 10} settled calls, got {settled}")
    return {
        "events": events,
        "calls": settled,
        "events_per_second": events / wall,
        "cpu_us_per_event": cpu / events * 1e6,
        "cpu_ms_per_call": cpu / settled * 1e3,
    }
