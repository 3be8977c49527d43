"""agi_scripts/notify.py (the pyst2 process AGI) as Asterisk runs it: the AGI environment on stdin, one
command per line on stdout, each answered on stdin — here by the test, including what pyst2 itself gets
wrong (an inline ``HANGUP`` line, ``result=-1`` with ``endpos``). The sandbox test runs it inside Asterisk
(tests/asterisk/test_ivr.py); this one shows each step."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from dialer.asterisk_config import AGI_SCRIPT
from dialer.core.ivr_flow import CLOSING
from dialer.core.listen_report import Ending, parse_user_event
from dialer.core.message_plan import DebtorFacts, plan_message

PLAN = plan_message(DebtorFacts("12", Decimal("5.00"), 0))
LENGTH_MS = 1000


class ProcessAgi:
    def __init__(self, tmp_path: Path, facts: str = "12:5.00:0") -> None:
        index = tmp_path / "ru" / "test" / "index.json"
        index.parent.mkdir(parents=True)
        index.write_text(json.dumps({p: {"ms": LENGTH_MS} for p in [*PLAN.prompts(), *CLOSING]}))
        self.process = subprocess.Popen(
            [sys.executable, str(AGI_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "UPRAVDOLG_SOUNDS": str(tmp_path)},
        )
        environment = [
            "agi_request: upravdolg-notify.py",
            "agi_channel: Local/79120000004@upravdolg-sim-00000001;1",
            "agi_language: ru",
            "agi_arg_1: ud-7",
            f"agi_arg_2: {facts}",
            "agi_arg_3: completion=payment&repeats=0&menu=1000&operator=1&folder=test",
        ]
        self.send("\n".join(environment) + "\n\n")

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def command(self) -> list[str]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        return shlex.split(line) if line else []

    def finish(self) -> int:
        code = self.process.wait(10)
        self.close()
        return code

    def close(self) -> None:
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[ProcessAgi]]:
    running: list[ProcessAgi] = []
    yield running
    for agi in running:
        agi.close()


def test_a_hang_up_mid_sentence_with_the_lines_pyst2_cannot_read(
    tmp_path: Path, started: list[ProcessAgi]
) -> None:
    agi = ProcessAgi(tmp_path)
    started.append(agi)
    assert agi.command() == ["STREAM", "FILE", "test/msg/greeting", "120"]
    agi.send(f"200 result=0 endpos={LENGTH_MS * 8}\n")
    assert agi.command()[:3] == ["STREAM", "FILE", "test/org/name"]
    agi.send("HANGUP\n200 result=-1 endpos=3200\n")  # pyst2's own reader raises on both lines
    report_command = agi.command()
    assert report_command[:2] == ["EXEC", "UserEvent"], report_command
    agi.send("200 result=0\n")
    assert agi.finish() == 0
    _name, *items = report_command[2].split(",")
    attempt, report = parse_user_event(dict(item.split(": ", 1) for item in items))
    assert attempt == "ud-7" and report.ended is Ending.HUNG_UP
    assert report.heard_ms == LENGTH_MS + 400  # endpos 3200 samples = 400 ms, kept


def test_a_request_it_cannot_play_is_reported_failed(tmp_path: Path, started: list[ProcessAgi]) -> None:
    agi = ProcessAgi(tmp_path, facts="nonsense")
    started.append(agi)
    verbose = agi.command()
    assert verbose[0] == "VERBOSE" and "expected <account digits>" in verbose[1]
    agi.send("200 result=1\n")
    report_command = agi.command()
    assert report_command[:2] == ["EXEC", "UserEvent"] and "Ended: failed" in report_command[2]
    agi.send("200 result=0\n")
    assert agi.command() == ["HANGUP"]
    agi.send("200 result=1\n")
    assert agi.finish() == 0
