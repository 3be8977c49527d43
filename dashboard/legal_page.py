"""«Юрист»: the lawyer's cases, their stages and documents, the application for a court order, and the
court's or bailiff's registries matched against the debtors with the rows that wait for a decision.

Everything goes through the same services as `upravdolg legal` and `upravdolg claim`
(debtors/legal_cases.py, legal_import.py, claim_documents.py). Everybody who may open the dashboard sees
the cases; opening and moving cases, attaching documents, importing registries and deciding rows need the
right to edit debtors; taking files away (documents, the claim) needs the export right (personal data).
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from dashboard.labels import day, moment, money
from debtors.claim_charges import parse_charges_file
from debtors.claim_documents import (
    TEMPLATE_PATH,
    build_claim_data,
    render_claim_docx,
    render_claim_pdf,
)
from debtors.legal_cases import (
    CaseDetail,
    CaseRow,
    attach_document,
    case_detail,
    document_file,
    list_cases,
    move_case,
    open_case,
)
from debtors.legal_import import (
    PendingRow,
    decide_row,
    flagged_rows,
    import_uploaded_registry,
    pending_rows,
)
from debtors.legal_matching import MatchRules, Outcome
from debtors.legal_stages import NEXT_STAGES, STAGE_LABELS, Stage, stage_label
from dialer.errors import UpravDolgError

FLASH_KEY = "legal_flash"
CLAIM_KEY = "legal_claim"  # not a widget key: the claim made, for the case, date and format it was made for
NOT_IN_BASE = ""
OPEN_STAGES = [s for s in Stage if s is not Stage.CLOSED]
OUTCOME_LABELS = {
    Outcome.EXACT_ACCOUNT.value: "точно по лицевому счёту",
    Outcome.MATCHED.value: "по ФИО и адресу",
    Outcome.AMBIGUOUS.value: "неоднозначно",
    Outcome.UNMATCHED.value: "не найден",
}
_ORDERS = {Stage.COURT_ORDER.value, Stage.JUDGEMENT.value, Stage.ENFORCEMENT.value}
PARTS = {"cases": "Дела", "registries": "Реестры суда и приставов"}
CLAIM_FORMATS = {"pdf": "PDF", "docx": "Word (DOCX)"}
CLAIM_MEDIA = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Юрист")
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(flash)
    if ctx.settings.legal.pause_calls:
        st.caption("Пока дело не закрыто, должнику не звонят (настройка legal.pause_calls).")
    else:
        st.caption("Открытое дело не останавливает обзвон (настройка legal.pause_calls выключена).")
    may_edit = user.can(Permission.EDIT_DEBTORS)
    today = ctx.now().astimezone(ctx.zone).date()
    with ctx.storage.sessions() as session:
        every = list_cases(session, ctx.organisation_id, limit=100_000)
        pending = pending_rows(session, ctx.organisation_id)
        flagged = flagged_rows(session, ctx.organisation_id)
    _figures(every, pending)
    # a radio, not st.tabs: the part chosen stays chosen across the reruns that saving something makes
    part = st.radio(
        "Раздел юриста",
        list(PARTS),
        format_func=PARTS.__getitem__,
        horizontal=True,
        label_visibility="collapsed",
        key="legal_part",
    )
    if part == "registries":
        if may_edit:
            _import_form(ctx, user, today)
        _review(ctx, user, pending, today, may_edit=may_edit)
        _flagged(flagged)
        return
    shown = _case_list(every)
    if may_edit:
        _open_form(ctx, user, today)
    if shown:
        _case_card(ctx, user, shown, today, may_edit=may_edit)


def _figures(cases: Sequence[CaseRow], pending: Sequence[PendingRow]) -> None:
    open_cases = [c for c in cases if c.stage != Stage.CLOSED.value]
    claimed = sum((c.amount_claimed or Decimal(0) for c in open_cases), Decimal(0))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Открытых дел", len(open_cases))
    c2.metric("Заявлено по открытым делам", money(claimed))
    c3.metric("Судебных приказов и решений", sum(c.stage in _ORDERS for c in open_cases))
    c4.metric("Строк реестров ждут решения", len(pending))


def discrepancy(row: CaseRow) -> str:
    """«долг больше на 1 200,00 ₽» when the amount claimed and the current debt differ."""
    if row.amount_claimed is None or row.stage == Stage.CLOSED.value:
        return ""
    difference = row.debt - row.amount_claimed
    if difference == 0:
        return ""
    if difference > 0:
        return f"долг больше на {money(difference)}"
    return f"долг меньше на {money(-difference)}"


def case_title(row: CaseRow) -> str:
    number = f", № {row.case_number}" if row.case_number else ""
    return f"#{row.id} · {row.account} · {row.full_name} · {stage_label(row.stage)}{number}"


def _case_list(every: Sequence[CaseRow]) -> list[CaseRow]:
    st.subheader("Дела")
    stages = st.multiselect(
        "Стадии (пусто — все)",
        [s.value for s in Stage],
        default=[s.value for s in OPEN_STAGES],
        format_func=stage_label,
        key="legal_stages",
    )
    search = st.text_input("Лицевой счёт, ФИО или номер дела", key="legal_search").strip().casefold()
    shown = [
        c
        for c in every
        if (not stages or c.stage in stages)
        and (
            not search
            or search in c.account.casefold()
            or search in c.full_name.casefold()
            or search in c.case_number.casefold()
        )
    ]
    if not shown:
        st.info("Дел нет." if not every else "Под отбор не попало ни одно дело.")
        return []
    st.dataframe(
        [
            {
                "Дело": c.id,
                "Лицевой счёт": c.account,
                "ФИО": c.full_name,
                "Стадия": stage_label(c.stage),
                "С": day(c.stage_on),
                "Суд": c.court,
                "Номер дела": c.case_number,
                "Заявлено": money(c.amount_claimed) if c.amount_claimed is not None else "",
                "Долг сейчас": money(c.debt),
                "Расхождение": discrepancy(c),
            }
            for c in shown
        ],
        hide_index=True,
        width="stretch",
        key="legal_cases",
    )
    return shown


def _amount(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.2f}")


def _open_form(ctx: DashboardContext, user: UserInfo, today: date) -> None:
    with st.expander("Открыть дело"), st.form("legal_open", clear_on_submit=True):
        c1, c2 = st.columns(2)
        account = c1.text_input("Лицевой счёт", key="legal_open_account")
        opened_on = c2.date_input("Дата", value=today, format="DD.MM.YYYY", key="legal_open_on")
        court = c1.text_input("Суд", key="legal_open_court")
        number = c2.text_input("Номер дела (если уже есть)", key="legal_open_number")
        amount = c1.number_input(
            "Сумма требований, руб.", min_value=0.0, value=None, step=100.0, key="legal_open_amount"
        )
        penalty = c2.number_input(
            "Пени, руб.", min_value=0.0, value=None, step=100.0, key="legal_open_penalty"
        )
        note = st.text_input("Примечание", key="legal_open_note")
        if not st.form_submit_button("Открыть дело"):
            return
    if not account.strip():
        st.error("Укажите лицевой счёт должника.")
        return
    try:
        with ctx.storage.sessions.begin() as session:
            case = open_case(
                session,
                ctx.organisation_id,
                account,
                opened_on=opened_on if isinstance(opened_on, date) else today,
                court=court,
                case_number=number,
                amount_claimed=_amount(amount),
                penalty_claimed=_amount(penalty),
                note=note,
                actor=user.login,
                now=ctx.now(),
            )
            case_id = case.id
    except UpravDolgError as exc:
        st.error(f"Дело не открыто: {exc}")
        return
    st.session_state[FLASH_KEY] = f"Открыто дело #{case_id} (лицевой счёт {account.strip()})."
    st.session_state["legal_case"] = case_id
    st.rerun()


def _case_card(
    ctx: DashboardContext, user: UserInfo, shown: Sequence[CaseRow], today: date, *, may_edit: bool
) -> None:
    titles = {c.id: case_title(c) for c in shown}
    if st.session_state.get("legal_case") not in titles:
        st.session_state.pop("legal_case", None)
    case_id = st.selectbox("Дело", list(titles), format_func=titles.__getitem__, key="legal_case")
    if case_id is None:
        return
    try:
        with ctx.storage.sessions() as session:
            detail = case_detail(session, ctx.organisation_id, case_id)
    except UpravDolgError as exc:
        st.error(str(exc))
        return
    st.markdown(
        f"**{detail.full_name}**, лицевой счёт {detail.account}, {detail.address or 'адрес не указан'}  \n"
        f"Стадия: **{stage_label(detail.stage)}** с {day(detail.stage_on)} · дело открыто "
        f"{day(detail.opened_on)} · суд: {detail.court or '—'} · номер: {detail.case_number or '—'}  \n"
        f"Заявлено: {money(detail.amount_claimed) if detail.amount_claimed is not None else '—'}"
        f" · пени: {money(detail.penalty_claimed) if detail.penalty_claimed is not None else '—'}"
        f" · долг сейчас: {money(detail.debt)}"
    )
    st.dataframe(
        [
            {
                "Стадия": stage_label(h.stage),
                "Дата": day(h.stage_on),
                "Было": stage_label(h.previous_stage) if h.previous_stage else "",
                "Примечание": h.note,
                "Кто": h.actor,
                "Записано": moment(h.at, ctx.zone),
            }
            for h in detail.history
        ],
        hide_index=True,
        width="stretch",
        key="legal_history",
    )
    if may_edit and detail.is_open:
        _move_form(ctx, user, detail, today)
    _documents(ctx, user, detail, may_edit=may_edit)
    if detail.is_open:
        _claim(ctx, user, detail, today, may_edit=may_edit)


def _move_form(ctx: DashboardContext, user: UserInfo, detail: CaseDetail, today: date) -> None:
    following = [s for s in Stage if s in NEXT_STAGES[Stage(detail.stage)]]
    with st.form(f"legal_move_{detail.id}"):
        st.markdown("**Следующая стадия**")
        c1, c2 = st.columns(2)
        stage = c1.selectbox(
            "Стадия", following, format_func=STAGE_LABELS.__getitem__, key="legal_move_stage"
        )
        on = c2.date_input("Дата", value=today, format="DD.MM.YYYY", key="legal_move_on")
        court = c1.text_input("Суд", value=detail.court, key=f"legal_move_court_{detail.id}")
        number = c2.text_input("Номер дела", value=detail.case_number, key=f"legal_move_number_{detail.id}")
        note = st.text_input("Примечание", key="legal_move_note")
        if not st.form_submit_button("Перевести"):
            return
    if stage is None:
        return
    try:
        with ctx.storage.sessions.begin() as session:
            move_case(
                session,
                ctx.organisation_id,
                detail.id,
                stage,
                on=on if isinstance(on, date) else today,
                note=note,
                court=court,
                case_number=number,
                actor=user.login,
                now=ctx.now(),
            )
    except UpravDolgError as exc:
        st.error(f"Стадия не изменена: {exc}")
        return
    st.session_state[FLASH_KEY] = f"Дело #{detail.id}: {STAGE_LABELS[stage]}."
    st.rerun()


def _documents(ctx: DashboardContext, user: UserInfo, detail: CaseDetail, *, may_edit: bool) -> None:
    st.markdown(f"**Документы дела** ({len(detail.documents)})")
    may_take = user.can(Permission.EXPORT)
    for document in detail.documents:
        c1, c2 = st.columns([3, 1])
        size = f"{document.size:,}".replace(",", "\u00a0")
        c1.write(
            f"{document.title} — {document.filename}, {size} байт, "
            f"{moment(document.created_at, ctx.zone)}, {document.actor}"
        )
        if may_take:
            with ctx.storage.sessions() as session:
                filename, media_type, content = document_file(session, ctx.organisation_id, document.id)
            c2.download_button(
                "Скачать", data=content, file_name=filename, mime=media_type, key=f"legal_doc_{document.id}"
            )
    if detail.documents and not may_take:
        st.caption("Скачивание документов — только с правом выгрузки данных.")
    if not may_edit:
        return
    with st.form(f"legal_attach_{detail.id}", clear_on_submit=True):
        title = st.text_input("Название документа", key="legal_attach_title")
        uploaded = st.file_uploader("Файл", key="legal_attach_file")
        if not st.form_submit_button("Приложить"):
            return
    if uploaded is None:
        st.error("Выберите файл.")
        return
    media_type = uploaded.type or mimetypes.guess_type(uploaded.name)[0] or "application/octet-stream"
    _attach(
        ctx,
        user,
        detail.id,
        title=title,
        filename=uploaded.name,
        content=uploaded.getvalue(),
        media=media_type,
    )


def _attach(
    ctx: DashboardContext,
    user: UserInfo,
    case_id: int,
    *,
    title: str,
    filename: str,
    content: bytes,
    media: str,
) -> None:
    """Keep a file with the case; says so on the next run, or why not on this one."""
    try:
        with ctx.storage.sessions.begin() as session:
            attach_document(
                session,
                ctx.organisation_id,
                case_id,
                title=title,
                filename=filename,
                content=content,
                media_type=media,
                actor=user.login,
                now=ctx.now(),
            )
    except UpravDolgError as exc:
        st.error(f"Документ не приложен: {exc}")
        return
    st.session_state.pop(CLAIM_KEY, None)
    st.session_state[FLASH_KEY] = f"К делу #{case_id} приложен документ {filename}."
    st.rerun()


def _claim(ctx: DashboardContext, user: UserInfo, detail: CaseDetail, today: date, *, may_edit: bool) -> None:
    st.markdown("**Заявление о вынесении судебного приказа**")
    st.caption(
        "Основной долг и начисления по месяцам восстанавливаются из загруженных реестров и оплат; "
        "файл начислений юриста (месяц; начислено) их заменяет. Пени — ЖК РФ ст. 155 ч. 14."
    )
    c1, c2 = st.columns(2)
    on = c1.date_input("Расчёт на дату", value=today, format="DD.MM.YYYY", key="legal_claim_on")
    fmt = c2.selectbox(
        "Формат", list(CLAIM_FORMATS), format_func=CLAIM_FORMATS.__getitem__, key="legal_claim_format"
    )
    charges_file = st.file_uploader(
        "Начисления (файл юриста, необязательно)", type=["csv", "txt"], key="legal_claim_charges"
    )
    calculated_on = on if isinstance(on, date) else today
    signature = (detail.id, calculated_on, fmt, charges_file.file_id if charges_file is not None else None)
    made = st.session_state.get(CLAIM_KEY)
    if made is not None and made["signature"] != signature:
        st.session_state.pop(CLAIM_KEY, None)
        made = None
    if st.button("Рассчитать и подготовить заявление", key="legal_claim_make"):
        try:
            charges = None
            if charges_file is not None:
                charges = parse_charges_file(_text(charges_file.getvalue()), charges_file.name)
            template = TEMPLATE_PATH.read_text(encoding="utf-8")
            with ctx.storage.sessions() as session:
                data = build_claim_data(
                    session, ctx.organisation_id, detail.id, calculated_on=calculated_on, charges=charges
                )
            render_file = render_claim_pdf if fmt == "pdf" else render_claim_docx
            content = render_file(data, template, source=str(TEMPLATE_PATH))
        except (UpravDolgError, OSError) as exc:
            st.error(f"Заявление не подготовлено: {exc}")
            return
        figures = {
            "Основной долг": money(data.principal),
            "Пени": money(data.penalty),
            "Итого": money(data.total),
            "Госпошлина": money(data.state_fee),
        }
        made = {
            "signature": signature,
            "figures": figures,
            "content": content,
            "file_name": f"заявление-дело-{detail.id}-{data.account}-{calculated_on:%Y-%m-%d}.{fmt}",
        }
        st.session_state[CLAIM_KEY] = made
    if made is None:
        return
    columns = st.columns(len(made["figures"]))
    for column, (label, value) in zip(columns, made["figures"].items(), strict=True):
        column.metric(label, value)
    d1, d2 = st.columns(2)
    if user.can(Permission.EXPORT):
        d1.download_button(
            f"Скачать заявление ({CLAIM_FORMATS[fmt]})",
            data=made["content"],
            file_name=made["file_name"],
            mime=CLAIM_MEDIA[fmt],
            key="legal_claim_download",
        )
    else:
        d1.info("Скачивание заявления — только с правом выгрузки данных.")
    if may_edit and d2.button("Приложить заявление к делу", key="legal_claim_attach"):
        title = f"Заявление о вынесении судебного приказа (расчёт на {day(calculated_on)})"
        _attach(
            ctx, user, detail.id, title=title, filename=made["file_name"], content=made["content"],
            media=CLAIM_MEDIA[fmt],
        )  # fmt: skip


def _text(content: bytes) -> str:
    """A lawyer's file as text: UTF-8 (with or without BOM), else Windows-1251 as Excel saves it."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1251")


