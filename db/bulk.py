"""Bulk writes for imports of a million rows: COPY on PostgreSQL, executemany on SQLite.

Both run on the caller's connection, inside the caller's transaction, so an import stays all-or-nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, ColumnElement, Connection, Table, any_, bindparam, func, select, text

if TYPE_CHECKING:
    import polars as pl

FRAME_SLICE_ROWS = 5000  # rows turned into Python values at a time (bounds memory)
SORT_THREADS = max(1, min(4, os.cpu_count() or 1))  # helper threads SQLite may sort an index's keys on


def allocate_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, so children can be written without RETURNING.

    PostgreSQL: from the column's sequence (safe with concurrent writers). SQLite: after the current
    maximum; SQLite has one writer at a time and we are inside its write transaction.
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        ids = connection.execute(
            text(
                f"SELECT array_agg(nextval(pg_get_serial_sequence('{table.name}', 'id'))) "  # noqa: S608 - ours
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        ).scalar_one()
        return list(ids)  # one array, not a row per id: a million ids cost ~2 s fetched row by row
    start = int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(start, start + count))


@dataclass(frozen=True, slots=True)
class ValueForm:
    """How values are handed to the driver for a bulk write, converted once per value by the caller.

    PostgreSQL's COPY takes Python values as they are. SQLite gets what SQLAlchemy's SQLite dialect stores:
    DATETIME as naive UTC text (db.types.UtcDateTime), DATE as ISO text, NUMERIC as text that the column's
    numeric affinity turns into a number.
    """

    sqlite: bool

    def timestamp(self, value: datetime) -> Any:
        if value.tzinfo is None:
            raise ValueError("naive datetime in a bulk write")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else value

    def day(self, value: date) -> Any:
        return value.isoformat() if self.sqlite else value

    def money(self, value: Decimal | None) -> Any:
        return None if value is None else (str(value) if self.sqlite else value)

    def timestamp_text(self, value: datetime) -> str:
        """A timestamp as text both backends read back exactly (for :func:`bulk_insert_frame`)."""
        stored = self.timestamp(value)
        return stored if isinstance(stored, str) else value.isoformat()

    def day_text(self, value: date) -> str:
        return value.isoformat()


def value_form(connection: Connection) -> ValueForm:
    return ValueForm(sqlite=connection.dialect.name == "sqlite")


def bulk_insert(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, values already in :func:`value_form`) into ``table``."""
    if not rows:
        return
    column_list = ", ".join(f'"{c}"' for c in columns)
    raw: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders})', rows)  # noqa: S608
    finally:
        cursor.close()


def bulk_insert_frame(connection: Connection, table: Table, frame: pl.DataFrame) -> None:
    """Insert a polars frame whose column names are ``table``'s columns.

    Values must already be text, integers or booleans (money and dates as text, see :class:`ValueForm`).
    PostgreSQL gets the frame as one CSV COPY (no Python per row: an empty string is written quoted, a
    null unquoted, as COPY's CSV format distinguishes them); SQLite gets executemany over the columns.
    """
    if frame.is_empty():
        return
    column_list = ", ".join(f'"{c}"' for c in frame.columns)
    raw: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "postgresql":
        data = frame.write_csv(include_header=False, null_value="").encode()
        with (
            raw.cursor() as cursor,
            cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN WITH (FORMAT csv)') as copy,
        ):
            copy.write(data)
        return
    statement = f'INSERT INTO "{table.name}" ({column_list}) VALUES ({", ".join("?" for _ in frame.columns)})'  # noqa: S608
    cursor = raw.cursor()
    try:
        for part in frame.iter_slices(FRAME_SLICE_ROWS):
            cursor.executemany(
                statement, zip(*(column.to_list() for column in part.get_columns()), strict=True)
            )
    finally:
        cursor.close()


