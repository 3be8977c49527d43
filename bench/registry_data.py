"""A realistic generated billing-centre export (cp1251 CSV) of any size, deterministic for a seed."""

from __future__ import annotations

import random
from pathlib import Path

SURNAMES = [
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Никитин",
    "Захаров",
    "Зайцев",
    "Соловьёв",
]
MALE = ["Иван", "Пётр", "Алексей", "Сергей", "Дмитрий", "Андрей", "Николай", "Михаил", "Олег", "Юрий"]
FEMALE = ["Анна", "Мария", "Елена", "Ольга", "Татьяна", "Наталья", "Ирина", "Светлана", "Людмила", "Галина"]
PATRONYMIC_ROOTS = ["Иванов", "Петров", "Алексеев", "Сергеев", "Николаев", "Михайлов", "Андреев", "Юрьев"]
STREETS = [
    "ул. Ленина",
    "ул. Мира",
    "пр. Победы",
    "ул. Гагарина",
    "ул. Пушкина",
    "ул. Советская",
    "ул. Молодёжная",
    "ул. Садовая",
    "ул. Лесная",
    "пр. Космонавтов",
    "ул. Строителей",
    "ул. Чапаева",
]
DISTRICTS = ["Ленинский", "Кировский", "Октябрьский", "Железнодорожный", "Верх-Исетский", "Орджоникидзевский"]
OWNERSHIP = ["частная", "муниципальная", "государственная", "совместная"]
HEADERS = [
    "Лицевой счёт",
    "ФИО",
    "Район",
    "Адрес",
    "Площадь, м2",
    "Тип собственности",
    "Кол-во месяцев",
    "Сумма задолженности",
    "Телефоны",
]


def _phone(rng: random.Random) -> str:
    digits = f"9{rng.randint(0, 99):02d}{rng.randint(0, 9999999):07d}"
    shape = rng.randint(0, 4)
    if shape == 0:
        return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
    if shape == 1:
        return f"+7 {digits[:3]} {digits[3:6]} {digits[6:8]} {digits[8:]}"
    if shape == 2:
        return f"8{digits}"
    if shape == 3:
        return f"8-343-{rng.randint(200, 399)}-{rng.randint(10, 99)}-{rng.randint(10, 99)}"
    return digits


def _money(value: float) -> str:
    whole, kopecks = divmod(round(value * 100), 100)
    return f"{whole:,}".replace(",", " ") + f",{kopecks:02d}"


def rows(count: int, seed: int = 2026) -> list[list[str]]:
    return list(iter_rows(count, seed))


def iter_rows(count: int, seed: int = 2026):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    for number in range(count):
        female = rng.random() < 0.55
        surname = rng.choice(SURNAMES) + ("а" if female else "")
        first = rng.choice(FEMALE if female else MALE)
        patronymic = rng.choice(PATRONYMIC_ROOTS) + ("на" if female else "ич")
        street = rng.choice(STREETS)
        address = f"{street}, д. {rng.randint(1, 150)}, кв. {rng.randint(1, 300)}"
        phones = ", ".join(_phone(rng) for _ in range(rng.choice((1, 1, 2, 3))))
        yield [
            f"{10_000_000 + number}",
            f"{surname} {first} {patronymic}",
            rng.choice(DISTRICTS),
            address,
            f"{rng.uniform(18, 140):.1f}".replace(".", ","),
            rng.choice(OWNERSHIP),
            str(rng.randint(1, 36)),
            _money(rng.uniform(500, 250_000)),
            phones,
        ]


def write(path: Path, count: int, *, seed: int = 2026, line_end: str = "\r\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="cp1251", newline="") as fh:
        fh.write(";".join(HEADERS) + line_end)
        for row in iter_rows(count, seed):
            fh.write(";".join(row) + line_end)
    return path