def _import_form(ctx: DashboardContext, user: UserInfo, today: date) -> None:
    st.subheader("Загрузить реестр")
    st.caption(
        "CSV или XLSX из суда или ФССП: «ФИО»/«Должник» и/или «Лицевой счёт»; «Адрес», «Сумма», "
        "«Номер дела», «Суд» — по желанию. Строки сверяются с должниками: сначала по лицевому счёту, затем "
        "по ФИО и адресу; неоднозначные и ненайденные ждут решения ниже."
    )
    with st.form("legal_import", clear_on_submit=True):
        uploaded = st.file_uploader("Файл реестра", type=["csv", "xlsx", "txt"], key="legal_import_file")
        if not st.form_submit_button("Загрузить реестр"):
            return
    if uploaded is None:
        st.error("Выберите файл реестра.")
        return
    try:
        with ctx.storage.sessions.begin() as session:
            summary = import_uploaded_registry(
                session,
                ctx.organisation_id,
                uploaded.name,
                uploaded.getvalue(),
                rules=MatchRules(),
                actor=user.login,
                now=ctx.now(),
                opened_on=today,
            )
    except UpravDolgError as exc:
        st.error(f"Реестр не загружен (ничего не записано): {exc}")
        return
    message = (
        f"{summary.source}: строк {summary.rows} — по лицевому счёту {summary.exact}, по ФИО и адресу "
        f"{summary.matched}, неоднозначно {summary.ambiguous}, не найдено {summary.unmatched}, с ошибками "
        f"{summary.bad}; дел открыто {summary.cases_opened}, дополнено {summary.cases_updated}."
    )
    errors = "".join(
        f"\n- строка {e.row}, поле «{e.field}» ({e.value!r}): {e.message}" for e in summary.errors[:50]
    )
    st.session_state[FLASH_KEY] = message + errors
    st.rerun()


