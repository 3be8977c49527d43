"""«Пользователи» (supervisors only): who may log in, with which role; add, reset a password, disable.
Everything goes through access.accounts, the service `upravdolg users` uses."""

from __future__ import annotations

import streamlit as st

from access.accounts import AccessError, UserInfo
from access.rules import ROLE_LABELS, Role
from dashboard.context import DashboardContext
from dashboard.labels import moment


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Пользователи")
    users = ctx.accounts.list_users()
    st.dataframe(
        [
            {
                "Логин": u.login,
                "ФИО": u.full_name,
                "Роль": ROLE_LABELS[u.role],
                "Состояние": f"отключён {moment(u.disabled_at, ctx.zone)}" if u.disabled_at else "активен",
                "Пароль изменён": moment(u.password_changed_at, ctx.zone),
            }
            for u in users
        ],
        hide_index=True,
        width="stretch",
    )
    notice = st.session_state.pop("users_notice", None)
    if notice:
        st.success(notice)
    with st.form("user_add", clear_on_submit=True):
        st.markdown("**Новый пользователь**")
        c1, c2, c3 = st.columns(3)
        login = c1.text_input("Логин")
        full_name = c2.text_input("ФИО")
        role = c3.selectbox("Роль", list(Role), format_func=ROLE_LABELS.__getitem__) or Role.VIEWER
        password = st.text_input("Пароль", type="password")
        if st.form_submit_button("Добавить"):
            try:
                added = ctx.accounts.add_user(login, password, role, ctx.now(), full_name=full_name)
            except AccessError as exc:
                st.error(f"Пользователь не добавлен: {exc}")
            else:
                st.session_state["users_notice"] = f"Пользователь {added.login} добавлен."
                st.rerun()
    others = [u.login for u in users if u.active and u.login != user.login]
    if others:
        with st.form("user_disable"):
            st.markdown("**Отключить пользователя** (его сеансы завершатся)")
            target = st.selectbox("Логин", others)
            if st.form_submit_button("Отключить"):
                ctx.accounts.disable_user(target, ctx.now())
                st.session_state["users_notice"] = f"Пользователь {target} отключён."
                st.rerun()
