"""Penalties (пени) for late housing payments, Housing Code of the RF art. 155 part 14 (pure).

The law (ЖК РФ ст. 155 ч. 14): a debtor who pays late or not at all owes пени

* nothing for the first 30 days after the due date;
* 1/300 of the Bank of Russia key rate per day from the 31st to the 90th day after the due date;
* 1/130 of the key rate per day from the 91st day on, up to the day of actual payment.

Decisions made here (docs/penalties.md explains them at length):

* **Due date.** A month's charge is due on the 10th of the next month (ЖК РФ ст. 155 ч. 1; ``due_day``
  makes it configurable, as a contract may set another day). "Day n" is ``due_date + n days``, so the
  penalty starts on ``due_date + 31`` and the 1/130 fraction on ``due_date + 91``.
* **Payment day.** The penalty runs "по день фактической оплаты" inclusive: a payment made on day P
  still bears the old base on P and lowers it from P + 1.
* **Moratoriums.** The day count keeps running through a moratorium (the law counts days from the due
  date); no penalty accrues on days inside it. Moratorium days are kept in the breakdown with a zero
  penalty so the claim document shows why they are missing.
* **Rate policy.** ``on_calculation_date`` applies the key rate in force on the calculation date to every
  day (what courts usually do for debt unpaid at the time of the claim); ``per_period`` applies the rate
  in force on each day. Cap-rate spans (ПП РФ № 474 of 26.03.2022) then lower the rate of a day inside a
  span to at most the span's cap.
* **Payments** go to the oldest charge first (by period). A payment may name its period (ГК РФ ст. 319.1
  lets the payer designate it): it goes to that period first, and any excess again oldest-first. Money
  left over after every charge is paid is an advance, reported as ``unallocated``.
* **Rounding.** Each segment's penalty is rounded to kopecks, ROUND_HALF_UP; totals are sums of the
  rounded segments, so the attached table adds up exactly.

Everything is passed in: dates, charges, payments, rates. The only I/O is in :func:`load_key_rates` and
:func:`load_moratoriums`, which read the user-maintained data files and hand them to the pure parsers.
"""

from __future__ import annotations

import bisect
import calendar
import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path

from dialer.errors import UpravDolgError

DEFAULT_DUE_DAY = 10  # ЖК РФ ст. 155 ч. 1: "до десятого числа месяца, следующего за истекшим месяцем"
FREE_DAYS = 30  # ЖК РФ ст. 155 ч. 14: no penalty for the first 30 days after the due date
LOW_FRACTION_LAST_DAY = 90  # ... 1/300 up to the 90th day, 1/130 from the 91st day
FRACTION_LOW = 300
FRACTION_HIGH = 130

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_KEY_RATES_PATH = DATA_DIR / "key_rates.csv"
DEFAULT_MORATORIUMS_PATH = DATA_DIR / "moratoriums.csv"

_KOPECK = Decimal("0.01")
_HUNDRED = Decimal(100)
_ONE_DAY = timedelta(days=1)


class PenaltyError(UpravDolgError):
    """The penalty cannot be calculated from these inputs."""


class PenaltyDataError(UpravDolgError):
    """A penalty data file (key rates or moratoriums) is invalid."""

    def __init__(self, source: str, row: int, field: str, expected: str, got: str) -> None:
        self.source = source
        self.row = row
        self.field = field
        super().__init__(
            f"{source}, row {row}, field {field!r}: expected {expected}, got {got!r}",
            hint="fix the row (see debtors/data/README.md)",
        )


class RatePolicy(StrEnum):
    """Which key rate a day of delay is charged at."""

    ON_CALCULATION_DATE = "on_calculation_date"
    PER_PERIOD = "per_period"


@dataclass(frozen=True, slots=True)
class KeyRate:
    """The Bank of Russia key rate, in percent a year, in force from ``effective_from`` on."""

    effective_from: date
    percent: Decimal
    source: str = ""


