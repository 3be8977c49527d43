"""«Отчёты»: any report of debtors/reports for a period, previewed here and downloaded as PDF, XLSX or CSV.

The page builds with the same two functions as the CLI and the monthly run (``build_report``, ``render``).
Everybody who may open the dashboard builds a report and sees its first table; downloading the file
(personal data: names and addresses of debtors) needs the export permission, as printing notices does.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import streamlit as st

from access.accounts import UserInfo
from access.rules import Permission
from dashboard.context import DashboardContext
from db.debtor_list import filter_choices
from debtors.reports.cell_text import print_text
from debtors.reports.model import Report, ReportParams, Section
from debtors.reports.outlets import MEDIA_TYPES
from debtors.reports.outlets import render as render_file
from debtors.reports.registry import REPORTS, build_report
from dialer.campaigns import campaign_summaries
from dialer.errors import UpravDolgError

BUILT_KEY = "reports_built"  # not a widget key: the built report, its file and the choices it was built for
FORMAT_LABELS = {"pdf": "PDF", "xlsx": "Excel (XLSX)", "csv": "CSV (Excel, «;»)"}
ALL_CAMPAIGNS = ""


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Отчёты")
    default_from, default_to = previous_month(ctx.now().astimezone(ctx.zone).date())
    name = st.selectbox("Отчёт", list(REPORTS), format_func=lambda n: REPORTS[n].title, key="report_name")
    c1, c2 = st.columns(2)
    date_from = c1.date_input("С", value=default_from, format="DD.MM.YYYY", key="report_from")
    date_to = c2.date_input("По (включительно)", value=default_to, format="DD.MM.YYYY", key="report_to")
    with ctx.storage.sessions() as session:
        districts = filter_choices(session, ctx.organisation_id).districts
    chosen = st.multiselect("Районы (пусто — все)", districts, key="report_districts")
    campaign: str | None = None
    price = Decimal("0.00")
    within_days = ctx.settings.scheduler.contact_effect_days
    if name == "calls":
        names = [c.name for c in campaign_summaries(ctx.storage.sessions, ctx.organisation_id, ctx.now())]
        k1, k2 = st.columns(2)
        picked = k1.selectbox(
            "Кампания",
            [ALL_CAMPAIGNS, *names],
            format_func=lambda n: n or "все кампании",
            key="report_campaign",
        )
        campaign = picked or None
        cost = k2.number_input(
            "Цена попытки, руб.", min_value=0.0, value=0.0, step=0.1, format="%.2f", key="report_price"
        )
        price = Decimal(f"{cost:.2f}")
    if name == "contact":
        within_days = int(
            st.number_input(
                "Оплата в течение, дн.",
                min_value=0,
                max_value=365,
                value=within_days,
                step=1,
                key="report_within",
            )
        )
    fmt = st.selectbox(
        "Формат", list(FORMAT_LABELS), format_func=FORMAT_LABELS.__getitem__, key="report_format"
    )

    signature = (name, date_from, date_to, tuple(chosen), campaign, price, within_days, fmt)
    built = st.session_state.get(BUILT_KEY)
    if built is not None and built["signature"] != signature:
        st.session_state.pop(BUILT_KEY, None)
    if st.button("Сформировать", key="report_build", type="primary"):
        if not isinstance(date_from, date) or not isinstance(date_to, date):
            st.error("Укажите обе даты периода.")
            return
        if date_to < date_from:
            st.error("Конец периода раньше начала.")
            return
        params = ReportParams(
            date_from=date_from,
            date_to=date_to,
            timezone=ctx.settings.organisation.timezone,
            generated_at=ctx.now(),
            districts=tuple(chosen),
            campaign=campaign,
            price_per_attempt=price,
            within_days=within_days,
        )
        try:
            with ctx.storage.sessions() as session:
                report = build_report(session, ctx.organisation_id, name, params)
            # the file is made only for those who may take it away
            data = render_file(report, fmt) if user.can(Permission.EXPORT) else None
        except (UpravDolgError, ValueError) as exc:
            st.error(f"Отчёт не сформирован: {exc}")
            return
        st.session_state[BUILT_KEY] = {"signature": signature, "report": report, "data": data}
    built = st.session_state.get(BUILT_KEY)
    if built is None:
        return
    _show(built["report"], built["data"], fmt)


def _show(report: Report, data: bytes | None, fmt: str) -> None:
    st.subheader(report.title)
    st.caption(f"{report.organisation} · {report.period_text} · {report.filters or 'без отбора'}")
    if data is not None:
        st.download_button(
            f"Скачать {FORMAT_LABELS[fmt]}",
            data=data,
            file_name=f"{report.name}-{report.period_from:%Y-%m-%d}-{report.period_to:%Y-%m-%d}.{fmt}",
            mime=MEDIA_TYPES[fmt],
            key="report_download",
        )
    else:
        st.info("Скачивание отчёта — только с правом выгрузки данных (в отчётах есть персональные данные).")
    if report.sections:
        first = report.sections[0]
        st.markdown(f"**{first.caption}**" + (f" — {first.note}" if first.note else ""))
        if first.rows:
            st.dataframe(preview(first), hide_index=True)
        else:
            st.caption("Нет данных за период.")


def preview(section: Section) -> list[dict[str, str]]:
    """The section as printed (Russian numbers and dates), its totals rows last."""
    titles = [c.title for c in section.columns]
    return [
        {
            title: "" if cell is None else print_text(cell, column)
            for title, cell, column in zip(titles, row, section.columns, strict=True)
        }
        for row in (*section.rows, *section.totals)
    ]
