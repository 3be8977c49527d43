"""Import of a billing centre's debtor list (CSV) into the registry.

One import is one transaction: a file-level problem (unreadable, unknown encoding, missing required column)
rejects the whole file before anything is written; a bad row is reported with its row number, field, value
and what was expected, and the good rows are imported.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from db.models import Debtor, Phone
from debtors.amounts import AmountError, parse_amount
from debtors.headers import HeaderError, map_headers
from debtors.phones import split_cell
from dialer.errors import UpravDolgError

DELIMITERS = ";,\t"


class ImportFileError(UpravDolgError):
    """The file cannot be imported."""

    exit_code = 10


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    value: str
    message: str


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class DebtorRow:
    row: int
    account: str
    full_name: str
    address: str
    debt: Decimal
    months_overdue: int
    phones: str


def decode(data: bytes, path: Path, encoding: str | None = None) -> str:
    """UTF-8 (with or without BOM) when it decodes strictly, else cp1251 — or the encoding asked for."""
    if encoding:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ImportFileError(f"{path}: cannot decode as {encoding}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251")


def read_csv(path: Path, encoding: str | None = None) -> tuple[list[str], Iterator[list[str]]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from None
    text = decode(data, path, encoding)
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    if first_line.count(delimiter) == 0:
        raise ImportFileError(f"{path}: the header row has no ';', ',' or tab separators")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(reader)
    except StopIteration:
        raise ImportFileError(f"{path}: the file is empty") from None
    return headers, reader


def parse_row(values: Sequence[str], mapping: dict[str, int], row: int) -> DebtorRow | list[RowError]:
    """One data row (pure). ``row`` is the 1-based line number in the file, header included."""

    def cell(name: str) -> str:
        index = mapping.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    errors = []
    account = cell("account")
    if not account:
        errors.append(RowError(row, "account", "", "the account number (лицевой счёт) is empty"))
    debt = Decimal(0)
    try:
        debt = parse_amount(cell("debt"))
    except AmountError as exc:
        errors.append(RowError(row, "debt", cell("debt"), str(exc)))
    months = 0
    if cell("months_overdue"):
        try:
            months = int(cell("months_overdue"))
            if months < 0:
                raise ValueError
        except ValueError:
            errors.append(
                RowError(
                    row, "months_overdue", cell("months_overdue"), "expected a whole number of months ≥ 0"
                )
            )
    if errors:
        return errors
    address = cell("address") or ", ".join(
        part
        for part in (
            cell("street"),
            cell("house") and f"д. {cell('house')}",
            cell("building") and f"корп. {cell('building')}",
            cell("apartment") and f"кв. {cell('apartment')}",
        )
        if part
    )
    return DebtorRow(row, account, cell("full_name"), address, debt, months, cell("phones"))


def import_debtors(
    sessions: sessionmaker[Session],
    organisation_id: int,
    path: Path,
    *,
    now: datetime,
    encoding: str | None = None,
    mapping: dict[str, str] | None = None,
) -> ImportReport:
    started = time.perf_counter()
    headers, rows = read_csv(path, encoding)
    try:
        columns = map_headers(headers, mapping)
    except HeaderError as exc:
        raise ImportFileError(f"{path}: {exc}") from None
    report = ImportReport()
    with sessions.begin() as session:
        for number, values in enumerate(rows, start=2):
            if not any(v.strip() for v in values):
                continue
            report.rows += 1
            parsed = parse_row(values, columns, number)
            if isinstance(parsed, list):
                report.rejected += 1
                report.errors.extend(parsed)
                continue
            _upsert(session, organisation_id, parsed, now=now, report=report, source=path.name)
    report.seconds = time.perf_counter() - started
    return report


def _upsert(
    session: Session,
    organisation_id: int,
    row: DebtorRow,
    *,
    now: datetime,
    report: ImportReport,
    source: str,
) -> None:
    debtor = session.scalars(
        select(Debtor).where(Debtor.organisation_id == organisation_id, Debtor.account == row.account)
    ).one_or_none()
    phones = split_cell(row.phones)
    if debtor is None:
        debtor = Debtor(
            organisation_id=organisation_id,
            account=row.account,
            full_name=row.full_name,
            address=row.address,
            debt=row.debt,
            months_overdue=row.months_overdue,
            created_at=now,
            updated_at=now,
        )
        session.add(debtor)
        session.flush()
        report.imported += 1
    else:
        before = (
            debtor.full_name,
            debtor.address,
            debtor.debt,
            debtor.months_overdue,
            [(p.e164, p.raw) for p in debtor.phones],
        )
        after = (row.full_name, row.address, row.debt, row.months_overdue, [(p.e164, p.raw) for p in phones])
        if before == after:
            report.unchanged += 1
            return
        debtor.full_name, debtor.address = row.full_name, row.address
        debtor.debt, debtor.months_overdue, debtor.updated_at = row.debt, row.months_overdue, now
        for old in list(debtor.phones):
            session.delete(old)
        report.updated += 1
    for phone in phones:
        session.add(
            Phone(
                organisation_id=organisation_id,
                debtor_id=debtor.id,
                e164=phone.e164,
                raw=phone.raw,
                callable=phone.callable,
                source=source,
            )
        )
