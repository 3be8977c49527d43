"""One measured step of the registry benchmark, in its own process (so peak RSS is its own).

    python -m bench.registry_child import|card DATABASE_URL FILE

Prints one JSON line: seconds, peak RSS (VmHWM) and the step's own figures.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.measure import peak_rss_mb
from debtors.debtor_card import load_card
from debtors.registry_import import import_debtors
from dialer.bootstrap import open_storage
from dialer.settings import load_settings

AS_OF = date(2026, 11, 1)


def main(step: str, url: str, file: str) -> dict[str, float]:
    settings = load_settings(environ={"UPRAVDOLG_DATABASE_URL": url})
    with open_storage(settings) as storage:
        if step == "import":
            started = time.perf_counter()
            report = import_debtors(
                storage.sessions, storage.organisation_id, Path(file), now=datetime.now(UTC), as_of=AS_OF
            )
            return {
                "seconds": time.perf_counter() - started,
                "rows": report.rows,
                "imported": report.imported,
                "unchanged": report.unchanged,
                "rejected": report.rejected,
                "peak_rss_mb": peak_rss_mb(),
            }
        rng = random.Random(7)
        count = int(file)
        timings = []
        with storage.sessions() as session:
            load_card(session, storage.organisation_id, "10000000")  # warm the connection
            for _ in range(200):
                account = str(10_000_000 + rng.randrange(count))
                started = time.perf_counter()
                load_card(session, storage.organisation_id, account)
                timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        return {
            "p50_ms": timings[len(timings) // 2],
            "p95_ms": timings[int(len(timings) * 0.95)],
            "peak_rss_mb": peak_rss_mb(),
        }


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(*sys.argv[1:4])) + "\n")
