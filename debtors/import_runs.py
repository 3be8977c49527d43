"""What every import shares: the file's identity, its record in ``imports``, the report and the rejects."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Import

MAX_ERRORS_IN_REPORT = 1000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    field: str
    value: str
    message: str


@dataclass(slots=True)
class ImportReport:
    """The result of one import. ``errors`` holds the first MAX_ERRORS_IN_REPORT; the rejects file all."""

    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    seconds: float = 0.0
    import_id: int | None = None
    already_imported: int | None = None  # the earlier import of the very same file
    rejects_file: str | None = None
    file_format: str = ""
    encoding: str = ""
    as_of: date | None = None

    def reject(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS_IN_REPORT:
            self.errors.append(error)

    def sort_errors(self) -> None:
        self.errors.sort(key=lambda e: e.row)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": [
                {"row": e.row, "field": e.field, "value": e.value, "message": e.message} for e in self.errors
            ],
            "seconds": round(self.seconds, 3),
            "import_id": self.import_id,
            "already_imported": self.already_imported,
            "rejects_file": self.rejects_file,
            "format": self.file_format,
            "encoding": self.encoding,
            "as_of": self.as_of.isoformat() if self.as_of else None,
        }


def print_import(report: ImportReport, path: Path, out: TextIO) -> None:
    if report.already_imported is not None:
        out.write(f"{path.name} was already imported (import #{report.already_imported}); nothing to do\n")
        return
    out.write(
        f"Imported {path.name} ({report.file_format}"
        + (f", {report.encoding}" if report.encoding else "")
        + (f") as of {report.as_of}" if report.as_of else ")")
        + f": {report.rows} rows — {report.imported} new, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.rejected} rejected ({report.seconds:.2f} s)\n"
    )
    for error in report.errors:
        out.write(f"  row {error.row}, {error.field} = {error.value!r}: {error.message}\n")
    if report.rejected > len(report.errors):
        out.write(f"  … and {report.rejected - len(report.errors)} more\n")
    if report.rejects_file:
        out.write(f"  rejected rows are in {report.rejects_file}\n")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def previous_import(session: Session, organisation_id: int, kind: str, sha256: str) -> Import | None:
    """A finished import of exactly this file (same bytes), if any."""
    return session.scalars(
        select(Import)
        .where(
            Import.organisation_id == organisation_id,
            Import.kind == kind,
            Import.file_sha256 == sha256,
            Import.finished_at.is_not(None),
        )
        .order_by(Import.id.desc())
        .limit(1)
    ).one_or_none()


def start_import(
    session: Session,
    organisation_id: int,
    *,
    kind: str,
    path: Path,
    sha256: str,
    file_format: str,
    encoding: str,
    as_of: date | None,
    actor: str,
    now: datetime,
) -> Import:
    record = Import(
        organisation_id=organisation_id,
        kind=kind,
        file_name=path.name,
        file_sha256=sha256,
        file_format=file_format,
        encoding=encoding,
        as_of=as_of,
        actor=actor,
        started_at=now,
        rows=0,
        imported=0,
        updated=0,
        unchanged=0,
        rejected=0,
    )
    session.add(record)
    session.flush()
    return record


def finish_import(record: Import, report: ImportReport, now: datetime) -> None:
    record.rows, record.imported, record.updated = report.rows, report.imported, report.updated
    record.unchanged, record.rejected, record.finished_at = report.unchanged, report.rejected, now


def rejects_path(path: Path) -> Path:
    return path.with_name(path.name + ".rejects.csv")


class RejectsWriter:
    """Streams every rejected row to ``<file>.rejects.csv`` (UTF-8 with BOM, ';', opens in Excel)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: Any = None
        self._writer: Any = None

    def write(self, error: RowError) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8-sig", newline="")
            self._writer = csv.writer(self._handle, delimiter=";")
            self._writer.writerow(["row", "field", "value", "message"])
        self._writer.writerow([error.row, error.field, error.value, error.message])

    def close(self) -> str | None:
        """Close; returns the file's path if anything was rejected (a stale file is removed)."""
        if self._handle is None:
            self.path.unlink(missing_ok=True)
            return None
        self._handle.close()
        return str(self.path)


def reject_row(report: ImportReport, rejects: RejectsWriter, errors: list[RowError]) -> None:
    """One rejected row (counted once), with every problem it has kept in the report and the rejects file."""
    report.rejected += 1
    for error in errors:
        report.reject(error)
        rejects.write(error)


def parsed_chunks(
    rows: Iterator[tuple[int, list[str]]],
    parse: Callable[[list[str], int], T | list[RowError]],
    *,
    report: ImportReport,
    rejects: RejectsWriter,
    size: int,
) -> Iterator[list[T]]:
    """Parse the rows of each :func:`raw_chunks` chunk; a bad row is counted once, every error kept."""
    for raw in raw_chunks(rows, report=report, size=size):
        good: list[T] = []
        for number, values in raw:
            parsed = parse(values, number)
            if isinstance(parsed, list):
                reject_row(report, rejects, parsed)
            else:
                good.append(parsed)
        if good:
            yield good


def raw_chunks(
    rows: Iterator[tuple[int, list[str]]], *, report: ImportReport, size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    """Non-empty data rows, counted, in chunks of ``size``."""
    chunk: list[tuple[int, list[str]]] = []
    append = chunk.append
    for number, values in rows:
        if not (values and (values[0].strip() or "".join(values).strip())):
            continue  # a blank row (the first cell decides for nearly every row without a join)
        append((number, values))
        if len(chunk) >= size:
            report.rows += len(chunk)
            yield chunk
            chunk = []
            append = chunk.append
    if chunk:
        report.rows += len(chunk)
        yield chunk
