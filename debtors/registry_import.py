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
import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from db.bulk import allocate_ids, bulk_insert, bulk_load_mode, member_of, value_form
from db.models import Debtor, DebtSnapshot, Payment, Phone
from debtors.amounts import AmountError, parse_amount
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
from debtors.phones import ParsedPhone, split_cell
from debtors.readers import ImportFileError, open_table
from debtors.status_service import refresh_statuses
from debtors.statuses import Status, StatusRules

CHUNK_ROWS = 5000
# The registry's first list loads without per-row foreign-key checks and index upkeep (db.bulk).
BULK_TABLES = ("debtors", "phones", "debt_snapshots")
DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]
PHONES: Table = Phone.__table__  # type: ignore[assignment]
SNAPSHOTS: Table = DebtSnapshot.__table__  # type: ignore[assignment]
PhoneRow = tuple[int, int, str | None, str, bool, str]

__all__ = ["DebtorRow", "ImportFileError", "ImportReport", "RowError", "import_debtors", "parse_row"]


class DebtorRow(NamedTuple):
    """One good row of a debtor list (a NamedTuple: a million of them are built per import)."""

    row: int
    account: str
    full_name: str
    address: str
    district: str
    street: str
    house: str
    building: str
    apartment: str
    area_m2: Decimal | None
    ownership: str
    months_overdue: int
    debt: Decimal
    phones_cell: str
    fingerprint: str  # of the row's cells as written: equal means the billing centre said the same thing

    @property
    def phones(self) -> list[ParsedPhone]:
        return split_cell(self.phones_cell)


FINGERPRINT_FIELDS = (
    "full_name",
    "address",
    "district",
    "street",
    "house",
    "building",
    "apartment",
    "area_m2",
    "ownership",
    "months_overdue",
    "debt",
    "phones",
)


class Layout(NamedTuple):
    """Where each canonical field is in this file's rows (built once per file)."""

    mapping: Mapping[str, int]
    account_index: int
    fingerprint_indices: tuple[int, ...]  # the fields this file has, in FINGERPRINT_FIELDS order
    width: int  # a row must have this many cells for the fast path

    @classmethod
    def of(cls, mapping: Mapping[str, int]) -> Layout:
        indices = tuple(mapping[f] for f in FINGERPRINT_FIELDS if f in mapping)
        return cls(mapping, mapping["account"], indices, max((*indices, mapping["account"])) + 1)

    def account(self, values: Sequence[str]) -> str:
        return values[self.account_index].strip() if self.account_index < len(values) else ""

    def fingerprint(self, values: Sequence[str]) -> str:
        """md5 of the row's cells as written (trimmed), in canonical field order: equal means unchanged."""
        if len(values) >= self.width:
            cells = [values[i].strip() for i in self.fingerprint_indices]
        else:
            cells = [values[i].strip() if i < len(values) else "" for i in self.fingerprint_indices]
        return hashlib.md5("\x1f".join(cells).encode(), usedforsecurity=False).hexdigest()


def _join_address(street: str, house: str, building: str, apartment: str) -> str:
    parts = [
        street,
        house and f"д. {house}",
        building and f"корп. {building}",
        apartment and f"кв. {apartment}",
    ]
    return ", ".join(p for p in parts if p)


def _area(text: str) -> Decimal:
    area = Decimal(text.replace(" ", "").replace("\u00a0", "").replace(",", "."))
    if not area.is_finite() or area < 0 or area >= Decimal("100000000"):
        raise InvalidOperation
    return area.quantize(Decimal("0.01"))


