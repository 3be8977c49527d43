"""Pure parts of the registry import: phones, amounts, headers, rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from debtors.amounts import AmountError, parse_amount
from debtors.dates import DateError, parse_date
from debtors.headers import HeaderError, map_headers, normalise_header
from debtors.phones import normalise, split_cell
from debtors.readers import detect_text_encoding
from debtors.registry_import import DebtorRow, Layout, RowError, parse_row


@pytest.mark.parametrize(
    ("raw", "e164", "callable_"),
    [
        ("8 (912) 345-67-89", "+79123456789", True),
        ("+7 912 345 67 89", "+79123456789", True),
        ("79123456789", "+79123456789", True),
        ("9123456789", "+79123456789", True),
        ("8(343)212-34-56", "+73432123456", True),
        ("8-800-555-35-35", "+78005553535", False),
        ("+7 (123) 456-78-90", "+71234567890", False),
        ("21-34-56", None, False),
        ("нет", None, False),
        ("+44 20 7946 0958", None, False),
    ],
)
def test_phone_normalisation(raw: str, e164: str | None, callable_: bool) -> None:
    phone = normalise(raw)
    assert (phone.e164, phone.callable) == (e164, callable_)
    assert phone.raw == raw.strip()
    assert callable_ or phone.problem


def test_a_cell_with_several_phones_keeps_order_and_drops_duplicates() -> None:
    phones = split_cell("8 (912) 345-67-89, 83432123456; +7 912 345 67 89 / 21-34-56")
    assert [p.e164 for p in phones] == ["+79123456789", "+73432123456", None]
    assert [p.callable for p in phones] == [True, True, False]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12 345,67", "12345.67"),
        ("12\u00a0345,67", "12345.67"),
        ("12345.67", "12345.67"),
        ("12345", "12345.00"),
        ("-50,5", "-50.50"),
        ("1 000 000", "1000000.00"),
        ("99,9 руб.", "99.90"),
    ],
)
def test_amounts(text: str, value: str) -> None:
    assert parse_amount(text) == Decimal(value)


@pytest.mark.parametrize("text", ["", "12,345,67", "двенадцать", "1.2.3", "12,345"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(AmountError, match="expected an amount"):
        parse_amount(text)


@pytest.mark.parametrize(
    ("header", "normal"),
    [
        ("Лицевой счёт", "лицевой счет"),
        ("Л/С", "л с"),
        ("Сумма долга, руб.", "сумма долга"),
        ("Площадь, м2", "площадь"),
        ("\ufeffЛС", "лс"),
        ("  ФИО  ", "фио"),
    ],
)
def test_header_normalisation(header: str, normal: str) -> None:
    assert normalise_header(header) == normal


def test_header_mapping_with_variants_and_an_explicit_mapping() -> None:
    headers = ["Номер абонента", "Ф.И.О.", "Задолженность", "Тел."]
    with pytest.raises(HeaderError, match="missing required column"):
        map_headers(headers)
    mapping = map_headers(headers, {"номер абонента": "account"})
    assert mapping == {"account": 0, "full_name": 1, "debt": 2, "phones": 3}


def test_two_columns_for_one_field_is_an_error() -> None:
    with pytest.raises(HeaderError, match="both look like 'debt'"):
        map_headers(["ЛС", "Задолженность", "Сумма долга"])


def test_mapping_to_an_unknown_field_is_an_error() -> None:
    with pytest.raises(HeaderError, match="unknown fields: balance"):
        map_headers(["ЛС", "Долг"], {"Долг": "balance"})


COLUMNS = Layout.of(
    {"account": 0, "debt": 1, "months_overdue": 2, "street": 3, "house": 4, "apartment": 5, "phones": 6}
)


def test_row_with_split_address() -> None:
    values = ["100", "1 234,50", "3", "ул. Ленина", "12", "45", "89120000000"]
    row = parse_row(values, COLUMNS, 2)
    assert row == DebtorRow(
        2,
        "100",
        "",
        "ул. Ленина, д. 12, кв. 45",
        "",
        "ул. Ленина",
        "12",
        "",
        "45",
        None,
        "",
        3,
        Decimal("1234.50"),
        "89120000000",
        COLUMNS.fingerprint(values),
    )
    assert isinstance(row, DebtorRow)
    assert [p.e164 for p in row.phones] == ["+79120000000"]


def test_the_fingerprint_is_of_the_cells_as_written() -> None:
    values = ["100", "1 234,50", "3", "ул. Ленина", "12", "45", "89120000000"]
    base = parse_row(values, COLUMNS, 2)
    padded = parse_row([f"  {v} " for v in values], COLUMNS, 9)
    other = parse_row([*values[:5], "46", values[6]], COLUMNS, 2)
    assert isinstance(base, DebtorRow) and isinstance(padded, DebtorRow) and isinstance(other, DebtorRow)
    assert base.fingerprint == padded.fingerprint == COLUMNS.fingerprint(values) != other.fingerprint
    assert COLUMNS.account(values) == "100"


def test_bad_row_reports_every_field() -> None:
    errors = parse_row(["", "много", "-1", "", "", "", ""], COLUMNS, 7)
    assert errors == [
        RowError(7, "account", "", "the account number (лицевой счёт) is empty"),
        RowError(7, "debt", "много", "expected an amount like 12 345,67 or 12345.67, got 'много'"),
        RowError(7, "months_overdue", "-1", "expected a whole number of months from 0 to 1200"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("05.11.2026", date(2026, 11, 5)),
        ("5.11.26", date(2026, 11, 5)),
        ("2026-11-05", date(2026, 11, 5)),
        ("05/11/2026", date(2026, 11, 5)),
        ("2026-11-05 00:00:00", date(2026, 11, 5)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["", "31.02.2026", "2026/11/05", "вчера", "11.2026"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(DateError):
        parse_date(text)


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("Иванов Пётр, ул. Ленина".encode("cp1251"), "cp1251"),
        ("Иванов Пётр, ул. Ленина".encode("cp866"), "cp866"),
        ("Иванов".encode(), "utf-8"),
        (b"\xef\xbb\xbf" + "ЛС".encode(), "utf-8-sig"),
    ],
)
def test_encoding_detection(sample: bytes, expected: str) -> None:
    assert detect_text_encoding(sample) == expected


def test_a_utf8_character_cut_at_the_sample_end_is_still_utf8() -> None:
    assert detect_text_encoding("ЛС;Долг\nЖ".encode()[:-1]) == "utf-8"
