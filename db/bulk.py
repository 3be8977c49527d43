"""Bulk writes for imports of a million rows: COPY on PostgreSQL, executemany on SQLite.

Both run on the caller's connection, inside the caller's transaction, so an import stays all-or-nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select, text


def allocate_ids(connection: Connection, table: Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, so children can be written without RETURNING.

    PostgreSQL: from the column's sequence (safe with concurrent writers). SQLite: after the current
    maximum; SQLite has one writer at a time and we are inside its write transaction.
    """
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"),  # noqa: S608 - table names are ours
            {"n": count},
        )
        return [int(r[0]) for r in rows]
    start = int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
    return list(range(start, start + count))


def _pg_value(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        raise ValueError("naive datetime in a bulk write")
    return value


def _sqlite_value(value: Any) -> Any:
    # What SQLAlchemy's SQLite dialect stores: DATETIME as naive UTC text (db.types.UtcDateTime),
    # DATE as ISO text, NUMERIC as a number (the column's numeric affinity converts the text).
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a bulk write")
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def bulk_insert(
    connection: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    if connection.dialect.name == "postgresql":
        raw: Any = connection.connection.dbapi_connection
        column_list = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({column_list}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([_pg_value(v) for v in row])
        return
    placeholders = ", ".join("?" for _ in columns)
    column_list = ", ".join(f'"{c}"' for c in columns)
    sqlite: Any = connection.connection.dbapi_connection
    cursor = sqlite.cursor()
    try:
        cursor.executemany(
            f'INSERT INTO "{table.name}" ({column_list}) VALUES ({placeholders})',  # noqa: S608 - names are ours
            [[_sqlite_value(v) for v in row] for row in rows],
        )
    finally:
        cursor.close()
