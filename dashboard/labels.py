"""Russian words and number formats the pages show (presentation only: no rule is decided here)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from debtors.statuses import LABELS, Status
from dialer.campaigns import STATE_LABELS
from dialer.core.russian_numbers import plural_form

OUTCOME_LABELS = {
    "heard_full": "прослушал до конца",
    "partial": "прослушал частично",
    "busy": "занято",
    "no_answer": "не ответил",
    "congestion": "перегрузка сети",
    "failed": "ошибка",
    "invalid_number": "неверный номер",
    "lost": "потерян (сбой)",
    "unknown": "неизвестно",
}
ATTEMPT_STATE_LABELS = {
    "dialling": "набор",
    "up": "разговор",
    "ended": "завершён",
    "lost": "потерян",
    "not_placed": "не набран",
}
ENDED_BY_LABELS = {
    "hung_up": "положил трубку",
    "finished": "до конца",
    "transferred": "соединён с оператором",
    "failed": "сбой IVR",
}
NBSP = "\u00a0"
SORT_LABELS = {
    "debt": "Сумма долга",
    "months_overdue": "Месяцев долга",
    "account": "Лицевой счёт",
    "full_name": "ФИО",
}


def status_label(code: str) -> str:
    try:
        return LABELS[Status(code)]
    except ValueError:
        return code


def campaign_state_label(code: str) -> str:
    return STATE_LABELS.get(code, code)


def outcome_label(code: str | None) -> str:
    return OUTCOME_LABELS.get(code or "unknown", code or "—")


def money(value: Decimal | float | int | str | None) -> str:
    """``1 234 567,89 ₽`` (no-break spaces between thousands, as Russian documents write it)."""
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    whole, _, kopecks = f"{amount:,.2f}".partition(".")
    return whole.replace(",", NBSP) + "," + kopecks + NBSP + "₽"


def day(value: date | None) -> str:
    return f"{value:%d.%m.%Y}" if value is not None else "—"


def moment(value: datetime | None, zone: ZoneInfo) -> str:
    return f"{value.astimezone(zone):%d.%m.%Y %H:%M:%S}" if value is not None else "—"


def seconds(ms: int | None) -> str:
    return f"{ms / 1000:.1f} с" if ms is not None else "—"


def count_of(number: int, one: str, few: str, many: str) -> str:
    """``1 строка``, ``3 строки``, ``5 строк`` (the grammar of the IVR's numbers)."""
    return f"{number} {(one, few, many)[plural_form(number)]}"


def percent(share: float | None) -> str:
    """``51,7 %`` (a decimal comma and a space, as Russian text writes it)."""
    return "—" if share is None else f"{share * 100:.1f}".replace(".", ",") + NBSP + "%"
