"""«Динамика оплат» for a period: the debt on each billing-centre list dated in the period
(:class:`DebtSnapshot`) and the payments (:class:`Payment`) per week and per month.

Definitions:
- a list's debtors are its accounts with an amount above zero and its debt is the sum of those amounts
  (as on the «Статистика» page); the change is against the list before it (the one before the period for
  the first list in it, when there is one);
- a payment counts on its ``paid_on`` date, a date of the period; a week is the ISO week (Monday to
  Sunday) named by its Monday, every week that touches the period has a row (zero when nothing was paid)
  but only the period's days are counted; a month likewise. Payers are distinct accounts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Debtor, DebtSnapshot, Payment
from debtors.reports.model import Cell, Column, ColumnKind, Report, ReportParams, Section
from debtors.reports.scope import debtor_filter, make_report

NAME = "payments"
TITLE = "Динамика оплат"
MONTHS = (
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
)
_ZERO = Decimal("0.00")


@dataclass(slots=True)
class _Sum:
    payments: int = 0
    amount: Decimal = _ZERO
    payers: set[int] = field(default_factory=set)

    def add(self, debtor_id: int, amount: Decimal) -> None:
        self.payments += 1
        self.amount += amount
        self.payers.add(debtor_id)

    def cells(self) -> list[Cell]:
        return [self.payments, len(self.payers), self.amount]


def _weeks(first: date, last: date) -> Iterator[date]:
    week = first - timedelta(days=first.weekday())
    while week <= last:
        yield week
        week += timedelta(days=7)


def _months(first: date, last: date) -> Iterator[date]:
    month = first.replace(day=1)
    while month <= last:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def build(session: Session, organisation_id: int, params: ReportParams) -> Report:
    scope = [*debtor_filter(params)]
    previous = session.scalar(
        select(func.max(DebtSnapshot.as_of)).where(
            DebtSnapshot.organisation_id == organisation_id, DebtSnapshot.as_of < params.date_from
        )
    )
    lists = session.execute(
        select(DebtSnapshot.as_of, func.count(), func.sum(DebtSnapshot.amount))
        .join(Debtor, Debtor.id == DebtSnapshot.debtor_id)
        .where(
            DebtSnapshot.organisation_id == organisation_id,
            DebtSnapshot.as_of >= previous if previous else DebtSnapshot.as_of >= params.date_from,
            DebtSnapshot.as_of <= params.date_to,
            DebtSnapshot.amount > 0,
            *scope,
        )
        .group_by(DebtSnapshot.as_of)
        .order_by(DebtSnapshot.as_of)
    ).all()
    points = [(as_of, int(n), Decimal(total or 0).quantize(_ZERO)) for as_of, n, total in lists]
    snapshot_rows: list[list[Cell]] = []
    before: Decimal | None = None
    for as_of, debtors, debt in points:
        if as_of >= params.date_from:
            snapshot_rows.append([as_of, debtors, debt, None if before is None else debt - before])
        before = debt
    start_debt = points[0][2] if points and points[0][0] < params.date_from else None
    in_period = [p for p in points if p[0] >= params.date_from]
    change: Cell = None
    if in_period:
        base = start_debt if start_debt is not None else in_period[0][2]
        change = in_period[-1][2] - base
    snapshots = Section(
        "Долг по выгрузкам",
        (
            Column("Дата выгрузки", ColumnKind.DATE),
            Column("Должников", ColumnKind.INTEGER),
            Column("Долг, руб.", ColumnKind.MONEY),
            Column("Изменение к прошлой выгрузке, руб.", ColumnKind.MONEY),
        ),
        snapshot_rows,
        [["Изменение за период", None, None, change]] if in_period else [],
        note=(
            f"Прошлая выгрузка до периода: {previous:%d.%m.%Y}." if previous else "Выгрузок до периода нет."
        ),
    )

    total = _Sum()
    per_week = {w: _Sum() for w in _weeks(params.date_from, params.date_to)}
    per_month = {m: _Sum() for m in _months(params.date_from, params.date_to)}
    paid = session.execute(
        select(Payment.debtor_id, Payment.paid_on, Payment.amount)
        .join(Debtor, Debtor.id == Payment.debtor_id)
        .where(
            Payment.organisation_id == organisation_id,
            Payment.paid_on >= params.date_from,
            Payment.paid_on <= params.date_to,
            *scope,
        )
    )
    for debtor_id, paid_on, amount in paid:
        total.add(debtor_id, amount)
        per_week[paid_on - timedelta(days=paid_on.weekday())].add(debtor_id, amount)
        per_month[paid_on.replace(day=1)].add(debtor_id, amount)

    figures = (
        Column("Оплат", ColumnKind.INTEGER),
        Column("Плательщиков", ColumnKind.INTEGER),
        Column("Сумма, руб.", ColumnKind.MONEY),
    )

    def payments(caption: str, key: Column, sums: dict[date, _Sum], label: Callable[[date], Cell]) -> Section:
        return Section(
            caption,
            (key, *figures),
            [[label(k), *s.cells()] for k, s in sorted(sums.items())],
            [["Итого", *total.cells()]],
        )

    weeks = payments("Оплаты по неделям", Column("Неделя с", ColumnKind.DATE), per_week, lambda w: w)
    months = payments(
        "Оплаты по месяцам", Column("Месяц"), per_month, lambda m: f"{MONTHS[m.month - 1]} {m.year}"
    )
    return make_report(
        session,
        organisation_id,
        params,
        name=NAME,
        title=TITLE,
        sections=(snapshots, weeks, months),
    )
