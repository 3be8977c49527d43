"""Monthly charges for a claim's penalty calculation (pure).

Our registry keeps what the billing centre sends us: the debt on a date (a monthly snapshot) and the
payments received, not the monthly charges (начисления) themselves. A penalty calculation needs charges,
so this module offers two sources:

* **Reconstruction** (:func:`reconstruct_charges`), an estimate documented as such in the claim: between
  two consecutive snapshots the month's charge is

      charge = debt at the later snapshot − debt at the earlier one + payments made between them

  (payments dated after the earlier snapshot's date and on or before the later one's). It is attributed
  to the month before the later snapshot's month (a list «на 01.12.2026» settles November). The opening
  debt (the first snapshot) has no breakdown: it becomes one charge for the month before the first
  snapshot's month. A negative result (a recalculation, a write-off) cannot be a charge: it is taken as 0
  and a note says so.
* **The lawyer's file** (:func:`parse_charges_file`): the real charges from the billing centre's account
  statement, a CSV ``period;amount`` (period ``YYYY-MM``), which replaces the reconstruction.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from debtors.penalties import DEFAULT_DUE_DAY, Charge, monthly_charge
from dialer.errors import UpravDolgError

RECONSTRUCTION_SOURCE = "реконструкция по остаткам долга и оплатам"

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_AMOUNT = re.compile(r"^\d+(?:[.,]\d{1,2})?$")
_ZERO = Decimal("0.00")


class ChargesError(UpravDolgError):
    """The charges cannot be reconstructed."""


class ChargesFileError(UpravDolgError):
    """A charges file is invalid."""

    def __init__(self, source: str, row: int, field: str, expected: str, got: str) -> None:
        self.source = source
        self.row = row
        self.field = field
        super().__init__(
            f"{source}, row {row}, field {field!r}: expected {expected}, got {got!r}",
            hint="fix the row (period as YYYY-MM; amount like 1234,56)",
        )


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The debt on ``as_of`` as the registry listed it."""

    as_of: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ChargeSet:
    """The charges a claim is calculated on, where they came from, and the notes shown with them."""

    charges: tuple[Charge, ...]
    source: str
    notes: tuple[str, ...] = ()
    reconstructed: bool = False


def _previous_month(day: date) -> date:
    return date(day.year - 1, 12, 1) if day.month == 1 else date(day.year, day.month - 1, 1)


def _money(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", "\u00a0").replace(".", ",")


def reconstruct_charges(
    snapshots: Sequence[Snapshot],
    payments: Sequence[tuple[date, Decimal]],
    *,
    due_day: int = DEFAULT_DUE_DAY,
) -> ChargeSet:
    """Monthly charges estimated from consecutive snapshots and the payments between them.

    ``payments`` are (paid on, amount); only those after the first snapshot's date count (the opening debt
    is already net of earlier ones). Two snapshots attributed to the same month are added together.
    """
    ordered = sorted(snapshots, key=lambda snapshot: snapshot.as_of)
    if not ordered:
        raise ChargesError(
            "the debtor has no debt snapshots: the charges cannot be reconstructed",
            hint="import a debtor list, or give the charges in a file (--charges)",
        )
    for before, after in itertools.pairwise(ordered):
        if before.as_of == after.as_of:
            raise ChargesError(f"two debt snapshots on {after.as_of:%d.%m.%Y}")
    amounts: dict[date, Decimal] = {}
    notes: list[str] = []
    first = ordered[0]
    opening = _previous_month(first.as_of)
    amounts[opening] = max(first.amount, _ZERO)
    notes.append(
        f"Задолженность на {first.as_of:%d.%m.%Y} ({_money(first.amount)} руб.) отнесена к "
        f"{opening:%m.%Y}: помесячной разбивки этой суммы в реестре нет."
    )
    for before, after in itertools.pairwise(ordered):
        paid = sum((amount for paid_on, amount in payments if before.as_of < paid_on <= after.as_of), _ZERO)
        charge = after.amount - before.amount + paid
        period = _previous_month(after.as_of)
        if charge < 0:
            notes.append(
                f"{period:%m.%Y}: долг уменьшился больше, чем на сумму оплат "
                f"({_money(before.amount)} → {_money(after.amount)} руб., оплачено {_money(paid)} руб.; "
                "вероятно, перерасчёт) — начисление принято равным 0."
            )
            charge = _ZERO
        amounts[period] = amounts.get(period, _ZERO) + charge
    charges = tuple(
        monthly_charge(period, amount, due_day=due_day) for period, amount in sorted(amounts.items())
    )
    return ChargeSet(charges=charges, source=RECONSTRUCTION_SOURCE, notes=tuple(notes), reconstructed=True)


def parse_charges_file(text: str, source: str, *, due_day: int = DEFAULT_DUE_DAY) -> ChargeSet:
    """Charges from the lawyer's CSV: a header ``period;amount`` (or comma-separated), then one row a month.

    ``period`` is ``YYYY-MM``; ``amount`` is rubles with kopecks (``1 234,56`` or ``1234.56``; spaces
    between thousands are allowed with the semicolon form). Blank lines and ``#`` comments are skipped.
    Every problem names the row (line number) and the field.
    """
    lines = text.lstrip("\ufeff").splitlines()
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    delimiter = ";" if ";" in first else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header: list[str] | None = None
    found: dict[date, Decimal] = {}
    for row in reader:
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if header is None:
            header = [cell.lower() for cell in cells]
            for column in ("period", "amount"):
                if column not in header:
                    raise ChargesFileError(
                        source, reader.line_num, column, "a header with period;amount", delimiter.join(row)
                    )
            continue
        values = dict(zip(header, cells, strict=False))
        raw_period, raw_amount = values.get("period", ""), values.get("amount", "")
        match = _PERIOD.match(raw_period)
        if match is None or not 1 <= int(match.group(2)) <= 12:
            raise ChargesFileError(
                source, reader.line_num, "period", "a month as YYYY-MM, e.g. 2026-03", raw_period
            )
        period = date(int(match.group(1)), int(match.group(2)), 1)
        compact = raw_amount.replace(" ", "").replace("\u00a0", "")
        if not _AMOUNT.match(compact):
            raise ChargesFileError(
                source, reader.line_num, "amount", "an amount of 0 or more, e.g. 3210,40", raw_amount
            )
        try:
            amount = Decimal(compact.replace(",", "."))
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            raise ChargesFileError(source, reader.line_num, "amount", "a number", raw_amount) from None
        if period in found:
            raise ChargesFileError(
                source, reader.line_num, "period", "each month once (this one is listed twice)", raw_period
            )
        found[period] = amount
    if header is None:
        raise ChargesFileError(source, 1, "period", "a header with period;amount", "")
    if not found:
        raise ChargesFileError(source, reader.line_num + 1, "period", "at least one month's charge", "")
    charges = tuple(
        monthly_charge(period, amount, due_day=due_day) for period, amount in sorted(found.items())
    )
    return ChargeSet(charges=charges, source=source)
