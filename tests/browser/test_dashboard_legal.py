"""«Юрист» in Debian's headless Chromium: a court's registry uploaded through the browser's file input
(the one path AppTest cannot drive), matched against the sample registry, and a waiting row decided.
What the page reports is compared with the rows stored in the database."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from db.models import LegalMatchRow
from dialer.bootstrap import Storage
from tests.browser.conftest import PASSWORD, SUPERVISOR, Shots
from tests.browser.test_dashboard import app_idle, log_in, open_section, sections
from tests.integration.test_legal_import import COURT_CSV


def stored_rows(storage: Storage) -> list[LegalMatchRow]:
    with storage.sessions() as session:
        rows = list(session.scalars(select(LegalMatchRow).order_by(LegalMatchRow.row)))
        session.expunge_all()
        return rows


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_lawyer_uploads_a_court_registry_and_decides_a_row(
    storage: Storage, dashboard: str, page: Page, shots: Shots, tmp_path: Path
) -> None:
    registry_file = tmp_path / "реестр_суда.csv"
    registry_file.write_bytes(COURT_CSV.encode("cp1251"))

    page.goto(dashboard)
    log_in(page, SUPERVISOR, PASSWORD)
    expect(sections(page)).to_be_visible()
    app_idle(page)
    open_section(page, "Юрист")
    expect(page.get_by_text("Дел нет.", exact=True)).to_be_visible()

    page.get_by_text("Реестры суда и приставов", exact=True).click()
    expect(page.get_by_role("button", name="Загрузить реестр")).to_be_visible()
    app_idle(page)
    page.locator('input[type="file"]').set_input_files(registry_file)
    expect(page.get_by_text("реестр_суда.csv", exact=True)).to_be_visible()  # the uploader lists it
    page.get_by_role("button", name="Загрузить реестр").click()
    summary = page.get_by_test_id("stAlertContentSuccess").filter(has_text="реестр_суда.csv: строк 6")
    expect(summary).to_be_visible()
    app_idle(page)
    shots(page, "registry-imported")

    rows = stored_rows(storage)
    outcomes = Counter(r.outcome for r in rows)
    assert len(rows) == 5, "six lines, one with an unreadable amount"
    text = summary.inner_text().replace("\xa0", " ")
    for label, outcome in (
        ("по лицевому счёту", "exact_account"),
        ("по ФИО и адресу", "matched"),
        ("неоднозначно", "ambiguous"),
        ("не найдено", "unmatched"),
    ):
        assert f"{label} {outcomes[outcome]}" in text, (label, text)
    assert "с ошибками 1" in text and "строка 6, поле «amount_claimed» ('сто рублей')" in text
    waiting = [r for r in rows if r.outcome in ("ambiguous", "unmatched")]
    assert waiting, "the sample has rows the lawyer must decide"
    expect(page.get_by_role("heading", name=f"Ждут решения: {len(waiting)}")).to_be_visible()

    # the first waiting row (the picker's default), decided as «нет в базе»
    page.get_by_text("нет в базе", exact=True).click()
    app_idle(page)
    page.get_by_role("button", name="Решить").click()
    expect(page.get_by_text(f"Строка #{waiting[0].id}: нет в базе.")).to_be_visible()
    app_idle(page)
    shots(page, "row-decided")
    decided = {r.id: r for r in stored_rows(storage)}[waiting[0].id]
    assert (decided.decided_by, decided.debtor_id) == (SUPERVISOR, None)
    expect(page.get_by_role("heading", name=f"Ждут решения: {len(waiting) - 1}")).to_be_visible()
