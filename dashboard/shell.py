"""The frame around the pages: page setup, the login gate, the sidebar with the pages this user's role may
open, and logging out. Nothing but the login form renders before a valid session is checked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from access.accounts import UserInfo
from access.rules import ROLE_LABELS, Permission
from dashboard import (
    calling_page,
    crews_page,
    debtors_page,
    legal_page,
    notices_page,
    reports_page,
    statistics_page,
    users_page,
)
from dashboard.context import DashboardContext, get_context
from dashboard.login import current_user, log_out
from dialer.errors import UpravDolgError


@dataclass(frozen=True, slots=True)
class PageSpec:
    title: str
    render: Callable[[DashboardContext, UserInfo], None]
    needs: Permission


PAGES = {
    "debtors": PageSpec("Должники", debtors_page.render, Permission.VIEW),
    "calling": PageSpec("Обзвон", calling_page.render, Permission.VIEW),
    "statistics": PageSpec("Статистика", statistics_page.render, Permission.VIEW),
    "notices": PageSpec("Уведомления", notices_page.render, Permission.VIEW),
    "crews": PageSpec("Монтажные работы", crews_page.render, Permission.VIEW),
    "reports": PageSpec("Отчёты", reports_page.render, Permission.VIEW),
    "legal": PageSpec("Юрист", legal_page.render, Permission.VIEW),
    "users": PageSpec("Пользователи", users_page.render, Permission.ADMIN_USERS),
}


def pages_for(user: UserInfo) -> list[str]:
    return [key for key, page in PAGES.items() if user.can(page.needs)]


def main() -> None:
    st.set_page_config(page_title="УправДолг", page_icon="☎", layout="wide")
    try:
        ctx = get_context()
    except UpravDolgError as exc:
        st.error(f"Панель не может открыть базу данных: {exc}")
        return
    user = current_user(ctx)
    if user is None:
        return
    allowed = pages_for(user)
    with st.sidebar:
        st.markdown(f"### УправДолг\n**{user.full_name or user.login}** — {ROLE_LABELS[user.role]}")
        key = st.radio("Раздел", allowed, format_func=lambda k: PAGES[k].title, key="page")
        if st.button("Выйти", key="logout"):
            log_out(ctx)
            st.rerun()
    if key is None or key not in allowed:
        return
    PAGES[key].render(ctx, user)
