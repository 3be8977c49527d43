"""Money as billing centres write it (pure): ``12 345,67``, ``12345.67``, ``12 345``, ``-50,00``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d{1,2})?$")
_KOPECK = Decimal("0.01")


class AmountError(ValueError):
    """Not an amount of rubles."""


def parse_amount(text: str) -> Decimal:
    """Rubles with up to two decimals; a space, no-break space or apostrophe may group thousands."""
    compact = _SPACES.sub("", text or "")
    if compact[-1:] in {".", "б", "р"}:
        compact = compact.removesuffix("руб.").removesuffix("руб").removesuffix("р.")
    if not _AMOUNT.match(compact):
        raise AmountError(f"expected an amount like 12 345,67 or 12345.67, got {text!r}")
    try:
        return Decimal(compact.replace(",", ".")).quantize(_KOPECK)
    except InvalidOperation:  # pragma: no cover - the pattern above admits only valid decimals
        raise AmountError(f"expected an amount, got {text!r}") from None
