"""The real Asterisk 22 sandbox for telephony tests (make test brings it up first; we make sure)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dialer.sandbox import Sandbox
from dialer.settings import Settings, load_settings

SIPP_SCENARIOS = Path(__file__).resolve().parents[3] / "shared" / "sipp"


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
def sipp() -> Iterator[object]:
    """Start SIPp UAS scenarios from ../shared/sipp on 127.0.0.1:5070; stopped after the test."""
    binary = shutil.which("sipp")
    if binary is None:
        pytest.fail("sipp is not installed (make test installs Debian's sip-tester)")
    started: list[subprocess.Popen[bytes]] = []

    def start(scenario: str, duration_ms: int, calls: int = 1) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                binary,
                "-sf",
                str(SIPP_SCENARIOS / scenario),
                "-i",
                "127.0.0.1",
                "-p",
                "5070",
                "-d",
                str(duration_ms),
                "-m",
                str(calls),
                "-nostdin",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/tmp",
        )
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