@dataclass(frozen=True, slots=True)
class Moratorium:
    """Days ``start``..``end`` (both inclusive) on which no penalty accrues."""

    start: date
    end: date
    source: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class CapRateSpan:
    """Days ``start``..``end`` (inclusive) charged at the lesser of the key rate and ``cap_percent``.

    ПП РФ № 474 of 26.03.2022: from 28.02.2022 пени are computed at the lesser of the key rate in force on
    27.02.2022 (9.5 %) and the current one; the end of that span changed with later editions of the decree,
    so it is data, not code.
    """

    start: date
    end: date
    cap_percent: Decimal
    source: str = ""

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class Charge:
    """One month's charge: ``period`` is the first day of the month charged for."""

    period: date
    amount: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received on ``paid_on``; ``period`` (first day of a month) if the payer designated one."""

    paid_on: date
    amount: Decimal
    period: date | None = None


@dataclass(frozen=True, slots=True)
class PenaltyRules:
    """The rates and rules one calculation uses (the key rates must be sorted by date, no duplicates)."""

    key_rates: tuple[KeyRate, ...]
    moratoriums: tuple[Moratorium, ...] = ()
    cap_spans: tuple[CapRateSpan, ...] = ()
    policy: RatePolicy = RatePolicy.ON_CALCULATION_DATE

    def __post_init__(self) -> None:
        if not self.key_rates:
            raise PenaltyError("the key-rate table is empty")
        for before, after in zip(self.key_rates, self.key_rates[1:], strict=False):
            if after.effective_from <= before.effective_from:
                raise PenaltyError(
                    f"key rates must be sorted by date without duplicates: {after.effective_from:%d.%m.%Y} "
                    f"comes after {before.effective_from:%d.%m.%Y}"
                )
        spans: tuple[Moratorium | CapRateSpan, ...] = (*self.moratoriums, *self.cap_spans)
        for span in spans:
            if span.end < span.start:
                raise PenaltyError(f"span {span.start:%d.%m.%Y}–{span.end:%d.%m.%Y} ends before it starts")

    def key_rate_on(self, day: date) -> Decimal:
        """The key rate in force on ``day``."""
        dates = [rate.effective_from for rate in self.key_rates]
        index = bisect.bisect_right(dates, day) - 1
        if index < 0:
            first = self.key_rates[0].effective_from
            raise PenaltyError(
                f"no key rate is known for {day:%d.%m.%Y}: the table starts on {first:%d.%m.%Y}",
                hint="add the earlier rates to the key-rate table",
            )
        return self.key_rates[index].percent

    def moratorium_on(self, day: date) -> Moratorium | None:
        return next((span for span in self.moratoriums if span.covers(day)), None)

    def rate_for(self, day: date, calculated_on: date) -> Decimal:
        """The rate (percent a year) a day of delay is charged at under the policy and the caps."""
        rate_day = calculated_on if self.policy is RatePolicy.ON_CALCULATION_DATE else day
        rate = self.key_rate_on(rate_day)
        for span in self.cap_spans:
            if span.covers(day):
                rate = min(rate, span.cap_percent)
        return rate


@dataclass(frozen=True, slots=True)
class PenaltySegment:
    """Consecutive days of one charge with the same base, fraction and rate: one line of the table."""

    period: date
    outstanding: Decimal
    start: date
    end: date
    days: int
    fraction: int  # the denominator: 300 for 1/300, 130 for 1/130
    rate_percent: Decimal  # 0 on moratorium days
    penalty: Decimal
    moratorium: Moratorium | None = None

    @property
    def fraction_label(self) -> str:
        return f"1/{self.fraction}"


@dataclass(frozen=True, slots=True)
class ChargePenalty:
    """One charge: what was paid on it by the calculation date, what is left, and its segments."""

    charge: Charge
    paid: Decimal
    outstanding: Decimal
    segments: tuple[PenaltySegment, ...]

    @property
    def penalty(self) -> Decimal:
        return sum((segment.penalty for segment in self.segments), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class PenaltyCalculation:
    """The whole calculation: per charge, per segment, totals."""

    calculated_on: date
    policy: RatePolicy
    charges: tuple[ChargePenalty, ...]
    unallocated: Decimal  # payments beyond every charge (an advance)

    @property
    def segments(self) -> tuple[PenaltySegment, ...]:
        return tuple(segment for charge in self.charges for segment in charge.segments)

    @property
    def total_penalty(self) -> Decimal:
        return sum((charge.penalty for charge in self.charges), Decimal("0.00"))

    @property
    def total_outstanding(self) -> Decimal:
        return sum((charge.outstanding for charge in self.charges), Decimal("0.00"))


def due_date_for(period: date, due_day: int = DEFAULT_DUE_DAY) -> date:
    """The day a month's charge is due: ``due_day`` of the next month (the month's last day if shorter)."""
    if not 1 <= due_day <= 31:
        raise PenaltyError(f"the due day must be 1..31, got {due_day}")
    year, month = (period.year + 1, 1) if period.month == 12 else (period.year, period.month + 1)
    return date(year, month, min(due_day, calendar.monthrange(year, month)[1]))


def monthly_charge(period: date, amount: Decimal, *, due_day: int = DEFAULT_DUE_DAY) -> Charge:
    """A month's charge due on ``due_day`` of the following month (ЖК РФ ст. 155 ч. 1: the 10th)."""
    month = period.replace(day=1)
    return Charge(period=month, amount=amount, due_date=due_date_for(month, due_day))


