"""The real Asterisk 22 sandbox for telephony tests (make test brings it up first; we make sure)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dialer.asterisk_config import install_sounds
from dialer.sandbox import Sandbox
from dialer.settings import Settings, load_settings
from sounds.tones import write_tone_prompts
from tests.sipp_uas import SippMissingError, start_uas

SHORT_FOLDER = "upravdolg-test"
SHORT_PROMPT_MS = 700  # the test debtors' 15-prompt message: 10.5 s


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


@pytest.fixture(scope="session")
def short_prompts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build folder of short test prompts (SHORT_PROMPT_MS of a tone each, every id of the manifest) in
    the sound folder SHORT_FOLDER: the engine's tests hear a ~10 s message instead of the real minute."""
    root = tmp_path_factory.mktemp("short-prompts")
    write_tone_prompts(root / "build", SHORT_FOLDER, SHORT_PROMPT_MS)
    return root


@pytest.fixture
def sandbox(sandbox_settings: Settings, short_prompts: Path) -> Sandbox:
    """The sandbox, running (idempotent `up`: a reload when it already runs), with the real prompts and
    the short test prompts installed."""
    if os.geteuid() != 0:
        pytest.fail("telephony tests need root to run the Asterisk sandbox (make test runs as root)")
    box = Sandbox(sandbox_settings)
    box.up()
    install_sounds(box.root / "usr/share/asterisk/sounds", short_prompts, SHORT_FOLDER, chroot=box.root)
    return box


@pytest.fixture
def settings(settings: Settings, short_prompts: Path) -> Settings:
    """Telephony tests play the short prompts unless a test asks for the real ones (real_prompts)."""
    ivr = settings.ivr.model_copy(
        update={
            "sound_folder": SHORT_FOLDER,
            "sounds_build": str(short_prompts / "build"),
            "menu_timeout": 1.0,
        }
    )
    return settings.model_copy(update={"ivr": ivr})


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
