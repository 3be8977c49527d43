"""Export of a filtered debtor view to CSV (UTF-8 with BOM and ';', as Russian Excel opens it) or XLSX
(real number and date cells). Rows stream from db.debtor_list.iter_debtors: memory stays flat."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy.orm import Session

from db.debtor_list import DebtorFilter, DebtorRow, DebtorSort, iter_debtors
from debtors.status_column import status_text

FORMATS = ("csv", "xlsx")
HEADERS = (
    "Лицевой счёт",
    "ФИО",
    "Адрес",
    "Район",
    "Площадь, м²",
    "Собственность",
    "Месяцев долга",
    "Долг, ₽",
    "Долг на дату",
    "Статус",
    "Звонков",
    "Прослушано до конца",
)


class ExportTooLarge(ValueError):
    """The view holds more rows than the export limit."""


def _cells(row: DebtorRow) -> tuple[Any, ...]:
    return (
        row.account,
        row.full_name,
        row.address,
        row.district,
        row.area_m2,
        row.ownership,
        row.months_overdue,
        row.debt,
        row.debt_as_of,
        status_text(row.status, row.counts),
        row.counts.calls_made,
        row.counts.heard_to_end,
    )


def _rows(
    session: Session, organisation_id: int, flt: DebtorFilter, sort: DebtorSort, limit: int | None
) -> Iterator[DebtorRow]:
    written = 0
    for chunk in iter_debtors(session, organisation_id, flt, sort):
        for row in chunk:
            written += 1
            if limit is not None and written > limit:
                raise ExportTooLarge(f"the view holds more than {limit} debtors")
            yield row


def write_export(
    session: Session,
    organisation_id: int,
    flt: DebtorFilter,
    sort: DebtorSort,
    *,
    out: IO[bytes],
    fmt: str,
    limit: int | None = None,
) -> int:
    """Write the view to ``out`` in ``fmt`` (csv or xlsx); returns the number of debtors written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: expected csv or xlsx")
    rows = _rows(session, organisation_id, flt, sort, limit)
    if fmt == "csv":
        return _write_csv(out, rows)
    return _write_xlsx(out, rows)


def _write_csv(out: IO[bytes], rows: Iterator[DebtorRow]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text, delimiter=";")
    writer.writerow(HEADERS)
    count = 0
    for row in rows:
        cells = list(_cells(row))
        # Russian Excel reads a decimal comma; dates as DD.MM.YYYY
        for index in (4, 7):
            cells[index] = "" if cells[index] is None else f"{cells[index]:.2f}".replace(".", ",")
        cells[8] = "" if cells[8] is None else f"{cells[8]:%d.%m.%Y}"
        writer.writerow(cells)
        count += 1
    text.flush()
    text.detach()
    return count


def _write_xlsx(out: IO[bytes], rows: Iterator[DebtorRow]) -> int:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Должники")
    sheet.append(list(HEADERS))
    count = 0
    for row in rows:
        cells: list[Any] = list(_cells(row))
        for index, number_format in ((4, "0.00"), (7, "#,##0.00"), (8, "DD.MM.YYYY")):
            if cells[index] is not None:
                value = float(cells[index]) if index != 8 else cells[index]
                cells[index] = WriteOnlyCell(sheet, value=value)
                cells[index].number_format = number_format
        sheet.append(cells)
        count += 1
    book.save(out)
    return count
