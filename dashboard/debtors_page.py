"""«Должники»: the filtered, sorted, paginated registry, the debtor card and the export of the view."""

from __future__ import annotations

import io
import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from dashboard.labels import (
    ATTEMPT_STATE_LABELS,
    ENDED_BY_LABELS,
    SORT_LABELS,
    count_of,
    day,
    moment,
    money,
    outcome_label,
    status_label,
)
from db.debtor_list import (
    SORT_COLUMNS,
    Building,
    DebtorFilter,
    DebtorRow,
    DebtorSort,
    FilterChoices,
    buildings,
    debtor_page,
    filter_choices,
    view_totals,
)
from debtors.debtor_card import load_card
from debtors.export import ExportTooLarge, write_export
from debtors.field_rules import (
    JOB_KIND_LABELS,
    JOB_STATUS_LABELS,
    METHOD_LABELS,
    NOTICE_KIND_LABELS,
    NOTICE_STATE_LABELS,
    DeliveryMethod,
    JobKind,
    JobStatus,
    NoticeKind,
    NoticeState,
)
from debtors.measures import MeasureError
from debtors.status_column import status_text

PAGE_SIZES = (25, 50, 100, 200)
PAGE_KEY = "debtors_page"
EXPORT_KEY = "debtors_export"
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Должники")
    with ctx.storage.sessions() as session:
        choices = filter_choices(session, ctx.organisation_id)
    flt = _filters(ctx, choices)
    left, middle, right = st.columns([2, 1, 1])
    sort_key = left.selectbox(
        "Сортировка", list(SORT_COLUMNS), format_func=SORT_LABELS.__getitem__, key="debtors_sort"
    )
    descending = middle.toggle("По убыванию", value=True, key="debtors_descending")
    page_size = right.selectbox("Строк на странице", PAGE_SIZES, index=1, key="debtors_page_size")
    sort = DebtorSort(sort_key, descending)

    signature = (flt, sort, page_size)
    if st.session_state.get("debtors_view") != signature:  # a new view starts at its first page
        st.session_state["debtors_view"] = signature
        st.session_state[PAGE_KEY] = 1
        st.session_state.pop(EXPORT_KEY, None)

    with ctx.storage.sessions() as session:
        totals = view_totals(session, ctx.organisation_id, flt)
        pages = max(1, math.ceil(totals.debtors / page_size))
        if st.session_state.get(PAGE_KEY, 1) > pages:
            st.session_state[PAGE_KEY] = pages
        page = int(st.number_input(f"Страница (из {pages})", 1, pages, step=1, key=PAGE_KEY))
        rows = debtor_page(session, ctx.organisation_id, flt, sort, page=page, page_size=page_size)

    st.markdown(
        f"Найдено должников: **{totals.debtors:,}**".replace(",", " ") + f", долг **{money(totals.debt)}**"
    )
    st.dataframe(_table(rows), hide_index=True, width="stretch")
    if user.can(Permission.EXPORT):
        _export(ctx, flt, sort, totals.debtors)
    _card_picker(ctx, rows)


def _filters(ctx: DashboardContext, choices: FilterChoices) -> DebtorFilter:
    with st.expander("Фильтры", expanded=True):
        text = st.text_input("Лицевой счёт или ФИО (начало)", key="f_text")
        c1, c2, c3 = st.columns(3)
        as_of_from = c1.date_input("Долг на дату: с", value=None, format="DD.MM.YYYY", key="f_from")
        as_of_to = c1.date_input("по", value=None, format="DD.MM.YYYY", key="f_to")
        debt_min = c2.number_input("Долг от, ₽", min_value=0.0, value=None, step=1000.0, key="f_debt_min")
        debt_max = c2.number_input("Долг до, ₽", min_value=0.0, value=None, step=1000.0, key="f_debt_max")
        months_min = c3.number_input("Месяцев от", min_value=0, value=None, step=1, key="f_months_min")
        months_max = c3.number_input("Месяцев до", min_value=0, value=None, step=1, key="f_months_max")
        c4, c5, c6 = st.columns(3)
        area_min = c4.number_input("Площадь от, м²", min_value=0.0, value=None, step=5.0, key="f_area_min")
        area_max = c4.number_input("Площадь до, м²", min_value=0.0, value=None, step=5.0, key="f_area_max")
        ownership = c5.multiselect(
            "Собственность",
            choices.ownership,
            format_func=lambda o: o or "не указана",
            placeholder="все",
            key="f_ownership",
        )
        statuses = c5.multiselect(
            "Статус", choices.statuses, format_func=status_label, placeholder="все", key="f_status"
        )
        districts = c6.multiselect(
            "Район",
            choices.districts,
            format_func=lambda d: d or "без района",
            placeholder="все",
            key="f_districts",
        )
        picked: list[Building] = []
        if districts:
            with ctx.storage.sessions() as session:
                options = buildings(session, ctx.organisation_id, districts)
            picked = c6.multiselect(
                "Дом",
                options,
                format_func=lambda b: b.label or "адрес не разобран",
                placeholder="все дома района",
                key="f_buildings",
            )
    return DebtorFilter(
        as_of_from=_date(as_of_from),
        as_of_to=_date(as_of_to),
        debt_min=_decimal(debt_min),
        debt_max=_decimal(debt_max),
        months_min=int(months_min) if months_min is not None else None,
        months_max=int(months_max) if months_max is not None else None,
        area_min=_decimal(area_min),
        area_max=_decimal(area_max),
        ownership=tuple(ownership),
        districts=tuple(districts),
        buildings=tuple(b for b in picked if b.district in districts),
        statuses=tuple(statuses),
        text=text,
    )


