"""The supervisors' dashboard end to end, in Debian's headless Chromium.

Real processes throughout: the CLI sets up a fresh SQLite database (the sample registry, a supervisor, a
campaign over the simulated trunk), `upravdolg run` calls the simulated debtors through the sandbox
Asterisk, and `upravdolg dashboard` serves the pages the browser drives. What the pages show is compared
with the database; that the engine obeyed «Пауза» is read from the engine's own call attempts.
Streamlit's tables are drawn on a canvas, so rows are read from the text around them (the totals line,
the debtor card's account picker, which lists the rows of the page above).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import func, or_, select

from db.models import CallAttempt, Campaign, CampaignDebtor, Debtor
from dialer.bootstrap import Storage
from dialer.sandbox import Sandbox
from dialer.settings import Settings
from tests.browser.conftest import (
    PASSWORD,
    SUPERVISOR,
    Shots,
    end_process,
    environment,
    log_tail,
    start_process,
    upravdolg,
)

CAMPAIGN = "Браузерный тест"
DISTRICT = "Кировский"  # 3 debtors in the sample (a 4th row of the district is rejected for its amount)
LIVE = ("dialling", "up")
# One line, one call every 2 s at most: the simulated debtors 0-3 listen to the whole short message
# (~14 s a call), so the ten debtors keep the campaign busy for well over a minute.
CAMPAIGN_TOML = f"""\
name = "{CAMPAIGN}"
trunk = "sim"
max_channels = 1
calls_per_second = 0.5
dial_timeout = "5s"
[window]
weekdays = "00:00-24:00"
weekends = "00:00-24:00"
[retry]
busy = []
no_answer = []
congestion = []
partial = []
"""
PAUSE_REACTION = timedelta(seconds=1)  # engine.poll_interval is 0.5 s


# ------------------------------------------------------------------------------------ Streamlit helpers


def app_idle(page: Page) -> None:
    """Wait until no script run is in progress (Streamlit marks it on the app's root element). Call it once
    the expected content is visible: right after a click the new run may not have begun yet."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for()


def open_list(page: Page, label: str) -> Locator:
    """Open the option list of the selectbox or multiselect with this label; returns its options.

    Opened from the keyboard and retried: seen with Streamlit 1.67 in this Chromium, a click on a combobox
    low on the page never opens its list, and right after a rerun an ArrowDown is sometimes ignored."""
    box = page.get_by_label(label, exact=True)
    options = page.get_by_role("option")
    for _ in range(10):
        box.focus()
        page.keyboard.press("ArrowDown")
        try:
            expect(options.first).to_be_visible(timeout=1000)
        except AssertionError:
            continue
        return options
    raise AssertionError(f"the option list of «{label}» did not open")


def option_texts(page: Page, label: str, count: int) -> list[str]:
    """The texts of a selectbox's options, read while its list is open. Seen in this Chromium: a list
    opened right after the previous widget's rerun may close again at once, so it is opened until the
    ``count`` options are read in one go."""
    for _ in range(5):
        options = open_list(page, label)
        texts = options.all_inner_texts()
        if len(texts) == count:
            page.keyboard.press("Escape")
            return texts
        page.keyboard.press("Escape")
        app_idle(page)
    raise AssertionError(f"the list of «{label}» did not stay open with {count} options")


def choose(page: Page, label: str, option: str) -> None:
    open_list(page, label)
    page.get_by_role("option", name=option, exact=True).click()


def log_in(page: Page, login: str, password: str) -> None:
    page.get_by_label("Логин", exact=True).fill(login)
    page.get_by_label("Пароль", exact=True).fill(password)
    page.get_by_role("button", name="Войти").click()


def sections(page: Page) -> Locator:
    """The sidebar radio «Раздел» (only a logged-in user has it)."""
    return page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Раздел")


def open_section(page: Page, title: str) -> None:
    sections(page).get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
    app_idle(page)


def markdown(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stMarkdownContainer").filter(has_text=text)


def metric(page: Page, label: str) -> int:
    """The value of the st.metric with this label (the live counters of «Обзвон»)."""
    label_element = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    value = page.get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")
    return int(value.inner_text())


def wait_until(predicate: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:g} s waiting for {what}")
        time.sleep(0.2)


# ------------------------------------------------------------------------------------ the database's view


def as_utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def district_debtors(storage: Storage, district: str) -> dict[str, str]:
    with storage.sessions() as session:
        rows = session.execute(
            select(Debtor.account, Debtor.full_name).where(
                Debtor.organisation_id == storage.organisation_id, Debtor.district == district
            )
        )
        return {account: full_name for account, full_name in rows}


def campaign_row(storage: Storage) -> Campaign:
    with storage.sessions() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.name == CAMPAIGN)).one()
        session.expunge(campaign)
        return campaign


