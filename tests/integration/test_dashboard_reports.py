"""«Отчёты» through streamlit.testing's AppTest, on both backends: everybody builds a report and sees its
first table; only those with the export permission get the file, and the file is the report engine's
(debtors/reports) PDF or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from access.accounts import Accounts
from dashboard.launch import APP, SETTINGS_ENV
from dashboard.reports_page import BUILT_KEY, previous_month
from debtors.field_rules import NoticeRules
from debtors.notices import generate_notices
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage, make_accounts
from dialer.settings import Settings
from tests.integration.test_dashboard_app import PASSWORD, buttons, go, log_in, texts

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
TZ = "Europe/Moscow"
# 8 of the sample's debtors get a primary notice (months >= 3, debt >= 5000): 2 of them in Кировский
RULES = NoticeRules(primary_min_months=3, primary_min_debt=Decimal("5000"), secondary_after_days=14)


@pytest.fixture
def reports(settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """The sample registry with today's primary notices, a user of each role, the app on these settings."""
    now = datetime.now(UTC)  # the app's clock is the real one
    import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=now, as_of=date(2026, 11, 1))
    with storage.sessions.begin() as session:
        made = generate_notices(session, storage.organisation_id, now=now, timezone=TZ, rules=RULES)
    assert made.primary == 8
    accounts = make_accounts(settings, storage)
    for login, role in (("boss", "supervisor"), ("look", "viewer")):
        accounts.add_user(login, PASSWORD, role, now, full_name=f"Пользователь {login}")
    app_settings = settings.model_copy(
        update={"organisation": settings.organisation.model_copy(update={"timezone": TZ})}
    )
    monkeypatch.setenv(SETTINGS_ENV, app_settings.model_dump_json())
    return accounts


@pytest.fixture
def app(reports: Accounts) -> Iterator[AppTest]:
    yield AppTest.from_file(str(APP), default_timeout=30).run()


def this_month(at: AppTest) -> AppTest:
    """The period from the first of the current local month to today: the notices made above are in it."""
    today = datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()
    at.date_input(key="report_from").set_value(today.replace(day=1))
    at.date_input(key="report_to").set_value(today)
    return at


def build(at: AppTest) -> AppTest:
    next(b for b in at.button if b.label == "Сформировать").click().run()
    assert not at.exception, at.exception
    return at


def test_previous_month() -> None:
    assert previous_month(date(2026, 1, 31)) == (date(2025, 12, 1), date(2025, 12, 31))
    assert previous_month(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28))


def test_a_viewer_builds_a_report_but_cannot_download_it(app: AppTest) -> None:
    go(log_in(app, "look"), "reports")
    assert app.header[0].value == "Отчёты"
    assert app.selectbox(key="report_name").value == "notices"
    today = datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()
    assert (app.date_input(key="report_from").value, app.date_input(key="report_to").value) == previous_month(
        today
    )
    build(this_month(app))
    assert "Сформировать" in buttons(app)
    assert not app.get("download_button")
    assert "только с правом выгрузки" in texts(app)
    assert app.session_state[BUILT_KEY]["data"] is None
    table = app.dataframe[0].value
    assert list(table.columns[:2]) == ["Вид уведомления", "Создано"]
    assert list(table["Создано"]) == ["8", "0", "8"]


def test_a_supervisor_downloads_the_report(app: AppTest) -> None:
    go(log_in(app, "boss"), "reports")
    this_month(app).selectbox(key="report_format").set_value("csv").run()
    app.multiselect(key="report_districts").set_value(["Кировский"]).run()
    build(app)
    (download,) = app.get("download_button")
    assert download.proto.label == "Скачать CSV (Excel, «;»)"
    data = app.session_state[BUILT_KEY]["data"]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Отчёт по уведомлениям"]
    assert ["Отбор", "районы: Кировский"] in rows
    assert ["Итого", "2", "0", "0", "2"] in rows
    assert list(app.dataframe[0].value["Создано"]) == ["2", "0", "2"]

    app.selectbox(key="report_format").set_value("pdf").run()
    assert not app.get("download_button")  # the file shown must be of the choices shown
    build(app)
    (download,) = app.get("download_button")
    assert download.proto.label == "Скачать PDF"
    assert app.session_state[BUILT_KEY]["data"].startswith(b"%PDF")

    app.selectbox(key="report_name").set_value("contact").run()
    assert app.number_input(key="report_within").value == 14
    app.number_input(key="report_within").set_value(30).run()
    app.selectbox(key="report_format").set_value("xlsx").run()
    build(app)
    assert app.session_state[BUILT_KEY]["report"].filters == "районы: Кировский; срок оплаты: 30 дн."
    assert app.session_state[BUILT_KEY]["data"][:2] == b"PK"
