"""A report as an Excel workbook: one sheet per section, each starting with the report's header (title,
organisation, period, generation time, filters) so a sheet printed or mailed alone still says what it is.
Cells are real numbers and dates with number formats; the header row is bold, frozen and filterable; the
totals rows are bold values (not formulas, so they read the same in any viewer)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from debtors.reports.cell_text import print_text
from debtors.reports.model import NUMERIC_KINDS, Cell, Column, ColumnKind, Report, Section

NUMBER_FORMATS = {
    ColumnKind.INTEGER: "#,##0",
    ColumnKind.MONEY: "#,##0.00",
    ColumnKind.DATE: "DD.MM.YYYY",
}
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="E6E6E6")
_TOTALS_FILL = PatternFill("solid", fgColor="F2F2F2")
_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60


def render_xlsx(report: Report) -> bytes:
    book = Workbook()
    default = book.active
    taken: set[str] = set()
    for section in report.sections or (Section("Отчёт", (Column(""),)),):
        _sheet(book.create_sheet(_sheet_title(section.caption, taken)), report, section)
    if default is not None:
        book.remove(default)
    book.properties.title = report.title
    book.properties.creator = "UpravDolg"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(caption: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``, unique in the book."""
    base = _SHEET_NAME.sub(" ", caption).strip()[:31] or "Лист"
    title, number = base, 2
    while title.casefold() in taken:
        suffix = f" ({number})"
        title, number = base[: 31 - len(suffix)] + suffix, number + 1
    taken.add(title.casefold())
    return title


def _number_format(column: Column) -> str:
    if column.kind is ColumnKind.DECIMAL:
        return "0." + "0" * column.places if column.places else "0"
    if column.kind is ColumnKind.PERCENT:
        return "0." + "0" * column.places + "%" if column.places else "0%"
    return NUMBER_FORMATS.get(column.kind, "General")


def _value(cell: Cell, column: Column) -> Cell:
    if column.kind is ColumnKind.PERCENT and cell is not None and not isinstance(cell, str | date):
        return float(cell)  # a share; the format shows it as a percentage
    return cell


def _sheet(sheet: Worksheet, report: Report, section: Section) -> None:
    sheet.append([report.title])
    sheet.cell(1, 1).font = _TITLE
    for label, text in (
        ("Организация", report.organisation),
        ("Период", report.period_text),
        ("Сформирован", report.generated_text),
        ("Отбор", report.filters or "нет"),
    ):
        sheet.append([label, text])
        sheet.cell(sheet.max_row, 1).font = _BOLD
    sheet.append([])
    sheet.append([section.caption])
    sheet.cell(sheet.max_row, 1).font = _BOLD
    if section.note:
        sheet.append([section.note])
    sheet.append([column.title for column in section.columns])
    header = sheet.max_row
    for index in range(1, len(section.columns) + 1):
        cell = sheet.cell(header, index)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in section.rows:
        _append(sheet, row, section.columns)
    last_data = sheet.max_row
    for row in section.totals:
        _append(sheet, row, section.columns)
        for index in range(1, len(section.columns) + 1):
            cell = sheet.cell(sheet.max_row, index)
            cell.font, cell.fill = _BOLD, _TOTALS_FILL
    sheet.freeze_panes = sheet.cell(header + 1, 1)
    if section.rows:
        sheet.auto_filter.ref = f"A{header}:{get_column_letter(len(section.columns))}{last_data}"
    for index, column in enumerate(section.columns, start=1):
        texts = [column.title, *(print_text(r[index - 1], column) for r in (*section.rows, *section.totals))]
        width = max(len(t) for t in texts) + 2
        minimum = 12 if index == 1 else 8  # the first column also holds the header's labels
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, minimum), _MAX_WIDTH)


def _append(sheet: Worksheet, row: Sequence[Cell], columns: tuple[Column, ...]) -> None:
    sheet.append([_value(cell, column) for cell, column in zip(row, columns, strict=True)])
    line = sheet.max_row
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(line, index)
        cell.number_format = _number_format(column)
        if column.kind in NUMERIC_KINDS:
            cell.alignment = Alignment(horizontal="right")
