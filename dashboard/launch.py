"""How `upravdolg dashboard` starts Streamlit: the command line and the environment (pure, tested; no
Streamlit import, so the CLI and the demo start it without loading it)."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path

from dialer.settings import Settings

APP = Path(__file__).resolve().parent / "app.py"
SETTINGS_ENV = "UPRAVDOLG_DASHBOARD_SETTINGS"  # the effective settings as JSON (dashboard/context.py)


def streamlit_command(*, port: int, address: str) -> list[str]:
    """``python -m streamlit run dashboard/app.py`` with our server options: headless, no usage statistics,
    no file watcher (a production process), no developer toolbar."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.base",
        "light",
    ]


def streamlit_environment(settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The caller's environment plus the effective settings as JSON; the AMI secret stays behind (the
    dashboard never talks to Asterisk)."""
    without_secret = settings.model_copy(update={"ami": settings.ami.model_copy(update={"secret": None})})
    document = without_secret.model_dump_json()
    return {**environ, SETTINGS_ENV: document}
