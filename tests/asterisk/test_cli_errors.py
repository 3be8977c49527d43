"""Bad input gives one clear line (no traceback) and a non-zero exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dialer.cli import main
from dialer.sandbox import Sandbox


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "dialer", "--set", "log.level=ERROR", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=full_env,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("upravdolg: error: ")
    return lines[0]


def test_wrong_ami_secret(sandbox: Sandbox) -> None:
    result = run("probe", "+79120000001", env={"UPRAVDOLG_AMI_SECRET": "definitely-wrong"})
    assert result.returncode == 6
    line = one_clear_line(result)
    assert "refused the AMI login" in line and "Authentication failed" in line
    assert "UPRAVDOLG_AMI_SECRET" in line, "says how to fix it"
    assert "definitely-wrong" not in line, "never print the secret"


def test_asterisk_not_running() -> None:
    result = run("--set", "ami.port=5999", "probe", "+79120000001")
    assert result.returncode == 5
    line = one_clear_line(result)
    assert "cannot connect to AMI at 127.0.0.1:5999" in line
    assert "upravdolg asterisk up" in line


def test_missing_chroot(tmp_path: Path) -> None:
    result = run("--set", f"sandbox.cache_dir={tmp_path}", "asterisk", "status")
    assert result.returncode == 3
    assert f"not built (no chroot in {tmp_path}/chroot)" in result.stdout
    assert "upravdolg asterisk up" in result.stdout
    logs = run("--set", f"sandbox.cache_dir={tmp_path}", "asterisk", "logs")
    assert logs.returncode == 4
    assert "no sandbox chroot" in one_clear_line(logs)


def test_missing_secret_file(tmp_path: Path) -> None:
    result = run(
        "--set", f"ami.secret_file={tmp_path}/none", "probe", "+79120000001", env={"UPRAVDOLG_AMI_SECRET": ""}
    )
    assert result.returncode == 2
    assert "does not exist" in one_clear_line(result)


def test_not_root(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert main(["asterisk", "up"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("upravdolg: error: `upravdolg asterisk up` needs root")
    assert err.count("\n") == 1


def test_bad_setting_names_the_key() -> None:
    result = run("--set", "ami.port=notaport", "config", "show")
    assert result.returncode == 2
    assert "ami.port" in one_clear_line(result)


@pytest.mark.parametrize(
    "command",
    [[], ["asterisk"], ["db"], ["import", "debtors"], ["probe"], ["demo"], ["config"], ["campaign"], ["run"]],
)
def test_every_command_explains_itself(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dialer", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert "usage: upravdolg" in result.stdout


def test_a_taken_fastagi_port_is_one_clear_line(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            "--database-url",
            f"sqlite:///{tmp_path / 'u.db'}",
            "--set",
            f"agi.listen_port={port}",
            "run",
            "--until-idle",
        )
    assert result.returncode == 9
    assert f"cannot listen for FastAGI on 127.0.0.1:{port}" in one_clear_line(result)


def test_campaign_mistakes_are_one_clear_line(tmp_path: Path) -> None:
    database = ["--database-url", f"sqlite:///{tmp_path / 'u.db'}"]
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "Ноябрь"\nmax_channels = 0\n', encoding="utf-8")
    result = run(*database, "campaign", "apply", str(bad))
    assert result.returncode == 11
    assert "max_channels: Input should be greater than or equal to 1 (got 0)" in one_clear_line(result)
    result = run(*database, "campaign", "status", "Нет такой")
    assert result.returncode == 11
    assert "no campaign named 'Нет такой'" in one_clear_line(result)
    good = tmp_path / "good.toml"
    good.write_text('name = "Ноябрь"\n', encoding="utf-8")
    assert run(*database, "campaign", "apply", str(good)).returncode == 0
    result = run(*database, "campaign", "pause", "Ноябрь")
    assert result.returncode == 11
    assert "is stopped; start it first" in one_clear_line(result)
