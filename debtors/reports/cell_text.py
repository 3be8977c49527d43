"""A cell as text, the two ways the outlets write it: for CSV (what Russian-locale Excel reads back as a
number or a date) and for print (Russian typography: thousands grouped with no-break spaces)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from debtors.reports.model import Cell, Column, ColumnKind

NBSP = "\u00a0"
EMPTY = "—"


def _decimal(value: int | float | Decimal, places: int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _plain(value: int | float | Decimal, places: int) -> str:
    """``12345,67``: no grouping, a decimal comma."""
    return f"{_decimal(value, places):f}".replace(".", ",")


def _grouped(value: int | float | Decimal, places: int) -> str:
    """``12 345,67`` with no-break spaces, so a number never wraps inside."""
    whole, _, fraction = f"{_decimal(value, places):,.{places}f}".partition(".")
    whole = whole.replace(",", NBSP)
    return f"{whole},{fraction}" if fraction else whole


def _number_places(column: Column) -> int:
    if column.kind is ColumnKind.MONEY:
        return 2
    if column.kind is ColumnKind.INTEGER:
        return 0
    return column.places


def csv_text(cell: Cell, column: Column) -> str:
    """Money ``12345,67``, integers ``1234``, dates ``05.12.2026``, shares ``51,7%``: each one Excel in a
    Russian locale turns into a number, a date or a percentage. Empty cells stay empty."""
    if cell is None:
        return ""
    if isinstance(cell, date):
        return f"{cell:%d.%m.%Y}"
    if isinstance(cell, str):
        return cell
    if column.kind is ColumnKind.PERCENT:
        return _plain(Decimal(str(cell)) * 100, column.places) + "%"
    if column.kind in (ColumnKind.MONEY, ColumnKind.INTEGER, ColumnKind.DECIMAL):
        return _plain(cell, _number_places(column))
    return str(cell)


def print_text(cell: Cell, column: Column) -> str:
    """As printed: ``12 345,67``, ``1 234``, ``05.12.2026``, ``51,7 %``, «—» for nothing."""
    if cell is None:
        return EMPTY
    if isinstance(cell, date):
        return f"{cell:%d.%m.%Y}"
    if isinstance(cell, str):
        return cell
    if column.kind is ColumnKind.PERCENT:
        return _grouped(Decimal(str(cell)) * 100, column.places) + NBSP + "%"
    if column.kind in (ColumnKind.MONEY, ColumnKind.INTEGER, ColumnKind.DECIMAL):
        return _grouped(cell, _number_places(column))
    return str(cell)
