"""A format-neutral report: what a builder returns and every outlet (CSV, XLSX, PDF, later the dashboard
page and the monthly run) renders. Values are typed (int, Decimal, date, share); formatting is the
outlet's business, so the same report reads as numbers in Excel and as Russian text on paper."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from dialer.errors import UpravDolgError

# A cell: text, an integer, money or a decimal number (Decimal), a date, a share for percent columns
# (0.517 for 51,7 %; a float or Decimal), or None for an empty cell («—» on paper).
Cell = str | int | Decimal | float | date | None


class ColumnKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"  # Decimal rubles, two places
    DECIMAL = "decimal"  # Decimal with ``Column.places`` places (e.g. average seconds)
    DATE = "date"
    PERCENT = "percent"  # a share: 0.517 is 51,7 %


NUMERIC_KINDS = frozenset({ColumnKind.INTEGER, ColumnKind.MONEY, ColumnKind.DECIMAL, ColumnKind.PERCENT})


@dataclass(frozen=True, slots=True)
class Column:
    title: str  # Russian, as the header shows it
    kind: ColumnKind = ColumnKind.TEXT
    places: int = 1  # for DECIMAL (and PERCENT, as shown: 51,7 %)


@dataclass(frozen=True, slots=True)
class Section:
    """One table: a caption, typed columns, the rows and the totals rows (already computed: outlets show
    values, never formulas). The first cell of a totals row is usually «Итого»."""

    caption: str
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Cell]] = ()
    totals: Sequence[Sequence[Cell]] = ()
    note: str = ""  # a line under the caption: what is counted and how

    def __post_init__(self) -> None:
        width = len(self.columns)
        for row in (*self.rows, *self.totals):
            if len(row) != width:
                raise ValueError(f"section {self.caption!r}: a row has {len(row)} cells, not {width}")


@dataclass(frozen=True, slots=True)
class Report:
    name: str  # the registry's name, e.g. "notices"
    title: str  # Russian
    organisation: str
    period_from: date
    period_to: date  # inclusive
    generated_at: datetime  # aware
    timezone: str  # the organisation's: the period's days and the generation time are local to it
    filters: str = ""  # Russian, e.g. «районы: Ленинский; кампания: Ноябрь»
    sections: tuple[Section, ...] = ()

    def __post_init__(self) -> None:
        if self.generated_at.utcoffset() is None:
            raise ValueError("generated_at must be an aware datetime")
        if self.period_to < self.period_from:
            raise ValueError("the period ends before it starts")

    @property
    def period_text(self) -> str:
        return f"{self.period_from:%d.%m.%Y} – {self.period_to:%d.%m.%Y}"

    @property
    def generated_text(self) -> str:
        """The generation time in the organisation's timezone, «05.12.2026 10:15»."""
        return f"{self.generated_at.astimezone(ZoneInfo(self.timezone)):%d.%m.%Y %H:%M}"


@dataclass(frozen=True, slots=True)
class ReportParams:
    """What a builder is asked for. The period is whole local days of the organisation, both inclusive.
    Report-specific options live here as typed fields (a builder ignores those it does not use)."""

    date_from: date
    date_to: date
    timezone: str
    generated_at: datetime
    districts: tuple[str, ...] = ()
    campaign: str | None = None  # calls: one campaign by name
    price_per_attempt: Decimal = Decimal("0.00")  # calls: the cost of one dialled attempt, rubles
    within_days: int = 14  # contact: a payment this many days after the contact counts

    def __post_init__(self) -> None:
        if self.date_to < self.date_from:
            raise ValueError(
                f"the period ends ({self.date_to:%Y-%m-%d}) before it starts ({self.date_from:%Y-%m-%d})"
            )
        if self.price_per_attempt < 0:
            raise ValueError("the price per attempt cannot be negative")
        if self.within_days < 0:
            raise ValueError("the number of days after a contact cannot be negative")
        ZoneInfo(self.timezone)  # an unknown zone fails here, not halfway through a report

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants: local midnight of the first day, up to (excluding) local midnight
        after the last day."""
        zone = ZoneInfo(self.timezone)
        start = datetime.combine(self.date_from, time(), zone).astimezone(UTC)
        end = datetime.combine(self.date_to + timedelta(days=1), time(), zone).astimezone(UTC)
        return start, end

    def local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.timezone)).date()

    def filters_text(self, *extra: str) -> str:
        parts = [f"районы: {', '.join(self.districts)}" if self.districts else "все районы", *extra]
        return "; ".join(p for p in parts if p)


class ReportError(UpravDolgError):
    """The report cannot be made."""
