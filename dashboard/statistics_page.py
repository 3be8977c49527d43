"""«Статистика» (placeholder until debtors/statistics.py lands)."""

from __future__ import annotations

import streamlit as st

from access.accounts import UserInfo
from dashboard.context import DashboardContext


def render(ctx: DashboardContext, user: UserInfo) -> None:
    st.header("Статистика")
