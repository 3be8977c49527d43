"""«Обзвон»: the campaigns with their live state, start/pause/stop, the live figures, outcomes by hour,
listen figures and every debtor's listens; creating and editing a campaign with the TOML's fields.

Changes go through dialer.campaigns (the CLI's service); a definition is validated by
dialer.campaign_spec.parse_spec, the same code that reads a campaign TOML file."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from dashboard.labels import campaign_state_label, moment, outcome_label, seconds
from dashboard.login import still_logged_in
from db.campaign_figures import HourOutcomes, debtor_listens, default_hours_window, outcomes_by_hour
from dialer.campaign_spec import CampaignError, CampaignSpec, parse_spec
from dialer.campaigns import (
    CampaignSummary,
    apply_spec,
    campaign_status,
    campaign_summaries,
    get_spec,
    set_state,
)
from dialer.worker_store import trunk_rows, worker_rows

NEW = "__new__"
WORKER_STATES = {"alive": "работает", "stopped": "остановлен", "lease expired": "не отвечает"}
LISTENS_PAGE = 50
COUNTERS = (
    ("in_flight", "На линии"),
    ("placed", "Набрано"),
    ("answered", "Ответили"),
    ("heard_full", "До конца"),
    ("partial", "Частично"),
    ("busy", "Занято"),
    ("no_answer", "Не ответили"),
    ("failed", "Ошибки"),
)


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Обзвон")
    summaries = campaign_summaries(ctx.storage.sessions, ctx.organisation_id, ctx.now())
    if summaries:
        st.dataframe(
            [
                {
                    "Кампания": c.name,
                    "Состояние": campaign_state_label(c.state),
                    "Что происходит": c.reason or "идёт набор",
                    "Изменена": moment(c.updated_at, ctx.zone),
                }
                for c in summaries
            ],
            hide_index=True,
            width="stretch",
        )
    else:
        st.info("Кампаний пока нет.")
    _workers(ctx)
    names = [c.name for c in summaries]
    options = [*names, NEW] if user.can(Permission.CALL) else names
    if not options:
        return
    pending = st.session_state.pop("campaign_pending", None)
    if pending in options:
        st.session_state["campaign_name"] = pending
    chosen = st.selectbox(
        "Кампания",
        options,
        format_func=lambda n: "+ Новая кампания" if n == NEW else n,
        key="campaign_name",
    )
    if chosen == NEW:
        _form(ctx, None)
        return
    summary = next(c for c in summaries if c.name == chosen)
    if user.can(Permission.CALL):
        _controls(ctx, summary)
    _live(ctx, summary)
    if user.can(Permission.CALL):
        with st.expander("Изменить параметры кампании"):
            _form(ctx, get_spec(ctx.storage.sessions, ctx.organisation_id, summary.name))


def worker_state_label(state: str) -> str:
    """The worker's state (dialer.worker_store.worker_state) in Russian."""
    if state.startswith("adopted by "):
        return f"остановился, звонки переданы {state.removeprefix('adopted by ')}"
    return WORKER_STATES.get(state, state)


def _workers(ctx: DashboardContext) -> None:
    """The dialer workers sharing the database and the trunks' live calls (docs/scale-out.md)."""
    now = ctx.now()
    with ctx.storage.sessions() as session:
        workers = worker_rows(session, now, timedelta(seconds=ctx.settings.engine.worker_lease))
        trunks = trunk_rows(session)
    if not workers:
        return
    alive = sum(1 for w in workers if w.state == "alive")
    with st.expander(f"Обработчики: на связи {alive} из {len(workers)}; линии"):
        st.dataframe(
            [
                {
                    "Обработчик": w.name,
                    "Состояние": worker_state_label(w.state),
                    "На линии": w.live_calls,
                    "Последний сигнал": moment(w.heartbeat_at, ctx.zone),
                    "Серверы": w.servers,
                }
                for w in workers
            ],
            hide_index=True,
            width="stretch",
            key="calling_workers",
        )
        if trunks:
            st.dataframe(
                [
                    {
                        "Линия": t.name,
                        "Сервер": t.server,
                        "На линии": t.live_calls,
                        "Каналов": str(t.max_channels) if t.max_channels else "без ограничения",
                        "Вызовов/с": f"{t.calls_per_second:g}" if t.calls_per_second else "без ограничения",
                        "Группы": t.groups,
                    }
                    for t in trunks
                ],
                hide_index=True,
                width="stretch",
                key="calling_trunks",
            )


