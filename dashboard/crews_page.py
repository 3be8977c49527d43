"""«Монтажные работы»: restriction plugs (ограничение) and the crews that install and remove them.

The page shows the rules' clock for every candidate (ПП РФ № 354, clauses 117-119: not earlier than the
configured days after the warning's delivery), plans a job only through debtors/crew_jobs.plan_install,
which refuses a date before the clock allows, and records the crews' reports through report_job. Everybody
who may open the dashboard sees it; planning, reports and the list of crews need the right to edit debtors.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from dashboard.labels import count_of, day, money
from debtors.crew_jobs import (
    Candidate,
    JobRow,
    add_crew,
    jobs_board,
    list_crews,
    plan_install,
    plug_counts,
    report_job,
    restriction_candidates,
)
from debtors.field_reports import FieldError
from debtors.field_rules import (
    JOB_KIND_LABELS,
    JOB_OUTCOMES,
    JOB_STATUS_LABELS,
    JobKind,
    JobStatus,
    RestrictionClock,
    RestrictionRules,
)
from dialer.bootstrap import restriction_rules

FLASH_KEY = "crews_flash"
NO_CREW = ""
BOARD_ORDER = (
    JobStatus.PLANNED,
    JobStatus.INSTALLED,
    JobStatus.NO_ACCESS,
    JobStatus.REMOVED,
    JobStatus.CANCELLED,
)


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Монтажные работы")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    rules = restriction_rules(ctx.settings)
    today = ctx.now().astimezone(ctx.zone).date()
    notices = count_of(
        rules.min_notices_delivered,
        "врученного уведомления",
        "врученных уведомлений",
        "врученных уведомлений",
    )
    st.caption(
        f"Ограничение (заглушка) возможно при долге от {money(rules.min_debt)}, после {notices}"
        f" и не раньше чем через {rules.days_after_delivery} дн. после вручения предупреждения "
        "(ПП РФ № 354, п. 117–119)."
    )
    _counts(ctx, today)
    with ctx.storage.sessions() as session:
        crews = [c.name for c in list_crews(session, ctx.organisation_id)]
        candidates = restriction_candidates(
            session, ctx.organisation_id, timezone=ctx.settings.organisation.timezone, rules=rules
        )
        board = jobs_board(session, ctx.organisation_id)
    may_edit = user.can(Permission.EDIT_DEBTORS)
    _candidates(candidates, today)
    if may_edit and candidates:
        _plan(ctx, user, candidates, crews, today=today, rules=rules)
    _board(board)
    if may_edit:
        _report(ctx, user, board, crews, today=today, rules=rules)
    _crews(ctx, crews, may_edit=may_edit)


def clock_text(clock: RestrictionClock, today: date) -> str:
    """«можно сейчас» or «можно с 12.12.2026 (через 5 дн.)»."""
    if clock.allowed_from is None:
        return "пока нельзя"
    if clock.allows(today):
        return "можно сейчас"
    return f"можно с {day(clock.allowed_from)} (через {clock.days_left(today)} дн.)"


def _counts(ctx: DashboardContext, today: date) -> None:
    first = today.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    period = st.columns([1, 2])[0].date_input(
        "Заглушки за период", value=(first, last), format="DD.MM.YYYY", key="plugs_period"
    )
    picked = [d for d in (period if isinstance(period, tuple) else (period,)) if isinstance(d, date)]
    start, end = (picked[0], picked[-1]) if picked else (first, last)
    with ctx.storage.sessions() as session:
        counts = plug_counts(session, ctx.organisation_id, start, end)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Установлено за период", counts.installed)
    c2.metric("Снято за период", counts.removed)
    c3.metric("Стоит сейчас", counts.in_place)
    c4.metric("Запланировано работ", counts.planned)


def _candidates(candidates: Sequence[Candidate], today: date) -> None:
    st.subheader("Кандидаты на ограничение")
    if not candidates:
        st.info("Кандидатов нет: никому из должников правила пока не позволяют ограничение.")
        return
    st.dataframe(
        [
            {
                "Лицевой счёт": c.account,
                "ФИО": c.full_name,
                "Адрес": c.address,
                "Долг": money(c.debt),
                "Когда": clock_text(c.clock, today),
                "Основание": c.clock.reason,
            }
            for c in candidates
        ],
        hide_index=True,
        width="stretch",
        key="crews_candidates",
    )


def _crew_name(name: str) -> str:
    return name or "без бригады"


def _plan(
    ctx: DashboardContext,
    user: UserInfo,
    candidates: Sequence[Candidate],
    crews: Sequence[str],
    *,
    today: date,
    rules: RestrictionRules,
) -> None:
    st.markdown("**Запланировать установку заглушки**")
    by_account = {c.account: c for c in candidates}
    c1, c2 = st.columns([2, 1])
    account = c1.selectbox(
        "Должник",
        list(by_account),
        format_func=lambda a: f"{a} — {by_account[a].full_name} — {clock_text(by_account[a].clock, today)}",
        key="plan_account",
    )
    if account is None:
        return
    candidate = by_account[account]
    crew = c2.selectbox("Бригада", [NO_CREW, *crews], format_func=_crew_name, key="plan_crew")
    allowed = candidate.clock.allowed_from or today
    c3, c4 = st.columns([1, 2])
    planned_on = c3.date_input(
        "Дата работ", value=max(today, allowed), format="DD.MM.YYYY", key=f"plan_day_{account}"
    )
    note = c4.text_input("Примечание", key=f"plan_note_{account}")
    st.caption(candidate.clock.reason)
    if not st.button("Запланировать", key="plan_submit") or not isinstance(planned_on, date):
        return
    try:
        with ctx.storage.sessions.begin() as session:
            job = plan_install(
                session,
                ctx.organisation_id,
                account,
                crew=crew or None,
                planned_on=planned_on,
                note=note,
                timezone=ctx.settings.organisation.timezone,
                rules=rules,
                actor=user.login,
                now=ctx.now(),
            )
            job_id = job.id
    except FieldError as exc:
        st.error(f"Работа не запланирована: {exc.message}")
        return
    st.session_state[FLASH_KEY] = (
        f"Работа №{job_id} запланирована на {day(planned_on)}: л/с {account}, {_crew_name(crew or '')}."
    )
    st.rerun()


def _status_label(code: str) -> str:
    try:
        return JOB_STATUS_LABELS[JobStatus(code)]
    except ValueError:
        return code


def _kind_label(code: str) -> str:
    try:
        return JOB_KIND_LABELS[JobKind(code)]
    except ValueError:
        return code


def _job_rows(jobs: Sequence[JobRow]) -> list[dict[str, Any]]:
    return [
        {
            "№": j.id,
            "Работа": _kind_label(j.kind),
            "Лицевой счёт": j.account,
            "ФИО": j.full_name,
            "Адрес": j.address,
            "Долг": money(j.debt),
            "Бригада": _crew_name(j.crew),
            "План": day(j.planned_on),
            "Установлена": day(j.installed_on) if j.installed_on else "",
            "Снята": day(j.removed_on) if j.removed_on else "",
            "Примечание": j.note,
            "Основание": j.reason,
        }
        for j in jobs
    ]


def _board(board: Sequence[JobRow]) -> None:
    st.subheader("Работы бригад")
    if not board:
        st.info("Работ пока нет.")
        return
    groups = {status: [j for j in board if j.status == status.value] for status in BOARD_ORDER}
    tabs = st.tabs([f"{JOB_STATUS_LABELS[s]} ({len(groups[s])})" for s in BOARD_ORDER])
    for tab, status in zip(tabs, BOARD_ORDER, strict=True):
        with tab:
            if groups[status]:
                st.dataframe(
                    _job_rows(groups[status]),
                    hide_index=True,
                    width="stretch",
                    key=f"crews_board_{status.value}",
                )
            else:
                st.write("Нет работ.")


def _report(
    ctx: DashboardContext,
    user: UserInfo,
    board: Sequence[JobRow],
    crews: Sequence[str],
    *,
    today: date,
    rules: RestrictionRules,
) -> None:
    """A crew's report: a planned job ends as its kind allows; a job that found no access is planned again."""
    open_jobs = {j.id: j for j in board if j.status in (JobStatus.PLANNED.value, JobStatus.NO_ACCESS.value)}
    if not open_jobs:
        return
    st.markdown("**Отметить результат работы**")
    job_id = st.selectbox(
        "Работа",
        list(open_jobs),
        format_func=lambda i: (
            f"№{i} · {_kind_label(open_jobs[i].kind)} · л/с {open_jobs[i].account} · "
            f"{day(open_jobs[i].planned_on)} · {_status_label(open_jobs[i].status)}"
        ),
        key="job_pick",
    )
    if job_id is None:
        return
    job = open_jobs[job_id]
    if job.status == JobStatus.PLANNED.value:
        outcomes: Sequence[JobStatus] = JOB_OUTCOMES[JobKind(job.kind)]
    else:
        outcomes = (JobStatus.PLANNED,)
    c1, c2, c3 = st.columns(3)
    status = c1.selectbox(
        "Итог",
        list(outcomes),
        format_func=lambda s: "запланировать снова" if s is JobStatus.PLANNED else JOB_STATUS_LABELS[s],
        key=f"job_status_{job_id}",
    )
    on = c2.date_input(
        "Новая дата" if status is JobStatus.PLANNED else "Дата",
        value=max(today, job.planned_on) if status is JobStatus.PLANNED else today,
        format="DD.MM.YYYY",
        key=f"job_day_{job_id}_{status}",
    )
    crew = c3.selectbox(
        "Бригада",
        [NO_CREW, *crews],
        index=[NO_CREW, *crews].index(job.crew) if job.crew in crews else 0,
        format_func=lambda n: n or "не менять",
        key=f"job_crew_{job_id}",
    )
    note = st.text_input("Примечание бригады", key=f"job_note_{job_id}")
    if not st.button("Сохранить", key="job_report") or status is None or not isinstance(on, date):
        return
    try:
        with ctx.storage.sessions.begin() as session:
            report_job(
                session,
                ctx.organisation_id,
                job_id,
                JobStatus(status),
                on=on,
                planned_on=on if status is JobStatus.PLANNED else None,
                note=note,
                crew=crew or None,
                timezone=ctx.settings.organisation.timezone,
                rules=rules,
                actor=user.login,
                now=ctx.now(),
            )
    except FieldError as exc:
        st.error(f"Не сохранено: {exc.message}")
        return
    st.session_state[FLASH_KEY] = (
        f"Работа №{job_id} запланирована снова на {day(on)}."
        if status is JobStatus.PLANNED
        else f"Работа №{job_id}: {JOB_STATUS_LABELS[JobStatus(status)]} ({day(on)})."
    )
    st.rerun()


def _crews(ctx: DashboardContext, crews: Sequence[str], *, may_edit: bool) -> None:
    st.subheader("Бригады")
    if crews:
        st.write(", ".join(crews))
    else:
        st.write("Бригад пока нет.")
    if not may_edit:
        return
    with st.form("crew_add", clear_on_submit=True):
        name = st.text_input("Название бригады")
        if st.form_submit_button("Добавить бригаду"):
            try:
                with ctx.storage.sessions.begin() as session:
                    added = add_crew(session, ctx.organisation_id, name, now=ctx.now()).name
            except FieldError as exc:
                st.error(f"Бригада не добавлена: {exc.message}")
            else:
                st.session_state[FLASH_KEY] = f"Бригада «{added}» добавлена."
                st.rerun()
