"""«Уведомления» and «Монтажные работы» through streamlit.testing's AppTest, on both backends: who sees and
may do what, and that what the pages do reaches the database through debtors/notices.py, couriers.py and
crew_jobs.py (the 20-day clock included)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas
import pyarrow.ipc
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from access.accounts import Accounts
from dashboard.launch import APP, SETTINGS_ENV
from db.models import Courier, CrewJob, Debtor, Notice
from debtors.couriers import add_courier, courier_by_token
from debtors.field_reports import DeliveryReport, Position
from debtors.field_rules import DeliveryMethod, NoticeRules
from debtors.notices import assign_notices, generate_notices, record_delivery, record_positions
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage, make_accounts
from dialer.settings import Settings
from tests.integration.test_dashboard_app import PASSWORD, buttons, go, log_in, texts

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
TZ = "Europe/Moscow"
ZONE = ZoneInfo(TZ)
# The app's rules (settings below) and the tests' own: 8 of the sample's 11 debtors get a primary notice
# (months >= 3, debt >= 5000): 100001, 100002, 100007, 100009 in Ленинский, 100004, 100008 in Кировский,
# 100005, 100010 in Октябрьский.
RULES = NoticeRules(primary_min_months=3, primary_min_debt=Decimal("5000"), secondary_after_days=1)
ACTIONS = {
    "Сформировать уведомления",
    "Передать курьеру",
    "Подготовить PDF",
    "Добавить курьера",
    "Выдать новую ссылку",
    "Отключить курьера",
}
CREW_ACTIONS = {"Запланировать", "Сохранить", "Добавить бригаду"}


@pytest.fixture
def field(settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Accounts:
    """The sample registry, a user of each role, and the app reading these settings (stricter notice rules
    than the defaults, so the counts are the ones named above)."""
    import_debtors(
        storage.sessions, storage.organisation_id, SAMPLE, now=datetime.now(UTC), as_of=date(2026, 11, 1)
    )
    accounts = make_accounts(settings, storage)
    now = datetime.now(UTC)
    for login, role in (("boss", "supervisor"), ("oper", "operator"), ("look", "viewer")):
        accounts.add_user(login, PASSWORD, role, now, full_name=f"Пользователь {login}")
    notices = settings.notices.model_copy(
        update={"primary_min_months": 3, "primary_min_debt": Decimal("5000")}
    )
    app_settings = settings.model_copy(
        update={"notices": notices, "organisation": settings.organisation.model_copy(update={"timezone": TZ})}
    )
    monkeypatch.setenv(SETTINGS_ENV, app_settings.model_dump_json())
    return accounts


@pytest.fixture
def app(field: Accounts) -> Iterator[AppTest]:
    yield AppTest.from_file(str(APP), default_timeout=30).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, column: str) -> list[dict[str, Any]]:
    """The rows of the first table that has this column."""
    frame = next(d.value for d in at.dataframe if column in d.value.columns)
    rows: list[dict[str, Any]] = frame.to_dict("records")
    return rows


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def chart_rows(chart: Any) -> list[dict[str, Any]]:
    """Every row of a Vega-Lite chart's data: Streamlit sends the datasets as Arrow IPC streams."""
    rows: list[dict[str, Any]] = []
    for named in chart.datasets:
        rows += pyarrow.ipc.open_stream(named.data.data).read_all().to_pylist()
    return rows


def make_notices(storage: Storage, now: datetime) -> int:
    """The primary notices and a courier «Анна» (not assigned); returns the courier's id."""
    with storage.sessions.begin() as session:
        assert (
            generate_notices(session, storage.organisation_id, now=now, timezone=TZ, rules=RULES).total == 8
        )
        courier, _token = add_courier(session, storage.organisation_id, "Анна", now=now)
        return courier.id


def notice_of(storage: Storage, account: str, kind: str) -> int:
    with storage.sessions() as session:
        found = session.scalar(
            select(Notice.id)
            .join(Debtor, Debtor.id == Notice.debtor_id)
            .where(Debtor.account == account, Notice.kind == kind)
        )
    assert found is not None
    return found


