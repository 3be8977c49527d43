"""Dashboard benchmark: every page's data queries over 1,000,000 debtors and 5,000,000 call attempts.

Target (issue 6): p95 ≤ 300 ms per page load on SQLite and on PostgreSQL, and the debtor list never loads
the whole table (the export streams it: its peak RSS growth stays flat). A page load is the sum of the
queries the page makes (dashboard/*_page.py); the statistics page reads one stored row, and the refresh that
computes it is reported on its own (``*_statistics_refresh_s``: background work, not a page query).

Debtors: UPRAVDOLG_BENCH_ROWS (default 1e6); the attempts are five times as many (bench/dashboard_data.py).
The built databases are kept between runs and rebuilt only when missing: the SQLite file under
UPRAVDOLG_BENCH_DATA (default /var/cache/upravdolg/bench) and the PostgreSQL database
``upravdolg_bench_dash_<rows>_v<DATA_VERSION>``; the time each build took is kept beside them and
reported (``*_build_s``) with whether this run built it (``*_built_now``). Every measurement runs warm (one
untimed round first) in a child process per backend and step, so peak RSS is the step's own:

    python -m bench.dashboard_queries build|export|pages sqlite|postgres ROWS
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import create_engine, text

from bench import dashboard_data
from bench.measure import peak_rss_mb
from db import models
from db.bulk import bulk_load_mode
from db.campaign_figures import debtor_listens, default_hours_window, outcomes_by_hour, rebuild
from db.debtor_list import (
    SORT_COLUMNS,
    DebtorFilter,
    DebtorSort,
    buildings,
    debtor_page,
    filter_choices,
    iter_debtors,
    view_totals,
)
from debtors.debtor_card import load_card
from debtors.statistics import latest_statistics, refresh_statistics
from dialer.bootstrap import Storage, open_storage
from dialer.campaigns import campaign_status, campaign_summaries, get_spec, list_campaigns
from dialer.settings import load_settings

POSTGRES_ADMIN = os.environ.get("UPRAVDOLG_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgres")
TARGET_MS = 300.0
PAGE_SIZE = 50
DEEP_PAGE = 200
ROUNDS = 2  # timed rounds of every debtor-list scenario (each at page 1 and page DEEP_PAGE)
CARDS = 100
PANEL_LOADS = 20
STATISTICS_READS = 20
ZONE = ZoneInfo("Europe/Moscow")
# query -> its short name in the figures (the table's figure column is 32 characters wide)
SHORT = {
    "filter_choices": "choices",
    "view_totals": "totals",
    "debtor_page": "page",
    "load_card": "card",
    "campaign_summaries": "summaries",
    "list_campaigns": "list",
    "campaign_status": "status",
    "get_spec": "spec",
    "outcomes_by_hour": "by_hour",
    "debtor_listens": "listens",
    "latest_statistics": "stats_read",
}
NOW = dashboard_data.NOW


# ------------------------------------------------------------------------------------------ locations


def _folder() -> Path:
    return Path(os.environ.get("UPRAVDOLG_BENCH_DATA", "/var/cache/upravdolg/bench"))


def _sqlite_file(rows: int) -> Path:
    return _folder() / f"dashboard_{rows}_v{dashboard_data.DATA_VERSION}.db"


def _postgres_name(rows: int) -> str:
    return f"upravdolg_bench_dash_{rows}_v{dashboard_data.DATA_VERSION}"


def _postgres_url(name: str) -> str:
    return f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"


def _url(backend: str, rows: int) -> str:
    if backend == "sqlite":
        return f"sqlite:///{_sqlite_file(rows)}"
    return _postgres_url(_postgres_name(rows))


def _build_log(rows: int) -> Path:
    return _folder() / f"dashboard_{rows}_v{dashboard_data.DATA_VERSION}.json"


def _schema() -> str:
    """A fingerprint of the migrations: a cached database built under other migrations is rebuilt (they
    are still edited in place while the dashboard's issue is open)."""
    digest = hashlib.sha256()
    for path in sorted((Path(models.__file__).parent / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _built(backend: str, rows: int) -> bool:
    """The backend's database exists and was built under the current migrations."""
    log = _build_log(rows)
    recorded = json.loads(log.read_text()).get(backend, {}) if log.exists() else {}
    return recorded.get("schema") == _schema() and _exists(backend, rows)


def _exists(backend: str, rows: int) -> bool:
    if backend == "sqlite":
        return _sqlite_file(rows).exists()
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        return (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (_postgres_name(rows),)).fetchone()
            is not None
        )


# ---------------------------------------------------------------------------------------------- build


def _settings_for(url: str) -> Any:
    return load_settings(environ={"UPRAVDOLG_DATABASE_URL": url})


def build(backend: str, rows: int) -> dict[str, float]:
    """Build the backend's database under a temporary name and rename it when complete."""
    started = time.perf_counter()
    if backend == "sqlite":
        final = _sqlite_file(rows)
        final.parent.mkdir(parents=True, exist_ok=True)
        part = final.with_name(final.name + ".part")
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{part}{suffix}").unlink(missing_ok=True)
        with open_storage(_settings_for(f"sqlite:///{part}")) as storage:
            organisation_id = storage.organisation_id
        loaded, rebuild_seconds = _load_sqlite(part, rows, organisation_id)
        for suffix in ("-wal", "-shm"):  # the old file's, if it is replaced (built under other migrations)
            Path(f"{final}{suffix}").unlink(missing_ok=True)
        part.replace(final)
    else:
        name = _postgres_name(rows)
        part_name = f"{name}_part"
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{part_name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{part_name}"')
        with open_storage(_settings_for(_postgres_url(part_name))) as storage:
            loaded, rebuild_seconds = _load_postgres(storage, rows)
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # one of other migrations
            admin.execute(f'ALTER DATABASE "{part_name}" RENAME TO "{name}"')
    seconds = time.perf_counter() - started
    log = _build_log(rows)
    recorded = json.loads(log.read_text()) if log.exists() else {}
    recorded[backend] = {
        "seconds": seconds,
        "rollup_rebuild_seconds": rebuild_seconds,
        "schema": _schema(),
        "rows": loaded,
    }
    log.write_text(json.dumps(recorded, indent=2) + "\n")
    return {
        "seconds": seconds,
        "rollup_rebuild_seconds": rebuild_seconds,
        "peak_rss_mb": peak_rss_mb(),
        **{f"rows_{t}": n for t, n in loaded.items()},
    }


def _load_sqlite(path: Path, rows: int, organisation_id: int) -> tuple[dict[str, int], float]:
    """One transaction on a loading connection (no journal, no fsync: a half-built file is deleted, never
    used), secondary indexes dropped while loading (db.bulk's bulk_load_mode), the calling panel's rollups
    rebuilt, then ANALYZE and back to WAL as the application runs it."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            raw: Any = connection.connection.dbapi_connection
            for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576", "temp_store=MEMORY",
                           "locking_mode=EXCLUSIVE"):  # fmt: skip
                raw.execute(f"PRAGMA {pragma}")  # before the first write: outside the transaction
            with bulk_load_mode(connection, dashboard_data.TABLES):
                loaded: dict[str, int] = {}
                for table, columns, table_rows in dashboard_data.tables(rows, organisation_id):
                    counted = _Counted(table_rows)
                    marks = ", ".join("?" for _ in columns)
                    raw.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', counted)  # noqa: S608
                    loaded[table] = loaded.get(table, 0) + counted.count
                started = time.perf_counter()
                rebuild(connection)
                rebuild_seconds = time.perf_counter() - started
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    finally:
        engine.dispose()
    return loaded, rebuild_seconds


class _Counted:
    """The rows of one table, counted as the driver reads them."""

    def __init__(self, rows: Iterator[tuple[object, ...]]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        for row in self.rows:
            self.count += 1
            yield row


def _load_postgres(storage: Storage, rows: int) -> tuple[dict[str, int], float]:
    """COPY in one transaction with the foreign keys and secondary indexes dropped (db.bulk's
    bulk_load_mode), the calling panel's rollups rebuilt, the sequences moved past the ids written, then
    VACUUM ANALYZE (so the visibility map lets index-only scans skip the heap)."""
    loaded: dict[str, int] = {}
    with storage.engine.begin() as connection:
        connection.execute(text("SET LOCAL maintenance_work_mem = '1GB'"))
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        raw: Any = connection.connection.dbapi_connection
        with bulk_load_mode(connection, dashboard_data.TABLES):
            for table, columns, table_rows in dashboard_data.tables(
                rows, storage.organisation_id, ts_suffix="+00"
            ):
                count = 0
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN') as copy,
                ):
                    for row in table_rows:
                        copy.write_row(row)
                        count += 1
                loaded[table] = loaded.get(table, 0) + count
            started = time.perf_counter()
            rebuild(connection)
            rebuild_seconds = time.perf_counter() - started
        for table in dashboard_data.TABLES:
            if table != "call_attempts":  # its id is the Asterisk ChannelId (text), no sequence
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - ours
                        f'(SELECT coalesce(max(id), 0) + 1 FROM "{table}"), false)'
                    )
                )
    with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return loaded, rebuild_seconds


# ------------------------------------------------------------------------------------------- measure


class Timings:
    """Every timed call by query name, and page loads (the sum of one load's queries) by page."""

    def __init__(self) -> None:
        self.queries: dict[str, list[float]] = {}
        self.loads: dict[str, list[float]] = {}
        self.worst: dict[str, tuple[float, str]] = {}  # page -> (ms, query and parameters)
        self._load = 0.0

    def call(
        self, page: str, name: str, detail: str, fn: Callable[..., Any], /, *args: Any, **kw: Any
    ) -> Any:
        started = time.perf_counter()
        result = fn(*args, **kw)
        ms = (time.perf_counter() - started) * 1000
        self.queries.setdefault(name, []).append(ms)
        if ms > self.worst.get(page, (-1.0, ""))[0]:
            self.worst[page] = (ms, f"{name} {detail}".strip())
        self._load += ms
        return result

    def start_load(self) -> None:
        self._load = 0.0

    def end_load(self, page: str) -> None:
        self.loads.setdefault(page, []).append(self._load)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * 0.95) - 1)] if ordered else float("nan")


def _scenarios(storage: Storage, rows: int) -> list[tuple[str, DebtorFilter, DebtorSort, tuple[str, ...]]]:
    """(label, filter, sort, districts whose buildings the filter form lists) as supervisors use them."""
    district = dashboard_data.DISTRICTS[1]
    with storage.sessions() as session:
        options = buildings(session, storage.organisation_id, [district])
    building = options[len(options) // 3]
    some_account = dashboard_data.account_of(rows // 2)
    found: list[tuple[str, DebtorFilter, DebtorSort, tuple[str, ...]]] = [
        ("none", DebtorFilter(), DebtorSort(), ()),
        ("district", DebtorFilter(districts=(district,)), DebtorSort(), (district,)),
        (
            "debt 50000..150000",
            DebtorFilter(debt_min=Decimal(50000), debt_max=Decimal(150000)),
            DebtorSort(),
            (),
        ),
        (
            "months 12..36 + муниципальная",
            DebtorFilter(months_min=12, months_max=36, ownership=("муниципальная",)),
            DebtorSort(),
            (),
        ),
        ("status paid", DebtorFilter(statuses=("paid",)), DebtorSort(), ()),
        ("building", DebtorFilter(districts=(district,), buildings=(building,)), DebtorSort(), (district,)),
        (
            "district + active + debt>=10000 + as_of>=2026-10-01",
            DebtorFilter(
                districts=(dashboard_data.DISTRICTS[7],),
                statuses=("active",),
                debt_min=Decimal(10000),
                as_of_from=date(2026, 10, 1),
            ),
            DebtorSort("months_overdue", descending=True),
            (dashboard_data.DISTRICTS[7],),
        ),
        (f"account prefix {some_account[:-1]}", DebtorFilter(text=some_account[:-1]), DebtorSort(), ()),
        ("name prefix Смирнова Анна", DebtorFilter(text="Смирнова Анна"), DebtorSort("full_name", False), ()),
    ]
    for key in SORT_COLUMNS:
        for descending in (False, True):
            found.append(
                (
                    f"sort {key} {'desc' if descending else 'asc'}",
                    DebtorFilter(),
                    DebtorSort(key, descending),
                    (),
                )
            )
    return found


def _debtors_page(
    timings: Timings,
    storage: Storage,
    scenario: tuple[str, DebtorFilter, DebtorSort, tuple[str, ...]],
    deep: bool,
) -> None:
    """One load of «Должники» as dashboard/debtors_page.py makes it."""
    label, flt, sort, districts = scenario
    org = storage.organisation_id
    page_name = "debtors_page"
    timings.start_load()
    with storage.sessions() as session:
        timings.call(page_name, "filter_choices", "", filter_choices, session, org)
        if districts:
            timings.call(page_name, "buildings", ",".join(districts), buildings, session, org, districts)
    with storage.sessions() as session:
        totals = timings.call(page_name, "view_totals", f"[{label}]", view_totals, session, org, flt)
        pages = max(1, math.ceil(totals.debtors / PAGE_SIZE))
        page = min(DEEP_PAGE, pages) if deep else 1
        timings.call(
            page_name,
            "debtor_page",
            f"[{label}] page {page}",
            debtor_page,
            session,
            org,
            flt,
            sort,
            page=page,
            page_size=PAGE_SIZE,
        )
    timings.end_load(page_name)


def _calling_page(timings: Timings, storage: Storage, name: str) -> None:
    """One load of «Обзвон» (dashboard/calling_page.py) with the newest campaign chosen, as an operator
    sees it (with the campaign's edit form)."""
    org = storage.organisation_id
    page = "calling_page"
    timings.start_load()
    timings.call(page, "campaign_summaries", "", campaign_summaries, storage.sessions, org, NOW)
    timings.call(page, "list_campaigns", "", list_campaigns, storage.sessions, org)
    status = timings.call(page, "campaign_status", name, campaign_status, storage.sessions, org, name, NOW)
    since, until = default_hours_window(NOW)
    with storage.sessions() as session:
        timings.call(
            page, "outcomes_by_hour", name, outcomes_by_hour, session, status["id"], since=since, until=until
        )
    with storage.sessions() as session:
        timings.call(page, "debtor_listens", name, debtor_listens, session, status["id"], limit=50, offset=0)
    timings.call(page, "get_spec", name, get_spec, storage.sessions, org, name)
    timings.end_load(page)


def pages(backend: str, rows: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    rng = random.Random(6)
    with open_storage(_settings_for(_url(backend, rows))) as storage:
        org = storage.organisation_id
        scenarios = _scenarios(storage, rows)
        newest = dashboard_data.campaign_name(dashboard_data.CAMPAIGNS - 1)
        accounts = [dashboard_data.account_of(rng.randint(1, rows)) for _ in range(CARDS)]
        warm = Timings()
        for scenario in scenarios:  # untimed round: caches and prepared statements as a running dashboard has
            _debtors_page(warm, storage, scenario, deep=False)
        _calling_page(warm, storage, newest)
        with storage.sessions() as session:
            for account in accounts[:10]:
                load_card(session, org, account)

        timings = Timings()
        for _ in range(ROUNDS):
            for scenario in scenarios:
                for deep in (False, True):
                    _debtors_page(timings, storage, scenario, deep)
        with storage.sessions() as session:  # the building filter's list for every district
            for district in dashboard_data.DISTRICTS:
                timings.call("debtors_page", "buildings", district, buildings, session, org, [district])
        for account in accounts:
            timings.start_load()
            with storage.sessions() as session:
                timings.call("card", "load_card", account, load_card, session, org, account)
            timings.end_load("card")
        for _ in range(PANEL_LOADS):
            _calling_page(timings, storage, newest)

        started = time.perf_counter()
        stored = refresh_statistics(storage.sessions, org, now=NOW, zone=ZONE, window_days=14)
        figures["statistics_refresh_s"] = time.perf_counter() - started
        figures["statistics_refresh_stored_ms"] = stored.duration_ms
        for _ in range(STATISTICS_READS):
            timings.start_load()
            with storage.sessions() as session:
                timings.call("statistics_page", "latest_statistics", "", latest_statistics, session, org)
            timings.end_load("statistics_page")

    for page, loads in timings.loads.items():
        figures[f"{page}_p95_ms"] = p95(loads)
        figures[f"{page}_worst_query_ms"] = timings.worst[page][0]
        figures[f"{page}_worst_query"] = timings.worst[page][1]
        figures[f"{page}_loads"] = len(loads)
    figures["queries"] = {
        name: {
            "n": len(values),
            "p50_ms": sorted(values)[len(values) // 2],
            "p95_ms": p95(values),
            "max_ms": max(values),
        }
        for name, values in timings.queries.items()
    }
    figures["peak_rss_mb"] = peak_rss_mb()
    return figures


def export(backend: str, rows: int) -> dict[str, Any]:
    """Stream filtered views through iter_debtors as the export does: about 5 % of the debtors (one
    district of twenty), then about 20 % (four). The peak RSS growth over each stream, from the same start,
    shows whether memory stays flat whatever the view's size."""
    views = {
        "export": DebtorFilter(districts=(dashboard_data.DISTRICTS[3],)),
        "export_big": DebtorFilter(districts=dashboard_data.DISTRICTS[10:14]),
    }
    figures: dict[str, Any] = {}
    with open_storage(_settings_for(_url(backend, rows))) as storage:
        org = storage.organisation_id
        with storage.sessions() as session:  # warm: the connection, the first chunk's plan
            stream = iter_debtors(
                session, org, DebtorFilter(districts=(dashboard_data.DISTRICTS[4],)), DebtorSort()
            )
            next(stream, None)
            stream.close()  # ends the streaming statement before the session goes
        before = peak_rss_mb()
        figures["export_rss_before_mb"] = before
        for name, flt in views.items():
            started = time.perf_counter()
            streamed = 0
            with storage.sessions() as session:
                for chunk in iter_debtors(session, org, flt, DebtorSort()):
                    streamed += len(chunk)
            seconds = time.perf_counter() - started
            figures[f"{name}_rows"] = streamed
            figures[f"{name}_ms_per_1000"] = seconds * 1000 / max(1, streamed) * 1000
            figures[f"{name}_rss_growth_mb"] = peak_rss_mb() - before
    return figures


# ----------------------------------------------------------------------------------------------- run


def _child(step: str, backend: str, rows: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.dashboard_queries", step, backend, str(rows)],
        capture_output=True,
        text=True,
        check=False,
        timeout=6 * 3600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"bench.dashboard_queries {step} {backend} failed:\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def run() -> dict[str, float]:
    rows = int(os.environ.get("UPRAVDOLG_BENCH_ROWS", "1000000"))
    figures: dict[str, float] = {"debtors": rows, "call_attempts": dashboard_data.Scale(rows).attempts}
    for backend in BACKENDS:
        built_now = not _built(backend, rows)
        if built_now:
            _child("build", backend, rows)
        log = json.loads(_build_log(rows).read_text()) if _build_log(rows).exists() else {}
        figures[f"{backend}_build_s"] = float(log.get(backend, {}).get("seconds", math.nan))
        # db/campaign_figures.rebuild over the loaded attempts: what migration 0006 costs on such a database
        figures[f"{backend}_rollup_rebuild_s"] = float(
            log.get(backend, {}).get("rollup_rebuild_seconds", math.nan)
        )
        figures[f"{backend}_built_now"] = float(built_now)
        measured = _child("export", backend, rows)
        measured.update(_child("pages", backend, rows))
        for page in ("debtors_page", "card", "calling_page", "statistics_page"):
            figures[f"{backend}_{page}_p95_ms"] = measured[f"{page}_p95_ms"]
            figures[f"{backend}_{page}_worst_ms"] = measured[f"{page}_worst_query_ms"]
            sys.stderr.write(
                f"{backend} {page}: p95 {measured[f'{page}_p95_ms']:.1f} ms over "
                f"{measured[f'{page}_loads']} loads; worst query "
                f"{measured[f'{page}_worst_query_ms']:.1f} ms: {measured[f'{page}_worst_query']}\n"
            )
        for name, stats in sorted(measured["queries"].items()):
            figures[f"{backend}_q_{SHORT.get(name, name)}_p95_ms"] = stats["p95_ms"]
            sys.stderr.write(
                f"{backend} {name}: n={stats['n']} p50 {stats['p50_ms']:.1f} p95 {stats['p95_ms']:.1f} "
                f"max {stats['max_ms']:.1f} ms\n"
            )
        figures[f"{backend}_statistics_refresh_s"] = measured["statistics_refresh_s"]
        for name in ("export", "export_big"):
            figures[f"{backend}_{name}_rows"] = measured[f"{name}_rows"]
            figures[f"{backend}_{name}_ms_per_1000"] = measured[f"{name}_ms_per_1000"]
            figures[f"{backend}_{name}_rss_growth_mb"] = measured[f"{name}_rss_growth_mb"]
    return figures


def main(step: str, backend: str, rows: int) -> dict[str, Any]:
    if backend not in BACKENDS:
        raise SystemExit(f"backend: one of {', '.join(BACKENDS)}")
    if step == "build":
        return build(backend, rows)
    if step == "export":
        return export(backend, rows)
    if step == "pages":
        return pages(backend, rows)
    raise SystemExit("step: build | export | pages")


if __name__ == "__main__":
    sys.stdout.write(json.dumps(main(sys.argv[1], sys.argv[2], int(sys.argv[3]))) + "\n")
