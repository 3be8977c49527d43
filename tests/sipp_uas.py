"""Start SIPp as a simulated debtor (UAS) on 127.0.0.1:5070 with a scenario from ../shared/sipp/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SIPP_SCENARIOS = Path(__file__).resolve().parents[2] / "shared" / "sipp"
OUR_SCENARIOS = Path(__file__).resolve().parent / "fixtures" / "sipp"  # e.g. uas_ring_no_answer.xml
SIPP_PORT = 5070


class SippMissingError(RuntimeError):
    """sipp is not installed (Debian package sip-tester; make test installs it)."""


def start_uas(scenario: str, duration_ms: int, calls: int = 1) -> subprocess.Popen[bytes]:
    """Run ``scenario`` for ``calls`` calls; ``-d`` sets how long it rings or talks before acting."""
    binary = shutil.which("sipp")
    if binary is None:
        raise SippMissingError(SippMissingError.__doc__)
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
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd="/tmp")