def deliver(storage: Storage, courier_id: int, notice_id: int, at: datetime, **position: float) -> None:
    where = Position(at, position["lat"], position["lon"], 6.0) if position else None
    with storage.sessions.begin() as session:
        record_delivery(
            session,
            storage.organisation_id,
            courier_id,
            notice_id,
            DeliveryReport(f"c-{notice_id}-{at:%j%H%M%S}", DeliveryMethod.MAILBOX, 2, at, where),
            now=at,
            rules=RULES,
        )


def test_nobody_logged_in_sees_nothing_of_the_field_pages(app: AppTest, storage: Storage) -> None:
    make_notices(storage, datetime.now(UTC))
    app.run()
    assert not app.exception
    assert [t.value for t in app.title] == ["УправДолг — вход"]
    assert len(app.sidebar.radio) == 0 and len(app.metric) == 0 and len(app.dataframe) == 0
    assert buttons(app) == {"Войти"}
    assert "Уведомления" not in texts(app) and "Монтажные" not in texts(app) and "Анна" not in texts(app)


def test_viewers_see_the_figures_but_no_actions(app: AppTest, storage: Storage) -> None:
    courier_id = make_notices(storage, datetime.now(UTC))
    with storage.sessions.begin() as session:
        assign_notices(
            session, storage.organisation_id, courier_id, districts=["Ленинский"], now=datetime.now(UTC)
        )
    log_in(app, "look")
    go(app, "notices")
    assert app.header[0].value == "Уведомления"
    figures = metrics(app)
    assert (figures["Не выдано курьеру"], figures["У курьера"], figures["Вручено"]) == ("4", "4", "0")
    assert table(app, "Вид")[0] == {
        "Вид": "первичное",
        "не выдано курьеру": 4,
        "у курьера": 4,
        "вручено": 0,
        "отменено": 0,
        "Всего": 8,
    }
    assert table(app, "Курьер") == [{"Курьер": "Анна", "На руках": 4, "Вручено": 0, "Визитов": 0}]
    assert not ACTIONS & buttons(app)
    assert not app.get("download_button") and len(app.code) == 0
    go(app, "crews")
    assert app.header[0].value == "Монтажные работы"
    assert metrics(app)["Запланировано работ"] == "0"
    assert not CREW_ACTIONS & buttons(app)


def test_operators_generate_and_assign_notices(app: AppTest, storage: Storage) -> None:
    with storage.sessions.begin() as session:
        add_courier(session, storage.organisation_id, "Анна", now=datetime.now(UTC))
    log_in(app, "oper")
    go(app, "notices")
    assert metrics(app)["Не выдано курьеру"] == "0"
    assert "Уведомлений пока нет." in texts(app)
    assert {"Подготовить PDF", "Добавить курьера"}.isdisjoint(buttons(app)), (
        "export and couriers: supervisors"
    )
    click(app, "Сформировать уведомления")
    assert "Создано уведомлений: первичных 8, повторных 0." in texts(app)
    assert metrics(app)["Не выдано курьеру"] == "8"
    click(app, "Сформировать уведомления")
    assert "Новых уведомлений нет" in texts(app) and metrics(app)["Не выдано курьеру"] == "8"

    app.multiselect(key="assign_districts").set_value(["Ленинский"]).run()
    click(app, "Передать курьеру")
    assert "Курьеру Анна передано 4 уведомления." in texts(app)
    figures = metrics(app)
    assert (figures["Не выдано курьеру"], figures["У курьера"]) == ("4", "4")
    assert table(app, "Курьер") == [{"Курьер": "Анна", "На руках": 4, "Вручено": 0, "Визитов": 0}]

    # a house narrows its district: пр. Мира, 9 of Кировский holds one of its two notices
    app.multiselect(key="assign_districts").set_value(["Кировский"]).run()
    houses = app.multiselect(key="assign_buildings")
    mira_9 = next(b for b in houses.options if "пр. Мира, д. 9" in b)
    houses.select(mira_9).run()
    click(app, "Передать курьеру")
    assert "Курьеру Анна передано 1 уведомление." in texts(app)
    assert metrics(app)["У курьера"] == "5"
    with storage.sessions() as session:
        held = session.scalars(
            select(Debtor.account)
            .join(Notice, Notice.debtor_id == Debtor.id)
            .where(Notice.state == "assigned")
            .order_by(Debtor.account)
        ).all()
    assert held == ["100001", "100002", "100007", "100008", "100009"]


