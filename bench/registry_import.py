"""Registry import benchmark: a generated 1,000,000-row cp1251 debtor list into SQLite and PostgreSQL.

Targets (issue "Debtor registry"): import ≤ 30 s per backend, peak RSS ≤ 500 MB, re-import of the same
month with every row unchanged ≤ 30 s, `debtors show` ≤ 50 ms. Rows: UPRAVDOLG_BENCH_ROWS (default 1e6).
The generated file is cached outside the repository (UPRAVDOLG_BENCH_DATA,
default /var/cache/upravdolg/bench).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

from bench import registry_data

POSTGRES_ADMIN = os.environ.get("UPRAVDOLG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _child(step: str, url: str, arg: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.registry_child", step, url, arg],
        capture_output=True,
        text=True,
        check=True,
        timeout=3600,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _data(rows: int) -> tuple[Path, Path]:
    folder = Path(os.environ.get("UPRAVDOLG_BENCH_DATA", "/var/cache/upravdolg/bench"))
    crlf = folder / f"debtors_{rows}.csv"
    lf = folder / f"debtors_{rows}_lf.csv"  # the same month re-exported: other bytes, every row unchanged
    if not crlf.exists():
        registry_data.write(crlf, rows)
    if not lf.exists():
        registry_data.write(lf, rows, line_end="\n")
    return crlf, lf


def run() -> dict[str, float]:
    rows = int(os.environ.get("UPRAVDOLG_BENCH_ROWS", "1000000"))
    started = time.perf_counter()
    crlf, lf = _data(rows)
    figures: dict[str, float] = {
        "rows": rows,
        "file_mb": crlf.stat().st_size / 2**20,
        "generate_seconds": time.perf_counter() - started,
    }
    sqlite_path = crlf.parent / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{sqlite_path}{suffix}").unlink(missing_ok=True)
    name = f"upravdolg_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    postgres_url = f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    try:
        for backend, url in (("sqlite", f"sqlite:///{sqlite_path}"), ("postgres", postgres_url)):
            first = _child("import", url, str(crlf))
            if first["imported"] != rows:
                raise RuntimeError(f"{backend}: imported {first['imported']} of {rows}")
            again = _child("import", url, str(lf))
            if again["unchanged"] != rows:
                raise RuntimeError(f"{backend}: re-import left {again['unchanged']} of {rows} unchanged")
            card = _child("card", url, str(rows))
            figures.update(
                {
                    f"{backend}_import_s": first["seconds"],
                    f"{backend}_import_peak_rss_mb": first["peak_rss_mb"],
                    f"{backend}_reimport_unchanged_s": again["seconds"],
                    f"{backend}_reimport_peak_rss_mb": again["peak_rss_mb"],
                    f"{backend}_debtors_show_p50_ms": card["p50_ms"],
                    f"{backend}_debtors_show_p95_ms": card["p95_ms"],
                }
            )
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return figures
