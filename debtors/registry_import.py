"""Import of a billing centre's debtor list into the registry: upsert by account, streamed, in bulk.

Rules (issue "Debtor registry", ../shared/DOMAIN.md):

* a file-level problem (unreadable file, unknown format or encoding, missing account or debt column)
  rejects the whole file before anything is written;
* a bad row is reported with its row number, field, value and what was expected — on screen, in JSON and
  in ``<file>.rejects.csv`` — and the good rows are imported;
* the import is one transaction: a crash leaves the previous state intact;
* re-importing the very same file (same SHA-256) is a no-op that says so;
* every import writes a debt snapshot per debtor for its as-of date (the history payment dynamics come
  from); a debtor's current debt is the newest snapshot minus the payments dated after it;
* statuses follow (debtors.statuses): a debt at or below the tolerance is «ДОЛГ ПОГАШЕН», new debt on a
  paid debtor re-activates it.

Speed: rows are processed in chunks; per chunk a handful of queries find the existing debtors, and new
rows are written with COPY (PostgreSQL) or executemany (SQLite). Memory stays flat whatever the file size.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db.bulk import (
    BackgroundWriter,
    allocate_ids,
    bulk_insert,
    bulk_insert_frame,
    bulk_load_mode,
    member_of,
    value_form,
)
from db.models import Debtor, DebtSnapshot, Payment, Phone
from debtors.chunk_parse import parse_chunk
from debtors.debtor_rows import DebtorRow, Layout, parse_row
from debtors.duplicate_accounts import FirstRows
from debtors.headers import HeaderError, map_headers
from debtors.import_runs import (
    ImportReport,
    RejectsWriter,
    RowError,
    file_sha256,
    finish_import,
    previous_import,
    raw_chunks,
    reject_row,
    rejects_path,
    start_import,
)
from debtors.phones import ParsedPhone
from debtors.readers import ImportFileError, open_table
from debtors.status_service import refresh_statuses
from debtors.statuses import Status, StatusRules

CHUNK_ROWS = 20000
# The registry's first list loads without per-row foreign-key checks and index upkeep (db.bulk).
BULK_TABLES = ("debtors", "phones", "debt_snapshots")
DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]
PHONES: Table = Phone.__table__  # type: ignore[assignment]
SNAPSHOTS: Table = DebtSnapshot.__table__  # type: ignore[assignment]
PhoneRow = tuple[int, int, str | None, str, bool, str]

__all__ = ["DebtorRow", "ImportFileError", "ImportReport", "RowError", "import_debtors", "parse_row"]


class _Existing(NamedTuple):
    id: int
    fingerprint: str
    status: str
    debt_as_of: date | None
    last_import_id: int | None
    debt: Decimal
    months_overdue: int


@dataclass
class _Plan:
    new_snapshots: list[tuple[object, ...]] = field(default_factory=list)
    changed_snapshots: list[dict[str, object]] = field(default_factory=list)
    debt_updates: list[dict[str, object]] = field(default_factory=list)
    field_updates: list[dict[str, object]] = field(default_factory=list)
    phone_changes: list[tuple[int, list[ParsedPhone]]] = field(default_factory=list)


class _ChunkWriter:
    """Writes one chunk of parsed rows; all state that spans chunks lives in the report."""

    def __init__(
        self,
        session: Session,
        organisation_id: int,
        import_id: int,
        *,
        as_of: date,
        now: datetime,
        rules: StatusRules,
        report: ImportReport,
        rejects: RejectsWriter,
        source: str,
        layout: Layout,
    ) -> None:
        self.session = session
        self.connection = session.connection()
        self.form = value_form(self.connection)
        self.organisation_id = organisation_id
        self.import_id = import_id
        self.as_of = as_of
        self.now = now
        self.rules = rules
        self.report = report
        self.rejects = rejects
        self.source = source
        self.to_refresh: list[int] = []
        self.first_rows = FirstRows()  # the first row of every account in this file
        self.layout = layout
        self.had_debtors = (
            self.connection.execute(
                select(Debtor.id).where(Debtor.organisation_id == organisation_id).limit(1)
            ).first()
            is not None
        )
        # An organisation's first list only inserts: its writes can overlap the parsing of the next chunk.
        self.background = BackgroundWriter(enabled=not self.had_debtors)

    def reject(self, error: RowError) -> None:
        reject_row(self.report, self.rejects, [error])

    def write(self, raw: list[tuple[int, list[str]]]) -> None:
        """One chunk of raw rows. Rows the registry already holds unchanged are counted without parsing."""
        layout = self.layout
        accounts = [layout.account(values) for _, values in raw]
        repeats = self.first_rows.repeats(accounts, [number for number, _ in raw])
        for position in sorted(repeats):
            self.reject(
                RowError(
                    raw[position][0],
                    "account",
                    accounts[position],
                    f"the account appears again (first at row {repeats[position]}); "
                    "only the first row is imported",
                )
            )
        if not self.had_debtors:
            # An organisation's first list: every row is new, nothing to look up (on PostgreSQL the planner,
            # with no statistics for rows this transaction inserted, would scan the growing table per chunk),
            # and no per-row loop either (~2 s of a million rows).
            self._insert_new(raw if not repeats else [r for i, r in enumerate(raw) if i not in repeats])
            return
        keyed = [
            (number, values, account)
            for position, ((number, values), account) in enumerate(zip(raw, accounts, strict=True))
            if position not in repeats
        ]
        existing = self._existing([a for _, _, a in keyed if a])
        new_raw: list[tuple[int, list[str]]] = []
        old_rows: list[tuple[DebtorRow, _Existing]] = []
        for number, values, account in keyed:
            found = existing.get(account)
            if found is None:
                new_raw.append((number, values))
                continue
            if found.debt_as_of == self.as_of and found.fingerprint == layout.fingerprint(values):
                self.report.unchanged += 1  # same list, same month: nothing to parse, nothing to write
                continue
            parsed = parse_row(values, layout, number)
            if isinstance(parsed, list):
                reject_row(self.report, self.rejects, parsed)
            else:
                old_rows.append((parsed, found))
        self._insert_new(new_raw)
        self._update_existing(old_rows)

    def _existing(self, accounts: list[str]) -> dict[str, _Existing]:
        if not accounts:
            return {}
        result = self.connection.execute(
            select(
                Debtor.account,
                Debtor.id,
                Debtor.fingerprint,
                Debtor.status,
                Debtor.debt_as_of,
                Debtor.last_import_id,
                Debtor.debt,
                Debtor.months_overdue,
            ).where(Debtor.organisation_id == self.organisation_id, self._member(Debtor.account, accounts))
        )
        return {row[0]: _Existing(*row[1:]) for row in result.all()}

    def _member(self, column: Any, values: Sequence[Any]) -> Any:
        return member_of(column, values, self.connection.dialect.name)

    def _insert_new(self, raw: list[tuple[int, list[str]]]) -> None:
        """New debtors, parsed column-wise (debtors.chunk_parse) and written in bulk with their phones and
        first snapshot. Their status comes from the debt alone: nothing else is known about them yet."""
        if not raw:
            return
        chunk = parse_chunk(raw, self.layout)
        for errors in chunk.rejected:
            reject_row(self.report, self.rejects, errors)
        if chunk.debtors.is_empty():
            return
        self.report.imported += chunk.debtors.height
        self.background.run(self._write_new, chunk.debtors, chunk.phones)

    def _write_new(self, frame: pl.DataFrame, parsed_phones: pl.DataFrame) -> None:
        """The database half of :meth:`_insert_new` (may run on the background writer)."""
        form = self.form
        ids = pl.Series("id", allocate_ids(self.connection, DEBTORS, frame.height), dtype=pl.Int64)
        now, as_of = form.timestamp_text(self.now), form.day_text(self.as_of)
        where = f"выгрузка №{self.import_id} ({self.source}) на {self.as_of:%d.%m.%Y}"
        paid = pl.col("debt") <= pl.lit(self.rules.tolerance)
        debtors = frame.select(
            ids,
            pl.lit(self.organisation_id).alias("organisation_id"),
            "account",
            "full_name",
            "address",
            "district",
            "street",
            "house",
            "building",
            "apartment",
            pl.col("area_m2").cast(pl.String),
            "ownership",
            pl.col("debt").cast(pl.String),
            pl.lit(as_of).alias("debt_as_of"),
            "months_overdue",
            pl.when(paid)
            .then(pl.lit(Status.PAID.value))
            .otherwise(pl.lit(Status.ACTIVE.value))
            .alias("status"),
            pl.when(paid)
            .then(pl.lit(f"в выгрузке нет долга ({where})"))
            .otherwise(pl.lit(f"впервые в выгрузке ({where})"))
            .alias("status_reason"),
            pl.lit(now).alias("status_since"),
            "fingerprint",
            pl.lit(self.import_id).alias("last_import_id"),
            pl.lit(now).alias("created_at"),
            pl.lit(now).alias("updated_at"),
        )
        bulk_insert_frame(self.connection, DEBTORS, debtors)
        phones = parsed_phones.join(
            frame.select("row", ids.alias("debtor_id")), on="row", how="left", maintain_order="left"
        ).select(
            pl.lit(self.organisation_id).alias("organisation_id"),
            "debtor_id",
            "e164",
            "raw",
            "callable",
            pl.lit(self.source[:100]).alias("source"),
        )
        bulk_insert_frame(self.connection, PHONES, phones)
        snapshots = frame.select(
            pl.lit(self.organisation_id).alias("organisation_id"),
            ids.alias("debtor_id"),
            pl.lit(self.import_id).alias("import_id"),
            pl.lit(as_of).alias("as_of"),
            pl.col("debt").cast(pl.String).alias("amount"),
            "months_overdue",
        )
        bulk_insert_frame(self.connection, SNAPSHOTS, snapshots)

    def _update_existing(self, pairs: list[tuple[DebtorRow, _Existing]]) -> None:
        if not pairs:
            return
        plan = self._plan(pairs)
        conn = self.connection
        bulk_insert(
            conn,
            SNAPSHOTS,
            ("organisation_id", "debtor_id", "import_id", "as_of", "amount", "months_overdue"),
            plan.new_snapshots,
        )
        if plan.changed_snapshots:
            conn.execute(
                update(SNAPSHOTS)
                .where(SNAPSHOTS.c.debtor_id == bindparam("b_debtor"), SNAPSHOTS.c.as_of == self.as_of)
                .values(
                    amount=bindparam("b_amount"),
                    months_overdue=bindparam("b_months"),
                    import_id=bindparam("b_import"),
                ),
                plan.changed_snapshots,
            )
        if plan.debt_updates:
            conn.execute(
                update(DEBTORS)
                .where(DEBTORS.c.id == bindparam("b_id"))
                .values(
                    debt=bindparam("b_debt"),
                    debt_as_of=bindparam("b_as_of"),
                    months_overdue=bindparam("b_months"),
                    last_import_id=self.import_id,
                ),
                plan.debt_updates,
            )
        if plan.field_updates:
            conn.execute(
                update(DEBTORS)
                .where(DEBTORS.c.id == bindparam("b_id"))
                .values(
                    full_name=bindparam("b_name"),
                    address=bindparam("b_address"),
                    district=bindparam("b_district"),
                    street=bindparam("b_street"),
                    house=bindparam("b_house"),
                    building=bindparam("b_building"),
                    apartment=bindparam("b_apartment"),
                    area_m2=bindparam("b_area"),
                    ownership=bindparam("b_ownership"),
                    fingerprint=bindparam("b_fingerprint"),
                    updated_at=self.now,
                    last_import_id=self.import_id,
                ),
                plan.field_updates,
            )
            self._reconcile_phones(plan.phone_changes)

    def _plan(self, pairs: list[tuple[DebtorRow, _Existing]]) -> _Plan:
        """What to write for rows already in the registry (reads and decides; writes nothing)."""
        ids = [found.id for _, found in pairs]
        snapshots = {
            debtor_id: (amount, months)
            for debtor_id, amount, months in self.connection.execute(
                select(DebtSnapshot.debtor_id, DebtSnapshot.amount, DebtSnapshot.months_overdue).where(
                    self._member(DebtSnapshot.debtor_id, ids), DebtSnapshot.as_of == self.as_of
                )
            )
        }
        paid_after: dict[int, Decimal] = dict(
            self.connection.execute(
                select(Payment.debtor_id, func.sum(Payment.amount))
                .where(self._member(Payment.debtor_id, ids), Payment.paid_on > self.as_of)
                .group_by(Payment.debtor_id)
            ).all()
        )
        plan = _Plan()
        for row, found in pairs:
            snapshot = snapshots.get(found.id)
            if snapshot is None:
                plan.new_snapshots.append(
                    (
                        self.organisation_id,
                        found.id,
                        self.import_id,
                        self.form.day(self.as_of),
                        self.form.money(row.debt),
                        row.months_overdue,
                    )
                )
            elif snapshot != (row.debt, row.months_overdue):
                plan.changed_snapshots.append(
                    {
                        "b_debtor": found.id,
                        "b_amount": row.debt,
                        "b_months": row.months_overdue,
                        "b_import": self.import_id,
                    }
                )
            if found.debt_as_of is None or self.as_of >= found.debt_as_of:
                current = row.debt - Decimal(paid_after.get(found.id) or 0)
                if (current, self.as_of, row.months_overdue) != (
                    found.debt,
                    found.debt_as_of,
                    found.months_overdue,
                ):
                    plan.debt_updates.append(
                        {
                            "b_id": found.id,
                            "b_debt": current,
                            "b_as_of": self.as_of,
                            "b_months": row.months_overdue,
                        }
                    )
                if current != found.debt:
                    self.to_refresh.append(found.id)
            if found.fingerprint == row.fingerprint:
                self.report.unchanged += 1  # same content (a new as-of date only grows the history)
                continue
            plan.field_updates.append(
                {
                    "b_id": found.id,
                    "b_name": row.full_name,
                    "b_address": row.address,
                    "b_district": row.district,
                    "b_street": row.street,
                    "b_house": row.house,
                    "b_building": row.building,
                    "b_apartment": row.apartment,
                    "b_area": row.area_m2,
                    "b_ownership": row.ownership,
                    "b_fingerprint": row.fingerprint,
                }
            )
            plan.phone_changes.append((found.id, row.phones))
            self.report.updated += 1
        return plan

    def _reconcile_phones(self, changes: list[tuple[int, list[ParsedPhone]]]) -> None:
        """Keep numbers still listed, add new ones, mark dropped ones removed (attempts refer to them)."""
        ids = [debtor_id for debtor_id, _ in changes]
        current: dict[int, dict[str, int]] = {}
        for phone_id, debtor_id, e164, raw in self.connection.execute(
            select(Phone.id, Phone.debtor_id, Phone.e164, Phone.raw).where(
                self._member(Phone.debtor_id, ids), Phone.removed_at.is_(None)
            )
        ):
            current.setdefault(debtor_id, {})[e164 or raw] = phone_id
        added: list[PhoneRow] = []
        removed: list[int] = []
        for debtor_id, phones in changes:
            before = current.get(debtor_id, {})
            listed = {(p.e164 or p.raw): p for p in phones}
            removed.extend(phone_id for key, phone_id in before.items() if key not in listed)
            added.extend(
                (self.organisation_id, debtor_id, p.e164, p.raw[:100], p.callable, self.source[:100])
                for key, p in listed.items()
                if key not in before
            )
        if removed:
            self.connection.execute(
                update(PHONES).where(PHONES.c.id.in_(removed)).values(removed_at=self.now)
            )
        bulk_insert(
            self.connection,
            PHONES,
            ("organisation_id", "debtor_id", "e164", "raw", "callable", "source"),
            added,
        )


def refresh_planner_statistics(sessions: sessionmaker[Session]) -> None:
    """After a bulk import, let the planner see the new rows at once: PostgreSQL's ANALYZE (autovacuum
    comes later); SQLite keeps no statistics unless told, and without them it may walk the wrong one of the
    debtor list's indexes (db/debtor_list.py) — a sampled ANALYZE (analysis_limit, sqlite.org/lang_analyze
    .html) reads about a thousand rows per index, milliseconds at any size."""
    with sessions() as session:
        if session.connection().dialect.name == "postgresql":
            session.execute(text("ANALYZE debtors, phones, debt_snapshots"))
        else:
            session.execute(text("PRAGMA analysis_limit = 1000"))
            session.execute(text("ANALYZE debtors"))
        session.commit()


def import_debtors(
    sessions: sessionmaker[Session],
    organisation_id: int,
    path: Path,
    *,
    now: datetime,
    as_of: date | None = None,
    encoding: str | None = None,
    mapping: dict[str, str] | None = None,
    rules: StatusRules | None = None,
    actor: str = "cli",
) -> ImportReport:
    """Import a debtor list. Raises :class:`ImportFileError` (nothing written) for a file-level problem."""
    started = time.perf_counter()
    rules = rules or StatusRules()
    as_of = as_of or now.date()
    sha256 = file_sha256(path) if path.is_file() else ""
    with sessions() as session:
        earlier = previous_import(session, organisation_id, "debtors", sha256) if sha256 else None
    if earlier is not None:
        report = ImportReport(
            already_imported=earlier.id,
            as_of=earlier.as_of,
            file_format=earlier.file_format,
            encoding=earlier.encoding,
        )
        report.seconds = time.perf_counter() - started
        return report
    with open_table(path, encoding) as table:
        try:
            columns = map_headers(table.headers, mapping)
        except HeaderError as exc:
            raise ImportFileError(f"{path}: {exc}") from None
        report = ImportReport(file_format=table.file_format, encoding=table.encoding, as_of=as_of)
        rejects = RejectsWriter(rejects_path(path))
        try:
            with sessions.begin() as session:
                record = start_import(
                    session,
                    organisation_id,
                    kind="debtors",
                    path=path,
                    sha256=sha256,
                    file_format=table.file_format,
                    encoding=table.encoding,
                    as_of=as_of,
                    actor=actor,
                    now=now,
                )
                writer = _ChunkWriter(
                    session,
                    organisation_id,
                    record.id,
                    as_of=as_of,
                    now=now,
                    rules=rules,
                    report=report,
                    rejects=rejects,
                    source=path.name,
                    layout=Layout.of(columns),
                )
                registry_empty = session.execute(select(Debtor.id).limit(1)).first() is None
                loading = (
                    bulk_load_mode(session.connection(), BULK_TABLES)
                    if registry_empty
                    else contextlib.nullcontext()
                )
                with loading, writer.background:
                    for chunk in raw_chunks(table.rows, report=report, size=CHUNK_ROWS):
                        writer.write(chunk)
                        if writer.to_refresh:
                            refresh_statuses(
                                session,
                                organisation_id,
                                writer.to_refresh,
                                today=now.date(),
                                now=now,
                                rules=rules,
                                actor=actor,
                                trigger=f"выгрузка №{record.id} на {as_of:%d.%m.%Y}",
                            )
                            writer.to_refresh = []
                finish_import(record, report, now)
                report.import_id = record.id
        finally:
            report.rejects_file = rejects.close()
    refresh_planner_statistics(sessions)
    report.sort_errors()
    report.seconds = time.perf_counter() - started
    return report