def test_supervisors_add_couriers_see_the_link_once_and_print(app: AppTest, storage: Storage) -> None:
    log_in(app, "boss")
    go(app, "notices")
    fields = {t.label: t for t in app.text_input}
    fields["Имя курьера"].input("Борис  Иванов")
    fields["Телефон курьера"].input("+79120000099")
    click(app, "Добавить курьера")
    [code] = app.code
    link = code.value
    assert link.startswith("http://127.0.0.1:8080/courier/")
    assert "показывается только один раз" in texts(app)
    with storage.sessions() as session:
        courier = courier_by_token(session, link.rsplit("/", 1)[1])
        assert courier is not None and (courier.name, courier.phone) == ("Борис Иванов", "+79120000099")
    assert table(app, "Состояние") == [
        {"Курьер": "Борис Иванов", "Телефон": "+79120000099", "Состояние": "активен"}
    ]
    app.run()
    assert len(app.code) == 0, "the link is shown once"

    click(app, "Выдать новую ссылку")
    [code] = app.code
    assert code.value != link
    with storage.sessions() as session:
        assert courier_by_token(session, link.rsplit("/", 1)[1]) is None
        assert courier_by_token(session, code.value.rsplit("/", 1)[1]) is not None

    # printing: the courier's notices and route sheet, built on click, marked printed
    click(app, "Сформировать уведомления")
    app.multiselect(key="assign_districts").set_value(["Ленинский"]).run()
    click(app, "Передать курьеру")
    with storage.sessions() as session:
        courier_id = session.scalars(select(Courier.id)).one()
    app.selectbox(key="print_scope").set_value(courier_id).run()
    click(app, "Подготовить PDF")
    downloads = {d.proto.label for d in app.get("download_button")}
    assert downloads == {"Скачать уведомления (4 шт.)", "Скачать маршрутный лист"}
    with storage.sessions() as session:
        printed = session.scalar(
            select(func.count()).select_from(Notice).where(Notice.printed_at.is_not(None))
        )
    assert printed == 4

    click(app, "Отключить курьера")
    assert "Курьер Борис Иванов отключён" in texts(app)
    assert table(app, "Состояние")[0]["Состояние"] == "отключён"
    with storage.sessions() as session:
        assert session.scalars(select(Courier.disabled_at)).one() is not None


