"""Matching billing-centre column headers to our canonical fields (pure).

Headers vary between centres and months (../shared/DOMAIN.md): case, «ё»/«е», punctuation and unit
suffixes are ignored; anything else needs an explicit mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

CANONICAL_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "account": (
        "лицевой счет",
        "лс",
        "л с",
        "номер лс",
        "номер лицевого счета",
        "лицевой",
        "lic schet",
        "ls",
        "lschet",
        "nomer ls",
    ),
    "full_name": ("фио", "ф и о", "собственник", "плательщик", "фио собственника", "fio"),
    "address": ("адрес", "adres", "adress"),
    "district": ("район", "rayon", "raion"),
    "street": ("улица", "ulica", "ul"),
    "house": ("дом", "dom"),
    "building": ("корпус", "korp", "korpus"),
    "apartment": ("квартира", "кв", "kv"),
    "area_m2": ("площадь", "общая площадь", "ploshad", "pl"),
    "ownership": ("тип собственности", "форма собственности", "sobstv"),
    "months_overdue": (
        "период задолженности",
        "кол во месяцев",
        "мес долга",
        "количество месяцев",
        "mes",
        "kol mes",
    ),
    "debt": (
        "сумма задолженности",
        "задолженность",
        "сумма долга",
        "долг",
        "dolg",
        "summa dolga",
        "sum dolg",
    ),
    "phones": ("телефон", "тел", "телефоны", "tel", "telefon"),
}
PAYMENT_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "account": CANONICAL_VARIANTS["account"],
    "paid_on": ("дата", "дата оплаты", "дата платежа", "дата поступления", "data", "data opl"),
    "amount": ("сумма", "сумма оплаты", "сумма платежа", "оплачено", "оплата", "summa", "sum opl"),
    "reference": (
        "номер",
        "номер платежа",
        "номер документа",
        "документ",
        "идентификатор",
        "nomer",
        "nom dok",
    ),
}
PAYMENT_REQUIRED = ("account", "paid_on", "amount")
REQUIRED = ("account", "debt")

_UNITS = re.compile(r"\b(руб|рублей|р|м2|м²|кв м|мес)\b\.?$")
_PUNCT = re.compile(r"[^\w\s]|_")


def normalise_header(header: str) -> str:
    text = header.replace("\ufeff", "").strip().lower().replace("ё", "е")
    text = _PUNCT.sub(" ", text)
    text = " ".join(text.split())
    previous = None
    while previous != text:
        previous = text
        text = _UNITS.sub("", text).strip()
    return text


def _lookup(variants: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalise_header(v): field for field, names in variants.items() for v in names}


class HeaderError(ValueError):
    """The file's header row cannot be mapped to the fields we need."""


def map_headers(
    headers: Sequence[str],
    explicit: Mapping[str, str] | None = None,
    variants: Mapping[str, tuple[str, ...]] = CANONICAL_VARIANTS,
    required: Sequence[str] = REQUIRED,
) -> dict[str, int]:
    """Canonical field -> column index. ``explicit`` maps a file header (as written) to a field."""
    explicit_norm = {normalise_header(k): v for k, v in (explicit or {}).items()}
    unknown_targets = set(explicit_norm.values()) - set(variants)
    if unknown_targets:
        raise HeaderError(
            f"mapping names unknown fields: {', '.join(sorted(unknown_targets))} "
            f"(known: {', '.join(variants)})"
        )
    lookup = _lookup(variants)
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        field = explicit_norm.get(key) or lookup.get(key)
        if field is None:
            continue
        if field in mapping:
            raise HeaderError(
                f"columns {mapping[field] + 1} and {index + 1} both look like {field!r} "
                f"({headers[mapping[field]]!r}, {header!r}): map one explicitly"
            )
        mapping[field] = index
    missing = [f for f in required if f not in mapping]
    if missing:
        raise HeaderError(
            f"missing required column(s): {', '.join(missing)}; found headers: "
            f"{', '.join(repr(h) for h in headers)}"
        )
    return mapping
