"""Matching billing-centre column headers to our canonical fields (pure).

Headers vary between centres and months (../shared/DOMAIN.md): case, «ё»/«е», punctuation and unit
suffixes are ignored; anything else needs an explicit mapping.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

CANONICAL_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "account": ("лицевой счет", "лс", "л с", "номер лс", "номер лицевого счета", "лицевой"),
    "full_name": ("фио", "ф и о", "собственник", "плательщик", "фио собственника"),
    "address": ("адрес",),
    "district": ("район",),
    "street": ("улица",),
    "house": ("дом",),
    "building": ("корпус",),
    "apartment": ("квартира", "кв"),
    "area_m2": ("площадь", "общая площадь"),
    "ownership": ("тип собственности", "форма собственности"),
    "months_overdue": ("период задолженности", "кол во месяцев", "мес долга", "количество месяцев"),
    "debt": ("сумма задолженности", "задолженность", "сумма долга", "долг"),
    "phones": ("телефон", "тел", "телефоны"),
}
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


_LOOKUP = {normalise_header(v): field for field, variants in CANONICAL_VARIANTS.items() for v in variants}


class HeaderError(ValueError):
    """The file's header row cannot be mapped to the fields we need."""


def map_headers(headers: Sequence[str], explicit: Mapping[str, str] | None = None) -> dict[str, int]:
    """Canonical field -> column index. ``explicit`` maps a file header (as written) to a field."""
    explicit_norm = {normalise_header(k): v for k, v in (explicit or {}).items()}
    unknown_targets = set(explicit_norm.values()) - set(CANONICAL_VARIANTS)
    if unknown_targets:
        raise HeaderError(
            f"mapping names unknown fields: {', '.join(sorted(unknown_targets))} "
            f"(known: {', '.join(CANONICAL_VARIANTS)})"
        )
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        field = explicit_norm.get(key) or _LOOKUP.get(key)
        if field is None:
            continue
        if field in mapping:
            raise HeaderError(
                f"columns {mapping[field] + 1} and {index + 1} both look like {field!r} "
                f"({headers[mapping[field]]!r}, {header!r}): map one explicitly"
            )
        mapping[field] = index
    missing = [f for f in REQUIRED if f not in mapping]
    if missing:
        raise HeaderError(
            f"missing required column(s): {', '.join(missing)}; found headers: "
            f"{', '.join(repr(h) for h in headers)}"
        )
    return mapping
