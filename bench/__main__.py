"""Run every benchmark, print one table, write bench/results/<name>.json."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import ami_events, dashboard_queries, engine_pacing, ivr_cost, registry_import, scaleout

BENCHMARKS: dict[str, Callable[[], dict[str, float]]] = {
    "ami_events": ami_events.run,
    "registry_import": registry_import.run,
    "engine_pacing": engine_pacing.run,
    "ivr_cost": ivr_cost.run,
    "dashboard_queries": dashboard_queries.run,
    "scaleout": scaleout.run,
}
RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    rows: list[tuple[str, str, float]] = []
    only = set(filter(None, os.environ.get("UPRAVDOLG_BENCH", "").split(",")))
    for name, bench in BENCHMARKS.items():
        if only and name not in only:
            continue
        figures = bench()
        record = {
            "benchmark": name,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "figures": figures,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
        rows.extend((name, key, value) for key, value in figures.items())
    sys.stdout.write(
        f"| {'benchmark':<16} | {'figure':<32} | {'value':>14} |\n|{'-' * 18}|{'-' * 34}|{'-' * 16}|\n"
    )
    for name, key, value in rows:
        sys.stdout.write(f"| {name:<16} | {key:<32} | {value:>14,.3f} |\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
