"""Matching a court's or bailiff's registry row to a debtor of ours (pure: no I/O, no clock).

A lawyer enters a row or imports a registry (a court's list of cases, a bailiff's list of enforcement
proceedings). Each row is matched to the debtor list in two steps:

1. **By account.** The row's account (лицевой счёт), when given and found, decides the debtor — unless the
   row's full name contradicts the account holder's: a wrong account is never accepted silently, the row
   goes to the lawyer as AMBIGUOUS with the account holder and any name + address candidates listed.
2. **By name and address.** Every candidate gets a score 0..1 = name score × address score. One candidate
   at or above ``MatchRules.accept`` with no other within ``MatchRules.margin`` of it is MATCHED; candidates
   near the top or between ``review`` and ``accept`` are listed for the lawyer (AMBIGUOUS), never chosen;
   nothing at or above ``review`` is UNMATCHED.

Discrepancies (amount claimed vs current debt, spelling of the name, a missing flat, an unknown account) are
listed in Russian: lawyers read them. docs/legal.md ("Matching") explains the numbers with examples.

The storage side fetches candidates with :func:`candidate_key` (the normalised surname) and
:func:`building_key` (street + house): the union of both finds namesakes without an address and, in the
same building, surnames with a typo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# --------------------------------------------------------------------------------------------- text


_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_LATIN_RUN = re.compile(r"[a-z]{2,}")
_CYRILLIC = re.compile(r"[а-я]")
# Latin letters that look like Cyrillic ones: billing exports mix them up in names and house letters
# («Ивaнов» with a Latin «a», «12a»). A token with two Latin letters in a row is left alone (a Latin word).
_HOMOGLYPHS = str.maketrans("aeopcxykmhtb", "аеорсхукмнтв")


def fold(text: str) -> str:
    """Lower case, «ё» as «е», dashes as «-», every run of spaces (no-break ones too) as one space."""
    return " ".join(_DASHES.sub("-", text).casefold().replace("ё", "е").split())


def _cyrillic_lookalikes(token: str) -> str:
    if _LATIN_RUN.search(token) and not _CYRILLIC.search(token):
        return token
    return token.translate(_HOMOGLYPHS)


# --------------------------------------------------------------------------------------------- accounts

_ACCOUNT_PREFIX = re.compile(r"^(?:лицевой\s+сч[её]т|л\s*/\s*с|лс)\.?\s*(?:№\s*)?|^№\s*", re.IGNORECASE)


def normalise_account(text: str) -> str:
    """An account as a comparable string: spaces and a «ЛС», «Л/С», «лицевой счёт», «№» prefix removed.

    Leading zeros are kept: billing centres print accounts as fixed-width codes, and «0012345» and «12345»
    can be two accounts (of two series, or of two billing centres in one list). The registry import stores
    accounts as text exactly as the billing centre wrote them, so a zero dropped here would make an account
    that exists look missing, or match another one. A registry that dropped the zeros therefore finds no
    account and falls back to name + address matching, with the difference flagged.
    """
    stripped = _ACCOUNT_PREFIX.sub("", text.strip())
    return "".join(stripped.split())


# --------------------------------------------------------------------------------------------- names


@dataclass(frozen=True, slots=True)
class PersonName:
    """A full name as comparable parts: lower case, «е» for «ё»; a given name may be an initial («и»)."""

    surname: str
    first: str = ""
    patronymic: str = ""


_NAME_JUNK = re.compile(r"[^а-яa-z\-\s]")
_SPACED_HYPHEN = re.compile(r"\s*-\s*")


def parse_name(text: str) -> PersonName:
    """«Иванов И.И.», «ИВАНОВ ИВАН ИВАНОВИЧ», «И. И. Иванов», «Петрова - Водкина А.» → comparable parts.

    Dots, commas and digits separate words; a hyphen joins the parts of a double surname. Initials may come
    before the surname. Words after the patronymic («оглы», «кызы») stay with it.
    """
    cleaned = _SPACED_HYPHEN.sub("-", _NAME_JUNK.sub(" ", fold(text)))
    tokens = [_cyrillic_lookalikes(t.strip("-")) for t in cleaned.split()]
    tokens = [t for t in tokens if t]
    if not tokens:
        return PersonName("")
    if len(tokens) > 1 and len(tokens[-1]) > 1 and all(len(t) == 1 for t in tokens[:-1]):
        surname, given = tokens[-1], tokens[:-1]
    else:
        surname, given = tokens[0], tokens[1:]
    return PersonName(surname, given[0] if given else "", " ".join(given[1:]))


def candidate_key(name: str) -> str:
    """The key the storage side indexes debtors on and queries candidates by: the normalised surname.

    «ИВАНОВА Анна», «Иванова А.В.» and «иванова» share the key «иванова»; «Семёнов» and «Семенов» share
    «семенов». A surname with a typo has another key: fetch by :func:`building_key` too to find it.
    """
    return parse_name(name).surname


class PartMatch(StrEnum):
    """How one part of a full name in the registry compares with ours."""

    SAME = "same"
    SPELLING = "spelling"  # one letter differs, is missing, added or swapped: the same name misspelt
    INITIAL = "initial"  # an initial agrees with the name (or with the same initial)
    MISSING = "missing"  # one side does not have this part
    CONTRADICTS = "contradicts"


# Multipliers of the name score. A surname must agree (a misspelt one counts a little less); a given name
# that contradicts lowers the score strongly, a missing first name noticeably (a surname alone is not enough
# to accept), a missing patronymic hardly (registries often omit it).
_SURNAME_WEIGHT = {PartMatch.SAME: 1.0, PartMatch.SPELLING: 0.95}
_FIRST_WEIGHT = {
    PartMatch.SAME: 1.0,
    PartMatch.SPELLING: 0.95,
    PartMatch.INITIAL: 0.98,
    PartMatch.MISSING: 0.8,
    PartMatch.CONTRADICTS: 0.2,
}
_PATRONYMIC_WEIGHT = {
    PartMatch.SAME: 1.0,
    PartMatch.SPELLING: 0.95,
    PartMatch.INITIAL: 0.98,
    PartMatch.MISSING: 0.97,
    PartMatch.CONTRADICTS: 0.4,
}
_MIN_SURNAME_FOR_TYPO = 6  # the brief: a surname of 6+ letters may differ by one edit
_MIN_GIVEN_FOR_TYPO = 5  # «Наталия»/«Наталья»; a short name («Ян»/«Ян»a) must agree exactly
_MALE_SURNAME_ENDINGS = ("ов", "ев", "ин", "ын")


def within_one_edit(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one letter replaced, added, removed or two swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _gender_pair(a: str, b: str) -> bool:
    """«Иванов»/«Иванова»: one edit apart, but a husband and a wife, not a typo."""
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return long_ == short + "а" and short.endswith(_MALE_SURNAME_ENDINGS)


def compare_surnames(registry: str, ours: str) -> PartMatch:
    if not registry or not ours:
        return PartMatch.MISSING
    if registry == ours:
        return PartMatch.SAME
    if _gender_pair(registry, ours):
        return PartMatch.CONTRADICTS
    # «Петрова» for «Петрова-Водкина»: a double surname shortened, flagged like a spelling difference.
    if registry in ours.split("-") or ours in registry.split("-"):
        return PartMatch.SPELLING
    if max(len(registry), len(ours)) >= _MIN_SURNAME_FOR_TYPO and within_one_edit(registry, ours):
        return PartMatch.SPELLING
    return PartMatch.CONTRADICTS


def compare_given(registry: str, ours: str) -> PartMatch:
    """A first name or a patronymic, each side a full word or an initial."""
    if not registry or not ours:
        return PartMatch.MISSING
    if len(registry) == 1 or len(ours) == 1:
        return PartMatch.INITIAL if registry[0] == ours[0] else PartMatch.CONTRADICTS
    if registry == ours:
        return PartMatch.SAME
    if min(len(registry), len(ours)) >= _MIN_GIVEN_FOR_TYPO and within_one_edit(registry, ours):
        return PartMatch.SPELLING
    return PartMatch.CONTRADICTS


@dataclass(frozen=True, slots=True)
class NameComparison:
    registry: PersonName
    ours: PersonName
    surname: PartMatch
    first: PartMatch
    patronymic: PartMatch

    @property
    def score(self) -> float:
        """0..1: 0 when the surnames differ (or one is missing)."""
        weight = _SURNAME_WEIGHT.get(self.surname, 0.0)
        return round(weight * _FIRST_WEIGHT[self.first] * _PATRONYMIC_WEIGHT[self.patronymic], 4)

    def spelling(self) -> list[tuple[str, str]]:
        """The (registry, ours) pairs of the parts spelt differently, capitalised for display."""
        pairs = zip(
            (self.surname, self.first, self.patronymic),
            (self.registry.surname, self.registry.first, self.registry.patronymic),
            (self.ours.surname, self.ours.first, self.ours.patronymic),
            strict=True,
        )
        return [(_title(r), _title(o)) for match, r, o in pairs if match is PartMatch.SPELLING]


def compare_names(registry: PersonName, ours: PersonName) -> NameComparison:
    return NameComparison(
        registry,
        ours,
        compare_surnames(registry.surname, ours.surname),
        compare_given(registry.first, ours.first),
        compare_given(registry.patronymic, ours.patronymic),
    )


def _title(part: str) -> str:
    return "-".join(word.capitalize() for word in part.split("-"))


# --------------------------------------------------------------------------------------------- addresses


@dataclass(frozen=True, slots=True)
class AddressKey:
    """An address as comparable parts; the city, region and postal code are dropped.

    ``street`` holds the street's name words («карла», «маркса»), ``street_kind`` its type in full
    («улица», «проспект», …; empty when not written), ``house`` the number with its letter, fraction and
    строение («12а», «12/1», «12стр1»), ``corpus`` the корпус, ``flat`` the flat — all without leading zeros.
    """

    street: tuple[str, ...] = ()
    street_kind: str = ""
    house: str = ""
    corpus: str = ""
    flat: str = ""

    @property
    def is_empty(self) -> bool:
        return not self.street and not self.house


_STREET_KINDS = {
    **dict.fromkeys(("ул", "улица"), "улица"),
    **dict.fromkeys(("пр", "пр-т", "пр-кт", "просп", "проспект"), "проспект"),
    **dict.fromkeys(("пер", "переулок"), "переулок"),
    **dict.fromkeys(("б-р", "бул", "бульв", "бульвар"), "бульвар"),
    **dict.fromkeys(("ш", "шоссе"), "шоссе"),
    **dict.fromkeys(("пл", "площадь"), "площадь"),
    **dict.fromkeys(("наб", "набережная"), "набережная"),
    **dict.fromkeys(("пр-д", "проезд"), "проезд"),
    **dict.fromkeys(("туп", "тупик"), "тупик"),
    **dict.fromkeys(("мкр", "мкрн", "микрорайон"), "микрорайон"),
    "тракт": "тракт",
    "аллея": "аллея",
}
# What registries of courts put before the street: country, region, district, city or settlement.
_LOCALITY = frozenset(
    (
        "россия", "рф", "обл", "область", "край", "респ", "республика", "ао", "округ", "р-н", "район",
        "г", "гор", "город", "п", "пос", "поселок", "пгт", "рп", "с", "село", "дер", "деревня", "ст-ца",
    )
)  # fmt: skip
_HOUSE_MARK = frozenset(("д", "дом"))
_CORPUS_MARK = frozenset(("к", "корп", "корпус"))
_STRUCTURE_MARK = frozenset(("стр", "строение"))
_FLAT_MARK = frozenset(("кв", "квартира"))
_LETTER_MARK = frozenset(("лит", "литер", "литера"))
_NUMBER_MARKS = _HOUSE_MARK | _CORPUS_MARK | _STRUCTURE_MARK | _FLAT_MARK | _LETTER_MARK
_STREET_NOISE = frozenset(("им", "имени", "я", "й", "ая", "ий", "ый", "ой"))  # «им. Ленина», «1-я»

_ADDRESS_TOKEN = re.compile(r"[а-яa-z0-9]+(?:[-/][а-яa-z0-9]+)*")
_POSTCODE = re.compile(r"\d{6}")
# «12», «12а», «12-а», «12/1», «12к2», «12с1», «12стр1», «12-45», «12кв45», «12а/1к2-45».
_HOUSE_VALUE = re.compile(
    r"(?P<number>\d+)(?:-?(?P<letter>[а-я]))?(?:/(?P<fraction>\d+[а-я]?))?"
    r"(?:(?:корп|к)(?P<corpus>\d+[а-я]?))?(?:(?:стр|с)(?P<structure>\d+))?"
    r"(?:(?:-|кв)(?P<flat>\d+[а-я]?))?"
)
_LETTER_FLAT = re.compile(r"(?P<letter>[а-я])(?:-(?P<flat>\d+[а-я]?))?")  # «А», «А-5» after «12»
_LEADING_ZEROS = re.compile(r"^0+(?=\d)")


def _address_tokens(segment: str) -> list[str]:
    return [_cyrillic_lookalikes(t) for t in _ADDRESS_TOKEN.findall(segment)]


def _split_at_markers(tokens: list[str]) -> list[list[str]]:
    """«г екатеринбург ул ленина д 12 кв 45» (no commas) → [г екатеринбург] [ул ленина] [д 12] [кв 45].

    A marker starts a new part when it is written before its value: a street type or a locality before a
    word, a house/flat/корпус marker before a number («к» alone only before a number, not «к. Маркса»).
    """
    parts: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        after = tokens[i + 2] if i + 2 < len(tokens) else ""
        # «ул. 8 Марта» starts a street; «Ленина ул. 12» ends one.
        names_follow = (
            following[:1].isalpha() or (following[:1].isdigit() and after[:1].isalpha())
        ) and not (following in _STREET_KINDS or following in _LOCALITY or following in _NUMBER_MARKS)
        starts = (
            (token in _STREET_KINDS and names_follow)
            or (token in _LOCALITY and names_follow and following[:1].isalpha())
            or (token in _NUMBER_MARKS and following[:1].isdigit())
        )
        if starts and parts[-1]:
            parts.append([])
        parts[-1].append(token)
    return [part for part in parts if part]


def _is_house_value(token: str) -> bool:
    return _HOUSE_VALUE.fullmatch(token) is not None


def _name_and_numbers(words: list[str]) -> tuple[list[str], list[str]]:
    """«8 марта 12-45» → ([8, марта], [12-45]): numbers after at least one word are the house."""
    for i, token in enumerate(words):
        if i and token[:1].isdigit() and any(w[:1].isalpha() for w in words[:i]):
            return words[:i], words[i:]
        if token in _NUMBER_MARKS and i + 1 < len(words) and words[i + 1][:1].isdigit():
            return words[:i], words[i:]
    return words, []


def _street_words(words: list[str]) -> tuple[str, ...]:
    split = [piece for word in words for piece in word.split("-")]
    return tuple(w for w in split if w and w not in _STREET_NOISE)


def parse_address(text: str) -> AddressKey:
    """«г. Екатеринбург, ул. Ленина, д. 12, кв. 45» and «Ленина ул., 12-45» → the same :class:`AddressKey`."""
    folded = fold(text).replace("№", " ")
    street: tuple[str, ...] = ()
    street_kind = ""
    plain: tuple[str, ...] = ()  # the last words written without a street type («Ленина, 12-45»)
    locality: tuple[
        str, ...
    ] = ()  # the last settlement: the street of a village address («с. Луговое, д. 5»)
    numbers: list[str] = []
    for segment in re.split(r"[,;]", folded):
        for part in _split_at_markers(_address_tokens(segment)):
            first, last = part[0], part[-1]
            if len(part) == 1 and _POSTCODE.fullmatch(first):
                continue
            kind_at = next((i for i, token in enumerate(part) if token in _STREET_KINDS), -1)
            if kind_at >= 0:  # «ул. Ленина 12», «Ленина ул. 12»
                street_kind = _STREET_KINDS[part[kind_at]]
                words, trailing = _name_and_numbers(part[:kind_at] + part[kind_at + 1 :])
                street, plain = _street_words(words), ()
                numbers += trailing
            elif first in _LOCALITY or last in _LOCALITY:
                locality = _street_words(part[1:] if first in _LOCALITY else part[:-1])
            elif first in _NUMBER_MARKS or _is_house_value(first):
                numbers += part
            else:
                words, trailing = _name_and_numbers(part)
                if not street:
                    plain = _street_words(words)
                numbers += trailing
    house, corpus, flat = _parse_numbers(numbers)
    if not street and not house:
        return AddressKey()  # a city alone («г. Екатеринбург») is no address
    return AddressKey(street or plain or locality, street_kind, house, corpus, flat)


def _parse_numbers(tokens: list[str]) -> tuple[str, str, str]:
    """House, корпус and flat from «д 12 а корп 2 кв 45», «12-45», «12/1», «12 45» (a bare second number
    is the flat)."""
    house = letter = fraction = corpus = structure = flat = ""
    target = ""
    for token in tokens:
        if token in _NUMBER_MARKS and target != "letter":
            target = next(
                name
                for name, marks in (
                    ("house", _HOUSE_MARK),
                    ("corpus", _CORPUS_MARK),
                    ("structure", _STRUCTURE_MARK),
                    ("flat", _FLAT_MARK),
                    ("letter", _LETTER_MARK),
                )
                if token in marks
            )
            continue
        value = _LEADING_ZEROS.sub("", token)
        if not target:
            if house and not letter and _LETTER_FLAT.fullmatch(token):
                target = "letter"  # «12 А», «12 А-5»
            elif not house:
                target = "house"
            elif not flat:
                target = "flat"  # «Ленина, 12, 45»
        if target == "house" and (match := _HOUSE_VALUE.fullmatch(token)):
            house = _LEADING_ZEROS.sub("", match["number"])
            letter = match["letter"] or ""
            fraction = _LEADING_ZEROS.sub("", match["fraction"] or "")
            corpus = _LEADING_ZEROS.sub("", match["corpus"] or "") or corpus
            structure = match["structure"] or structure
            flat = _LEADING_ZEROS.sub("", match["flat"] or "") or flat
        elif target == "letter" and (match := _LETTER_FLAT.fullmatch(token)):
            letter = match["letter"]
            flat = _LEADING_ZEROS.sub("", match["flat"] or "") or flat
        elif target == "corpus":
            corpus = value
        elif target == "structure":
            structure = value
        elif target == "flat":
            flat = value
        target = ""
    if not house:
        return "", corpus, flat
    full = house + letter + (f"/{fraction}" if fraction else "") + (f"стр{structure}" if structure else "")
    return full, corpus, flat


def building_key(address: str) -> str:
    """A key of the building the storage side can index and query candidates by: «ленина 12», «карла
    маркса 5/1 к2» (street words in order of the alphabet, house, корпус); empty when either is missing."""
    key = parse_address(address)
    if not key.street or not key.house:
        return ""
    return " ".join((*sorted(key.street), key.house, *((f"к{key.corpus}",) if key.corpus else ())))


def _token_fits(a: str, b: str) -> bool:
    if a == b:
        return True
    if a.isalpha() and b.isalpha():
        if min(len(a), len(b)) == 1:
            return a[0] == b[0]  # «К. Маркса»
        return max(len(a), len(b)) >= _MIN_GIVEN_FOR_TYPO and within_one_edit(a, b)
    return False


def street_similarity(registry: tuple[str, ...], ours: tuple[str, ...]) -> float:
    """1 for the same words, 0.9 when the words of one fit into the other's (an initial, a typo, a word
    left out: «К. Маркса», «Маркса» for «Карла Маркса»), otherwise 0."""
    if not registry or not ours:
        return 0.0
    if sorted(registry) == sorted(ours):
        return 1.0
    short, long_ = (registry, ours) if len(registry) <= len(ours) else (ours, registry)
    remaining = list(long_)
    for word in short:
        found = next((candidate for candidate in remaining if _token_fits(word, candidate)), None)
        if found is None:
            return 0.0
        remaining.remove(found)
    return 0.9


# Multipliers of the address score. A registry row without an address can be reviewed, never accepted.
_NO_ADDRESS = 0.7
_CONFLICT = 0.1  # another street, house or корпус: a different building
_OTHER_STREET_KIND = 0.3  # «пр. Ленина» for «ул. Ленина»: usually another street of the same name
_NO_HOUSE = 0.6
_ONE_CORPUS = 0.9
_OTHER_FLAT = 0.2  # a neighbour
_ONE_FLAT = 0.92  # a flat on one side only: a weaker match, flagged


@dataclass(frozen=True, slots=True)
class AddressComparison:
    score: float
    notes: tuple[str, ...]


def compare_addresses(registry_text: str, ours_text: str) -> AddressComparison:
    registry, ours = parse_address(registry_text), parse_address(ours_text)
    if registry.is_empty:
        return AddressComparison(_NO_ADDRESS, ("в реестре нет адреса",))
    if ours.is_empty:
        return AddressComparison(_NO_ADDRESS, ("у нас нет адреса",))
    differs = f"адрес не совпадает: в реестре «{registry_text.strip()}», у нас «{ours_text.strip()}»"
    street = street_similarity(registry.street, ours.street)
    if street == 0.0:
        return AddressComparison(_CONFLICT, (differs,))
    score, notes = street, []
    if street < 1.0:
        notes.append(
            f"улица записана иначе: в реестре «{registry_text.strip()}», у нас «{ours_text.strip()}»"
        )
    if registry.street_kind and ours.street_kind and registry.street_kind != ours.street_kind:
        return AddressComparison(_OTHER_STREET_KIND, (differs,))
    if not registry.house:
        score *= _NO_HOUSE
        notes.append("в реестре нет номера дома")
    elif ours.house and registry.house != ours.house:
        return AddressComparison(_CONFLICT, (differs,))
    if registry.corpus and ours.corpus and registry.corpus != ours.corpus:
        return AddressComparison(_CONFLICT, (differs,))
    if bool(registry.corpus) != bool(ours.corpus):
        score *= _ONE_CORPUS
        notes.append("корпус указан только " + ("в реестре" if registry.corpus else "у нас"))
    if registry.flat and ours.flat and registry.flat != ours.flat:
        score *= _OTHER_FLAT
        notes.append(f"квартира не совпадает: в реестре {registry.flat}, у нас {ours.flat}")
    elif ours.flat and not registry.flat:
        score *= _ONE_FLAT
        notes.append("в реестре нет квартиры")
    elif registry.flat and not ours.flat:
        score *= _ONE_FLAT
        notes.append(f"у нас в адресе нет квартиры (в реестре кв. {registry.flat})")
    return AddressComparison(round(score, 4), tuple(notes))


# --------------------------------------------------------------------------------------------- decision


@dataclass(frozen=True, slots=True)
class MatchRules:
    """Thresholds of the combined score (0..1) and the amount tolerance.

    ``accept`` 0.9: a full name with the full address (1.0), initials with the full address (0.96), a
    misspelt surname (0.95), a full name without the flat (0.92) are accepted; initials without the flat
    (0.88), a surname alone (0.78) or a name without an address (0.7) go to review. ``review`` 0.6: a
    contradicting first name (≤ 0.2) or patronymic (≤ 0.4), a neighbour's flat (0.2) or another building
    (0.1) is no match at all. ``margin`` 0.1: the best candidate is accepted only when every other is more
    than this below it. ``account_name_min`` 0.6: the name score under which the row's name contradicts the
    holder of the given account. ``amount_tolerance``: a larger difference between the amount claimed and
    the current debt is flagged.
    """

    accept: float = 0.9
    review: float = 0.6
    margin: float = 0.1
    account_name_min: float = 0.6
    amount_tolerance: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        if not 0.0 < self.review <= self.accept <= 1.0:
            raise ValueError(f"expected 0 < review <= accept <= 1, got {self.review} and {self.accept}")
        if not 0.0 <= self.margin < 1.0 or not 0.0 <= self.account_name_min <= 1.0:
            raise ValueError("margin and account_name_min are fractions of 1")
        if self.amount_tolerance < 0:
            raise ValueError(f"the amount tolerance is at least 0, got {self.amount_tolerance}")


@dataclass(frozen=True, slots=True)
class CaseEntry:
    """One row of a court's or bailiff's registry (or a lawyer's entry)."""

    row: int
    full_name: str
    address: str = ""
    account: str | None = None
    amount_claimed: Decimal | None = None
    case_number: str = ""
    court: str = ""  # the court, or the bailiffs' department


@dataclass(frozen=True, slots=True)
class Candidate:
    """A debtor of ours as stored: the address is one line."""

    debtor_id: int
    account: str
    full_name: str
    address: str
    debt: Decimal


@dataclass(frozen=True, slots=True)
class ScoredCandidate:
    candidate: Candidate
    score: float  # name_score × address_score
    name_score: float
    address_score: float
    notes: tuple[str, ...]  # this candidate's discrepancies, in Russian


class Outcome(StrEnum):
    EXACT_ACCOUNT = "exact_account"  # the account was given and found, and the name does not contradict it
    MATCHED = "matched"  # one candidate >= accept, no other within the margin
    AMBIGUOUS = "ambiguous"  # listed for the lawyer's decision; never chosen
    UNMATCHED = "unmatched"


@dataclass(frozen=True, slots=True)
class MatchResult:
    entry: CaseEntry
    outcome: Outcome
    chosen: ScoredCandidate | None  # set for EXACT_ACCOUNT and MATCHED only
    candidates: tuple[ScoredCandidate, ...]  # best first: those for the lawyer to look at
    discrepancies: tuple[str, ...]  # in Russian; for AMBIGUOUS each candidate carries its own notes too


def _rubles(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",") + " ₽"


def score_candidate(entry: CaseEntry, candidate: Candidate, rules: MatchRules) -> ScoredCandidate:
    """The candidate's combined score and its discrepancies with the entry."""
    names = compare_names(parse_name(entry.full_name), parse_name(candidate.full_name))
    address = compare_addresses(entry.address, candidate.address)
    notes: list[str] = []
    if spelt := names.spelling():
        pairs = ", ".join(f"{r}/{o}" for r, o in spelt)
        written, stored = " ".join(entry.full_name.split()), " ".join(candidate.full_name.split())
        notes.append(f"ФИО в реестре: {written}, у нас: {stored} — написание отличается ({pairs})")
    notes += address.notes
    claimed = entry.amount_claimed
    if claimed is not None and abs(claimed - candidate.debt) > rules.amount_tolerance:
        notes.append(f"сумма иска {_rubles(claimed)} ≠ текущий долг {_rubles(candidate.debt)}")
    entry_account = normalise_account(entry.account or "")
    if entry_account and entry_account != normalise_account(candidate.account):
        notes.append(f"ЛС в реестре {entry_account}, у должника {candidate.account}")
    return ScoredCandidate(
        candidate, round(names.score * address.score, 4), names.score, address.score, tuple(notes)
    )


def _ranked(entry: CaseEntry, candidates: Sequence[Candidate], rules: MatchRules) -> list[ScoredCandidate]:
    unique = {c.debtor_id: c for c in candidates}  # the storage may fetch a debtor by two keys
    scored = [score_candidate(entry, candidate, rules) for candidate in unique.values()]
    return sorted(scored, key=lambda s: (-s.score, s.candidate.debtor_id))


def match_one(
    entry: CaseEntry,
    by_account: Candidate | None,
    candidates: Sequence[Candidate],
    rules: MatchRules,
) -> MatchResult:
    """Match one registry row: by its account first, then by name + address (see the module docstring).

    ``by_account`` is the debtor whose account equals the entry's (after :func:`normalise_account`), or
    None when the entry has no account or it was not found; ``candidates`` are those fetched by
    :func:`candidate_key` and :func:`building_key`.
    """
    account = normalise_account(entry.account or "")
    if by_account is not None and (not account or normalise_account(by_account.account) != account):
        raise ValueError(f"by_account holds account {by_account.account!r}, the entry {entry.account!r}")
    entry_notes: list[str] = []
    if by_account is not None:
        held = score_candidate(entry, by_account, rules)
        if not parse_name(entry.full_name).surname:
            return MatchResult(
                entry, Outcome.EXACT_ACCOUNT, held, (held,), ("в реестре нет ФИО", *held.notes)
            )
        if held.name_score >= rules.account_name_min:
            return MatchResult(entry, Outcome.EXACT_ACCOUNT, held, (held,), held.notes)
        # A wrong account: the row names someone else. Never accepted on the account alone, and not on
        # name + address either — the lawyer decides between the account holder and any namesake found.
        others = [
            s for s in _ranked(entry, candidates, rules) if s.candidate.debtor_id != by_account.debtor_id
        ]
        listed = (held, *(s for s in others if s.score >= rules.review))
        conflict = (
            f"ЛС {account} у нас принадлежит: {' '.join(by_account.full_name.split())}, "
            f"в реестре: {' '.join(entry.full_name.split())} — ФИО не совпадает"
        )
        return MatchResult(entry, Outcome.AMBIGUOUS, None, listed, (conflict,))
    if account:
        entry_notes.append(f"ЛС {account} не найден в списке должников")
    ranked = [s for s in _ranked(entry, candidates, rules) if s.score >= rules.review]
    if not ranked:
        return MatchResult(entry, Outcome.UNMATCHED, None, (), tuple(entry_notes))
    top = ranked[0]
    near = [s for s in ranked[1:] if top.score - s.score < rules.margin]
    if top.score >= rules.accept and not near:
        return MatchResult(entry, Outcome.MATCHED, top, tuple(ranked), (*entry_notes, *top.notes))
    return MatchResult(entry, Outcome.AMBIGUOUS, None, tuple(ranked), tuple(entry_notes))
