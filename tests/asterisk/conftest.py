"""The real Asterisk 22 sandbox for telephony tests (make test brings it up first; we make sure)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dialer.sandbox import Sandbox
from dialer.settings import Settings, load_settings
from tests.sipp_uas import SippMissingError, start_uas


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.asterisk)


@pytest.fixture(scope="session")
def sandbox_settings() -> Settings:
    return load_settings(
        environ={k: v for k, v in os.environ.items() if not k.startswith("UPRAVDOLG_DATABASE")}
    )


@pytest.fixture
def sandbox(sandbox_settings: Settings) -> Sandbox:
    """The sandbox, running (idempotent `up`: a reload when it already runs)."""
    if os.geteuid() != 0:
        pytest.fail("telephony tests need root to run the Asterisk sandbox (make test runs as root)")
    box = Sandbox(sandbox_settings)
    box.up()
    return box


@pytest.fixture
def sipp() -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start SIPp UAS scenarios (tests/sipp_uas.py); every one still running is stopped after the test."""
    started: list[subprocess.Popen[bytes]] = []

    def start(scenario: str, duration_ms: int, calls: int = 1) -> subprocess.Popen[bytes]:
        try:
            process = start_uas(scenario, duration_ms, calls)
        except SippMissingError as exc:
            pytest.fail(str(exc))
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
