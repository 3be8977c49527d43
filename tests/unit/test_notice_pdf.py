"""Printed notices and the route sheet, read back with pypdf: what a debtor and a courier see on paper."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pypdf
import pytest

from debtors import notice_pdf
from debtors.notice_pdf import (
    NoticeFontError,
    NoticeLetterhead,
    PrintedNotice,
    render_notices,
    render_route_sheet,
)
from dialer.errors import UpravDolgError

MM = 72 / 25.4  # PDF points per millimetre
A4_HEIGHT = 297.0

LETTERHEAD = NoticeLetterhead(
    organisation="УК «Пример»",
    how_to_pay="в кассе УК по адресу ул. Ленина, 1 и в приложениях банков по номеру лицевого счёта",
    restriction_days=20,
    printed_at=datetime(2025, 3, 5, 11, 30, tzinfo=UTC),  # 14:30 in Moscow
    timezone="Europe/Moscow",
)
PRIMARY = PrintedNotice(
    notice_id=101,
    kind="primary",
    account="7700123456",
    full_name="Иванов Иван Иванович",
    address="г. Екатеринбург, ул. Ленина, д. 5, кв. 12",
    debt=Decimal("12345.67"),
    months_overdue=3,
    debt_as_of=date(2025, 3, 1),
    created_on=date(2025, 3, 4),
)
SECONDARY = PrintedNotice(
    notice_id=102,
    kind="secondary",
    account="7700654321",
    full_name="Петрова Мария Сергеевна",
    address="г. Екатеринбург, ул. Мира, д. 17, корп. 2, кв. 40",
    debt=Decimal("5000"),
    months_overdue=5,
    debt_as_of=date(2025, 2, 1),
    created_on=date(2025, 3, 4),
)
LONG_ADDRESS = (
    "Свердловская область, городской округ Екатеринбург, Октябрьский административный район, "
    "микрорайон Заречный, улица Генерала Ивана Даниловича Черняховского, дом 125, корпус 3, строение 2, "
    "подъезд 4, этаж 11, квартира 987 (вход со двора, код домофона у старшего по дому)"
)


def pages(pdf: bytes) -> list[str]:
    """The text of each page with whitespace (including no-break spaces) collapsed to single spaces."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def fragments(pdf: bytes, page: int = 0) -> list[tuple[float, str]]:
    """(height above the page's bottom edge in mm, text) of each piece of text, in drawing order."""
    found: list[tuple[float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: Any, size: Any) -> None:
        if text.strip():
            found.append(((tm[4] * cm[1] + tm[5] * cm[3] + cm[5]) / MM, text.strip()))

    pypdf.PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found


# --- notices -------------------------------------------------------------------------------------------


def test_one_page_per_notice_with_the_title_of_its_kind() -> None:
    text = pages(render_notices([PRIMARY, SECONDARY, PRIMARY], LETTERHEAD))

    assert len(text) == 3
    assert "УВЕДОМЛЕНИЕ О ЗАДОЛЖЕННОСТИ" in text[0]
    assert "ПОВТОРНОЕ" not in text[0]
    assert "ПОВТОРНОЕ УВЕДОМЛЕНИЕ О ЗАДОЛЖЕННОСТИ" in text[1]
    assert "ПОВТОРНОЕ" not in text[2]


def test_a_notice_names_the_debtor_and_the_debt_in_figures_and_words() -> None:
    first, second = pages(render_notices([PRIMARY, SECONDARY], LETTERHEAD))

    assert "№ 101 от 04.03.2025" in first
    assert "Иванов Иван Иванович" in first
    assert "Лицевой счёт: 7700123456" in first
    assert "г. Екатеринбург, ул. Ленина, д. 5, кв. 12" in first
    assert "12 345,67 руб." in first
    assert "Двенадцать тысяч триста сорок пять рублей шестьдесят семь копеек" in first
    assert "3 месяца" in first
    assert "01.03.2025" in first
    assert "ул. Ленина, 1 и в приложениях банков" in first  # how to pay
    assert "Петрова" not in first

    assert "№ 102 от 04.03.2025" in second
    assert "Петрова Мария Сергеевна" in second
    assert "Лицевой счёт: 7700654321" in second
    assert "корп. 2, кв. 40" in second
    assert "5 000,00 руб." in second
    assert "Пять тысяч рублей ноль копеек" in second
    assert "5 месяцев" in second
    assert "01.02.2025" in second
    assert "Иванов" not in second


def test_the_warning_cites_the_rules_and_the_days_after_delivery() -> None:
    (text,) = pages(render_notices([PRIMARY], LETTERHEAD))

    assert "ПРЕДУПРЕЖДЕНИЕ" in text
    assert "117–119" in text
    assert "№ 354" in text
    assert "в течение 20 дней со дня доставки" in text
    assert "заглушки" in text
    assert "водоотведение" in text
    assert "за счёт потребителя-должника" in text


def test_the_days_come_from_the_letterhead_in_the_right_case() -> None:
    (text,) = pages(render_notices([PRIMARY], replace(LETTERHEAD, restriction_days=21)))

    assert "в течение 21 дня со дня доставки" in text


def test_every_page_has_a_receipt_strip_page_number_and_print_time() -> None:
    text = pages(render_notices([PRIMARY, SECONDARY, PRIMARY], LETTERHEAD))

    for number, page in enumerate(text, start=1):
        assert f"стр. {number} из 3" in page
        assert "напечатано 05.03.2025 14:30" in page  # Moscow time, not UTC
        assert "Уведомление получил(а)" in page
        assert "подпись" in page
        assert "дата" in page
        assert "Способ вручения: лично в руки в почтовый ящик отказ от получения" in page
    assert "КОРЕШОК уведомления № 102 от 04.03.2025, лицевой счёт 7700654321" in text[1]


def test_a_long_address_wraps_and_stays_whole() -> None:
    notice = replace(PRIMARY, address=LONG_ADDRESS)
    pdf = render_notices([notice], LETTERHEAD)
    raw = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    assert LONG_ADDRESS in pages(pdf)[0]
    assert not any(LONG_ADDRESS in line for line in raw.splitlines())  # printed on several lines


def test_the_longest_stored_fields_still_fit_above_the_receipt_strip() -> None:
    # db/models.py: full_name String(300), address String(500), account String(64); how_to_pay ≤ 500.
    notice = replace(
        SECONDARY,
        account="7" * 64,
        full_name=("Константинопольская-Шварценеггер Анна-Мария " * 10)[:300],
        address=(LONG_ADDRESS * 3)[:500],
        debt=Decimal("987654321987.99"),
    )
    letterhead = replace(LETTERHEAD, how_to_pay=("в кассе управляющей компании " * 20)[:500])
    pdf = render_notices([notice], letterhead)
    drawn = fragments(pdf)
    cut = next(i for i, (_, text) in enumerate(drawn) if text == "линия отреза")
    cut_line = A4_HEIGHT - notice_pdf._STRIP_TOP

    assert len(pages(pdf)) == 1
    assert "потребителя-должника" in drawn[cut - 1][1]  # the warning is the body's last text
    assert all(height > cut_line + 1 for height, _ in drawn[:cut])
    footer = [height for height, text in drawn if "напечатано" in text or text.startswith("стр.")]
    strip = [height for height, text in drawn[cut:] if height not in footer]
    assert len(footer) == 2
    assert min(strip) > max(footer) + 3  # the strip ends above the footer
    assert min(footer) > 5  # inside what a printer prints
    assert notice.full_name.split()[0] in pages(pdf)[0]


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        render_notices([], LETTERHEAD)


@pytest.mark.parametrize(
    ("notice", "letterhead", "message"),
    [
        (replace(PRIMARY, kind="urgent"), LETTERHEAD, "unknown kind 'urgent'"),
        (replace(PRIMARY, debt=Decimal("-1")), LETTERHEAD, "negative"),
        (PRIMARY, replace(LETTERHEAD, printed_at=datetime(2025, 3, 5, 11, 30)), "aware"),  # noqa: DTZ001
    ],
)
def test_bad_input_is_refused(notice: PrintedNotice, letterhead: NoticeLetterhead, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_notices([notice], letterhead)


def test_a_missing_font_names_the_file_and_the_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(notice_pdf, "FONT_DIR", tmp_path)

    with pytest.raises(NoticeFontError) as caught:
        render_notices([PRIMARY], LETTERHEAD)

    assert isinstance(caught.value, UpravDolgError)
    assert str(tmp_path / "DejaVuSans.ttf") in str(caught.value)
    assert caught.value.hint is not None
    assert "fonts-dejavu-core" in caught.value.hint


# --- route sheet ---------------------------------------------------------------------------------------


def stops(count: int) -> list[PrintedNotice]:
    """``count`` stops, deliberately not in account order (the sheet keeps the order it is given)."""
    return [
        replace(
            PRIMARY if n % 3 else SECONDARY,
            notice_id=1000 + n,
            account=f"ЛС-{9000 - n:05d}",
            full_name=f"Жилец Номер{n:03d}",
            address=f"г. Екатеринбург, ул. Ленина, д. {n // 4 + 1}, кв. {n}",
            debt=Decimal("1000.50"),
        )
        for n in range(1, count + 1)
    ]


def test_a_route_sheet_lists_every_stop_in_the_given_order_with_totals() -> None:
    route = stops(80)
    route[5] = replace(route[5], address=LONG_ADDRESS)
    text = pages(render_route_sheet("Сидоров Пётр", date(2025, 3, 5), route, LETTERHEAD))
    whole = " ".join(text)

    assert "МАРШРУТНЫЙ ЛИСТ" in text[0]
    assert "Курьер: Сидоров Пётр" in text[0]
    assert "Дата: 05.03.2025" in text[0]
    assert "УК «Пример»" in text[0]
    positions = [whole.index(stop.account) for stop in route]
    assert positions == sorted(positions)
    for stop in route:
        assert stop.full_name in whole
    assert LONG_ADDRESS in whole
    assert whole.count("первичное") == 54
    assert whole.count("повторное") == 26
    assert whole.count("1 000,50") == 80
    assert "Итого уведомлений: 80 (первичных: 54, повторных: 26)" in text[-1]
    assert "Общая сумма задолженности: 80 040,00 руб." in text[-1]


def test_a_long_route_sheet_repeats_the_header_and_numbers_its_pages() -> None:
    text = pages(render_route_sheet("Сидоров Пётр", date(2025, 3, 5), stops(80), LETTERHEAD))

    assert len(text) >= 3
    for number, page in enumerate(text, start=1):
        assert "№ Адрес ФИО Лицевой счёт Вид Сумма, руб. Способ вручения Попыток Подпись" in page
        assert f"стр. {number} из {len(text)}" in page
        assert "Маршрутный лист · Сидоров Пётр · 05.03.2025" in page
    assert sum(page.count("ЛС-") for page in text) == 80  # no row lost or printed twice at a break


def test_a_short_route_sheet_is_one_page() -> None:
    text = pages(render_route_sheet("Сидоров Пётр", date(2025, 3, 5), stops(3), LETTERHEAD))

    assert len(text) == 1
    assert "стр. 1 из 1" in text[0]
    assert "Общая сумма задолженности: 3 001,50 руб." in text[0]


def test_an_empty_route_sheet_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        render_route_sheet("Сидоров Пётр", date(2025, 3, 5), [], LETTERHEAD)