def calculate_penalties(
    charges: Sequence[Charge],
    payments: Sequence[Payment],
    rules: PenaltyRules,
    calculated_on: date,
) -> PenaltyCalculation:
    """Пени on every charge through ``calculated_on`` (inclusive); payments after that date are ignored."""
    for charge in charges:
        if charge.amount < 0:
            raise PenaltyError(f"the charge for {charge.period:%m.%Y} is negative: {charge.amount}")
    ordered = sorted(charges, key=lambda charge: (charge.period, charge.due_date))
    allocations, unallocated = _allocate(ordered, [p for p in payments if p.paid_on <= calculated_on])
    results = []
    for charge, paid_parts in zip(ordered, allocations, strict=True):
        paid = sum((amount for _, amount in paid_parts), Decimal("0.00"))
        results.append(
            ChargePenalty(
                charge=charge,
                paid=paid,
                outstanding=charge.amount - paid,
                segments=_segments(charge, paid_parts, rules, calculated_on),
            )
        )
    return PenaltyCalculation(
        calculated_on=calculated_on, policy=rules.policy, charges=tuple(results), unallocated=unallocated
    )


def _allocate(
    charges: Sequence[Charge], payments: Sequence[Payment]
) -> tuple[list[list[tuple[date, Decimal]]], Decimal]:
    """Each charge's (payment date, amount) parts: a designated period first, then the oldest charge first."""
    remaining = [charge.amount for charge in charges]
    parts: list[list[tuple[date, Decimal]]] = [[] for _ in charges]
    unallocated = Decimal("0.00")
    for payment in sorted(payments, key=lambda payment: payment.paid_on):
        if payment.amount <= 0:
            raise PenaltyError(f"the payment of {payment.paid_on:%d.%m.%Y} is not positive: {payment.amount}")
        left = payment.amount
        order = list(range(len(charges)))
        if payment.period is not None:
            designated = [i for i in order if charges[i].period == payment.period.replace(day=1)]
            if not designated:
                raise PenaltyError(
                    f"the payment of {payment.paid_on:%d.%m.%Y} names the period {payment.period:%m.%Y}, "
                    "which has no charge"
                )
            order = designated + [i for i in order if i not in designated]
        for index in order:
            take = min(left, remaining[index])
            if take > 0:
                remaining[index] -= take
                parts[index].append((payment.paid_on, take))
                left -= take
        unallocated += left
    return parts, unallocated