def _date(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def _decimal(value: float | None) -> Decimal | None:
    return Decimal(str(value)).quantize(Decimal("0.01")) if value is not None else None


def _table(rows: list[DebtorRow]) -> list[dict[str, Any]]:
    return [
        {
            "Лицевой счёт": r.account,
            "ФИО": r.full_name,
            "Адрес": r.address,
            "Район": r.district,
            "Площадь, м²": float(r.area_m2) if r.area_m2 is not None else None,
            "Собственность": r.ownership,
            "Месяцев": r.months_overdue,
            "Долг, ₽": float(r.debt),
            "На дату": day(r.debt_as_of),
            "Статус": status_text(r.status, r.counts),
        }
        for r in rows
    ]


def _export(ctx: DashboardContext, flt: DebtorFilter, sort: DebtorSort, count: int) -> None:
    limit = ctx.settings.dashboard.export_max_rows
    st.subheader("Выгрузка текущей выборки")
    if count > limit:
        st.info(
            f"В выборке {count} должников; из панели выгружается не больше {limit}. Сузьте фильтры "
            "или выгрузите командой `upravdolg debtors export`."
        )
        return
    c1, c2 = st.columns(2)
    for column, fmt in ((c1, "xlsx"), (c2, "csv")):
        if column.button(f"Подготовить {fmt.upper()}", key=f"export_{fmt}"):
            buffer = io.BytesIO()
            try:
                with ctx.storage.sessions() as session:
                    written = write_export(
                        session, ctx.organisation_id, flt, sort, out=buffer, fmt=fmt, limit=limit
                    )
            except ExportTooLarge:
                st.error(f"Выборка выросла больше {limit} строк: сузьте фильтры.")
                return
            st.session_state[EXPORT_KEY] = (fmt, buffer.getvalue(), written)
    prepared = st.session_state.get(EXPORT_KEY)
    if prepared is not None:
        fmt, data, written = prepared
        st.download_button(
            f"Скачать {fmt.upper()} ({count_of(written, 'строка', 'строки', 'строк')})",
            data=data,
            file_name=f"должники-{ctx.now().astimezone(ctx.zone):%Y-%m-%d-%H%M}.{fmt}",
            mime=MIME[fmt],
            key="export_download",
        )


def _card_picker(ctx: DashboardContext, rows: list[DebtorRow]) -> None:
    st.subheader("Карточка должника")
    names = {r.account: r.full_name for r in rows}
    account = st.selectbox(
        "Лицевой счёт (со страницы выше)",
        list(names),
        index=None,
        format_func=lambda a: f"{a} — {names[a]}",
        placeholder="выберите должника",
        key="card_account",
    )
    if account is not None:
        render_card(ctx, account)


def render_card(ctx: DashboardContext, account: str) -> None:
    try:
        with ctx.storage.sessions() as session:
            card = load_card(session, ctx.organisation_id, account)
    except MeasureError:
        st.error(f"Должник с лицевым счётом {account} не найден.")
        return
    status = card["status"]
    st.markdown(f"### {card['full_name']} — л/с {card['account']}")
    st.caption(f"{card['address']}" + (f" ({card['district']})" if card["district"] else ""))
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Долг", money(card["debt"]))
    m2.metric("Месяцев долга", card["months_overdue"])
    m3.metric("Звонков / до конца", f"{card['counts']['calls_made']} / {card['counts']['heard_to_end']}")
    m4.metric("Прослушиваний", f"{card['listens']['count']} ({card['listens']['heard_ms'] / 1000:.1f} с)")
    st.markdown(f"**Статус: «{status['label']}»** — {status['reason'] or 'без пояснения'}")
    history = list(reversed(card["debt_history"]))
    if history:
        st.markdown("**История долга**")
        st.line_chart(
            {"Дата": [h["as_of"] for h in history], "Долг, ₽": [float(h["amount"]) for h in history]},
            x="Дата",
            y="Долг, ₽",
        )
    tabs = st.tabs(["Звонки", "Платежи", "Телефоны", "История статусов", "Меры", "Уведомления и работы"])
    with tabs[0]:
        st.dataframe(_attempts(ctx, card["attempts"]), hide_index=True, width="stretch")
    with tabs[1]:
        st.dataframe(
            [
                {"Дата": p["paid_on"], "Сумма": money(p["amount"]), "Документ": p["reference"]}
                for p in card["payments"]
            ],
            hide_index=True,
            width="stretch",
        )
    with tabs[2]:
        st.dataframe(
            [
                {
                    "Номер": p["e164"] or p["raw"],
                    "Как в реестре": p["raw"],
                    "Для звонков": "да" if p["callable"] and not p["removed_at"] else "нет",
                }
                for p in card["phones"]
            ],
            hide_index=True,
            width="stretch",
        )
    with tabs[3]:
        st.dataframe(
            [
                {
                    "Когда": _local(ctx, h["at"]),
                    "Было": status_label(h["from"]),
                    "Стало": status_label(h["to"]),
                    "Причина": h["reason"],
                    "Кто": h["actor"],
                }
                for h in card["status_history"]
            ],
            hide_index=True,
            width="stretch",
        )
    with tabs[4]:
        for line in card["counts"]["measures"]:
            st.write(line)
        for promise in card["promises"]:
            st.write(f"Обещание оплатить до {promise['pay_by']} ({promise['source']}): {promise['status']}")
        for mark in card["do_not_call"]:
            st.write(
                f"НЕ ЗВОНИТЬ ({'все номера' if mark['whole_debtor'] else mark['phone']}): {mark['reason']}"
            )
        if not (card["counts"]["measures"] or card["promises"] or card["do_not_call"]):
            st.write("Мер не принималось.")
    with tabs[5]:
        _field_work(ctx, card)


def _field_work(ctx: DashboardContext, card: dict[str, Any]) -> None:
    """The debtor's paper notices and crew jobs (debtors/notices.py, debtors/crew_jobs.py)."""
    st.markdown(f"**Уведомлений вручено: {card['counts']['notices_delivered']}**")
    st.dataframe(
        [
            {
                "№": n["id"],
                "Вид": NOTICE_KIND_LABELS.get(NoticeKind(n["kind"]), n["kind"]),
                "Создано": _local(ctx, n["created_at"]),
                "Сумма": money(n["debt"]),
                "Состояние": NOTICE_STATE_LABELS.get(NoticeState(n["state"]), n["state"]),
                "Курьер": n["courier"] or "",
                "Способ": METHOD_LABELS.get(DeliveryMethod(n["method"]), n["method"]) if n["method"] else "",
                "Попыток": n["tries"],
                "Вручено": _local(ctx, n["delivered_at"]) if n["delivered_at"] else "",
                "Отмена": n["cancel_reason"],
            }
            for n in card["notices"]
        ],
        hide_index=True,
        width="stretch",
    )
    st.markdown("**Монтажные работы**")
    st.dataframe(
        [
            {
                "№": j["id"],
                "Работа": JOB_KIND_LABELS.get(JobKind(j["kind"]), j["kind"]),
                "Статус": JOB_STATUS_LABELS.get(JobStatus(j["status"]), j["status"]),
                "Бригада": j["crew"] or "",
                "План": j["planned_on"],
                "Установлена": j["installed_on"] or "",
                "Снята": j["removed_on"] or "",
                "Примечание": j["note"],
            }
            for j in card["crew_jobs"]
        ],
        hide_index=True,
        width="stretch",
    )


def _local(ctx: DashboardContext, text: str) -> str:
    return moment(datetime.fromisoformat(text), ctx.zone)


def _attempts(ctx: DashboardContext, attempts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "Начало": _local(ctx, a["started_at"]),
            "Номер": a["number"],
            "Итог": outcome_label(a["outcome"])
            if a["outcome"]
            else ATTEMPT_STATE_LABELS.get(a["state"], a["state"]),
            "Прослушано, с": a["heard_ms"] / 1000 if a["heard_ms"] is not None else None,
            "Сообщение, с": a["message_ms"] / 1000 if a["message_ms"] is not None else None,
            "Повторов": a["repeats"],
            "Нажато": a["digits"],
            "Завершение": ENDED_BY_LABELS.get(a["ended_by"] or "", a["ended_by"] or ""),
        }
        for a in attempts
    ]
