"""The Russian formats the dashboard shows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dashboard.labels import count_of, money, percent, status_label

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234567.891"), f"1{NBSP}234{NBSP}567,89{NBSP}₽"),
        ("0", f"0,00{NBSP}₽"),
        (999.5, f"999,50{NBSP}₽"),
        (None, "—"),
    ],
)
def test_money(value: Decimal | str | float | None, shown: str) -> None:
    assert money(value) == shown


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (1, "1 строка"),
        (3, "3 строки"),
        (5, "5 строк"),
        (11, "11 строк"),
        (21, "21 строка"),
        (104, "104 строки"),
    ],
)
def test_count_of_follows_russian_plural(number: int, shown: str) -> None:
    assert count_of(number, "строка", "строки", "строк") == shown


def test_percent_and_status_labels() -> None:
    assert percent(0.517) == f"51,7{NBSP}%"
    assert percent(None) == "—"
    assert status_label("paid") == "ДОЛГ ПОГАШЕН" and status_label("stopped") == "СТОП!"
    assert status_label("unknown-code") == "unknown-code"