def _controls(ctx: DashboardContext, summary: CampaignSummary) -> None:
    buttons = st.columns(3)
    for column, (state, label, icon) in zip(
        buttons,
        (
            ("running", "Запустить", ":material/play_arrow:"),
            ("paused", "Пауза", ":material/pause:"),
            ("stopped", "Остановить", ":material/stop:"),
        ),
        strict=True,
    ):
        if column.button(label, key=f"campaign_{state}", icon=icon, disabled=summary.state == state):
            try:
                set_state(ctx.storage.sessions, ctx.organisation_id, summary.name, state, ctx.now())
            except CampaignError as exc:
                st.error(str(exc))
            else:
                st.session_state["campaign_notice"] = f"«{summary.name}»: {campaign_state_label(state)}"
                st.rerun()
    notice = st.session_state.pop("campaign_notice", None)
    if notice:
        st.success(notice)


def _live(ctx: DashboardContext, summary: CampaignSummary) -> None:
    name = summary.name

    @st.fragment(run_every=ctx.settings.dashboard.refresh_seconds)
    def live() -> None:
        if not still_logged_in(ctx):
            st.rerun()  # the whole page: the login form, with why the session ended
        now = ctx.now()
        try:
            status = campaign_status(ctx.storage.sessions, ctx.organisation_id, name, now)
        except CampaignError as exc:
            st.error(str(exc))
            return
        st.markdown(
            f"**{campaign_state_label(status['state'])}**"
            + (f" — {status['reason']}" if status["reason"] else " — идёт набор")
            + f" · линий до {status['max_channels']}, {status['calls_per_second']:g} выз./с, "
            f"транк {status['trunk']}"
        )
        columns = st.columns(len(COUNTERS))
        for column, (key, label) in zip(columns, COUNTERS, strict=True):
            column.metric(label, status[key])
        st.caption(
            f"Должников в кампании: {status['debtors']} — ждут звонка {status['pending']} "
            f"(пора звонить сейчас: {status['due_now']}), на линии {status['calling']}, "
            f"завершено {status['done']}; обновлено {moment(now, ctx.zone)}"
        )
        since, until = default_hours_window(now)
        with ctx.storage.sessions() as session:
            hours = outcomes_by_hour(session, status["id"], since=since, until=until)
        average = status["average_heard_seconds"]
        st.markdown(
            f"Прослушано в среднем: **{f'{average:.1f} с' if average is not None else '—'}** "
            f"(ответивших с отчётом IVR: {status['reported']}, до конца: {status['heard_full']})"
        )
        if hours:
            st.markdown("**Итоги звонков по часам (последние 24 ч)**")
            table = hourly_table(hours, since, ctx)
            outcomes = [c for c in table[0] if c != "Час"]
            st.bar_chart(table, x="Час", y=outcomes, x_label="Час", y_label="Звонков")
        _listens(ctx, summary.id)

    live()


def hourly_table(hours: list[HourOutcomes], since: datetime, ctx: DashboardContext) -> list[dict[str, Any]]:
    """One row per hour of the window, zero-filled, one column per outcome present (stacked bars)."""
    outcomes = sorted({outcome for h in hours for outcome in h.outcomes})
    by_hour = {h.hour: h.outcomes for h in hours}
    return [
        {
            "Час": f"{hour.astimezone(ctx.zone):%d.%m %H:00}",
            **{outcome_label(o): by_hour.get(hour, {}).get(o, 0) for o in outcomes},
        }
        for hour in (since + timedelta(hours=n) for n in range(24))
    ]


def _listens(ctx: DashboardContext, campaign_id: int) -> None:
    st.markdown("**Прослушивания по должникам** (звонки — набранные, в том числе идущие сейчас)")
    page = int(st.number_input("Страница", min_value=1, value=1, step=1, key="listens_page"))
    with ctx.storage.sessions() as session:
        more, rows = debtor_listens(
            session, campaign_id, limit=LISTENS_PAGE, offset=(page - 1) * LISTENS_PAGE
        )
    first = (page - 1) * LISTENS_PAGE
    shown = f"должники {first + 1}–{first + len(rows)}" if rows else "на этой странице никого"
    st.caption(shown + ("; есть следующая страница" if more else ""))
    st.dataframe(
        [
            {
                "Лицевой счёт": r.account,
                "ФИО": r.full_name,
                "Звонков": r.calls,
                "Прослушиваний": r.listens,
                "Прослушано": seconds(r.heard_ms),
                "До конца": r.heard_full,
            }
            for r in rows
        ],
        hide_index=True,
        width="stretch",
    )


