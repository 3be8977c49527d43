"""Logging in and out. The session token lives only in this browser tab's Streamlit session state; the
database keeps its hash (access.accounts). Every rerun re-checks the session, so an expired, revoked or
disabled one ends at the next click."""

from __future__ import annotations

import streamlit as st

from access.accounts import UserInfo
from access.rules import REFUSAL_MESSAGES, SESSION_MESSAGES
from dashboard.context import DashboardContext

TOKEN_KEY = "upravdolg_token"  # noqa: S105 (the session-state key, not a secret)


def _source() -> str:
    address = st.context.ip_address
    return f"dashboard {address}" if address else "dashboard"


def current_user(ctx: DashboardContext) -> UserInfo | None:
    """The logged-in user, or None after showing the login form (with why the session ended, if it did)."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        check = ctx.accounts.resolve_session(token, ctx.now())
        if check.user is not None:
            return check.user
        del st.session_state[TOKEN_KEY]
        if check.refusal is not None:
            st.warning(SESSION_MESSAGES[check.refusal])
    _login_form(ctx)
    return None


def _login_form(ctx: DashboardContext) -> None:
    st.title("УправДолг — вход")
    with st.form("login"):
        login = st.text_input("Логин", key="login_name")
        password = st.text_input("Пароль", type="password", key="login_password")
        submitted = st.form_submit_button("Войти", type="primary")
    if not submitted:
        return
    result = ctx.accounts.authenticate(login, password, ctx.now(), _source())
    if result.user is None:
        message = REFUSAL_MESSAGES[result.refusal] if result.refusal else "Вход не выполнен."
        if result.locked_until is not None:
            local = result.locked_until.astimezone(ctx.zone)
            message += f" Повторите после {local:%H:%M}."
        st.error(message)
        return
    st.session_state[TOKEN_KEY] = ctx.accounts.create_session(result.user.id, ctx.now(), source=_source())
    st.rerun()


def log_out(ctx: DashboardContext) -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    if token:
        ctx.accounts.revoke_session(token, ctx.now())


def still_logged_in(ctx: DashboardContext) -> bool:
    """For automatic refreshes (the calling panel's live figures): the session is still valid. It does
    not count as the user's activity, so an unattended screen still reaches the idle timeout."""
    token = st.session_state.get(TOKEN_KEY)
    if not isinstance(token, str):
        return False
    return ctx.accounts.resolve_session(token, ctx.now(), touch=False).user is not None