def attempts(storage: Storage, campaign_id: int) -> list[CallAttempt]:
    with storage.sessions() as session:
        return list(
            session.scalars(
                select(CallAttempt)
                .where(CallAttempt.campaign_id == campaign_id)
                .order_by(CallAttempt.started_at)
            )
        )


def due_now(storage: Storage, campaign_id: int) -> int:
    """Debtors of the campaign the engine would call right now if it were running (not those resting after
    hearing the whole message, who are `due` days later)."""
    now = datetime.now(UTC)
    with storage.sessions() as session:
        due = select(func.count()).where(
            CampaignDebtor.campaign_id == campaign_id,
            CampaignDebtor.state == "due",
            or_(CampaignDebtor.next_attempt_at.is_(None), CampaignDebtor.next_attempt_at <= now),
        )
        return session.scalar(due) or 0


# ------------------------------------------------------------------------------------ the tests


@pytest.mark.browser
@pytest.mark.asterisk
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_supervisor_filters_debtors_and_pauses_a_running_campaign(
    sandbox: Sandbox,
    registry: Settings,
    storage: Storage,
    dashboard: str,
    *,
    page: Page,
    shots: Shots,
    tmp_path: Path,
) -> None:
    # 1. The campaign over the simulated trunk, started, and the engine calling it.
    (tmp_path / "campaign.toml").write_text(CAMPAIGN_TOML, encoding="utf-8")
    assert "created" in upravdolg(registry, tmp_path, "campaign", "apply", str(tmp_path / "campaign.toml"))
    assert "stopped → running" in upravdolg(registry, tmp_path, "campaign", "start", CAMPAIGN)
    engine_log = tmp_path / "engine.log"
    engine = start_process(
        [sys.executable, "-m", "dialer", "run"], environment(registry), tmp_path, engine_log
    )
    try:
        campaign_id = campaign_row(storage).id

        # 2. The login form; a wrong password is refused; the supervisor logs in.
        page.goto(dashboard)
        expect(page.get_by_role("button", name="Войти")).to_be_visible()
        app_idle(page)
        shots(page, "login-form")
        log_in(page, SUPERVISOR, "not-the-password")
        expect(page.get_by_text("Неверный логин или пароль.", exact=True)).to_be_visible()
        expect(sections(page)).to_have_count(0)
        shots(page, "wrong-password")
        log_in(page, SUPERVISOR, PASSWORD)
        expect(sections(page)).to_be_visible()
        expect(markdown(page, "Найдено должников:")).to_contain_text("Найдено должников: 10,")
        app_idle(page)
        shots(page, "logged-in")

        # 3. «Должники» filtered by a district: the totals and the rows are that district's debtors only.
        expected = district_debtors(storage, DISTRICT)
        assert 0 < len(expected) < 10, expected
        choose(page, "Район", DISTRICT)
        page.keyboard.press("Escape")  # a multiselect keeps its list open
        expect(markdown(page, "Найдено должников:")).to_contain_text(f"Найдено должников: {len(expected)},")
        app_idle(page)
        shots(page, "district-filter")
        listed = option_texts(page, "Лицевой счёт (со страницы выше)", len(expected))
        assert sorted(listed) == sorted(f"{a} — {n}" for a, n in expected.items())
        account = min(expected)
        choose(page, "Лицевой счёт (со страницы выше)", f"{account} — {expected[account]}")
        header = f"{expected[account]} — л/с {account}"
        expect(page.get_by_role("heading", level=3, name=header)).to_be_visible()
        calls_tab = page.get_by_role("tab", name="Звонки")
        expect(calls_tab).to_be_visible()
        calls_tab.click()
        expect(calls_tab).to_have_attribute("aria-selected", "true")
        app_idle(page)
        shots(page, "debtor-card")

        # 4. «Обзвон»: the campaign runs and its counters grow by themselves (the live fragment).
        open_section(page, "Обзвон")
        choose(page, "Кампания", CAMPAIGN)
        live_line = markdown(page, "транк sim")
        expect(live_line).to_have_text(re.compile(r"^идёт — .* · линий до 1, 0\.5 выз\./с, транк sim$"))
        expect(page.get_by_test_id("stMetricLabel").get_by_text("Набрано", exact=True)).to_be_visible()
        app_idle(page)
        placed_first = metric(page, "Набрано")
        shots(page, "calling-running")
        wait_until(
            lambda: metric(page, "Набрано") > max(placed_first, 0),
            40,
            f"«Набрано» to grow past {placed_first} without a click",
        )
        shots(page, "counters-grew")

        page.get_by_role("button", name="Пауза").click()
        expect(page.get_by_text(f"«{CAMPAIGN}»: пауза", exact=True)).to_be_visible()
        expect(live_line).to_have_text(re.compile(r"^пауза — кампания на паузе · "))
        app_idle(page)
        shots(page, "paused")
        paused = campaign_row(storage)
        assert paused.state == "paused"
        paused_at = as_utc(paused.updated_at)
        assert datetime.now(UTC) - paused_at < timedelta(seconds=30), "the pause is the one just clicked"

        # The engine's side: it says so itself, lets the call in progress end, and places nothing new.
        wait_until(
            lambda: campaign_row(storage).state_reason == "кампания на паузе",
            40,
            f"the engine to acknowledge the pause (its log: {engine_log})",
        )
        wait_until(
            lambda: not any(a.state in LIVE for a in attempts(storage, campaign_id)),
            40,
            "the call in progress at the pause to end",
        )
        # Unpaused, the engine would take the freed line at once (the rate allows a call every 2 s): watch
        # for three more seconds that no call is placed.
        watch_until = time.monotonic() + 3.0
        while time.monotonic() < watch_until:
            late = [
                (a.number, a.started_at)
                for a in attempts(storage, campaign_id)
                if as_utc(a.started_at) > paused_at + PAUSE_REACTION
            ]
            assert late == [], f"calls placed more than {PAUSE_REACTION} after the pause at {paused_at}"
            time.sleep(0.2)
        made = attempts(storage, campaign_id)
        assert made and all(a.state in {"ended", "not_placed"} for a in made), [
            (a.number, a.state) for a in made
        ]
        assert due_now(storage, campaign_id) > 0, "debtors were still due: the pause is what held them back"
        placed = sum(1 for a in made if a.state != "not_placed")
        expect(live_line).to_have_text(re.compile(r"^пауза — кампания на паузе · "))
        wait_until(
            lambda: metric(page, "Набрано") == placed and metric(page, "На линии") == 0,
            15,
            f"the page to show {placed} placed and none on the line",
        )
        shots(page, "paused-calls-ended")
    finally:
        engine_code = end_process(engine)
    assert engine_code == 0, f"the engine exited {engine_code} on SIGTERM:\n{log_tail(engine_log)}"
    assert "Traceback" not in engine_log.read_text(errors="replace"), log_tail(engine_log, 80)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_nothing_but_the_login_form_before_login_and_after_logout(
    dashboard: str, page: Page, shots: Shots
) -> None:
    def login_form_only() -> None:
        expect(page.get_by_role("button", name="Войти")).to_be_visible()
        app_idle(page)
        expect(page.get_by_label("Логин", exact=True)).to_be_visible()
        expect(page.get_by_label("Пароль", exact=True)).to_be_visible()
        expect(sections(page)).to_have_count(0)
        expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
        expect(page.get_by_text("Найдено должников")).to_have_count(0)
        expect(page.get_by_role("button", name="Выйти")).to_have_count(0)

    page.goto(f"{dashboard}/?page=debtors")
    login_form_only()
    shots(page, "direct-navigation")

    log_in(page, SUPERVISOR, PASSWORD)
    expect(sections(page)).to_be_visible()
    expect(page.get_by_test_id("stDataFrame")).to_have_count(1)
    app_idle(page)
    shots(page, "logged-in")

    page.get_by_test_id("stSidebar").get_by_role("button", name="Выйти").click()
    login_form_only()
    shots(page, "logged-out")

    page.reload()  # a new Streamlit session of the same tab: still logged out
    login_form_only()
    shots(page, "reloaded")
