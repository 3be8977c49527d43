"""Run every benchmark, print one table, write bench/results/<name>.json."""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import ami_events

BENCHMARKS: dict[str, Callable[[], dict[str, float]]] = {
    "ami_events": ami_events.run,
}
RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    rows = []
    for name, bench in BENCHMARKS.items():
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
        f"| {'benchmark':<12} | {'figure':<20} | {'value':>14} |\n|{'-' * 14}|{'-' * 22}|{'-' * 16}|\n"
    )
    for name, key, value in rows:
        sys.stdout.write(f"| {name:<12} | {key:<20} | {value:>14,.3f} |\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
