"""Column-wise parsing of a chunk of new debtor rows (polars), exactly equal to :func:`parse_row` per row.

A first list has a million new rows; parsing them one by one in Python costs about a minute. Here a chunk
is turned into columns and the common, well-formed shapes are validated and normalised in polars: plain
amounts, whole months, areas with up to two decimals, phone cells of digits and the usual punctuation.
A row with anything else — an amount with «руб.», words between phones, exotic digits or spaces, an error —
goes through the reference :func:`debtors.debtor_rows.parse_row` and :func:`debtors.phones.split_cell`,
so its result and its error messages are the reference's. ``tests/unit/test_chunk_parse.py`` checks the
two paths against each other.

Pure: no I/O. The only Python-per-row work left is the md5 fingerprint and moving cells into columns.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter

import polars as pl

from debtors.debtor_rows import FINGERPRINT_FIELDS, DebtorRow, Layout, parse_row
from debtors.import_runs import RowError
from debtors.phones import split_cell

# What str.strip() removes (str.isspace()); polars' default strip differs on \x1c-\x1f.
PY_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
MONEY = pl.Decimal(18, 2)
_AMOUNT = r"^-?[0-9]{1,15}(?:[.,][0-9]{1,2})?$"  # after removing grouping spaces and apostrophes
_AREA = r"^[0-9]{1,8}(?:[.,][0-9]{1,2})?$"
_MONTHS = r"^[0-9]{1,4}$"
_PHONE_CELL = "^[0-9 ()\\-+.\t\u00a0,;/\n]*$"  # digits and the punctuation normalise() removes
TEXT_FIELDS = ("full_name", "district", "street", "house", "building", "apartment", "ownership")

DEBTOR_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "row": pl.Int64,
    "account": pl.String,
    "full_name": pl.String,
    "address": pl.String,
    "district": pl.String,
    "street": pl.String,
    "house": pl.String,
    "building": pl.String,
    "apartment": pl.String,
    "area_m2": MONEY,
    "ownership": pl.String,
    "months_overdue": pl.Int64,
    "debt": MONEY,
    "fingerprint": pl.String,
}
PHONE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "row": pl.Int64,
    "e164": pl.String,
    "raw": pl.String,
    "callable": pl.Boolean,
}


@dataclass(frozen=True)
class ParsedChunk:
    """Good rows in file order (``DEBTOR_SCHEMA``), their phones in order (``PHONE_SCHEMA``, keyed by row
    number), and the errors of the rejected rows, one list per row, in file order."""

    debtors: pl.DataFrame
    phones: pl.DataFrame
    rejected: list[list[RowError]]


def _fingerprints(joined: Sequence[str]) -> list[str]:
    md5 = hashlib.md5
    return [md5(text.encode(), usedforsecurity=False).hexdigest() for text in joined]


def _columns(raw: Sequence[tuple[int, list[str]]], layout: Layout) -> pl.DataFrame:
    rows = [values for _, values in raw]
    width = layout.width
    if any(len(values) < width for values in rows):
        rows = [values if len(values) >= width else values + [""] * (width - len(values)) for values in rows]
    columns = {"row": pl.Series([number for number, _ in raw], dtype=pl.Int64)}
    for name, index in layout.mapping.items():
        columns[name] = pl.Series(list(map(itemgetter(index), rows)), dtype=pl.String)
    return pl.DataFrame(columns).with_columns(pl.exclude("row").str.strip_chars(PY_WHITESPACE))


def _fast_rows(cells: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    """Every row with a ``fast`` flag and its values as the reference would compute them when fast."""
    present = set(layout.mapping)

    def col(name: str) -> pl.Expr:
        return pl.col(name) if name in present else pl.lit("", dtype=pl.String)

    debt = col("debt").str.replace_all("[ \u00a0\u202f']", "")
    months = col("months_overdue").str.replace_all(" ", "")
    area = col("area_m2").str.replace_all("[ \u00a0]", "")
    fast = (
        (col("account").str.len_chars().is_between(1, 64))
        & debt.str.contains(_AMOUNT)
        & ((months == "") | (months.str.contains(_MONTHS) & (months.cast(pl.Int64, strict=False) <= 1200)))
        & ((area == "") | area.str.contains(_AREA))
        & col("phones").str.contains(_PHONE_CELL)
    )

    def part(name: str, prefix: str) -> pl.Expr:
        return pl.when(col(name) != "").then(pl.lit(prefix) + col(name))

    joined = pl.concat_str(
        [
            pl.when(col("street") != "").then(col("street")),
            part("house", "д. "),
            part("building", "корп. "),
            part("apartment", "кв. "),
        ],
        separator=", ",
        ignore_nulls=True,
    )
    fingerprint_cells = [col(name) for name in FINGERPRINT_FIELDS if name in present]
    return cells.select(
        pl.col("row"),
        fast.alias("fast"),
        col("account").alias("account"),
        *(col(name).alias(name) for name in TEXT_FIELDS),
        pl.when(col("address") != "")
        .then(col("address"))
        .otherwise(joined)
        .str.slice(0, 500)
        .alias("address"),
        pl.when(area != "")
        .then(area.str.replace(",", ".", literal=True))
        .cast(MONEY, strict=False)
        .alias("area_m2"),
        pl.when(months == "")
        .then(pl.lit("0"))
        .otherwise(months)
        .cast(pl.Int64, strict=False)
        .alias("months_overdue"),
        debt.str.replace(",", ".", literal=True).cast(MONEY, strict=False).alias("debt"),
        pl.concat_str(fingerprint_cells, separator="\x1f").alias("fingerprint_text"),
        col("phones").alias("phones"),
    )


def _fast_phones(rows: pl.DataFrame) -> pl.DataFrame:
    """split_cell + normalise for cells of digits and punctuation (``_PHONE_CELL``)."""
    parts = (
        rows.select(
            pl.col("row"),
            pl.col("phones").str.replace_all("[;/\n]", ",").str.split(",").alias("text"),
        )
        .explode("text")
        .with_columns(pl.col("text").str.strip_chars(PY_WHITESPACE))
        .filter(pl.col("text") != "")
    )
    digits = parts.with_columns(pl.col("text").str.replace_all("[^0-9]", "").alias("digits"))
    national = digits.with_columns(
        pl.when(pl.col("digits").str.contains("^[78][0-9]{10}$"))
        .then(pl.col("digits").str.slice(1))
        .when(pl.col("digits").str.contains("^[0-9]{10}$"))
        .then(pl.col("digits"))
        .alias("national")
    )
    phones = national.select(
        pl.col("row"),
        (pl.lit("+7") + pl.col("national")).alias("e164"),
        pl.col("text").alias("raw_text"),
        (pl.col("national").str.contains("^[3489]") & ~pl.col("national").str.starts_with("80"))
        .fill_null(value=False)
        .alias("callable"),
    )
    return phones.filter(
        pl.struct(pl.col("row"), pl.coalesce("e164", "raw_text")).is_first_distinct()
    ).select(
        pl.col("row"),
        pl.col("e164"),
        pl.col("raw_text").str.slice(0, 100).alias("raw"),
        pl.col("callable"),
    )


def _reference_frames(parsed: list[DebtorRow]) -> tuple[pl.DataFrame, pl.DataFrame]:
    debtors = pl.DataFrame(
        {
            "row": [r.row for r in parsed],
            "account": [r.account for r in parsed],
            "full_name": [r.full_name for r in parsed],
            "address": [r.address for r in parsed],
            "district": [r.district for r in parsed],
            "street": [r.street for r in parsed],
            "house": [r.house for r in parsed],
            "building": [r.building for r in parsed],
            "apartment": [r.apartment for r in parsed],
            "area_m2": [r.area_m2 for r in parsed],
            "ownership": [r.ownership for r in parsed],
            "months_overdue": [r.months_overdue for r in parsed],
            "debt": [r.debt for r in parsed],
            "fingerprint": [r.fingerprint for r in parsed],
        },
        schema=DEBTOR_SCHEMA,
    )
    phone_rows = [(r.row, p.e164, p.raw[:100], p.callable) for r in parsed for p in split_cell(r.phones_cell)]
    phones = pl.DataFrame(phone_rows, schema=PHONE_SCHEMA, orient="row")
    return debtors, phones


def parse_chunk(raw: Sequence[tuple[int, list[str]]], layout: Layout) -> ParsedChunk:
    """Parse ``(row number, cells)`` rows of new debtors; equal, row by row, to ``parse_row``."""
    if not raw:
        return ParsedChunk(pl.DataFrame(schema=DEBTOR_SCHEMA), pl.DataFrame(schema=PHONE_SCHEMA), [])
    rows = _fast_rows(_columns(raw, layout), layout)
    fast = rows.filter(pl.col("fast"))
    debtors = fast.select(
        *(pl.col(name) for name in DEBTOR_SCHEMA if name != "fingerprint"),
        pl.Series("fingerprint", _fingerprints(fast["fingerprint_text"].to_list()), dtype=pl.String),
    )
    phones = _fast_phones(fast)
    slow_positions = rows.select(pl.arg_where(~pl.col("fast"))).to_series().to_list()
    if not slow_positions:
        return ParsedChunk(debtors, phones, [])
    good: list[DebtorRow] = []
    rejected: list[list[RowError]] = []
    for position in slow_positions:
        number, values = raw[position]
        parsed = parse_row(values, layout, number)
        if isinstance(parsed, list):
            rejected.append(parsed)
        else:
            good.append(parsed)
    slow_debtors, slow_phones = _reference_frames(good)
    return ParsedChunk(
        pl.concat([debtors, slow_debtors]).sort("row"),
        pl.concat([phones, slow_phones]).sort("row", maintain_order=True),
        rejected,
    )
