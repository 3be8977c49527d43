"""Statements compiled once and run on the DB-API cursor of a SQLAlchemy connection: hot paths only.

Executing a Core statement costs SQLAlchemy's bookkeeping every time — cache key, compiled-cache lookup,
parameter processing, result metadata — and on the dialer's hot path (several statements per call) that
costs more CPU than the database itself. A :class:`Precompiled` statement keeps everything SQLAlchemy
decides *once*: the SQL text for the dialect (quoting, paramstyle, ``FOR UPDATE SKIP LOCKED``, casts), the
literal values it binds, and the bind/result processors of each column type (so ``UtcDateTime``, Numeric,
Boolean convert exactly as through SQLAlchemy). Each execution is then a plain DB-API ``execute`` on the
connection's own cursor, inside the connection's transaction.

Not for statements with expanding ``IN`` lists (refused at construction). Python-side column defaults are
not applied (an INSERT must name and pass every value it needs). Errors are the DB-API's own;
:func:`is_disconnect` tells a dropped connection apart.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]


class Precompiled:
    """One statement compiled for one dialect."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if not isinstance(compiled, SQLCompiler):  # pragma: no cover - DDL is not run this way
            raise TypeError("only SQL statements can be precompiled")
        self.sql = compiled.string
        if "POSTCOMPILE" in self.sql:
            raise ValueError("expanding IN parameters cannot be precompiled: use explicit comparisons")
        self._dialect = dialect
        self._defaults: dict[str, Any] = dict(compiled.params)
        positiontup = getattr(compiled, "positiontup", None)
        self._order = tuple(positiontup) if dialect.positional and positiontup else None
        self._bind: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._bind[name] = processor
        self._result_types = (
            [column.type for column in statement.selected_columns] if isinstance(statement, Select) else []
        )
        self._results: list[Processor | None] | None = None

    def _parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        merged = {**self._defaults, **values}
        for name, processor in self._bind.items():
            merged[name] = processor(merged[name])
        if self._order is not None:
            return tuple(merged[name] for name in self._order)
        return merged

    def _processors(self, description: Sequence[Sequence[Any]]) -> list[Processor | None]:
        """Result processors, chosen like SQLAlchemy does: by column type and the driver's type code."""
        if self._results is None:
            self._results = [
                kind.dialect_impl(self._dialect).result_processor(self._dialect, column[1])
                for kind, column in zip(self._result_types, description, strict=True)
            ]
        return self._results

    def rows(self, connection: Connection, values: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a SELECT and return every row, converted."""
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self.sql, self._parameters(values or {}))
            fetched = cursor.fetchall()
            processors = self._processors(cursor.description)
        finally:
            cursor.close()
        if not any(processors):
            return [tuple(row) for row in fetched]
        return [
            tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True))
            for row in fetched
        ]

    def first(
        self, connection: Connection, values: Mapping[str, Any] | None = None
    ) -> tuple[Any, ...] | None:
        found = self.rows(connection, values)
        return found[0] if found else None

    def scalar(self, connection: Connection, values: Mapping[str, Any] | None = None) -> Any:
        row = self.first(connection, values)
        return None if row is None else row[0]

    def run(self, connection: Connection, values: Mapping[str, Any] | None = None) -> int:
        """Run an INSERT/UPDATE/DELETE; the number of rows it touched."""
        cursor = connection.connection.cursor()
        try:
            cursor.execute(self.sql, self._parameters(values or {}))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        cursor = connection.connection.cursor()
        try:
            cursor.executemany(self.sql, [self._parameters(values) for values in rows])  # type: ignore[arg-type]
        finally:
            cursor.close()


def is_disconnect(connection: Connection, error: BaseException) -> bool:
    """Whether a DB-API error means the connection is gone (the dialect's own judgement)."""
    dbapi = connection.dialect.loaded_dbapi
    if not isinstance(error, dbapi.Error):
        return False
    return bool(connection.dialect.is_disconnect(error, connection.connection.dbapi_connection, None))
