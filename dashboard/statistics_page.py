"""«Статистика»: payment dynamics, debt by district and by building, and the effect of contact.

The figures are computed in one pass by debtors/statistics.py and stored; the page reads the newest stored
result (one row), says when it was computed and lets those who may change things recompute it now."""

from __future__ import annotations

import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from dashboard.labels import day, moment, money, percent
from debtors.statistics import (
    GROUP_LABELS,
    NO_DISTRICT,
    ContactGroup,
    Statistics,
    latest_statistics,
    refresh_statistics,
)


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Статистика")
    with ctx.storage.sessions() as session:
        latest = latest_statistics(session, ctx.organisation_id)
    may_refresh = user.can(Permission.EDIT_DEBTORS)
    if may_refresh and st.button("Пересчитать сейчас", key="statistics_refresh"):
        with st.spinner("Считаем…"):
            stored = refresh_statistics(
                ctx.storage.sessions,
                ctx.organisation_id,
                now=ctx.now(),
                zone=ctx.zone,
                window_days=ctx.settings.scheduler.contact_effect_days,
            )
        latest = (stored.computed_at, stored.statistics)
    if latest is None:
        st.info(
            "Статистика ещё не рассчитана. Она считается после каждого импорта и по расписанию"
            + ("; или нажмите «Пересчитать сейчас»." if may_refresh else ".")
        )
        return
    computed_at, figures = latest
    st.caption(f"Данные на {moment(computed_at, ctx.zone)}")
    _totals(figures)
    _dynamics(figures)
    _districts(figures)
    _buildings(figures)
    _contact(figures)


def _totals(figures: Statistics) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("Лицевых счетов", f"{figures.accounts}")
    c2.metric("Должников (долг > 0)", f"{figures.debtors}")
    c3.metric("Общий долг", money(figures.total_debt))


def _dynamics(figures: Statistics) -> None:
    st.subheader("Динамика")
    if figures.snapshots:
        st.markdown("**Долг и число должников по выгрузкам ЕИРЦ**")
        points = [
            {"Выгрузка": day(p.as_of), "Долг, ₽": float(p.debt), "Должников": p.debtors}
            for p in figures.snapshots
        ]
        left, right = st.columns(2)
        left.bar_chart(points, x="Выгрузка", y="Долг, ₽")
        right.bar_chart(points, x="Выгрузка", y="Должников")
    else:
        st.write("Выгрузок ЕИРЦ ещё не было.")
    st.markdown("**Платежи по неделям (за год)**")
    weeks = [
        {"Неделя с": day(w.week), "Сумма, ₽": float(w.amount), "Платежей": w.payments}
        for w in figures.payments_per_week
    ]
    if any(w["Платежей"] for w in weeks):
        st.bar_chart(weeks, x="Неделя с", y="Сумма, ₽")
    else:
        st.write("Платежей за год не было.")


def _districts(figures: Statistics) -> None:
    st.subheader("Долг по районам")
    rows = [
        {
            "Район": d.district or NO_DISTRICT,
            "Должников": d.debtors,
            "Лицевых счетов": d.accounts,
            "Долг": money(d.debt),
            "Доля": percent(d.share),
            "Долг, ₽": float(d.debt),
        }
        for d in figures.by_district
    ]
    if not rows:
        st.write("Должников нет.")
        return
    st.bar_chart(rows, x="Район", y="Долг, ₽", horizontal=True)
    st.dataframe([{k: v for k, v in r.items() if k != "Долг, ₽"} for r in rows], hide_index=True)


def _buildings(figures: Statistics) -> None:
    top = figures.by_building
    st.subheader("Долг по домам")
    st.caption(
        f"Домов в реестре: {top.buildings}, с долгом: {top.buildings_with_debt}; "
        f"показаны {len(top.rows)} с наибольшим долгом"
    )
    st.dataframe(
        [
            {
                "Район": b.district or NO_DISTRICT,
                "Улица": b.street,
                "Дом": b.house,
                "Корпус": b.building,
                "Должников": b.debtors,
                "Долг": money(b.debt),
                "Доля": percent(b.share),
            }
            for b in top.rows
        ],
        hide_index=True,
        width="stretch",
    )


def _contact(figures: Statistics) -> None:
    effect = figures.contact_effect
    st.subheader("Эффект обзвона")
    st.caption(
        f"Доля должников, оплативших в течение {effect.window_days} дней после первого прослушивания "
        "сообщения до конца, и тех, до кого не дозвонились (после первого звонка). Считаются только те, "
        "у кого эти дни уже прошли."
    )
    left, right = st.columns(2)
    for column, key, group in ((left, "heard", effect.heard), (right, "not_reached", effect.not_reached)):
        column.metric(GROUP_LABELS[key], _share(group), help=_detail(group))
        column.caption(_detail(group))


def _share(group: ContactGroup) -> str:
    return percent(group.share)


def _detail(group: ContactGroup) -> str:
    return f"оплатили {group.paid} из {group.debtors}; ещё в окне: {group.pending}"
