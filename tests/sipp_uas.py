"""Start SIPp as a simulated debtor (UAS) on 127.0.0.1:5070 with a scenario from ../shared/sipp/."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SIPP_SCENARIOS = Path(__file__).resolve().parents[2] / "shared" / "sipp"
OUR_SCENARIOS = Path(__file__).resolve().parent / "fixtures" / "sipp"  # e.g. uas_ring_no_answer.xml
SIPP_PORT = 5070


class SippMissingError(RuntimeError):
    """sipp is not installed (Debian package sip-tester; make test installs it)."""


class SippStartError(RuntimeError):
    """SIPp could not take its port, or exited at once."""


def port_taken(port: int = SIPP_PORT) -> bool:
    """Whether some process holds UDP 127.0.0.1:``port`` (a SIPp still running, or ours listening)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        return True
    finally:
        probe.close()
    return False


def _wait(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def start_uas(scenario: str, duration_ms: int, calls: int = 1) -> subprocess.Popen[bytes]:
    """Run ``scenario`` for ``calls`` calls; ``-d`` sets how long it rings or talks before acting.

    Returns once SIPp listens on its port: a call placed right after reaches this SIPp, never an earlier
    one still finishing (that one is waited for first) and never a closed port. SIPp's unexpected
    messages go to ``process.error_file`` (``-trace_err``)."""
    binary = shutil.which("sipp")
    if binary is None:
        raise SippMissingError(SippMissingError.__doc__)
    if not _wait(lambda: not port_taken(), 10.0):
        raise SippStartError(f"UDP port {SIPP_PORT} is still taken after 10 s (a SIPp left running?)")
    error_file = Path(tempfile.mkstemp(prefix="sipp-", suffix=".err")[1])
    command = [
        binary,
        "-sf",
        str(OUR_SCENARIOS / scenario if (OUR_SCENARIOS / scenario).exists() else SIPP_SCENARIOS / scenario),
        "-i",
        "127.0.0.1",
        "-p",
        str(SIPP_PORT),
        "-d",
        str(duration_ms),
        "-m",
        str(calls),
        "-nostdin",
        "-trace_err",
        "-error_file",
        str(error_file),
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
    process.error_file = error_file  # type: ignore[attr-defined]
    if not _wait(lambda: port_taken() or process.poll() is not None, 10.0) or process.poll() is not None:
        process.kill()
        raise SippStartError(f"SIPp did not start listening on {SIPP_PORT}: {sipp_errors(process)}")
    return process


def sipp_errors(process: subprocess.Popen[bytes]) -> str:
    """What SIPp reported as unexpected (its -trace_err file), for a failing test's message."""
    path: Path | None = getattr(process, "error_file", None)
    try:
        return path.read_text(errors="replace")[-2000:] if path else ""
    except OSError:
        return ""