def _segments(
    charge: Charge, paid_parts: Sequence[tuple[date, Decimal]], rules: PenaltyRules, calculated_on: date
) -> tuple[PenaltySegment, ...]:
    """Walk the days of delay, grouping days with the same base, fraction, rate and moratorium."""
    segments: list[PenaltySegment] = []
    run: tuple[Decimal, int, Decimal, Moratorium | None] | None = None
    run_start = run_end = charge.due_date
    day = charge.due_date + timedelta(days=FREE_DAYS + 1)
    while day <= calculated_on:
        # A payment lowers the base from the day after it was made (the payment day itself is a day of delay).
        outstanding = charge.amount - sum(
            (amount for paid_on, amount in paid_parts if paid_on < day), Decimal(0)
        )
        key: tuple[Decimal, int, Decimal, Moratorium | None] | None = None
        if outstanding > 0:
            number = (day - charge.due_date).days
            fraction = FRACTION_LOW if number <= LOW_FRACTION_LAST_DAY else FRACTION_HIGH
            moratorium = rules.moratorium_on(day)
            rate = Decimal(0) if moratorium else rules.rate_for(day, calculated_on)
            key = (outstanding, fraction, rate, moratorium)
        if key != run:
            if run is not None:
                segments.append(_segment(charge, run, run_start, run_end))
            run, run_start = key, day
        run_end = day
        day += _ONE_DAY
    if run is not None:
        segments.append(_segment(charge, run, run_start, run_end))
    return tuple(segments)


def _segment(
    charge: Charge, key: tuple[Decimal, int, Decimal, Moratorium | None], start: date, end: date
) -> PenaltySegment:
    outstanding, fraction, rate, moratorium = key
    days = (end - start).days + 1
    exact = outstanding * days * rate / _HUNDRED / fraction
    return PenaltySegment(
        period=charge.period,
        outstanding=outstanding,
        start=start,
        end=end,
        days=days,
        fraction=fraction,
        rate_percent=rate,
        penalty=exact.quantize(_KOPECK, rounding=ROUND_HALF_UP),
        moratorium=moratorium,
    )


# --- the Russian table a claim document attaches ---------------------------------------------------------

_POLICY_LABELS = {
    RatePolicy.ON_CALCULATION_DATE: "ключевая ставка Банка России на дату расчёта",
    RatePolicy.PER_PERIOD: "ключевая ставка Банка России, действовавшая в каждый период",
}


def _rubles(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",") + " ₽"


def _percent(value: Decimal) -> str:
    text = f"{value.normalize():f}".replace(".", ",")
    return f"{text} %"


def render_segment(segment: PenaltySegment) -> str:
    """«За 01.2026 (13.03.2026–26.04.2026): 5 000,00 ₽ × 45 дн. × 1/300 × 16 % = 120,00 ₽»."""
    head = (
        f"За {segment.period:%m.%Y} ({segment.start:%d.%m.%Y}–{segment.end:%d.%m.%Y}): "
        f"{_rubles(segment.outstanding)} × {segment.days} дн."
    )
    if segment.moratorium is not None:
        source = f" ({segment.moratorium.source})" if segment.moratorium.source else ""
        return f"{head} — мораторий{source}, пени не начисляются = {_rubles(segment.penalty)}"
    return (
        f"{head} × {segment.fraction_label} × {_percent(segment.rate_percent)} = {_rubles(segment.penalty)}"
    )


def render_penalty_table(calculation: PenaltyCalculation) -> str:
    """The calculation as Russian text: a heading, one line per segment, subtotals and totals."""
    lines = [
        f"Расчёт пеней на {calculation.calculated_on:%d.%m.%Y} (ч. 14 ст. 155 ЖК РФ)",
        f"Ставка: {_POLICY_LABELS[calculation.policy]}",
    ]
    for charge in calculation.charges:
        if not charge.segments:
            continue
        lines.extend(render_segment(segment) for segment in charge.segments)
        lines.append(f"Итого за {charge.charge.period:%m.%Y}: {_rubles(charge.penalty)}")
    lines.append(f"Итого пени: {_rubles(calculation.total_penalty)}")
    lines.append(
        f"Основной долг на {calculation.calculated_on:%d.%m.%Y}: {_rubles(calculation.total_outstanding)}"
    )
    return "\n".join(lines)


