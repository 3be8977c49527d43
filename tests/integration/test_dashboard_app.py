"""The dashboard's pages through streamlit.testing's AppTest, for every role and for nobody logged in, on both
backends: what each role sees and may do, and that what it does reaches the database through the services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from access.accounts import Accounts
from dashboard.launch import APP, SETTINGS_ENV, streamlit_command, streamlit_environment
from db.models import Campaign, UserSession
from debtors.registry_import import import_debtors
from debtors.statuses import StatusRules
from dialer.bootstrap import Storage, make_accounts
from dialer.campaign_spec import CampaignSpec
from dialer.campaigns import apply_spec, set_state
from dialer.settings import Settings
from tests.fixtures.registry_files import write_csv

PASSWORD = "correct-horse-9"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
LIST = [
    ["ЛС", "ФИО", "Район", "Сумма долга", "Период задолженности", "Телефон"],
    ["101", "Иванов Иван", "Северный", "12 000,00", "6", "89120000001"],
    ["102", "Петрова Анна", "Южный", "3 000,00", "2", "89120000002"],
    ["103", "Сидоров Пётр", "Южный", "45 000,00", "20", "89120000003"],
]


@pytest.fixture
def dashboard(
    settings: Settings, storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Accounts:
    """A registry of three debtors, one campaign, and a user of each role; the app reads these settings."""
    import_debtors(storage.sessions, storage.organisation_id, write_csv(tmp_path / "l.csv", LIST), now=NOW,
                   as_of=date(2026, 11, 1), rules=StatusRules())  # fmt: skip
    apply_spec(storage.sessions, storage.organisation_id, CampaignSpec(name="Ноябрь", max_channels=2), NOW)
    accounts = make_accounts(settings, storage)
    for login, role in (("boss", "supervisor"), ("oper", "operator"), ("look", "viewer")):
        accounts.add_user(login, PASSWORD, role, NOW, full_name=f"Пользователь {login}")
    monkeypatch.setenv(SETTINGS_ENV, settings.model_dump_json())
    return accounts


@pytest.fixture
def app(dashboard: Accounts) -> Iterator[AppTest]:
    yield AppTest.from_file(str(APP), default_timeout=30).run()


def log_in(at: AppTest, login: str, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login_name").input(login)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "Войти").click().run()
    assert not at.exception, at.exception
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    parts += [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def buttons(at: AppTest) -> set[str]:
    return {b.label for b in at.button}


def test_nobody_logged_in_sees_only_the_login_form(app: AppTest) -> None:
    assert not app.exception
    assert [t.value for t in app.title] == ["УправДолг — вход"]
    assert len(app.sidebar.radio) == 0
    assert len(app.dataframe) == 0 and len(app.header) == 0
    assert "Иванов" not in texts(app) and "Ноябрь" not in texts(app)


def test_a_wrong_password_is_refused_and_repeated_failures_lock_the_login(
    app: AppTest, settings: Settings
) -> None:
    log_in(app, "boss", "wrong-password")
    assert [e.value for e in app.error] == ["Неверный логин или пароль."]
    assert len(app.sidebar.radio) == 0
    for _ in range(settings.dashboard.max_failed_logins - 1):
        log_in(app, "boss", "wrong-password")
    log_in(app, "boss")  # the right password, but the login is locked out now
    assert "Слишком много неудачных попыток" in app.error[0].value
    assert len(app.sidebar.radio) == 0


@pytest.mark.parametrize(
    ("login", "pages"),
    [
        ("boss", ["debtors", "calling", "statistics", "notices", "crews", "reports", "legal", "users"]),
        ("oper", ["debtors", "calling", "statistics", "notices", "crews", "reports", "legal"]),
        ("look", ["debtors", "calling", "statistics", "notices", "crews", "reports", "legal"]),
    ],
)
def test_each_role_sees_its_pages(app: AppTest, login: str, pages: list[str]) -> None:
    titles = {
        "debtors": "Должники",
        "calling": "Обзвон",
        "statistics": "Статистика",
        "notices": "Уведомления",
        "crews": "Монтажные работы",
        "reports": "Отчёты",
        "legal": "Юрист",
        "users": "Пользователи",
    }
    log_in(app, login)
    assert app.sidebar.radio(key="page").options == [titles[p] for p in pages]
    for page in pages:
        go(app, page)
        assert app.header[0].value == titles[page]


def test_debtors_page_filters_sorts_and_opens_a_card(app: AppTest) -> None:
    log_in(app, "look")
    assert "Найдено должников: **3**" in texts(app)
    table = app.dataframe[0].value
    assert list(table["Лицевой счёт"]) == ["103", "101", "102"]  # by debt, largest first
    assert table["Статус"].iloc[0] == "В работе · звонков 0 / до конца 0"
    app.multiselect(key="f_districts").set_value(["Южный"]).run()
    assert "Найдено должников: **2**" in texts(app)
    assert list(app.dataframe[0].value["Лицевой счёт"]) == ["103", "102"]
    app.selectbox(key="debtors_sort").set_value("full_name").run()
    app.toggle(key="debtors_descending").set_value(False).run()
    assert list(app.dataframe[0].value["Лицевой счёт"]) == ["102", "103"]
    app.number_input(key="f_debt_min").set_value(10_000.0).run()
    assert list(app.dataframe[0].value["Лицевой счёт"]) == ["103"]
    app.selectbox(key="card_account").set_value("103").run()
    assert not app.exception
    assert "### Сидоров Пётр — л/с 103" in texts(app)
    assert "Статус: «В работе»" in texts(app)


def test_export_is_offered_to_supervisors_only(app: AppTest) -> None:
    log_in(app, "oper")
    assert "Подготовить CSV" not in buttons(app)
    go(app, "calling")
    next(b for b in app.sidebar.button if b.label == "Выйти").click().run()
    log_in(app, "boss")
    app.button(key="export_csv").click().run()
    assert not app.exception
    assert [d.proto.label for d in app.get("download_button")] == ["Скачать CSV (3 строки)"]


def test_viewers_cannot_control_campaigns_operators_can(app: AppTest, storage: Storage) -> None:
    log_in(app, "look")
    go(app, "calling")
    assert "Ноябрь" in json.dumps(app.dataframe[0].value.to_dict(), ensure_ascii=False)
    assert not {"Запустить", "Пауза", "Остановить"} & buttons(app)
    assert "+ Новая кампания" not in [app.selectbox(key="campaign_name").format_func(o) for o in
                                      app.selectbox(key="campaign_name").options]  # fmt: skip
    next(b for b in app.sidebar.button if b.label == "Выйти").click().run()
    log_in(app, "oper")
    go(app, "calling")
    app.button(key="campaign_running").click().run()
    assert not app.exception
    assert "«Ноябрь»: идёт" in texts(app)
    with storage.sessions() as session:
        assert session.scalars(select(Campaign.state).where(Campaign.name == "Ноябрь")).one() == "running"
    app.button(key="campaign_paused").click().run()
    with storage.sessions() as session:
        assert session.scalars(select(Campaign.state).where(Campaign.name == "Ноябрь")).one() == "paused"
    assert "кампания на паузе" in texts(app)


def test_a_campaign_created_in_the_form_is_validated_like_its_toml(app: AppTest, storage: Storage) -> None:
    log_in(app, "oper")
    go(app, "calling")
    app.selectbox(key="campaign_name").set_value("__new__").run()
    form = app.get("form")[0]
    assert form is not None
    fields = {t.label: t for t in app.text_input}
    fields["Название (name)"].input("Декабрь")
    fields["Будни (weekdays)"].input("25:00-26:00")
    next(b for b in app.button if b.label == "Создать").click().run()
    assert "Кампания не сохранена" in texts(app) and "window.weekdays" in texts(app)
    with storage.sessions() as session:
        assert session.scalars(select(Campaign.name).order_by(Campaign.name)).all() == ["Ноябрь"]
    fields = {t.label: t for t in app.text_input}
    fields["Будни (weekdays)"].input("09:00-21:00")
    next(n for n in app.number_input if n.label == "Линий (max_channels)").set_value(3)
    next(b for b in app.button if b.label == "Создать").click().run()
    assert not app.exception
    with storage.sessions() as session:
        spec = CampaignSpec.from_json(
            session.scalars(select(Campaign.spec).where(Campaign.name == "Декабрь")).one()
        )
    assert (spec.max_channels, spec.window.weekdays) == (3, "09:00-21:00")
    assert app.selectbox(key="campaign_name").value == "Декабрь"


def test_a_revoked_or_expired_session_ends_at_the_next_click(app: AppTest, storage: Storage) -> None:
    log_in(app, "boss")
    assert len(app.sidebar.radio) == 1
    with storage.sessions.begin() as session:
        session.execute(update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    go_to = app.sidebar.radio(key="page")
    go_to.set_value("calling").run()
    assert "Сеанс истёк. Войдите снова." in texts(app)
    assert len(app.sidebar.radio) == 0 and [t.value for t in app.title] == ["УправДолг — вход"]


def test_logout_ends_the_session_in_the_database(app: AppTest, storage: Storage) -> None:
    log_in(app, "boss")
    next(b for b in app.sidebar.button if b.label == "Выйти").click().run()
    assert [t.value for t in app.title] == ["УправДолг — вход"]
    with storage.sessions() as session:
        assert session.scalars(select(UserSession.revoked_at)).one() is not None


def test_supervisors_add_and_disable_users(app: AppTest, dashboard: Accounts) -> None:
    log_in(app, "boss")
    go(app, "users")
    fields = {t.label: t for t in app.text_input}
    fields["Логин"].input("new.user")
    fields["ФИО"].input("Новый Сотрудник")
    fields["Пароль"].input("short")
    next(b for b in app.button if b.label == "Добавить").click().run()
    assert "Пользователь не добавлен" in texts(app)
    fields = {t.label: t for t in app.text_input}
    fields["Логин"].input("new.user")
    fields["Пароль"].input("long-enough-password")
    next(b for b in app.button if b.label == "Добавить").click().run()
    assert [u.login for u in dashboard.list_users() if u.login == "new.user"] == ["new.user"]
    next(s for s in app.selectbox if s.label == "Логин").set_value("look")
    next(b for b in app.button if b.label == "Отключить").click().run()
    assert not dashboard.get_user("look").active


def test_the_launch_command_and_environment(settings: Settings) -> None:
    command = streamlit_command(port=8600, address="0.0.0.0")
    assert command[1:5] == ["-m", "streamlit", "run", str(APP)]
    assert command[command.index("--server.port") + 1] == "8600"
    assert command[command.index("--server.headless") + 1] == "true"
    secret_settings = settings.model_copy(
        update={"ami": settings.ami.model_copy(update={"secret": "top-secret-value"})}
    )
    env = streamlit_environment(secret_settings, {"PATH": "/bin"})
    assert env["PATH"] == "/bin"
    assert "top-secret-value" not in env[SETTINGS_ENV]
    assert Settings.model_validate_json(env[SETTINGS_ENV]).database.url == settings.database.url


def test_the_campaign_page_keeps_working_when_the_campaign_is_running(app: AppTest, storage: Storage) -> None:
    set_state(storage.sessions, storage.organisation_id, "Ноябрь", "running", NOW)
    log_in(app, "look")
    go(app, "calling")
    assert "движок обзвона не запущен (upravdolg run)" in texts(app)
    labels = {m.label: m.value for m in app.metric}
    assert labels["Набрано"] == "0" and labels["На линии"] == "0"


def test_statistics_are_computed_on_request_and_read_by_everybody(app: AppTest, storage: Storage) -> None:
    log_in(app, "look")
    go(app, "statistics")
    assert "Статистика ещё не рассчитана" in texts(app)
    assert "Пересчитать сейчас" not in buttons(app)  # viewers change nothing
    next(b for b in app.sidebar.button if b.label == "Выйти").click().run()
    log_in(app, "oper")
    go(app, "statistics")
    app.button(key="statistics_refresh").click().run()
    assert not app.exception, app.exception
    assert "Данные на " in texts(app)
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Лицевых счетов"] == "3" and metrics["Должников (долг > 0)"] == "3"
    assert metrics["Общий долг"] == "60\u00a0000,00\u00a0₽"
    districts = app.dataframe[0].value
    assert list(districts["Район"]) == ["Южный", "Северный"]  # by debt: 48 000 before 12 000
    next(b for b in app.sidebar.button if b.label == "Выйти").click().run()
    log_in(app, "look")
    go(app, "statistics")
    assert "Данные на " in texts(app) and "Статистика ещё не рассчитана" not in texts(app)


def test_the_calling_page_lists_the_workers_and_trunks(
    app: AppTest, storage: Storage, settings: Settings
) -> None:
    """docs/scale-out.md: the supervisors see which workers dial and what the trunks carry."""
    from dialer.bootstrap import make_campaign_store
    from dialer.topology import AsteriskServer, TrunkConfig
    from dialer.worker_store import WorkerStore

    log_in(app, "look")
    go(app, "calling")
    assert not [e for e in app.expander if e.label.startswith("Обработчики")], "no worker ran yet"
    now = datetime.now(UTC)
    lease = timedelta(seconds=settings.engine.worker_lease)
    WorkerStore(storage.sessions, "dialer-1", lease=lease).register(["ast1"], now)
    gone = WorkerStore(storage.sessions, "dialer-2", lease=lease)
    gone.single_writer = False
    gone.register(["ast1"], now - timedelta(minutes=5))
    configured = settings.model_copy(
        update={
            "asterisk": (AsteriskServer(name="ast1"),),
            "trunks": (TrunkConfig(name="city-a", server="ast1", endpoint="prov", max_channels=30),),
        }
    )
    make_campaign_store(configured, storage).sync_trunks(now)
    go(app, "debtors")
    go(app, "calling")
    (expander,) = [e for e in app.expander if e.label.startswith("Обработчики")]
    assert expander.label == "Обработчики: на связи 1 из 2; линии"
    workers = next(d.value for d in app.dataframe if "Обработчик" in d.value.columns)
    assert list(workers["Состояние"]) == ["работает", "не отвечает"]
    trunks = next(d.value for d in app.dataframe if "Линия" in d.value.columns)
    assert (trunks["Линия"].iloc[0], trunks["Каналов"].iloc[0], trunks["На линии"].iloc[0]) == (
        "city-a",
        "30",
        0,
    )