def _durations(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _form(ctx: DashboardContext, spec: CampaignSpec | None) -> None:
    """The campaign's TOML keys as a form; parse_spec validates it exactly as a file is validated."""
    base = spec or CampaignSpec(name="новая")
    prefix = "edit" if spec is not None else "new"
    with st.form(f"campaign_form_{prefix}"):
        name = st.text_input("Название (name)", value=spec.name if spec else "", disabled=spec is not None)
        c1, c2, c3, c4 = st.columns(4)
        trunk = c1.text_input("Транк (trunk)", value=base.trunk)
        max_channels = c2.number_input("Линий (max_channels)", min_value=0, value=base.max_channels, step=1)
        cps = c3.number_input(
            "Вызовов в секунду (calls_per_second)", min_value=0.0, value=base.calls_per_second, step=0.5
        )
        dial_timeout = c4.text_input("Ждать ответа (dial_timeout)", value=base.dial_timeout)
        st.markdown("**Кого звонить (select)**")
        s1, s2, s3, s4 = st.columns(4)
        min_debt = s1.number_input(
            "Долг от, ₽ (min_debt)",
            min_value=0.0,
            value=float(base.select.min_debt) if base.select.min_debt is not None else None,
            step=1000.0,
        )
        min_months = s2.number_input(
            "Месяцев от (min_months)", min_value=0, value=base.select.min_months, step=1
        )
        districts = s3.text_input("Районы через запятую (districts)", value=", ".join(base.select.districts))
        ownership = s4.text_input(
            "Собственность через запятую (ownership)", value=", ".join(base.select.ownership)
        )
        st.markdown("**Часы звонков по местному времени должника (window)**")
        w1, w2 = st.columns(2)
        weekdays = w1.text_input("Будни (weekdays)", value=base.window.weekdays)
        weekends = w2.text_input("Выходные и праздники (weekends)", value=base.window.weekends)
        st.markdown("**Повторы (retry) — задержки через запятую, например 10m, 30m, 2h**")
        r1, r2, r3, r4 = st.columns(4)
        busy = r1.text_input("Занято (busy)", value=", ".join(base.retry.busy))
        no_answer = r2.text_input("Не ответил (no_answer)", value=", ".join(base.retry.no_answer))
        congestion = r3.text_input("Перегрузка (congestion)", value=", ".join(base.retry.congestion))
        partial = r4.text_input("Прослушал частично (partial)", value=", ".join(base.retry.partial))
        heard_full = st.text_input(
            "Пауза после прослушивания до конца (backoff.heard_full)", value=base.backoff.heard_full
        )
        submitted = st.form_submit_button("Сохранить" if spec else "Создать", type="primary")
    if not submitted:
        return
    data: dict[str, Any] = {
        "name": spec.name if spec is not None else name,
        "trunk": trunk,
        "max_channels": int(max_channels),
        "calls_per_second": float(cps),
        "dial_timeout": dial_timeout,
        "select": {
            "districts": [d.strip() for d in districts.split(",") if d.strip()],
            "ownership": [o.strip() for o in ownership.split(",") if o.strip()],
        },
        "window": {"weekdays": weekdays, "weekends": weekends},
        "retry": {
            "busy": _durations(busy),
            "no_answer": _durations(no_answer),
            "congestion": _durations(congestion),
            "partial": _durations(partial),
        },
        "backoff": {"heard_full": heard_full},
    }
    if min_debt is not None:
        data["select"]["min_debt"] = Decimal(str(min_debt))
    if min_months is not None:
        data["select"]["min_months"] = int(min_months)
    try:
        new_spec = parse_spec(data, source="форма кампании")
        applied = apply_spec(ctx.storage.sessions, ctx.organisation_id, new_spec, ctx.now())
    except CampaignError as exc:
        st.error(f"Кампания не сохранена: {exc}")
        return
    if applied.created:
        st.session_state["campaign_notice"] = f"Кампания «{applied.name}» создана (остановлена)."
    elif applied.changed:
        st.session_state["campaign_notice"] = (
            f"«{applied.name}»: изменения сохранены (редакция {applied.revision})."
        )
    else:
        st.session_state["campaign_notice"] = f"«{applied.name}»: изменений нет."
    st.session_state["campaign_pending"] = applied.name  # selected at the next run, before the widget
    st.rerun()