# --- the user-maintained data files ----------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERCENT = re.compile(r"^\d{1,3}(?:[.,]\d{1,4})?$")


def _rows(text: str, source: str, columns: Sequence[str]) -> Iterable[tuple[int, dict[str, str]]]:
    """(line number, row by column) for every data row; blank lines and ``#`` comments are skipped."""
    lines = text.lstrip("\ufeff").splitlines()
    reader = csv.reader(lines)
    header: list[str] | None = None
    for row in reader:
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        cells = [cell.strip() for cell in row]
        if header is None:
            header = [cell.lower() for cell in cells]
            missing = [column for column in columns if column not in header]
            if missing:
                raise PenaltyDataError(
                    source, reader.line_num, missing[0], f"a header with {', '.join(columns)}", ",".join(row)
                )
            continue
        values = dict(zip(header, cells, strict=False))
        yield reader.line_num, {column: values.get(column, "") for column in columns}
    if header is None:
        raise PenaltyDataError(source, 1, columns[0], f"a header with {', '.join(columns)}", "")


def _date(value: str, source: str, row: int, field: str) -> date:
    if _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise PenaltyDataError(source, row, field, "a real date as YYYY-MM-DD, e.g. 2024-10-28", value)


def parse_key_rates(text: str, source: str) -> list[KeyRate]:
    """Key rates from CSV text (effective_from,percent,source); strictly increasing dates."""
    rates: list[KeyRate] = []
    for row, values in _rows(text, source, ("effective_from", "percent", "source")):
        effective_from = _date(values["effective_from"], source, row, "effective_from")
        raw = values["percent"]
        if not _PERCENT.match(raw) or not 0 < Decimal(raw.replace(",", ".")) <= _HUNDRED:
            raise PenaltyDataError(
                source, row, "percent", "a percentage above 0 and up to 100, e.g. 16.5", raw
            )
        if rates and effective_from <= rates[-1].effective_from:
            raise PenaltyDataError(
                source,
                row,
                "effective_from",
                f"a date after {rates[-1].effective_from.isoformat()} (rows sorted by date, no duplicates)",
                values["effective_from"],
            )
        rates.append(KeyRate(effective_from, Decimal(raw.replace(",", ".")), values["source"]))
    if not rates:
        raise PenaltyDataError(source, 2, "effective_from", "at least one key rate", "")
    return rates


def parse_moratoriums(text: str, source: str) -> list[Moratorium]:
    """Moratoriums from CSV text (start,end,source); both dates inclusive."""
    spans: list[Moratorium] = []
    for row, values in _rows(text, source, ("start", "end", "source")):
        start = _date(values["start"], source, row, "start")
        end = _date(values["end"], source, row, "end")
        if end < start:
            raise PenaltyDataError(
                source, row, "end", f"a date on or after {start.isoformat()}", values["end"]
            )
        spans.append(Moratorium(start, end, values["source"]))
    return spans


def load_key_rates(path: Path = DEFAULT_KEY_RATES_PATH) -> list[KeyRate]:
    """The key-rate table from a CSV file (the shipped ``debtors/data/key_rates.csv`` by default)."""
    return parse_key_rates(path.read_text(encoding="utf-8-sig"), str(path))


def load_moratoriums(path: Path = DEFAULT_MORATORIUMS_PATH) -> list[Moratorium]:
    """Moratorium spans from a CSV file (the shipped ``debtors/data/moratoriums.csv`` by default)."""
    return parse_moratoriums(path.read_text(encoding="utf-8-sig"), str(path))
