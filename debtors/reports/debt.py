"""«Задолженность по домам и районам» as of a date, from the billing centre's lists (:class:`DebtSnapshot`).

Definitions:
- the list used is the organisation's latest list date on or before the period's last day (the as-of
  date); a debtor is an account whose amount on that list is above zero, and the debt is the sum of those
  amounts (an overpaid account does not lower the others' debt, as on the «Статистика» page);
- the comparison list is the latest list date on or before the period's first day and before the list
  used; when there is none, the list just before the list used. The change is the debt on the list used
  minus the debt on the comparison list, for the same district or building (empty without a comparison);
- a building is (district, street, house, корпус) as the registry names it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from db.debtor_list import Building
from db.models import Debtor, DebtSnapshot
from debtors.reports.model import Cell, Column, ColumnKind, Report, ReportParams, Section
from debtors.reports.scope import debtor_filter, make_report

NAME = "debt"
TITLE = "Задолженность по домам и районам"
NO_DISTRICT = "без района"  # debtors.statistics.NO_DISTRICT
_ZERO = Decimal("0.00")

Key = tuple[str, str, str, str]  # district, street, house, корпус
K = TypeVar("K", str, Key)


def _list_dates(
    session: Session, organisation_id: int, params: ReportParams
) -> tuple[date | None, date | None]:
    def latest(*where: ColumnElement[bool]) -> date | None:
        return session.scalar(
            select(func.max(DebtSnapshot.as_of)).where(
                DebtSnapshot.organisation_id == organisation_id, *where
            )
        )

    used = latest(DebtSnapshot.as_of <= params.date_to)
    if used is None:
        return None, None
    before = latest(DebtSnapshot.as_of < used, DebtSnapshot.as_of <= params.date_from)
    return used, before or latest(DebtSnapshot.as_of < used)


def _per_building(
    session: Session, organisation_id: int, params: ReportParams, as_of: date | None
) -> dict[Key, tuple[int, Decimal]]:
    if as_of is None:
        return {}
    query = (
        select(
            Debtor.district,
            Debtor.street,
            Debtor.house,
            Debtor.building,
            func.count(),
            func.sum(DebtSnapshot.amount),
        )
        .join(Debtor, Debtor.id == DebtSnapshot.debtor_id)
        .where(
            DebtSnapshot.organisation_id == organisation_id,
            DebtSnapshot.as_of == as_of,
            DebtSnapshot.amount > 0,
            *debtor_filter(params),
        )
        .group_by(Debtor.district, Debtor.street, Debtor.house, Debtor.building)
    )
    return {
        (d, s, h, b): (int(n), Decimal(total or 0).quantize(_ZERO))
        for d, s, h, b, n, total in session.execute(query)
    }


def _rows(
    keys: Iterable[K],
    now: dict[K, tuple[int, Decimal]],
    then: dict[K, tuple[int, Decimal]] | None,
) -> list[tuple[K, int, Decimal, Decimal | None]]:
    rows = []
    for key in keys:
        count, debt = now.get(key, (0, _ZERO))
        change = None if then is None else debt - then.get(key, (0, _ZERO))[1]
        rows.append((key, count, debt, change))
    return rows


def build(session: Session, organisation_id: int, params: ReportParams) -> Report:
    used, before = _list_dates(session, organisation_id, params)
    now_b = _per_building(session, organisation_id, params, used)
    then_b = _per_building(session, organisation_id, params, before) if before else None

    def by_district(groups: dict[Key, tuple[int, Decimal]]) -> dict[str, tuple[int, Decimal]]:
        out: dict[str, tuple[int, Decimal]] = {}
        for key, (count, debt) in groups.items():
            n, total = out.get(key[0], (0, _ZERO))
            out[key[0]] = (n + count, total + debt)
        return out

    now_d = by_district(now_b)
    then_d = by_district(then_b) if then_b is not None else None
    total_now = (sum(n for n, _ in now_b.values()), sum((d for _, d in now_b.values()), _ZERO))
    total_then = sum((d for _, d in then_b.values()), _ZERO) if then_b is not None else None
    change_total = None if total_then is None else total_now[1] - total_then

    figures = (
        Column("Должников", ColumnKind.INTEGER),
        Column("Долг, руб.", ColumnKind.MONEY),
        Column("Изменение к прошлой выгрузке, руб.", ColumnKind.MONEY),
    )
    # every district or building on either list, the largest debt first
    district_keys = sorted(set(now_d) | set(then_d or {}), key=lambda k: (-now_d.get(k, (0, _ZERO))[1], k))
    districts: list[list[Cell]] = [
        [key or NO_DISTRICT, count, debt, change]
        for key, count, debt, change in _rows(district_keys, now_d, then_d)
    ]
    building_keys = sorted(set(now_b) | set(then_b or {}), key=lambda k: (-now_b.get(k, (0, _ZERO))[1], k))
    buildings: list[list[Cell]] = []
    for key, count, debt, change in _rows(building_keys, now_b, then_b):
        district, street, house, corpus = key
        buildings.append(
            [district or NO_DISTRICT, Building(district, street, house, corpus).label, count, debt, change]
        )
    totals: list[Cell] = ["Итого", total_now[0], total_now[1], change_total]
    if used is None:
        note = "Выгрузок на дату нет."
    else:
        note = f"Выгрузка на {used:%d.%m.%Y}; " + (
            f"сравнение с выгрузкой на {before:%d.%m.%Y}." if before else "прошлой выгрузки нет."
        )
    by_district_section = Section("По районам", (Column("Район"), *figures), districts, [totals], note=note)
    by_building_section = Section(
        "По домам",
        (Column("Район"), Column("Дом"), *figures),
        buildings,
        [["Итого", None, *totals[1:]]],
        note=note,
    )
    return make_report(
        session,
        organisation_id,
        params,
        name=NAME,
        title=TITLE,
        sections=(by_district_section, by_building_section),
        filters=(f"на {params.date_to:%d.%m.%Y}",),
    )