def test_a_delivery_shows_on_the_map_and_in_the_days_table(app: AppTest, storage: Storage) -> None:
    now = datetime.now(UTC)
    courier_id = make_notices(storage, now - timedelta(hours=3))
    with storage.sessions.begin() as session:
        assign_notices(session, storage.organisation_id, courier_id, districts=["Ленинский"], now=now)
    at = now - timedelta(hours=1)
    with storage.sessions.begin() as session:
        record_positions(
            session,
            storage.organisation_id,
            courier_id,
            [
                Position(at - timedelta(minutes=m), 56.8380 + m * 0.0002, 60.6050 + m * 0.0003, 10.0)
                for m in (4, 2)
            ],
            now=at,
        )
    notice_id = notice_of(storage, "100001", "primary")
    deliver(storage, courier_id, notice_id, at, lat=56.8389, lon=60.6057)
    deliver(storage, courier_id, notice_of(storage, "100002", "primary"), at + timedelta(minutes=5))

    log_in(app, "look")
    go(app, "notices")
    app.date_input(key="track_day").set_value(at.astimezone(ZONE).date()).run()
    assert not app.exception, app.exception
    [chart] = app.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    points = chart_rows(chart.proto)
    stop = next(p for p in points if p.get("account") == "100001")
    assert (stop["lat"], stop["lon"], stop["method"], stop["tries"]) == (
        56.8389,
        60.6057,
        "в почтовый ящик",
        2,
    )
    assert stop["time"] == f"{at.astimezone(ZONE):%H:%M:%S}"
    track = sorted((p for p in points if "seq" in p), key=lambda p: p["seq"])
    # time order: the position 4 minutes before the report, then 2 minutes, then the report's own
    assert [(p["lat"], p["lon"]) for p in track] == [
        pytest.approx((56.8388, 60.6062)),
        pytest.approx((56.8384, 60.6056)),
        (56.8389, 60.6057),
    ]
    assert not any(p.get("account") == "100002" for p in points), "a report without a position is not drawn"
    x_domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
    y_domain = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    lons, lats = [p["lon"] for p in track], [p["lat"] for p in track]
    assert x_domain[0] < min(lons) and max(lons) < x_domain[1]
    assert y_domain[0] < min(lats) and max(lats) < y_domain[1]
    # one scale in metres on both axes: a degree of longitude is cos(latitude) of a degree of latitude
    width, height = spec["width"], spec["height"]
    squeeze = math.cos(math.radians(sum(y_domain) / 2))
    metres_per_pixel_x = (x_domain[1] - x_domain[0]) * squeeze / width
    assert metres_per_pixel_x == pytest.approx((y_domain[1] - y_domain[0]) / height, rel=1e-6)

    rows = table(app, "На карте")
    assert [(r["Лицевой счёт"], r["Способ"], r["Попыток"]) for r in rows] == [
        ("100001", "в почтовый ящик", 2),
        ("100002", "в почтовый ящик", 2),
    ]
    assert rows[0]["На карте"] == (
        "https://www.openstreetmap.org/?mlat=56.838900&mlon=60.605700#map=18/56.838900/60.605700"
    )
    assert pandas.isna(rows[1]["На карте"]), "no position: no link"
    assert "ул. Ленина" in rows[0]["Адрес"]
    assert table(app, "Курьер") == [{"Курьер": "Анна", "На руках": 2, "Вручено": 2, "Визитов": 2}]
    assert metrics(app)["Вручено"] == "2"

    app.date_input(key="track_day").set_value(at.astimezone(ZONE).date() - timedelta(days=1)).run()
    assert not app.get("vega_lite_chart") and "не присылал координат" in texts(app)


def _two_delivered(storage: Storage, now: datetime) -> None:
    """100009: both notices delivered long ago (the clock allows a plug now); 100001: the second delivered
    5 days ago (allowed in 15 days)."""
    courier_id = make_notices(storage, now - timedelta(days=41))
    org = storage.organisation_id
    with storage.sessions.begin() as session:
        assign_notices(session, org, courier_id, districts=["Ленинский"], now=now - timedelta(days=41))
    deliver(storage, courier_id, notice_of(storage, "100009", "primary"), now - timedelta(days=40))
    deliver(storage, courier_id, notice_of(storage, "100001", "primary"), now - timedelta(days=30))
    with storage.sessions.begin() as session:
        made = generate_notices(session, org, now=now - timedelta(days=24), timezone=TZ, rules=RULES)
        assert (made.primary, made.secondary) == (0, 2)
        assign_notices(session, org, courier_id, districts=["Ленинский"], now=now - timedelta(days=24))
    deliver(storage, courier_id, notice_of(storage, "100009", "secondary"), now - timedelta(days=23))
    deliver(storage, courier_id, notice_of(storage, "100001", "secondary"), now - timedelta(days=5))


