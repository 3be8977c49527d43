"""Monthly charges for a claim: reconstructed from snapshots and payments, or read from the lawyer's file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from debtors.claim_charges import (
    RECONSTRUCTION_SOURCE,
    ChargesError,
    ChargesFileError,
    Snapshot,
    parse_charges_file,
    reconstruct_charges,
)


def d(text: str) -> Decimal:
    return Decimal(text)


def test_a_month_charge_is_the_debt_growth_plus_the_payments_between() -> None:
    # given debt 12 345,67 on 01.11, 13 000,00 on 01.12 and 2 000,00 paid on 20.11
    snapshots = [Snapshot(date(2026, 11, 1), d("12345.67")), Snapshot(date(2026, 12, 1), d("13000.00"))]
    payments = [(date(2026, 11, 20), d("2000.00")), (date(2026, 10, 5), d("999.00"))]  # October: before
    # when
    result = reconstruct_charges(snapshots, payments)
    # then the opening debt is October's, November's is 13 000 − 12 345,67 + 2 000
    assert [(c.period, c.amount, c.due_date) for c in result.charges] == [
        (date(2026, 10, 1), d("12345.67"), date(2026, 11, 10)),
        (date(2026, 11, 1), d("2654.33"), date(2026, 12, 10)),
    ]
    assert result.reconstructed and result.source == RECONSTRUCTION_SOURCE
    assert "отнесена к 10.2026" in result.notes[0]
    # and the charges less the later payments give the current debt back
    assert sum(c.amount for c in result.charges) - d("2000.00") == d("13000.00")


def test_a_payment_on_the_later_snapshot_day_counts_one_on_the_earlier_does_not() -> None:
    snapshots = [Snapshot(date(2026, 11, 1), d("1000")), Snapshot(date(2026, 12, 1), d("1500"))]
    payments = [(date(2026, 11, 1), d("100")), (date(2026, 12, 1), d("300"))]
    result = reconstruct_charges(snapshots, payments)
    assert result.charges[1].amount == d("800")


def test_a_fall_bigger_than_the_payments_is_a_zero_charge_with_a_note() -> None:
    snapshots = [
        Snapshot(date(2027, 1, 1), d("5000.00")),
        Snapshot(date(2026, 11, 1), d("3000.00")),  # any order
        Snapshot(date(2026, 12, 1), d("6000.00")),
    ]
    result = reconstruct_charges(snapshots, [(date(2026, 12, 15), d("500.00"))])
    assert [(c.period, c.amount) for c in result.charges] == [
        (date(2026, 10, 1), d("3000.00")),
        (date(2026, 11, 1), d("3000.00")),
        (date(2026, 12, 1), d("0.00")),
    ]
    assert "12.2026: долг уменьшился больше, чем на сумму оплат" in result.notes[1]
    assert "начисление принято равным 0" in result.notes[1]


def test_a_january_snapshot_settles_december() -> None:
    result = reconstruct_charges([Snapshot(date(2027, 1, 1), d("10"))], [])
    assert result.charges[0].period == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("snapshots", "message"),
    [
        ([], "no debt snapshots"),
        ([Snapshot(date(2026, 11, 1), d("1")), Snapshot(date(2026, 11, 1), d("2"))], "two debt snapshots"),
    ],
)
def test_reconstruction_refuses(snapshots: list[Snapshot], message: str) -> None:
    with pytest.raises(ChargesError, match=message):
        reconstruct_charges(snapshots, [])


def test_the_charges_file_replaces_the_reconstruction() -> None:
    text = "\ufeff# выписка начислений\nperiod;amount\n2026-09;3 210,40\n\n2026-08;1000.5\n2026-10;0\n"
    result = parse_charges_file(text, "charges.csv")
    assert [(c.period, c.amount, c.due_date) for c in result.charges] == [
        (date(2026, 8, 1), d("1000.5"), date(2026, 9, 10)),
        (date(2026, 9, 1), d("3210.40"), date(2026, 10, 10)),
        (date(2026, 10, 1), d("0"), date(2026, 11, 10)),
    ]
    assert not result.reconstructed and result.source == "charges.csv" and result.notes == ()


def test_the_charges_file_may_be_comma_separated() -> None:
    result = parse_charges_file("Period,Amount\n2026-01,100.00\n", "c.csv")
    assert [(c.period, c.amount) for c in result.charges] == [(date(2026, 1, 1), d("100.00"))]


@pytest.mark.parametrize(
    ("text", "row", "field", "got"),
    [
        ("month;amount\n2026-01;1\n", 1, "period", "month;amount"),
        ("period;sum\n2026-01;1\n", 1, "amount", "period;sum"),
        ("period;amount\n2026-13;100\n", 2, "period", "2026-13"),
        ("period;amount\n\n01.2026;100\n", 3, "period", "01.2026"),
        ("period;amount\n2026-01;-5\n", 2, "amount", "-5"),
        ("period;amount\n2026-01;сто\n", 2, "amount", "сто"),
        ("period;amount\n2026-01;1,234\n", 2, "amount", "1,234"),
        ("period;amount\n2026-01;1\n2026-01;2\n", 3, "period", "2026-01"),
        ("period;amount\n2026-01\n", 2, "amount", ""),
        ("", 1, "period", ""),
        ("period;amount\n", 2, "period", ""),
    ],
)
def test_a_bad_charges_row_is_named_with_its_row_and_field(text: str, row: int, field: str, got: str) -> None:
    with pytest.raises(ChargesFileError) as caught:
        parse_charges_file(text, "charges.csv")
    error = caught.value
    assert (error.source, error.row, error.field) == ("charges.csv", row, field)
    assert f"charges.csv, row {row}, field {field!r}" in str(error)
    assert repr(got) in str(error)
