"""Schema migrations and the sample import, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select

from db.migrate import current_revision, head_revision, upgrade
from db.models import Base, CallAttempt, Debtor, Phone
from db.repositories import attempts_for_debtor, callable_targets
from debtors.registry_import import ImportFileError, import_debtors
from dialer.bootstrap import Storage, open_storage
from dialer.demo import SAMPLE
from dialer.settings import Settings

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_upgrade_creates_the_schema_and_is_idempotent(storage: Storage, settings: Settings) -> None:
    assert current_revision(storage.engine) == head_revision()
    upgrade(storage.engine)
    tables = set(inspect(storage.engine).get_table_names())
    assert {"organisations", "debtors", "phones", "call_attempts", "alembic_version"} <= tables
    with open_storage(settings) as again:
        assert again.organisation_id == storage.organisation_id, "one default organisation, created once"


def test_the_migrations_build_exactly_the_models(storage: Storage) -> None:
    with storage.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sample_import_counts_rejects_and_phones(storage: Storage) -> None:
    report = import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=NOW)
    assert (report.rows, report.imported, report.updated, report.unchanged, report.rejected) == (
        11,
        10,
        0,
        0,
        1,
    )
    (error,) = report.errors
    assert (error.row, error.field, error.value) == (12, "debt", "двенадцать тысяч")
    with storage.sessions() as session:
        debtor = session.scalars(select(Debtor).where(Debtor.account == "100004")).one()
        assert debtor.full_name == "Кузнецова Анна Викторовна"
        assert debtor.debt == Decimal("21003.10")
        assert debtor.address == "пр. Мира, д. 7, корп. 2, кв. 12"
        assert debtor.district == "Кировский" and debtor.ownership == "частная"
        assert [p.e164 for p in debtor.phones] == ["+79120000003", "+73432123456"]
        odd = session.scalars(select(Phone).where(Phone.raw == "21-34-56")).one()
        assert odd.callable is False and odd.e164 is None
        targets = callable_targets(session, storage.organisation_id)
        assert len(targets) == 11
        assert session.scalar(select(func.count()).select_from(Debtor)) == 10
        assert debtor.created_at == NOW, "aware UTC datetimes survive the round trip"


def test_missing_required_column_writes_nothing(storage: Storage, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("ЛС;ФИО\n1;Иванов\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"missing required column\(s\): debt"):
        import_debtors(storage.sessions, storage.organisation_id, bad, now=NOW)
    with storage.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Debtor)) == 0


def test_call_attempts_are_stored_with_their_facts(storage: Storage) -> None:
    import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=NOW)
    with storage.sessions.begin() as session:
        target = callable_targets(session, storage.organisation_id, limit=1)[0]
        session.add(
            CallAttempt(
                id="att-1",
                organisation_id=storage.organisation_id,
                debtor_id=target.debtor_id,
                phone_id=target.phone_id,
                number=target.e164,
                dial_string="Local/x@upravdolg-sim",
                state="ended",
                outcome="busy",
                started_at=NOW,
                hangup_cause=17,
                digits="",
                detail="",
            )
        )
    with storage.sessions() as session:
        (attempt,) = attempts_for_debtor(session, target.debtor_id)
        assert (attempt.outcome, attempt.hangup_cause, attempt.started_at) == ("busy", 17, NOW)