def test_crews_plan_only_when_the_clock_allows_and_report_installs(app: AppTest, storage: Storage) -> None:
    now = datetime.now(UTC)
    _two_delivered(storage, now)
    today = now.astimezone(ZONE).date()
    later = (now - timedelta(days=5)).astimezone(ZONE).date() + timedelta(days=20)
    log_in(app, "oper")
    go(app, "crews")
    assert "Бригад пока нет." in texts(app)
    next(t for t in app.text_input if t.label == "Название бригады").input("Бригада 1")
    click(app, "Добавить бригаду")
    assert "Бригада «Бригада 1» добавлена." in texts(app)

    candidates = table(app, "Когда")
    assert [(c["Лицевой счёт"], c["Когда"]) for c in candidates] == [
        ("100009", "можно сейчас"),
        ("100001", f"можно с {later:%d.%m.%Y} (через 15 дн.)"),
    ]
    assert f"ограничение возможно с {later:%d.%m.%Y}" in candidates[1]["Основание"]
    before = metrics(app)
    assert (before["Установлено за период"], before["Стоит сейчас"], before["Запланировано работ"]) == (
        "0",
        "0",
        "0",
    )

    app.selectbox(key="plan_account").set_value("100001").run()
    app.selectbox(key="plan_crew").set_value("Бригада 1").run()
    planned_day = app.date_input(key="plan_day_100001")
    assert planned_day.value == later, "the default is the first day the rules allow"
    planned_day.set_value(later - timedelta(days=1)).run()
    click(app, "Запланировать")
    [error] = app.error
    assert error.value.startswith("Работа не запланирована")
    assert f"{later - timedelta(days=1):%d.%m.%Y}" in error.value
    assert f"ограничение возможно с {later:%d.%m.%Y}" in error.value
    with storage.sessions() as session:
        assert session.scalar(select(func.count()).select_from(CrewJob)) == 0

    app.date_input(key="plan_day_100001").set_value(later).run()
    click(app, "Запланировать")
    assert f"запланирована на {later:%d.%m.%Y}: л/с 100001, Бригада 1" in texts(app)
    assert [c["Лицевой счёт"] for c in table(app, "Когда")] == ["100009"]
    board = table(app, "Работа")
    assert [(j["Работа"], j["Лицевой счёт"], j["Бригада"], j["План"]) for j in board] == [
        ("установка заглушки", "100001", "Бригада 1", f"{later:%d.%m.%Y}")
    ]
    assert [t.label for t in app.tabs][:2] == ["запланировано (1)", "установлена (0)"]

    # the crew cannot report a plug before the clock allows it either
    with storage.sessions() as session:
        early_job = session.scalars(select(CrewJob.id)).one()
    app.selectbox(key="job_pick").set_value(early_job).run()
    app.selectbox(key=f"job_status_{early_job}").set_value("installed").run()
    click(app, "Сохранить")
    assert "Не сохранено" in app.error[0].value and f"{today:%d.%m.%Y}" in app.error[0].value

    app.selectbox(key="plan_account").set_value("100009").run()
    assert app.date_input(key="plan_day_100009").value == today
    click(app, "Запланировать")
    with storage.sessions() as session:
        job_id = session.scalars(
            select(CrewJob.id).join(Debtor, Debtor.id == CrewJob.debtor_id).where(Debtor.account == "100009")
        ).one()
    assert metrics(app)["Запланировано работ"] == "2"
    app.selectbox(key="job_pick").set_value(job_id).run()
    app.selectbox(key=f"job_status_{job_id}").set_value("installed").run()
    next(t for t in app.text_input if t.label == "Примечание бригады").input("опломбировано")
    click(app, "Сохранить")
    assert f"Работа №{job_id}: установлена ({today:%d.%m.%Y})." in texts(app)
    after = metrics(app)
    assert (after["Установлено за период"], after["Стоит сейчас"], after["Запланировано работ"]) == (
        "1",
        "1",
        "1",
    )
    assert [t.label for t in app.tabs][:2] == ["запланировано (1)", "установлена (1)"]
    installed = next(
        d.value
        for d in app.dataframe
        if "Установлена" in d.value.columns and "100009" in list(d.value["Лицевой счёт"])
    )
    assert (
        list(installed["Установлена"]) == [f"{today:%d.%m.%Y}"]
        and "опломбировано" in installed["Примечание"][0]
    )
    with storage.sessions() as session:
        job = session.get(CrewJob, job_id)
        assert job is not None and (job.status, job.installed_on, job.actor) == ("installed", today, "oper")
