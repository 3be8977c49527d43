"""The courier's phone page in Debian's headless Chromium, emulating a phone with a location: a real
`upravdolg api` process over a fresh SQLite database prepared with the CLI (the sample registry, notices
generated, a courier holding the «Ленинский» district's). The courier marks one notice handed over, then
reports a visit while offline and sees it sent, once, when the network is back."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from db.models import CourierPosition, Notice, NoticeDelivery
from dialer.bootstrap import Storage
from dialer.settings import Settings
from tests.browser.conftest import (
    PASSWORD,
    SUPERVISOR,
    UI_TIMEOUT_MS,
    Shots,
    end_process,
    environment,
    free_port,
    log_tail,
    start_process,
    upravdolg,
    wait_serving,
)
from tests.browser.test_dashboard import app_idle, log_in, metric, open_section

COURIER = "Анна Петрова"
HERE = {"latitude": 56.8389, "longitude": 60.6057}  # Екатеринбург, пл. 1905 года
MOVED = {"latitude": 56.8402, "longitude": 60.6121}
POSITION_EVERY_SECONDS = 5  # the shortest api.position_every_seconds allowed
PHONE_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)


@dataclass(frozen=True)
class CourierApi:
    url: str  # http://127.0.0.1:PORT
    token: str
    log: Path

    @property
    def link(self) -> str:
        return f"{self.url}/courier/{self.token}"


@pytest.fixture
def courier_api(registry: Settings, tmp_path: Path) -> Iterator[CourierApi]:
    """Notices generated and assigned with the CLI, and `upravdolg api --port N` serving them."""
    assert "notices created: 10 primary" in upravdolg(registry, tmp_path, "notices", "generate")
    added = upravdolg(registry, tmp_path, "couriers", "add", COURIER, "--phone", "+79120000000")
    token = added.strip().splitlines()[-1].rsplit("/courier/", 1)[1]
    assigned = upravdolg(
        registry, tmp_path, "notices", "assign", "--courier", COURIER, "--district", "Ленинский"
    )
    assert f"4 notice(s) assigned to {COURIER}" in assigned, assigned
    port = free_port()
    log = tmp_path / "api.log"
    process = start_process(
        [sys.executable, "-m", "dialer", "api", "--port", str(port)],
        {**environment(registry), "UPRAVDOLG_API_POSITION_EVERY_SECONDS": str(POSITION_EVERY_SECONDS)},
        tmp_path,
        log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_serving(process, f"{url}/api/v1/health", log, "the API", 30)
        yield CourierApi(url, token, log)
    finally:
        code = end_process(process)
    text = log.read_text(errors="replace")
    assert code == 0, log_tail(log, 80)
    assert f"api: {url}/api/v1/ (couriers: /courier/<token>)" in text
    assert "Traceback" not in text, log_tail(log, 80)
    assert token not in text, "the courier's token was logged"


@pytest.fixture
def phone(
    chromium: Browser, shots: Shots, request: pytest.FixtureRequest
) -> Iterator[tuple[BrowserContext, Page]]:
    """A phone-sized, touch, mobile browser context that may read a location (the one given here)."""
    context = chromium.new_context(
        viewport={"width": 412, "height": 915},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_AGENT,
        locale="ru-RU",
        timezone_id="Europe/Moscow",
        geolocation={**HERE, "accuracy": 15},
        permissions=["geolocation"],
    )
    context.set_default_timeout(UI_TIMEOUT_MS)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield context, tab
    failed = getattr(request.node, "report_call", None)
    if failed is not None and failed.failed:
        shots(tab, "failure")
    context.close()
    assert errors == [], f"script errors on the page: {errors}"


def wait_until(check: Callable[[], Any], what: str, limit: float = UI_TIMEOUT_MS / 1000) -> Any:
    deadline = time.monotonic() + limit
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def deliveries_of(storage: Storage, notice_id: int) -> list[NoticeDelivery]:
    with storage.sessions() as session:
        return list(session.scalars(select(NoticeDelivery).where(NoticeDelivery.notice_id == notice_id)))


def positions(storage: Storage) -> int:
    with storage.sessions() as session:
        return session.scalar(select(func.count()).select_from(CourierPosition)) or 0


def located(storage: Storage, where: dict[str, float]) -> bool:
    with storage.sessions() as session:
        found = session.scalar(
            select(func.count())
            .select_from(CourierPosition)
            .where(
                CourierPosition.latitude == where["latitude"],
                CourierPosition.longitude == where["longitude"],
            )
        )
        return bool(found)


def notice(storage: Storage, notice_id: int) -> Notice:
    with storage.sessions() as session:
        row = session.get(Notice, notice_id)
        assert row is not None
        return row


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_courier_reports_deliveries_online_and_offline(
    courier_api: CourierApi,
    storage: Storage,
    dashboard: str,
    *,
    phone: tuple[BrowserContext, Page],
    page: Page,
    shots: Shots,
) -> None:
    phone_page = phone[1]
    _courier_day_on_the_phone(courier_api, storage, phone, shots)
    assert phone_page.locator("li.notice").count() == 4

    # 7. The supervisor sees the delivery on «Уведомления»: the counts, the courier's day on the map.
    page.goto(dashboard)
    log_in(page, SUPERVISOR, PASSWORD)
    open_section(page, "Уведомления")
    expect(page.get_by_test_id("stMetricLabel").get_by_text("Вручено", exact=True)).to_be_visible()
    assert metric(page, "Вручено") == 1 and metric(page, "У курьера") == 3
    expect(page.get_by_text("Маршрут курьера за день", exact=True)).to_be_visible()
    chart = page.get_by_test_id("stVegaLiteChart")
    expect(chart).to_have_count(1)
    expect(page.get_by_text("Линия — путь по координатам телефона", exact=False)).to_be_visible()
    expect(page.get_by_text("Отчётов о вручении за этот день нет.", exact=True)).to_have_count(0)
    chart.scroll_into_view_if_needed()
    app_idle(page)
    shots(page, "dashboard-notices")


def _courier_day_on_the_phone(
    courier_api: CourierApi, storage: Storage, phone: tuple[BrowserContext, Page], shots: Shots
) -> None:
    context, page = phone
    status = page.locator("#net-status")

    # 1. The link opens the day's list: the courier's name, today, four notices in walking order.
    page.goto(courier_api.link)
    expect(page.locator("#courier-name")).to_have_text(COURIER)
    expect(page.locator("#today")).to_contain_text("Сегодня: ")
    items = page.locator("li.notice")
    expect(items).to_have_count(4)
    addresses = items.locator("[data-test=address]").all_inner_texts()
    assert "Ленина" in addresses[0] and "Пушкина" in addresses[3], addresses
    expect(items.first).to_contain_text("первичное")
    expect(items.first.locator("[data-method]")).to_have_count(4)
    expect(status).to_have_text("Онлайн, в очереди: 0")
    expect(page.locator("#geo-status")).to_have_attribute("data-geo", "ok")
    wait_until(lambda: positions(storage) >= 1, "the phone's first position to be stored")
    shots(page, "list")

    # 2. «Лично в руки»: the notice shows delivered, and the delivery is stored with where it happened.
    first_id = int(items.nth(0).get_attribute("data-notice-id") or 0)
    first = page.locator(f"li[data-notice-id='{first_id}']")
    first.locator("[data-method=personal]").click()
    expect(first).to_have_attribute("data-state", "delivered")
    expect(first.locator("[data-test=result]")).to_contain_text("Вручено: лично в руки")
    expect(first.locator("[data-method]")).to_have_count(0)
    expect(page.locator("#summary")).to_have_text("Вручено: 1 из 4")
    shots(page, "delivered")
    (delivery,) = deliveries_of(storage, first_id)
    assert (delivery.method, delivery.tries) == ("personal", 1)
    assert (delivery.latitude, delivery.longitude) == (HERE["latitude"], HERE["longitude"])
    assert notice(storage, first_id).state == "delivered"
    assert positions(storage) >= 1

    # 3. No network: a visit («Никого нет дома», second try) waits in the queue on the phone.
    second_id = int(items.nth(1).get_attribute("data-notice-id") or 0)
    second = page.locator(f"li[data-notice-id='{second_id}']")
    context.set_offline(True)
    expect(status).to_contain_text("Нет сети")
    second.locator("[data-action=tries-plus]").click()
    expect(second.locator("[data-test=tries]")).to_have_text("2")
    second.locator("[data-method=nobody_home]").click()
    expect(status).to_have_text("Нет сети, в очереди: 1")
    expect(second).to_have_attribute("data-status", "queued")
    expect(second.locator("[data-test=result]")).to_contain_text("В очереди на отправку: никого нет дома")
    shots(page, "offline-queued")
    assert deliveries_of(storage, second_id) == []

    # 4. The network is back: the queue is sent by itself, and the visit is stored once.
    context.set_offline(False)
    expect(status).to_have_text("Онлайн, в очереди: 0")
    expect(second).to_have_attribute("data-status", "visited")
    expect(second.locator("[data-test=result]")).to_have_text("Посещение: никого нет дома, попыток: 2")
    shots(page, "online-sent")
    (visit,) = deliveries_of(storage, second_id)
    assert (visit.method, visit.tries) == ("nobody_home", 2)
    stored = notice(storage, second_id)
    assert (stored.state, stored.tries) == ("assigned", 2)

    # 5. Opened again, the page shows what the server has (nothing left in the phone's queue).
    page.reload()
    expect(page.locator(f"li[data-notice-id='{first_id}']")).to_have_attribute("data-state", "delivered")
    expect(page.locator(f"li[data-notice-id='{second_id}'] [data-test=tries]")).to_have_text("3")
    expect(status).to_have_text("Онлайн, в очереди: 0")
    assert len(deliveries_of(storage, second_id)) == 1 and len(deliveries_of(storage, first_id)) == 1
    shots(page, "reloaded")

    # 6. The courier walks on: the page sends the new position on its timer (api.position_every_seconds).
    # (Chromium's emulated location keeps the time it was set, so a new one is a new fix.)
    context.set_geolocation({**MOVED, "accuracy": 20})
    wait_until(
        lambda: located(storage, MOVED), "the moved position to be stored", limit=POSITION_EVERY_SECONDS * 3
    )


@pytest.mark.browser
def test_an_unknown_link_shows_a_russian_page(
    courier_api: CourierApi, phone: tuple[BrowserContext, Page], shots: Shots
) -> None:
    _context, page = phone
    response = page.goto(f"{courier_api.url}/courier/{courier_api.token}-old")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("Ссылка не найдена")
    shots(page, "unknown-link")


@pytest.mark.browser
def test_server_errors_keep_a_report_and_refusals_drop_it(
    courier_api: CourierApi, storage: Storage, phone: tuple[BrowserContext, Page], shots: Shots
) -> None:
    context, page = phone
    status = page.locator("#net-status")
    page.goto(courier_api.link)
    items = page.locator("li.notice")
    expect(items).to_have_count(4)
    first_id = int(items.nth(0).get_attribute("data-notice-id") or 0)
    first = page.locator(f"li[data-notice-id='{first_id}']")

    # A server error (or a proxy's 502): the report stays queued on the phone.
    page.route("**/deliveries", lambda route: route.fulfill(status=502, body="Bad Gateway"))
    first.locator("[data-method=mailbox]").click()
    expect(status).to_have_text("Онлайн, в очереди: 1")
    expect(first).to_have_attribute("data-status", "queued")
    assert deliveries_of(storage, first_id) == []
    # The server is back; the network coming back (an "online" event) sends the queue at once.
    page.unroute("**/deliveries")
    context.set_offline(True)
    context.set_offline(False)
    expect(status).to_have_text("Онлайн, в очереди: 0")
    expect(first).to_have_attribute("data-state", "delivered")
    expect(first.locator("[data-test=result]")).to_contain_text("Вручено: в почтовый ящик")
    assert [d.method for d in deliveries_of(storage, first_id)] == ["mailbox"]

    # A refusal the server will never change its mind about: dropped, and the courier is told why.
    second_id = int(items.nth(1).get_attribute("data-notice-id") or 0)
    second = page.locator(f"li[data-notice-id='{second_id}']")
    refusal = {
        "error": "invalid",
        "message": "at: too old",
        "problems": [{"field": "at", "message": "older than 30 days"}],
    }
    page.route("**/deliveries", lambda route: route.fulfill(status=422, json=refusal))
    second.locator("[data-method=refused]").click()
    expect(page.locator("[data-test=message]")).to_contain_text(
        "«ул. Ленина, д. 12, кв. 46» не принят сервером: данные не прошли проверку (at: older than 30 days)"
    )
    expect(status).to_have_text("Онлайн, в очереди: 0")
    expect(second).to_have_attribute("data-status", "open")
    expect(second.locator("[data-method]")).to_have_count(4)
    shots(page, "refused-by-server")
    assert deliveries_of(storage, second_id) == []