def member_of(column: ColumnElement[Any], values: Sequence[Any], dialect_name: str) -> ColumnElement[bool]:
    """``column IN values`` with ONE bound parameter (an array on PostgreSQL, a JSON list on SQLite).

    An IN list of thousands of parameters costs more to compile and send than the lookup itself.
    """
    if dialect_name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = func.json_each(json.dumps(list(values), default=str)).table_valued("value")
    return column.in_(select(listed.c.value))


@contextmanager
def bulk_load_mode(connection: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Load into empty ``tables`` without per-row foreign-key checks and secondary-index upkeep.

    Foreign keys and non-unique indexes of ``tables`` are dropped inside the caller's transaction and
    re-created at the end — an index built once over sorted data, and a foreign key validated by one join,
    instead of a check and an index insert per row. Primary keys and unique constraints stay, so duplicates
    are still refused while loading. PostgreSQL and SQLite both roll the DDL back with the transaction if
    the load fails. Meant for the registry's first list: it locks the tables until the commit.
    """
    if connection.dialect.name == "postgresql":
        table_list = list(tables)
        foreign_keys = connection.execute(
            text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid::regclass::text = ANY(:tables)"
            ),
            {"tables": table_list},
        ).all()
        indexes = connection.execute(
            text(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname "
                "JOIN pg_index x ON x.indexrelid = c.oid "
                "WHERE i.tablename = ANY(:tables) AND NOT x.indisunique AND NOT x.indisprimary"
            ),
            {"tables": table_list},
        ).all()
        for table, name, _definition in foreign_keys:
            connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
        yield
        for _name, definition in indexes:
            connection.execute(text(definition))
        for table, name, definition in foreign_keys:
            connection.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'))
        return
    placeholders = ", ".join(f"'{t}'" for t in tables if t.isidentifier())
    indexes = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "  # noqa: S608
            f"AND upper(sql) NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({placeholders})"
        )
    ).all()
    for name, _sql in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
    yield
    with _index_build_pragmas(connection):
        for _name, sql in indexes:
            connection.execute(text(sql))


# SQLite builds the registry's indexes faster with its sorter on helper threads and a small page cache
# while sorting (sqlite.org/pragma.html#pragma_threads); with the temporary store on file (db.session)
# rather than in memory, the eight indexes of a million-row first import took 6.5 s instead of 13.6 s.
_INDEX_BUILD_PRAGMAS = {"threads": SORT_THREADS, "cache_size": -2000}


@contextmanager
def _index_build_pragmas(connection: Connection) -> Iterator[None]:
    previous = {
        name: connection.execute(text(f"PRAGMA {name}")).scalar_one() for name in _INDEX_BUILD_PRAGMAS
    }
    for name, value in _INDEX_BUILD_PRAGMAS.items():
        connection.execute(text(f"PRAGMA {name} = {value}"))
    try:
        yield
    finally:
        for name, value in previous.items():
            connection.execute(text(f"PRAGMA {name} = {int(value)}"))


class BackgroundWriter:
    """Runs database writes one at a time on a second thread, beside the parsing of the next chunk.

    The database driver waits for the server without holding the GIL, so on PostgreSQL the server's COPY
    and index upkeep overlap our parsing; SQLite steps its statements without the GIL too. At most one write
    is pending (memory stays at two chunks), a write's error surfaces at the next :meth:`run` or on leaving
    the ``with`` block, and leaving it — normally or by an error — always waits for the pending write first,
    so the transaction is never committed or rolled back under a running write. Disabled, it runs inline.
    """

    def __init__(self, *, enabled: bool) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="bulk-writer") if enabled else None
        self._pending: Future[None] | None = None

    def run(self, write: Callable[..., None], *args: Any) -> None:
        if self._pool is None:
            write(*args)
            return
        self.wait()
        self._pending = self._pool.submit(write, *args)

    def wait(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, exc_type: object, *_exc: object) -> None:
        try:
            if exc_type is None:
                self.wait()
            elif self._pending is not None:
                wait([self._pending])  # the error being raised wins over the write's own
        finally:
            self._pending = None
            if self._pool is not None:
                self._pool.shutdown(wait=True)
