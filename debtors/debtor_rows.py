"""One row of a debtor list: the canonical fields, where they sit in a file, and the reference parser.

``parse_row`` is the definition of what a row means; :mod:`debtors.chunk_parse` computes the same thing
column-wise for speed and is tested against it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from debtors.amounts import AmountError, parse_amount
from debtors.import_runs import RowError
from debtors.phones import ParsedPhone, split_cell

__all__ = ["FINGERPRINT_FIELDS", "DebtorRow", "Layout", "parse_row"]


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
