"""The bulk writer thread: one write at a time, errors surface, leaving always waits."""

from __future__ import annotations

import threading
import time

import pytest

from db.bulk import BackgroundWriter


def test_writes_run_in_order_on_another_thread_one_at_a_time() -> None:
    done: list[int] = []
    threads: set[str] = set()
    running = threading.Lock()

    def write(n: int) -> None:
        assert running.acquire(blocking=False), "two writes at once"
        try:
            time.sleep(0.01)
            threads.add(threading.current_thread().name)
            done.append(n)
        finally:
            running.release()

    with BackgroundWriter(enabled=True) as writer:
        for n in range(5):
            writer.run(write, n)
    assert done == [0, 1, 2, 3, 4]
    assert threads and threading.current_thread().name not in threads


def test_a_failed_write_surfaces_at_the_next_run() -> None:
    def fail() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"), BackgroundWriter(enabled=True) as writer:
        writer.run(fail)
        time.sleep(0.05)
        writer.run(lambda: None)


def test_leaving_on_an_error_waits_for_the_pending_write_and_keeps_the_error() -> None:
    finished = threading.Event()

    def slow() -> None:
        time.sleep(0.1)
        finished.set()

    with pytest.raises(KeyError), BackgroundWriter(enabled=True) as writer:
        writer.run(slow)
        raise KeyError("parse failed")
    assert finished.is_set(), "the transaction must not end under a running write"


def test_disabled_runs_inline() -> None:
    seen: list[str] = []
    with BackgroundWriter(enabled=False) as writer:
        writer.run(lambda: seen.append(threading.current_thread().name))
    assert seen == [threading.current_thread().name]
