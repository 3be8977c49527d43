"""The column-wise parser of new rows against the reference row parser, row by row, on odd cells."""

from __future__ import annotations

import random

import pytest

from debtors import chunk_parse
from debtors.chunk_parse import parse_chunk
from debtors.debtor_rows import Layout, parse_row
from debtors.duplicate_accounts import FirstRows
from debtors.phones import split_cell

ACCOUNTS = ["100", " 200 ", "", "x" * 65, "ЛС-00017", "\u00a0300\u00a0", "\x1f400", "4\x1f5", "y" * 64]
DEBTS = [
    "12 345,67", "12345.67", "-50,5", "1 000 000", "99,9 руб.", "abc", "", "1,234", "0", "-0", "12'345.00",
    "12\u202f345", "١٢٣", "1e5", "+5", "0,00", "00012.5", "1234567890123456", " 7,1 ", "5\t000",
]  # fmt: skip
MONTHS = ["", "3", " 12 ", "1 200", "1201", "-1", "x", "+4", "٣", "0012", "1 2"]
AREAS = [
    "",
    "54,3",
    "54.35",
    "54,345",
    "1 234,5",
    "abc",
    "100000000",
    "99999999,99",
    "-5",
    "12\u00a054",
    "7.",
]
PHONES = [
    "",
    "8 (912) 345-67-89, 83432123456; +7 912 345 67 89 / 21-34-56",
    "9123456789 или 83432123456",
    "89123456789 и 83432123456",
    "доп. 123",
    "8-800-555-35-35",
    "+7 (123) 456-78-90",
    "нет",
    ",,",
    " ; ",
    "89123456789,89123456789",
    "8 912 345 67 89\n8 343 212 34 56",
    "+44 20 7946 0958",
    "12345678901234",
    "8(912)345-67-89 доб 12",
    "٩١٢٣٤٥٦٧٨٩",
    "79123456789;9123456789",
    "8.912.345.67.89\t",
    "21-34-56, 21-34-56",
    "7" * 120,
    "8 (843) 123-45-67",
    "+7 (499) 123-45-67, 84951234567",
]
TEXTS = ["Иванов И.И.", "  Петров  ", "", "Ёлкин\u2003", "a\x1c", "Ленинский", "частная"]
ADDRESSES = ["", "ул. Ленина, д. 5", "  пр. Мира 1 ", "z" * 600]

ONE_ADDRESS = [
    "account",
    "full_name",
    "address",
    "district",
    "area_m2",
    "ownership",
    "months_overdue",
    "debt",
    "phones",
]
SPLIT_ADDRESS = ["debt", "account", "street", "house", "building", "apartment", "phones", "months_overdue"]
MINIMAL = ["account", "debt"]


def _cell(field: str, rng: random.Random) -> str:
    pools = {
        "account": ACCOUNTS,
        "debt": DEBTS,
        "months_overdue": MONTHS,
        "area_m2": AREAS,
        "phones": PHONES,
        "address": ADDRESSES,
    }
    return rng.choice(pools.get(field, TEXTS))


def _rows(fields: list[str], count: int, seed: int) -> list[tuple[int, list[str]]]:
    rng = random.Random(seed)
    rows = []
    for number in range(2, count + 2):
        values = [_cell(f, rng) for f in fields]
        if rng.random() < 0.05:
            values = values[: rng.randrange(len(values))]  # a ragged, short row
        elif rng.random() < 0.05:
            values.append("extra")
        rows.append((number, values))
    return rows


Reference = tuple[list[dict[str, object]], list[object], list[object]]


def _reference(raw: list[tuple[int, list[str]]], layout: Layout) -> Reference:
    debtors: list[dict[str, object]] = []
    phones: list[object] = []
    rejected: list[object] = []
    for number, values in raw:
        parsed = parse_row(values, layout, number)
        if isinstance(parsed, list):
            rejected.append(parsed)
            continue
        row = parsed._asdict()
        del row["phones_cell"]
        debtors.append(row)
        phones.extend((parsed.row, p.e164, p.raw[:100], p.callable) for p in split_cell(parsed.phones_cell))
    return debtors, phones, rejected


@pytest.mark.parametrize("fields", [ONE_ADDRESS, SPLIT_ADDRESS, MINIMAL], ids=["address", "split", "minimal"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_column_parser_equals_the_reference_row_by_row(fields: list[str], seed: int) -> None:
    layout = Layout.of({name: index for index, name in enumerate(fields)})
    raw = _rows(fields, 1500, seed)
    chunk = parse_chunk(raw, layout)
    debtors, phones, rejected = _reference(raw, layout)
    assert chunk.rejected == rejected
    got = chunk.debtors.to_dicts()
    assert len(got) == len(debtors)
    for mine, theirs in zip(got, debtors, strict=True):
        assert mine == theirs
    assert chunk.phones.rows() == phones


def test_clean_rows_never_take_the_reference_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def counting(*args: object) -> object:
        calls.append(args)
        return parse_row(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(chunk_parse, "parse_row", counting)
    layout = Layout.of({name: index for index, name in enumerate(ONE_ADDRESS)})
    raw = [
        (
            2,
            [
                "1",
                "Иванов",
                "ул. Мира",
                "Ленинский",
                "54,3",
                "частная",
                "3",
                "12 345,67",
                "8 (912) 345-67-89",
            ],
        ),
        (3, ["2", "", "", "", "", "", "", "0", ""]),
        (4, ["3", "Петров", "", "", "7", "", "1 200", "-5", "9123456789, 21-34-56; 8-800-555-35-35"]),
    ]
    chunk = parse_chunk(raw, layout)
    assert calls == []
    assert chunk.debtors.get_column("row").to_list() == [2, 3, 4]
    assert chunk.phones.rows() == [
        (2, "+79123456789", "8 (912) 345-67-89", True),
        (4, "+79123456789", "9123456789", True),
        (4, None, "21-34-56", False),
        (4, "+78005553535", "8-800-555-35-35", False),
    ]


def test_an_empty_chunk() -> None:
    chunk = parse_chunk([], Layout.of({"account": 0, "debt": 1}))
    assert chunk.debtors.is_empty() and chunk.phones.is_empty() and chunk.rejected == []


def test_repeated_accounts_name_their_first_row_across_chunks() -> None:
    seen = FirstRows()
    assert seen.repeats(["a", "b", "a", "", ""], [2, 3, 4, 5, 6]) == {2: 2}
    assert seen.repeats(["c", "b", "c", "a"], [7, 8, 9, 10]) == {1: 3, 2: 7, 3: 2}
    assert seen.repeats([], []) == {}
    assert len(seen) == 3
