"""The dashboard in Debian's headless Chromium: a real `upravdolg dashboard` process over a fresh SQLite
database, driven with Playwright; a screenshot after every step (and on failure) goes to the artifacts
folder (UPRAVDOLG_TEST_ARTIFACTS, default tests/browser/artifacts/<test name>/)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator, Sequence
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dialer.settings import Settings
from tests.asterisk import conftest as asterisk_fixtures

# The Asterisk tests' fixtures, offered here too (a conftest of a subfolder may not use pytest_plugins):
# `settings` plays the short test prompts, `sandbox` is the running Asterisk.
sandbox_settings = asterisk_fixtures.sandbox_settings
short_prompts = asterisk_fixtures.short_prompts
sandbox = asterisk_fixtures.sandbox
settings = asterisk_fixtures.settings

CHROMIUM = "/usr/bin/chromium"  # Debian's package; Playwright never downloads a browser here
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
ARTIFACTS_ENV = "UPRAVDOLG_TEST_ARTIFACTS"
SUPERVISOR = "boss"
PASSWORD = "boss-password-1"
UI_TIMEOUT_MS = 20_000


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test item, so fixtures know in teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """These tests run on a fresh SQLite file only (the root conftest also offers PostgreSQL)."""
    return f"sqlite:///{tmp_path / 'upravdolg.db'}"


def environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a child process (CLI, engine, dashboard) the test's settings."""
    return {
        **os.environ,
        "UPRAVDOLG_DATABASE_URL": settings.database.url,
        "UPRAVDOLG_IVR_SOUND_FOLDER": settings.ivr.sound_folder,
        "UPRAVDOLG_IVR_SOUNDS_BUILD": settings.ivr.sounds_build,
        "UPRAVDOLG_IVR_MENU_TIMEOUT": str(settings.ivr.menu_timeout),
        "UPRAVDOLG_ENGINE_METRICS_PORT": "0",  # no /metrics: the port may be taken by another engine
        "UPRAVDOLG_API_PORT": "0",  # `upravdolg run` without its API, for the same reason
    }


def upravdolg(settings: Settings, cwd: Path, *args: str, extra: dict[str, str] | None = None) -> str:
    """Run `upravdolg ARGS` (as `python -m dialer`) and return its output; a failure fails the test."""
    done = subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        env={**environment(settings), **(extra or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"upravdolg {' '.join(args)} exited {done.returncode}:\n{done.stderr}"
    return done.stdout


@pytest.fixture
def registry(settings: Settings, tmp_path: Path) -> Settings:
    """The sample registry imported (a copy: its rejects file is written next to it, not into debtors/) and
    a supervisor who can log in."""
    sample = shutil.copy(SAMPLE, tmp_path / SAMPLE.name)
    imported = upravdolg(settings, tmp_path, "import", "debtors", str(sample))
    assert "10 new" in imported and "1 rejected" in imported, imported
    added = upravdolg(
        settings,
        tmp_path,
        "users",
        "add",
        SUPERVISOR,
        "--role",
        "supervisor",
        extra={"UPRAVDOLG_NEW_PASSWORD": PASSWORD},
    )
    assert f"user '{SUPERVISOR}' added: supervisor" in added, added
    return settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start_process(
    command: Sequence[str], env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)


def end_process(process: subprocess.Popen[bytes], limit: float = 30.0) -> int:
    """SIGTERM, then wait for the exit (SIGKILL only if it does not come); returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(limit)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            raise AssertionError(f"pid {process.pid} ignored SIGTERM for {limit} s and was killed") from None
    return process.returncode


def wait_serving(process: subprocess.Popen[bytes], health: str, log: Path, name: str, limit: float) -> None:
    """Until ``health`` answers 200; fails the test if the process exits or ``limit`` seconds pass."""
    deadline = time.monotonic() + limit
    while True:
        assert process.poll() is None, f"{name} exited {process.returncode}:\n{log_tail(log)}"
        try:
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        assert time.monotonic() < deadline, f"{name} did not serve in {limit:g} s:\n{log_tail(log)}"
        time.sleep(0.1)


def log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])


@pytest.fixture
def dashboard(registry: Settings, tmp_path: Path) -> Iterator[str]:
    """`upravdolg dashboard --port N` over the test's database; its URL once /_stcore/health answers."""
    port = free_port()
    log = tmp_path / "dashboard.log"
    process = start_process(
        [sys.executable, "-m", "dialer", "dashboard", "--port", str(port)],
        environment(registry),
        tmp_path,
        log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_serving(process, f"{url}/_stcore/health", log, "the dashboard", 60)
        yield url
    finally:
        end_process(process)
    assert "Traceback" not in log.read_text(errors="replace"), log_tail(log, 80)


@pytest.fixture
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, for one test. Not session-wide: while Playwright's sync API is active it
    marks an event loop as running in this thread, and the `sandbox` fixture's asyncio.run() then fails —
    so a test requests `sandbox` before `page` (fixtures of one scope start in the order they are named)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (make system-deps)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Shots:
    """Numbered full-page screenshots of one test, in its own folder of the artifacts. A step whose page
    shows a Python exception (Streamlit's error box) fails there."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def __call__(self, page: Page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=path, full_page=True)
        if step != "failure":
            errors = page.get_by_test_id("stException")
            expect(errors, f"an exception on the page at {path.name}").to_have_count(0)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    root = Path(os.environ.get(ARTIFACTS_ENV) or Path(__file__).parent / "artifacts")
    folder = root / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)  # no screenshot of an earlier run is mistaken for this one's
    folder.mkdir(parents=True)
    return Shots(folder)


@pytest.fixture
def page(chromium: Browser, shots: Shots, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (no Streamlit session carried over); on failure a last screenshot."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="ru-RU")
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        shots(tab, "failure")
    context.close()
