"""The dashboard's composition root: settings, storage and the access service, built once per process.

``upravdolg dashboard`` hands its effective settings to the Streamlit process in ``UPRAVDOLG_DASHBOARD_
SETTINGS`` (JSON), so `--config` and `--set` mean the same as for every other command; started any other
way, the usual layers apply (defaults < upravdolg.toml < UPRAVDOLG_* variables).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import streamlit as st

from access.accounts import Accounts
from dashboard.launch import SETTINGS_ENV
from dialer.bootstrap import Storage, make_accounts, open_storage, utc_now
from dialer.settings import Settings, load_settings


@dataclass(frozen=True, slots=True)
class DashboardContext:
    settings: Settings
    storage: Storage
    accounts: Accounts
    clock: Callable[[], datetime]

    @property
    def organisation_id(self) -> int:
        return self.storage.organisation_id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.settings.organisation.timezone)

    def now(self) -> datetime:
        return self.clock()


def settings_document() -> str:
    """The settings this process runs with, as JSON (the cache key of the context)."""
    given = os.environ.get(SETTINGS_ENV)
    if given:
        return given
    return load_settings().model_dump_json()


@st.cache_resource(show_spinner=False)
def _build(document: str) -> DashboardContext:
    settings = Settings.model_validate(json.loads(document))
    storage = open_storage(settings)
    return DashboardContext(settings, storage, make_accounts(settings, storage), utc_now)


def get_context() -> DashboardContext:
    return _build(settings_document())
