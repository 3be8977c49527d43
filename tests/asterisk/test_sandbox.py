"""The sandbox boots clean, is idempotent, fast on a warm cache, and leaves nothing behind."""

from __future__ import annotations

import re
import subprocess
import sys
import time

from dialer.sandbox import MESSAGES_LOG, Sandbox

CLI = [sys.executable, "-m", "dialer"]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--set", "log.level=WARNING", *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_a_clean_boot_logs_zero_error_lines(sandbox: Sandbox) -> None:
    sandbox.down()
    assert sandbox.chroot_pids() == []
    sandbox.up()
    log = (sandbox.root / MESSAGES_LOG).read_text()
    assert "modules will be loaded" in log, "messages.log must hold this boot"
    errors = [line for line in log.splitlines() if re.search(r"\bERROR\[", line)]
    assert errors == []
    modules = sandbox.cli("module show like pjsip")
    assert "chan_pjsip.so" in modules


def test_up_is_idempotent_and_fast_and_down_then_status_says_stopped(sandbox: Sandbox) -> None:
    started = time.monotonic()
    again = cli("asterisk", "up")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stdout
    assert time.monotonic() - started < 15

    down = cli("asterisk", "down")
    assert down.returncode == 0, down.stderr
    assert sandbox.chroot_pids() == [], "down leaves no process behind"
    status = cli("asterisk", "status")
    assert status.returncode == 3
    assert "stopped" in status.stdout

    started = time.monotonic()
    up = cli("asterisk", "up")
    assert up.returncode == 0, up.stderr
    assert time.monotonic() - started < 15, "a warm-cache start takes seconds"
    status = cli("asterisk", "status")
    assert status.returncode == 0
    assert "AMI at 127.0.0.1:5038 answers" in status.stdout


def test_down_twice_is_fine(sandbox: Sandbox) -> None:
    assert "stopped" in sandbox.down()
    assert sandbox.down() == "Asterisk sandbox is already stopped"
    sandbox.up()
    assert sandbox.pid() is not None
