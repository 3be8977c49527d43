"""The README's screenshots: every dashboard page of a running dashboard, in Debian's headless Chromium.

    python -m tests.browser.screenshots http://127.0.0.1:8501/ demo demo-password docs/screenshots

Run it after `make demo` (the demo leaves its dashboard running with the demo campaign's results)."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_dashboard import app_idle, choose, log_in, open_section

PAGES = (
    ("debtors", "Должники"),
    ("calling", "Обзвон"),
    ("statistics", "Статистика"),
    ("notices", "Уведомления"),
    ("crews", "Монтажные работы"),
    ("users", "Пользователи"),
)


def take(url: str, login: str, password: str, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800}, locale="ru-RU")
        page.goto(url)
        log_in(page, login, password)
        expect(page.get_by_role("heading", name="Должники", level=2)).to_be_visible(timeout=30_000)
        for key, title in PAGES:
            open_section(page, title)
            if key == "debtors":
                first = page.get_by_label("Лицевой счёт (со страницы выше)", exact=True)
                first.scroll_into_view_if_needed()
                choose(page, "Лицевой счёт (со страницы выше)", _first_option(page))
                expect(page.get_by_role("heading", level=3).first).to_be_visible()
            page.wait_for_timeout(1500)  # let the charts draw
            app_idle(page)
            path = folder / f"{key}.png"
            page.screenshot(path=path, full_page=True)
            written.append(path)
        browser.close()
    return written


def _first_option(page: object) -> str:
    from tests.browser.test_dashboard import open_list

    options = open_list(page, "Лицевой счёт (со страницы выше)")  # type: ignore[arg-type]
    text = options.first.inner_text().strip()
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    return text


if __name__ == "__main__":
    url, login, password, out = sys.argv[1:5]
    for shot in take(url, login, password, Path(out)):
        sys.stdout.write(f"{shot}\n")