def candidate_text(candidate: dict[str, Any]) -> str:
    return (
        f"{candidate['account']} · {candidate['full_name']} · {candidate['address']} "
        f"(сходство {float(candidate['score']):.2f})"
    )


def _review(
    ctx: DashboardContext, user: UserInfo, pending: Sequence[PendingRow], today: date, *, may_edit: bool
) -> None:
    st.subheader(f"Ждут решения: {len(pending)}")
    if not pending:
        st.info("Все строки реестров сопоставлены.")
        return
    st.dataframe(
        [
            {
                "Строка": r.id,
                "Файл, №": f"{r.source}: {r.row}",
                "Результат": OUTCOME_LABELS.get(r.outcome, r.outcome),
                "ФИО": r.full_name,
                "Адрес": r.address,
                "Лицевой счёт": r.account,
                "Сумма": money(r.amount_claimed) if r.amount_claimed is not None else "",
                "Номер дела": r.case_number,
                "Кандидаты": "; ".join(candidate_text(c) for c in r.candidates),
                "Расхождения": "; ".join(r.discrepancies),
            }
            for r in pending
        ],
        hide_index=True,
        width="stretch",
        key="legal_pending",
    )
    if not may_edit:
        return
    by_id = {r.id: r for r in pending}
    row_id = st.selectbox(
        "Строка для решения",
        list(by_id),
        format_func=lambda i: f"#{i} · {by_id[i].full_name or by_id[i].account} · {by_id[i].address}",
        key="legal_decide_row",
    )
    if row_id is None:
        return
    row = by_id[row_id]
    texts = {c["account"]: candidate_text(c) for c in row.candidates}
    choice = st.radio(
        "Должник",
        [*texts, NOT_IN_BASE],
        format_func=lambda a: texts.get(a, "нет в базе"),
        key=f"legal_decide_choice_{row.id}",
    )
    other = st.text_input("…или другой лицевой счёт", key=f"legal_decide_other_{row.id}").strip()
    if not st.button("Решить", key="legal_decide"):
        return
    account = other or choice or None
    try:
        with ctx.storage.sessions.begin() as session:
            decided = decide_row(
                session,
                ctx.organisation_id,
                row.id,
                account,
                actor=user.login,
                now=ctx.now(),
                opened_on=today,
            )
            case_id = decided.case_id
    except UpravDolgError as exc:
        st.error(f"Решение не записано: {exc}")
        return
    if account is None:
        st.session_state[FLASH_KEY] = f"Строка #{row.id}: нет в базе."
    else:
        case = f", дело #{case_id}" if case_id is not None else ""
        st.session_state[FLASH_KEY] = f"Строка #{row.id}: должник {account}{case}."
    st.rerun()


def _flagged(flagged: Sequence[PendingRow]) -> None:
    st.subheader("Расхождения")
    if not flagged:
        st.caption("Расхождений нет: суммы, ФИО и номера дел в реестрах совпадают с базой.")
        return
    st.dataframe(
        [
            {
                "Строка": r.id,
                "Файл, №": f"{r.source}: {r.row}",
                "Результат": OUTCOME_LABELS.get(r.outcome, r.outcome),
                "ФИО в реестре": r.full_name,
                "Лицевой счёт": r.account,
                "Сумма": money(r.amount_claimed) if r.amount_claimed is not None else "",
                "Номер дела": r.case_number,
                "Расхождения": "; ".join(r.discrepancies),
            }
            for r in flagged
        ],
        hide_index=True,
        width="stretch",
        key="legal_flagged",
    )
