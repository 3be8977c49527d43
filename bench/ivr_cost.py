"""What the IVR costs per call, for each transport (issue "IVR", item 7): FastAGI CPU per call in the
dialer's process (target ≤ 10 ms) against the process-AGI path measured the same way.

Both runs place the same calls through the sandbox: debtors who stay on the line and hear the whole
conversation (15 message prompts, the menu, the wait, the menu again, goodbye: ~20 AGI commands and the
UserEvent), with every prompt a 100 ms tone so a call lasts ~4 s. Measured:

* the dialer process's CPU per call (``time.process_time`` of the engine's process: with FastAGI it runs
  the IVR sessions itself; with the process AGI it only reads the report from AMI);
* Asterisk's own CPU per call, and its children's (the process AGIs: one python3 per call), from
  /proc/<asterisk>/stat — reaped children's time lands in Asterisk's cutime/cstime.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.engine_pacing import REPEATS, _child, _fresh, _median_run
from dialer.asterisk_config import install_sounds
from dialer.sandbox import Sandbox
from dialer.settings import load_settings
from sounds.tones import write_tone_prompts

CALLS = int(os.environ.get("UPRAVDOLG_BENCH_IVR_CALLS", "60"))
FOLDER = "upravdolg-bench"
TONE_MS = 100
TICKS = os.sysconf("SC_CLK_TCK")


def _asterisk_cpu(pid: int) -> tuple[float, float]:
    """Asterisk's own CPU seconds and its reaped children's."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return (utime + stime) / TICKS, (cutime + cstime) / TICKS


def _debtors(folder: Path) -> Path:
    lines = ["Лицевой счёт;ФИО;Сумма задолженности;Телефон"]
    lines += [f"{300000 + i};Должник {i};12345,67;+79126{i:05d}0" for i in range(CALLS)]
    path = folder / f"ivr_{CALLS}.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _one(folder: Path, transport: str, box: Sandbox, build: Path) -> dict[str, float]:
    url = _fresh(folder / f"ivr_{transport}.db")
    _child("bench.registry_child", "import", url, str(_debtors(folder)))
    os.environ.update(
        {
            "UPRAVDOLG_IVR_TRANSPORT": transport,
            "UPRAVDOLG_IVR_SOUND_FOLDER": FOLDER,
            "UPRAVDOLG_IVR_SOUNDS_BUILD": str(build),
            "UPRAVDOLG_IVR_MENU_TIMEOUT": "1",
        }
    )
    pid = box.pid()
    assert pid is not None, "Asterisk is not running"
    own, children = _asterisk_cpu(pid)
    run = _child("bench.engine_child", "ivr", url, str(CALLS))
    own_after, children_after = _asterisk_cpu(pid)
    if run["heard_full"] != CALLS:
        raise RuntimeError(f"{transport}: {run['heard_full']:.0f} of {CALLS} calls heard the message in full")
    calls = run["calls"]
    return {
        **run,
        "asterisk_ms_per_call": (own_after - own) * 1000 / calls,
        "agi_processes_ms_per_call": (children_after - children) * 1000 / calls,
    }


def run() -> dict[str, float]:
    settings = load_settings(
        environ={
            k: v for k, v in os.environ.items() if not k.startswith(("UPRAVDOLG_DATABASE", "UPRAVDOLG_IVR"))
        }
    )
    box = Sandbox(settings)
    box.up()
    folder = Path(os.environ.get("UPRAVDOLG_BENCH_DATA", "/var/cache/upravdolg/bench"))
    folder.mkdir(parents=True, exist_ok=True)
    build = folder / "ivr-prompts" / "build"
    write_tone_prompts(build, FOLDER, TONE_MS)
    install_sounds(box.root / "usr/share/asterisk/sounds", build.parent, FOLDER, chroot=box.root)
    saved = {k: v for k, v in os.environ.items() if k.startswith("UPRAVDOLG_IVR_")}
    try:
        # Alternate the transports so a drift of the machine's speed hits both alike.
        runs: dict[str, list[dict[str, float]]] = {"fastagi": [], "process": []}
        for _ in range(REPEATS):
            for transport, done in runs.items():
                done.append(_one(folder, transport, box, build))
    finally:
        for key in [k for k in os.environ if k.startswith("UPRAVDOLG_IVR_")]:
            del os.environ[key]
        os.environ.update(saved)
    fast = _median_run(runs["fastagi"], "cpu_ms_per_call")
    process = _median_run(runs["process"], "cpu_ms_per_call")
    return {
        "calls_per_run": fast["calls"],
        "fastagi_dialer_cpu_ms_per_call": fast["cpu_ms_per_call"],
        "fastagi_dialer_cpu_ms_min": min(r["cpu_ms_per_call"] for r in runs["fastagi"]),
        "fastagi_dialer_cpu_ms_max": max(r["cpu_ms_per_call"] for r in runs["fastagi"]),
        "fastagi_asterisk_cpu_ms_per_call": fast["asterisk_ms_per_call"],
        "process_dialer_cpu_ms_per_call": process["cpu_ms_per_call"],
        "process_asterisk_cpu_ms_per_call": process["asterisk_ms_per_call"],
        "process_agi_cpu_ms_per_call": process["agi_processes_ms_per_call"],
        "fastagi_session_cpu_ms_per_call": fast["cpu_ms_per_call"] - process["cpu_ms_per_call"],
    }
