"""Russian numbers and money as sequences of prompt ids (pure).

Asterisk's own Russian ``SayNumber`` cannot say most numbers with the stock prompts (../shared/ASTERISK.md
"Russian speech"), so the IVR says them from our prompts: one prompt per word. :func:`number_prompts` turns
a number and the grammatical gender of what is counted into prompt ids; :func:`money_prompts` says an
amount in rubles and kopecks with the right forms (рубль/рубля/рублей, копейка/копейки/копеек, feminine
одна/две before «копейка» and «тысяча»). :data:`WORDS` is the Russian word of every prompt id — the text
the sound pipeline records or synthesises, and what the tests compare with ``num2words(..., lang="ru")``.

We say «одна тысяча» and «один миллион» (as bank IVRs and num2words do), not a bare «тысяча».
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import Enum

MAX_NUMBER = 999_999_999_999


class Gender(Enum):
    MASCULINE = "m"  # рубль, месяц, миллион
    FEMININE = "f"  # копейка, тысяча
    NEUTER = "n"


_UNITS = {
    0: "ноль", 1: "один", 2: "два", 3: "три", 4: "четыре", 5: "пять", 6: "шесть", 7: "семь", 8: "восемь",
    9: "девять", 10: "десять", 11: "одиннадцать", 12: "двенадцать", 13: "тринадцать", 14: "четырнадцать",
    15: "пятнадцать", 16: "шестнадцать", 17: "семнадцать", 18: "восемнадцать", 19: "девятнадцать",
}  # fmt: skip
_TENS = {
    20: "двадцать", 30: "тридцать", 40: "сорок", 50: "пятьдесят", 60: "шестьдесят", 70: "семьдесят",
    80: "восемьдесят", 90: "девяносто",
}  # fmt: skip
_HUNDREDS = {
    100: "сто", 200: "двести", 300: "триста", 400: "четыреста", 500: "пятьсот", 600: "шестьсот",
    700: "семьсот", 800: "восемьсот", 900: "девятьсот",
}  # fmt: skip
# Scales: (value, prompt name, gender of the noun, forms for one / few (2-4) / many).
_SCALES = (
    (1_000_000_000, "billion", Gender.MASCULINE, ("миллиард", "миллиарда", "миллиардов")),
    (1_000_000, "million", Gender.MASCULINE, ("миллион", "миллиона", "миллионов")),
    (1_000, "thousand", Gender.FEMININE, ("тысяча", "тысячи", "тысяч")),
)
_NOUNS = {
    "ruble": ("рубль", "рубля", "рублей"),
    "kopeck": ("копейка", "копейки", "копеек"),
    "month": ("месяц", "месяца", "месяцев"),
}
_FORMS = ("1", "2", "5")  # prompt suffixes of the three forms: one, few, many

WORDS: dict[str, str] = {
    **{f"num/{n}": word for n, word in {**_UNITS, **_TENS, **_HUNDREDS}.items()},
    "num/1f": "одна",
    "num/2f": "две",
    "num/1n": "одно",
    **{
        f"num/{name}-{suffix}": form
        for _, name, _, forms in _SCALES
        for suffix, form in zip(_FORMS, forms, strict=True)
    },
    **{
        f"noun/{name}-{suffix}": form
        for name, forms in _NOUNS.items()
        for suffix, form in zip(_FORMS, forms, strict=True)
    },
}


def plural_form(number: int) -> int:
    """0 for «один рубль», 1 for «два рубля», 2 for «пять рублей» (by the last two digits)."""
    last_two = number % 100
    if 11 <= last_two <= 14:
        return 2
    last = number % 10
    if last == 1:
        return 0
    if 2 <= last <= 4:
        return 1
    return 2


def _below_thousand(number: int, gender: Gender) -> list[str]:
    out = []
    hundreds, rest = divmod(number, 100) if number >= 100 else (0, number)
    if hundreds:
        out.append(f"num/{hundreds * 100}")
    if rest >= 20:
        tens, rest = divmod(rest, 10)
        out.append(f"num/{tens * 10}")
    if rest:
        if rest == 1 and gender is not Gender.MASCULINE:
            out.append(f"num/1{gender.value}")
        elif rest == 2 and gender is Gender.FEMININE:
            out.append("num/2f")
        else:
            out.append(f"num/{rest}")
    return out


def number_prompts(number: int, gender: Gender = Gender.MASCULINE) -> list[str]:
    """Prompt ids that say ``number`` (0 … 999 999 999 999) agreeing with ``gender``."""
    if not 0 <= number <= MAX_NUMBER:
        raise ValueError(f"a number from 0 to {MAX_NUMBER} is expected, got {number}")
    if number == 0:
        return ["num/0"]
    out: list[str] = []
    rest = number
    for value, name, scale_gender, _ in _SCALES:
        count, rest = divmod(rest, value)
        if count:
            out += _below_thousand(count, scale_gender)
            out.append(f"num/{name}-{_FORMS[plural_form(count)]}")
    if rest:
        out += _below_thousand(rest, gender)
    return out


def noun_prompt(noun: str, number: int) -> str:
    """``noun_prompt("ruble", 22)`` → ``noun/ruble-2`` («рубля»)."""
    if noun not in _NOUNS:
        raise ValueError(f"unknown noun {noun!r}; known: {', '.join(_NOUNS)}")
    return f"noun/{noun}-{_FORMS[plural_form(number)]}"


def money_prompts(amount: Decimal) -> list[str]:
    """«двенадцать тысяч триста сорок пять рублей шестьдесят семь копеек» for 12345.67.

    Kopecks are always said (00 too: «ноль копеек»), so a listener hears where the rubles end.
    """
    if amount < 0:
        raise ValueError("a debt amount cannot be negative here")
    kopecks_total = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    rubles, kopecks = divmod(kopecks_total, 100)
    return [
        *number_prompts(rubles, Gender.MASCULINE),
        noun_prompt("ruble", rubles),
        *number_prompts(kopecks, Gender.FEMININE),
        noun_prompt("kopeck", kopecks),
    ]


def say(prompts: list[str]) -> str:
    """The words the prompts say, space-separated (for tests and transcripts)."""
    return " ".join(WORDS[p] for p in prompts)
