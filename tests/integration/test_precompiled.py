"""db.precompiled: the dialer's hot statements on the DB-API cursor return and write exactly what
SQLAlchemy's own execution does, on SQLite and PostgreSQL (types included: aware UTC datetimes, Numeric,
Boolean, NULLs), and a dropped connection is recognised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Table, bindparam, insert, select, update

from db.models import CallAttempt, Debtor
from db.precompiled import Precompiled, is_disconnect
from dialer.bootstrap import Storage
from dialer.campaign_store import _HOT

ATTEMPTS: Table = CallAttempt.__table__  # type: ignore[assignment]


def _debtor(storage: Storage) -> int:
    now = datetime.now(UTC)
    with storage.sessions.begin() as session:
        debtor = Debtor(
            organisation_id=storage.organisation_id,
            account="100",
            full_name="Иванов И. И.",
            debt=Decimal("1234.56"),
            months_overdue=3,
            district="Ленинский",
            created_at=now,
            updated_at=now,
        )
        session.add(debtor)
        session.flush()
        return debtor.id


def test_every_hot_statement_compiles_for_the_backend(storage: Storage) -> None:
    for name, statement in _HOT.items():
        compiled = Precompiled(statement, storage.engine.dialect)
        assert "POSTCOMPILE" not in compiled.sql, name


def test_rows_and_writes_match_sqlalchemy(storage: Storage) -> None:
    debtor = _debtor(storage)
    started = datetime(2026, 11, 27, 9, 30, 15, 123456, tzinfo=UTC)
    add = Precompiled(
        insert(ATTEMPTS).values(
            {n: bindparam(n) for n in ("id", "organisation_id", "debtor_id", "number", "dial_string", "state",
                                       "started_at", "counts_as_contact", "heard_ms", "digits", "detail",
                                       "worker", "repeats", "segments")}
        ),
        storage.engine.dialect,
    )  # fmt: skip
    recent = Precompiled(
        select(ATTEMPTS.c.id, ATTEMPTS.c.started_at, ATTEMPTS.c.answered_at, ATTEMPTS.c.counts_as_contact,
               ATTEMPTS.c.heard_ms)
        .where(ATTEMPTS.c.debtor_id == bindparam("debtor"), ATTEMPTS.c.state != "gone")
        .order_by(ATTEMPTS.c.id),
        storage.engine.dialect,
    )  # fmt: skip
    mark = Precompiled(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.id == bindparam("b_id"), ATTEMPTS.c.state == "dialling")
        .values(state="up", answered_at=bindparam("b_at")),
        storage.engine.dialect,
    )
    with storage.engine.connect() as connection, connection.begin():
        common: dict[str, Any] = {
            "organisation_id": storage.organisation_id,
            "debtor_id": debtor,
            "number": "+79120000001",
            "dial_string": "Local/79120000001@upravdolg-sim",
            "state": "dialling",
            "digits": "",
            "detail": "",
            "worker": "w",
            "repeats": 0,
            "segments": "",
        }
        first = {"id": "a1", "started_at": started, "counts_as_contact": True, "heard_ms": 10500}
        second = {"id": "a2", "started_at": started + timedelta(minutes=1), "counts_as_contact": False}
        add.run(connection, {**common, **first})
        add.run(connection, {**common, **second, "heard_ms": None})
        later = started + timedelta(seconds=4)
        mark.run_many(connection, [{"b_id": "a1", "b_at": later}, {"b_id": "zz", "b_at": started}])
        assert mark.run(connection, {"b_id": "a1", "b_at": started}) == 0, "a1 is no longer dialling"
        ours = recent.rows(connection, {"debtor": debtor})
        theirs = [
            tuple(row)
            for row in connection.execute(
                select(ATTEMPTS.c.id, ATTEMPTS.c.started_at, ATTEMPTS.c.answered_at,
                       ATTEMPTS.c.counts_as_contact, ATTEMPTS.c.heard_ms)
                .where(ATTEMPTS.c.debtor_id == debtor).order_by(ATTEMPTS.c.id)
            )
        ]  # fmt: skip
    assert ours == theirs
    assert ours == [
        ("a1", started, started + timedelta(seconds=4), True, 10500),
        ("a2", started + timedelta(minutes=1), None, False, None),
    ]
    assert all(isinstance(row[1], datetime) and row[1].tzinfo is not None for row in ours)


def test_numeric_and_scalar_match_sqlalchemy(storage: Storage) -> None:
    debtor = _debtor(storage)
    facts = Precompiled(_HOT["debtor_facts"], storage.engine.dialect)
    with storage.engine.connect() as connection:
        ours = facts.first(connection, {"debtor": debtor})
        theirs = tuple(connection.execute(_HOT["debtor_facts"], {"debtor": debtor}).one())
        assert facts.first(connection, {"debtor": debtor + 1000}) is None
    assert ours == theirs and ours is not None
    assert ours[1] == Decimal("1234.56") and isinstance(ours[1], Decimal)


def test_a_naive_datetime_is_refused_as_through_sqlalchemy(storage: Storage) -> None:
    recent = Precompiled(_HOT["recent_calls"], storage.engine.dialect)
    with storage.engine.connect() as connection, pytest.raises(ValueError, match="naive datetime"):
        recent.rows(connection, {"debtor": 1, "since": datetime(2026, 1, 1)})  # noqa: DTZ001


def test_expanding_in_lists_are_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="expanding IN"):
        Precompiled(select(ATTEMPTS.c.id).where(ATTEMPTS.c.state.in_(["a", "b"])), storage.engine.dialect)


def test_a_dropped_connection_is_recognised(storage: Storage) -> None:
    ping = Precompiled(select(ATTEMPTS.c.id).limit(1), storage.engine.dialect)
    with storage.engine.connect() as connection:
        assert ping.rows(connection) == []
        connection.connection.dbapi_connection.close()  # type: ignore[union-attr]
        with pytest.raises(Exception) as raised:
            ping.rows(connection)
        assert is_disconnect(connection, raised.value)
        assert not is_disconnect(connection, ValueError("not a database error"))
        connection.invalidate()