def parse_row(values: Sequence[str], layout: Layout, row: int) -> DebtorRow | list[RowError]:
    """One data row (pure). ``row`` is the row number a person sees in the file."""
    width = len(values)
    c = {name: values[i].strip() if i < width else "" for name, i in layout.mapping.items()}
    get = c.get
    errors = []
    account = get("account", "")
    if not account:
        errors.append(RowError(row, "account", "", "the account number (лицевой счёт) is empty"))
    elif len(account) > 64:
        errors.append(RowError(row, "account", account, "an account number has at most 64 characters"))
    debt = Decimal(0)
    try:
        debt = parse_amount(get("debt", ""))
    except AmountError as exc:
        errors.append(RowError(row, "debt", get("debt", ""), str(exc)))
    months = 0
    months_text = get("months_overdue", "")
    if months_text:
        try:
            months = int(months_text.replace(" ", ""))
            if months < 0 or months > 1200:
                raise ValueError
        except ValueError:
            errors.append(
                RowError(
                    row, "months_overdue", months_text, "expected a whole number of months from 0 to 1200"
                )
            )
    area: Decimal | None = None
    area_text = get("area_m2", "")
    if area_text:
        try:
            area = _area(area_text)
        except InvalidOperation:
            errors.append(RowError(row, "area_m2", area_text, "expected an area in m² like 54,3"))
    if errors:
        return errors
    street, house, building, apartment = (
        get("street", ""),
        get("house", ""),
        get("building", ""),
        get("apartment", ""),
    )
    address = get("address", "") or _join_address(street, house, building, apartment)
    return DebtorRow(
        row,
        account,
        get("full_name", ""),
        address[:500],
        get("district", ""),
        street,
        house,
        building,
        apartment,
        area,
        get("ownership", ""),
        months,
        debt,
        get("phones", ""),
        layout.fingerprint(values),
    )


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
        self.first_rows: dict[str, int] = {}  # account -> its first row in this file
        self.layout = layout
        self.had_debtors = (
            self.connection.execute(
                select(Debtor.id).where(Debtor.organisation_id == organisation_id).limit(1)
            ).first()
            is not None
        )

    def reject(self, error: RowError) -> None:
        reject_row(self.report, self.rejects, [error])

    def write(self, raw: list[tuple[int, list[str]]]) -> None:
        """One chunk of raw rows. Rows the registry already holds unchanged are counted without parsing."""
        layout = self.layout
        keyed: list[tuple[int, list[str], str]] = []
        for number, values in raw:
            account = layout.account(values)
            if account:
                first = self.first_rows.setdefault(account, number)
                if first != number:
                    self.reject(
                        RowError(
                            number,
                            "account",
                            account,
                            f"the account appears again (first at row {first}); only the first row "
                            "is imported",
                        )
                    )
                    continue
            keyed.append((number, values, account))
        # An organisation's first list: nothing to look up (and on PostgreSQL the planner, with no statistics
        # for rows this transaction inserted, would scan the growing table for every chunk).
        existing = self._existing([a for _, _, a in keyed if a]) if self.had_debtors else {}
        new_rows: list[DebtorRow] = []
        old_rows: list[tuple[DebtorRow, _Existing]] = []
        for number, values, account in keyed:
            found = existing.get(account)
            if (
                found is not None
                and found.debt_as_of == self.as_of
                and found.fingerprint == layout.fingerprint(values)
            ):
                self.report.unchanged += 1  # same list, same month: nothing to parse, nothing to write
                continue
            parsed = parse_row(values, layout, number)
            if isinstance(parsed, list):
                reject_row(self.report, self.rejects, parsed)
            elif found is None:
                new_rows.append(parsed)
            else:
                old_rows.append((parsed, found))
        self._insert_new(new_rows)
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

    def _insert_new(self, rows: list[DebtorRow]) -> None:
        if not rows:
            return
        ids = allocate_ids(self.connection, DEBTORS, len(rows))
        form = self.form
        now, as_of, org, import_id = (
            form.timestamp(self.now),
            form.day(self.as_of),
            self.organisation_id,
            self.import_id,
        )
        where = f"выгрузка №{self.import_id} ({self.source}) на {self.as_of:%d.%m.%Y}"
        paid = (Status.PAID.value, f"в выгрузке нет долга ({where})")
        active = (Status.ACTIVE.value, f"впервые в выгрузке ({where})")
        tolerance = self.rules.tolerance
        source = self.source[:100]
        debtors: list[tuple[object, ...]] = []
        phones: list[PhoneRow] = []
        snapshots: list[tuple[object, ...]] = []
        for debtor_id, row in zip(ids, rows, strict=True):
            status, reason = paid if row.debt <= tolerance else active
            debt = form.money(row.debt)
            debtors.append(
                (
                    debtor_id,
                    org,
                    row.account,
                    row.full_name,
                    row.address,
                    row.district,
                    row.street,
                    row.house,
                    row.building,
                    row.apartment,
                    form.money(row.area_m2),
                    row.ownership,
                    debt,
                    as_of,
                    row.months_overdue,
                    status,
                    reason,
                    now,
                    row.fingerprint,
                    import_id,
                    now,
                    now,
                )
            )
            phones.extend((org, debtor_id, p.e164, p.raw[:100], p.callable, source) for p in row.phones)
            snapshots.append((org, debtor_id, import_id, as_of, debt, row.months_overdue))
        bulk_insert(
            self.connection,
            DEBTORS,
            (
                "id",
                "organisation_id",
                "account",
                "full_name",
                "address",
                "district",
                "street",
                "house",
                "building",
                "apartment",
                "area_m2",
                "ownership",
                "debt",
                "debt_as_of",
                "months_overdue",
                "status",
                "status_reason",
                "status_since",
                "fingerprint",
                "last_import_id",
                "created_at",
                "updated_at",
            ),
            debtors,
        )
        bulk_insert(
            self.connection,
            PHONES,
            ("organisation_id", "debtor_id", "e164", "raw", "callable", "source"),
            phones,
        )
        bulk_insert(
            self.connection,
            SNAPSHOTS,
            ("organisation_id", "debtor_id", "import_id", "as_of", "amount", "months_overdue"),
            snapshots,
        )
        self.report.imported += len(rows)

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
    """After a bulk import, let PostgreSQL's planner see the new rows at once (autovacuum comes later)."""
    with sessions() as session:
        if session.connection().dialect.name == "postgresql":
            session.execute(text("ANALYZE debtors, phones, debt_snapshots"))
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
                with loading:
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
