"""Matching court and bailiff registry rows to the debtor list: normalisation tables and decisions."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest

from debtors.legal_matching import (
    AddressKey,
    Candidate,
    CaseEntry,
    MatchResult,
    MatchRules,
    Outcome,
    PartMatch,
    PersonName,
    building_key,
    candidate_key,
    compare_addresses,
    compare_given,
    compare_surnames,
    fold,
    match_one,
    normalise_account,
    parse_address,
    parse_name,
    street_similarity,
    within_one_edit,
)

RULES = MatchRules()

# --------------------------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  ИВАНОВ\u00a0 Иван  ", "иванов иван"),
        ("Семёнов", "семенов"),
        ("Петрова–Водкина", "петрова-водкина"),
        ("", ""),
    ],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Иванов И.И.", PersonName("иванов", "и", "и")),
        ("Иванов И. И.", PersonName("иванов", "и", "и")),
        ("ИВАНОВ ИВАН ИВАНОВИЧ", PersonName("иванов", "иван", "иванович")),
        ("Иванов Иван", PersonName("иванов", "иван")),
        ("Иванов", PersonName("иванов")),
        ("И.И. Иванов", PersonName("иванов", "и", "и")),
        ("  иванов ,  иван   иванович ", PersonName("иванов", "иван", "иванович")),
        ("Семёнова Алёна Петровна", PersonName("семенова", "алена", "петровна")),
        ("Петрова - Водкина А.В.", PersonName("петрова-водкина", "а", "в")),
        ("Петрова–Водкина Анна", PersonName("петрова-водкина", "анна")),
        ("Мамедов Ахмед Рашид оглы", PersonName("мамедов", "ахмед", "рашид оглы")),
        ("Ивaнов A.B.", PersonName("иванов", "а", "в")),  # Latin «a», «A», «B» typed for Cyrillic ones
        ("", PersonName("")),
        (" ., ", PersonName("")),
    ],
)
def test_parse_name(text: str, expected: PersonName) -> None:
    assert parse_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("г. Екатеринбург, ул. Ленина, д. 12, кв. 45", AddressKey(("ленина",), "улица", "12", "", "45")),
        ("ул. Ленина, 12-45", AddressKey(("ленина",), "улица", "12", "", "45")),
        ("ул.Ленина,д.12,кв.45", AddressKey(("ленина",), "улица", "12", "", "45")),
        ("Ленина, 12-45", AddressKey(("ленина",), "", "12", "", "45")),
        ("Екатеринбург, Ленина, 12, 45", AddressKey(("ленина",), "", "12", "", "45")),
        ("Екатеринбург г, Ленина ул, д 12, кв 045", AddressKey(("ленина",), "улица", "12", "", "45")),
        ("г екатеринбург ул ленина д 12 кв 45", AddressKey(("ленина",), "улица", "12", "", "45")),
        (
            "620000, Свердловская обл., г. Екатеринбург, ул. Ленина, д. 12, корп. 1, кв. 45",
            AddressKey(("ленина",), "улица", "12", "1", "45"),
        ),
        ("УЛИЦА ЛЕНИНА, ДОМ 12, КОРПУС 1, КВАРТИРА 45", AddressKey(("ленина",), "улица", "12", "1", "45")),
        ("ул. Ленина, 12к1-45", AddressKey(("ленина",), "улица", "12", "1", "45")),
        ("ул. Ленина, д. 12 к. 1", AddressKey(("ленина",), "улица", "12", "1", "")),
        ("пр. Ленина, 12а", AddressKey(("ленина",), "проспект", "12а", "", "")),
        ("пр-т Ленина, 12 А-5", AddressKey(("ленина",), "проспект", "12а", "", "5")),
        ("проспект Ленина, д. 12-а, кв. 5", AddressKey(("ленина",), "проспект", "12а", "", "5")),
        ("Ленина пр., 12 лит. Б", AddressKey(("ленина",), "проспект", "12б", "", "")),
        ("ул. Ленина, 12a-45", AddressKey(("ленина",), "улица", "12а", "", "45")),  # a Latin «a»
        ("пер. Тихий, д. 12/1, кв. 3", AddressKey(("тихий",), "переулок", "12/1", "", "3")),
        ("переулок Тихий, 12/1-3", AddressKey(("тихий",), "переулок", "12/1", "", "3")),
        ("б-р Культуры, 7 стр. 2", AddressKey(("культуры",), "бульвар", "7стр2", "", "")),
        ("бульвар Культуры, д. 7, строение 2", AddressKey(("культуры",), "бульвар", "7стр2", "", "")),
        ("ш. Московское, 3", AddressKey(("московское",), "шоссе", "3", "", "")),
        ("Московское шоссе, д.3", AddressKey(("московское",), "шоссе", "3", "", "")),
        ("пл. Труда, 1", AddressKey(("труда",), "площадь", "1", "", "")),
        ("площадь Труда, д. 1", AddressKey(("труда",), "площадь", "1", "", "")),
        ("ул. 8 Марта, д. 12, кв. 7", AddressKey(("8", "марта"), "улица", "12", "", "7")),
        ("ул 8 марта 12-7", AddressKey(("8", "марта"), "улица", "12", "", "7")),
        ("ул. 40-летия Октября, 3, 15", AddressKey(("40", "летия", "октября"), "улица", "3", "", "15")),
        ("ул. Мамина-Сибиряка, 101", AddressKey(("мамина", "сибиряка"), "улица", "101", "", "")),
        ("ул. им. Ленина, 12", AddressKey(("ленина",), "улица", "12", "", "")),
        ("Сёмёновская ул 12кв45", AddressKey(("семеновская",), "улица", "12", "", "45")),
        ("с. Луговое, д. 5", AddressKey(("луговое",), "", "5", "", "")),
        ("г. Екатеринбург", AddressKey()),
        ("", AddressKey()),
    ],
)
def test_parse_address(text: str, expected: AddressKey) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0012345", "0012345"),
        (" 00 12 345 ", "0012345"),
        ("ЛС 0012345", "0012345"),
        ("л/с 0012345", "0012345"),
        ("Л/С№ 0012345", "0012345"),
        ("лс. 12345", "12345"),
        ("Лицевой счёт № 0012345", "0012345"),
        ("12-345/1", "12-345/1"),  # a separator inside an account is part of it
        ("", ""),
    ],
)
def test_normalise_account_keeps_leading_zeros(text: str, expected: str) -> None:
    assert normalise_account(text) == expected


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ИВАНОВА Анна", "иванова"),
        ("Иванова А.В.", "иванова"),
        ("А.В. Иванова", "иванова"),
        ("Семёнов С.С.", "семенов"),
        ("Петрова - Водкина А.", "петрова-водкина"),
        ("", ""),
    ],
)
def test_candidate_key_is_the_normalised_surname(name: str, key: str) -> None:
    assert candidate_key(name) == key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("г. Екатеринбург, ул. Ленина, д. 12, кв. 45", "ленина 12"),
        ("Ленина, 12-46", "ленина 12"),
        ("ул. Карла Маркса, 5, корп. 2, кв. 1", "карла маркса 5 к2"),
        ("ул. Ленина, 12а-1", "ленина 12а"),
        ("ул. Ленина", ""),
        ("", ""),
    ],
)
def test_building_key(address: str, key: str) -> None:
    assert building_key(address) == key


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("иванова", "иванова", True),
        ("иванова", "иваннова", True),  # one added
        ("иванова", "ивановa", True),  # a Latin «a»: one letter replaced
        ("иванова", "иннова", False),
        ("иванова", "иваново", True),  # one replaced
        ("иванова", "ивнаова", True),  # two swapped
        ("иванова", "иванва", True),  # one removed
        ("иванова", "ивнова", True),
        ("иванова", "ивашкова", False),
        ("иванова", "иванов", True),
        ("абв", "вба", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert within_one_edit(a, b) is expected


@pytest.mark.parametrize(
    ("registry", "ours", "expected"),
    [
        ("иванова", "иванова", PartMatch.SAME),
        ("иванова", "иваннова", PartMatch.SPELLING),
        ("иванов", "иванова", PartMatch.CONTRADICTS),  # husband and wife, not a typo
        ("кузнецова", "кузнецов", PartMatch.CONTRADICTS),
        ("петрова", "петрова-водкина", PartMatch.SPELLING),
        ("ким", "кем", PartMatch.CONTRADICTS),  # too short to call a typo
        ("попов", "попова", PartMatch.CONTRADICTS),
        ("сидоров", "иванов", PartMatch.CONTRADICTS),
        ("", "иванов", PartMatch.MISSING),
    ],
)
def test_compare_surnames(registry: str, ours: str, expected: PartMatch) -> None:
    assert compare_surnames(registry, ours) is expected


@pytest.mark.parametrize(
    ("registry", "ours", "expected"),
    [
        ("анна", "анна", PartMatch.SAME),
        ("а", "анна", PartMatch.INITIAL),
        ("анна", "а", PartMatch.INITIAL),
        ("а", "а", PartMatch.INITIAL),
        ("б", "анна", PartMatch.CONTRADICTS),
        ("наталия", "наталья", PartMatch.SPELLING),
        ("анна", "алла", PartMatch.CONTRADICTS),  # a short name must agree exactly
        ("иванович", "ивановна", PartMatch.CONTRADICTS),
        ("", "анна", PartMatch.MISSING),
    ],
)
def test_compare_given(registry: str, ours: str, expected: PartMatch) -> None:
    assert compare_given(registry, ours) is expected


@pytest.mark.parametrize(
    ("registry", "ours", "expected"),
    [
        (("ленина",), ("ленина",), 1.0),
        (("к", "маркса"), ("карла", "маркса"), 0.9),
        (("маркса",), ("карла", "маркса"), 0.9),
        (("ленинна",), ("ленина",), 0.9),  # a typo
        (("лени",), ("ленина",), 0.0),
        (("мира",), ("ленина",), 0.0),
        ((), ("ленина",), 0.0),
    ],
)
def test_street_similarity(registry: tuple[str, ...], ours: tuple[str, ...], expected: float) -> None:
    assert street_similarity(registry, ours) == expected


@pytest.mark.parametrize(
    ("registry", "ours", "score", "notes"),
    [
        ("г. Екатеринбург, ул. Ленина, д. 12, кв. 45", "ул. Ленина, 12-45", 1.0, ()),
        ("ул. Ленина, д. 12", "ул. Ленина, 12-45", 0.92, ("в реестре нет квартиры",)),
        ("ул. Ленина, 12-45", "ул. Ленина, 12", 0.92, ("у нас в адресе нет квартиры (в реестре кв. 45)",)),
        ("ул. Ленина, 12-46", "ул. Ленина, 12-45", 0.2, ("квартира не совпадает: в реестре 46, у нас 45",)),
        ("ул. Ленина, 12к2-45", "ул. Ленина, 12-45", 0.9, ("корпус указан только в реестре",)),
        ("", "ул. Ленина, 12-45", 0.7, ("в реестре нет адреса",)),
        ("ул. Ленина", "ул. Ленина, 12-45", 0.552, ("в реестре нет номера дома", "в реестре нет квартиры")),
    ],
)
def test_compare_addresses(registry: str, ours: str, score: float, notes: tuple[str, ...]) -> None:
    compared = compare_addresses(registry, ours)
    assert (compared.score, compared.notes) == (score, notes)


@pytest.mark.parametrize(
    "registry",
    [
        "ул. Ленина, 14-45",  # another house
        "ул. Ленина, 12а-45",  # a house with a letter is another building
        "ул. Мира, 12-45",  # another street
        "пр. Ленина, 12-45",  # another street of the same name
        "ул. Ленина, 12к2-45",  # another корпус (ours has корпус 1)
    ],
)
def test_another_building_scores_low(registry: str) -> None:
    compared = compare_addresses(registry, "ул. Ленина, 12 корп. 1, кв. 45")
    assert compared.score < RULES.review
    assert compared.notes[0].startswith("адрес не совпадает")


@pytest.mark.parametrize(
    "rules",
    [
        {"accept": 0.5, "review": 0.6},
        {"accept": 1.1},
        {"review": 0.0},
        {"margin": -0.1},
        {"amount_tolerance": Decimal("-1")},
    ],
)
def test_rules_refuse_nonsense(rules: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        MatchRules(**rules)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------- matching

DEBTORS = (
    Candidate(1, "0012345", "Иванов Иван Иванович", "ул. Ленина, 12-45", Decimal("10000.00")),
    Candidate(2, "0020001", "Семёнова Алёна Петровна", "пр-т Ленина, 5-10", Decimal("5000.00")),
    Candidate(3, "0030001", "Иваннова Анна Викторовна", "ул. Мира, 3-7", Decimal("8000.00")),
    Candidate(4, "0040001", "Кузнецов Игорь Ильич", "ул. Ленина, 14-1", Decimal("700.00")),
    Candidate(5, "0040002", "Кузнецов Иван Ильич", "ул. Ленина, 14-2", Decimal("900.00")),
    Candidate(6, "0050001", "Смирнов Олег Павлович", "ул. Мира, 1-1", Decimal("100.00")),
    Candidate(7, "0050002", "Смирнов Олег Павлович", "ул. Гагарина, 2-2", Decimal("200.00")),
    Candidate(8, "0060001", "Петрова Мария Сергеевна", "ул. Гагарина, 9-9", Decimal("300.00")),
    Candidate(9, "0070001", "Орлов Олег Олегович", "ул. Садовая, 1-1", Decimal("400.00")),
    Candidate(10, "0070002", "Орлов Олег Олегович", "ул. Садовая, 1", Decimal("400.00")),
)


def fetch(
    entry: CaseEntry, debtors: Sequence[Candidate] = DEBTORS
) -> tuple[Candidate | None, list[Candidate]]:
    """What the storage side does: the debtor by account, candidates by surname or building."""
    account = normalise_account(entry.account or "")
    by_account = next((d for d in debtors if account and normalise_account(d.account) == account), None)
    surname, building = candidate_key(entry.full_name), building_key(entry.address)
    found = [
        d
        for d in debtors
        if (surname and candidate_key(d.full_name) == surname)
        or (building and building_key(d.address) == building)
    ]
    return by_account, found


def match(
    full_name: str,
    address: str = "",
    account: str | None = None,
    amount: str | None = None,
    rules: MatchRules = RULES,
) -> MatchResult:
    entry = CaseEntry(
        row=7,
        full_name=full_name,
        address=address,
        account=account,
        amount_claimed=Decimal(amount) if amount is not None else None,
        case_number="2-123/2026",
        court="Мировой судья судебного участка № 3 Ленинского района",
    )
    by_account, candidates = fetch(entry)
    return match_one(entry, by_account, candidates, rules)


def ids(result: MatchResult) -> list[int]:
    return [s.candidate.debtor_id for s in result.candidates]


@pytest.mark.parametrize(
    ("full_name", "address", "debtor_id", "score"),
    [
        ("Иванов Иван Иванович", "ул. Ленина, 12-45", 1, 1.0),
        ("ИВАНОВ ИВАН ИВАНОВИЧ", "г. Екатеринбург, ул. Ленина, д. 12, кв. 45", 1, 1.0),
        ("Иванов И.И.", "г. Екатеринбург, ул. Ленина, д. 12, кв. 45", 1, 0.9604),
        (
            "Иванов И. И.",
            "620000, Свердловская обл., г. Екатеринбург, Ленина ул., дом 12, кв. 045",
            1,
            0.9604,
        ),
        ("Семенова Алена Петровна", "г. Екатеринбург, проспект Ленина, д. 5, кв. 10", 2, 1.0),
        ("Семенова Алена Петровна", "пр. Ленина, д. 5", 2, 0.92),  # no flat: weaker, still accepted
        ("Иванова А.В.", "г. Екатеринбург, ул. Мира, д. 3, кв. 7", 3, 0.9124),  # found by its building
    ],
)
def test_fuzzy_match(full_name: str, address: str, debtor_id: int, score: float) -> None:
    result = match(full_name, address)
    assert result.outcome is Outcome.MATCHED
    assert result.chosen is not None
    assert (result.chosen.candidate.debtor_id, result.chosen.score) == (debtor_id, score)


def test_exact_account_still_compares_name_address_and_amount() -> None:
    result = match(
        "ИВАНОВ ИВАН ИВАНОВИЧ", "г. Екатеринбург, ул. Ленина, д. 12", account="л/с 0012345", amount="12345.67"
    )
    assert result.outcome is Outcome.EXACT_ACCOUNT
    assert result.chosen is not None and result.chosen.candidate.debtor_id == 1
    assert result.discrepancies == (
        "в реестре нет квартиры",
        "сумма иска 12 345,67 ₽ ≠ текущий долг 10 000,00 ₽",
    )


def test_exact_account_with_the_same_amount_has_no_discrepancy() -> None:
    result = match("Иванов Иван Иванович", "ул. Ленина, 12-45", account="0012345", amount="10000.00")
    assert (result.outcome, result.discrepancies) == (Outcome.EXACT_ACCOUNT, ())


@pytest.mark.parametrize(
    ("tolerance", "flagged"),
    [(Decimal("0.00"), True), (Decimal("0.50"), True), (Decimal("1.00"), False)],
)
def test_amount_tolerance(tolerance: Decimal, flagged: bool) -> None:
    result = match(
        "Иванов Иван Иванович",
        "ул. Ленина, 12-45",
        account="0012345",
        amount="10001.00",
        rules=MatchRules(amount_tolerance=tolerance),
    )
    assert ("сумма иска 10 001,00 ₽ ≠ текущий долг 10 000,00 ₽" in result.discrepancies) is flagged


def test_exact_account_without_a_name_is_accepted_and_flagged() -> None:
    result = match("", "", account="0012345")
    assert result.outcome is Outcome.EXACT_ACCOUNT
    assert result.discrepancies[0] == "в реестре нет ФИО"


def test_exact_account_with_initials_and_a_surname_alone() -> None:
    assert match("Иванов И.", account="0012345").outcome is Outcome.EXACT_ACCOUNT
    assert match("Иванов", account="0012345").outcome is Outcome.EXACT_ACCOUNT


def test_spelling_discrepancy_is_flagged() -> None:
    result = match("Иванова А.В.", "г. Екатеринбург, ул. Мира, д. 3, кв. 7")
    assert result.outcome is Outcome.MATCHED
    assert result.discrepancies == (
        "ФИО в реестре: Иванова А.В., у нас: Иваннова Анна Викторовна"
        " — написание отличается (Иванова/Иваннова)",
    )


def test_spelling_discrepancy_under_the_account_is_flagged() -> None:
    result = match("Иванова Анна Викторовна", "ул. Мира, 3-7", account="0030001")
    assert result.outcome is Outcome.EXACT_ACCOUNT
    assert "написание отличается (Иванова/Иваннова)" in result.discrepancies[0]


def test_wrong_account_goes_to_the_lawyer_with_the_namesake() -> None:
    # The account is Иванов's; the row names Петрова, who is a debtor of ours under another account.
    result = match("Петрова Мария Сергеевна", "ул. Гагарина, 9-9", account="0012345")
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.chosen is None
    assert ids(result) == [1, 8]  # the account holder first, then the name + address match
    assert result.discrepancies == (
        "ЛС 0012345 у нас принадлежит: Иванов Иван Иванович, в реестре: Петрова Мария Сергеевна"
        " — ФИО не совпадает",
    )


@pytest.mark.parametrize(
    "full_name",
    [
        "Иванова Ирина Ивановна",  # the wife: «Иванова» for «Иванов» is not a typo
        "Иванов Пётр Иванович",  # another first name
        "Иванов Иван Петрович",  # another patronymic
    ],
)
def test_account_holder_contradicted_by_the_name_is_not_accepted(full_name: str) -> None:
    result = match(full_name, "ул. Ленина, 12-45", account="0012345")
    assert result.outcome is Outcome.AMBIGUOUS
    assert ids(result)[0] == 1
    assert result.discrepancies[0].endswith("ФИО не совпадает")


def test_account_dropped_leading_zeros_is_not_found_but_name_and_address_match() -> None:
    result = match("Иванов Иван Иванович", "ул. Ленина, 12-45", account="12345")
    assert result.outcome is Outcome.MATCHED
    assert result.chosen is not None and result.chosen.candidate.debtor_id == 1
    assert result.discrepancies == (
        "ЛС 12345 не найден в списке должников",
        "ЛС в реестре 12345, у должника 0012345",
    )


def test_two_namesakes_in_one_building_without_a_flat() -> None:
    result = match("Кузнецов И.И.", "ул. Ленина, д. 14")
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.chosen is None
    assert ids(result) == [4, 5]
    assert [s.score for s in result.candidates] == [0.8836, 0.8836]
    assert all("в реестре нет квартиры" in s.notes for s in result.candidates)


def test_the_flat_tells_the_namesakes_in_one_building_apart() -> None:
    result = match("Кузнецов И.И.", "ул. Ленина, д. 14, кв. 2")
    assert result.outcome is Outcome.MATCHED
    assert result.chosen is not None and result.chosen.candidate.debtor_id == 5


def test_same_name_in_two_buildings_and_no_address() -> None:
    result = match("Смирнов Олег Павлович")
    assert result.outcome is Outcome.AMBIGUOUS
    assert ids(result) == [6, 7]
    assert all("в реестре нет адреса" in s.notes for s in result.candidates)


def test_name_alone_is_never_accepted_even_for_a_single_candidate() -> None:
    result = match("Петрова Мария Сергеевна")
    assert (result.outcome, ids(result)) == (Outcome.AMBIGUOUS, [8])


def test_score_between_review_and_accept_is_listed_not_chosen() -> None:
    result = match("Иванов И.И.", "ул. Ленина, д. 12")  # initials and no flat
    assert result.outcome is Outcome.AMBIGUOUS
    assert result.chosen is None
    assert [(s.candidate.debtor_id, s.score) for s in result.candidates] == [(1, 0.8836)]


def test_a_runner_up_within_the_margin_makes_it_ambiguous() -> None:
    # Orlov 9 has the flat; Orlov 10 is stored without one: 1.0 and 0.92 are within the margin of 0.1.
    assert match("Орлов Олег Олегович", "ул. Садовая, 1-1").outcome is Outcome.AMBIGUOUS
    narrow = MatchRules(margin=0.05)
    result = match("Орлов Олег Олегович", "ул. Садовая, 1-1", rules=narrow)
    assert result.outcome is Outcome.MATCHED
    assert result.chosen is not None and result.chosen.candidate.debtor_id == 9


@pytest.mark.parametrize(
    ("full_name", "address"),
    [
        ("Сидоров Сидор Сидорович", "ул. Ленина, 12-45"),  # nobody of that name
        ("Иванов Пётр Иванович", "ул. Ленина, 12-45"),  # the first name contradicts
        ("Иванов Иван Иванович", "ул. Ленина, 12-46"),  # a neighbour's flat
        ("Иванов Иван Иванович", "ул. Гагарина, 12-45"),  # another street
        ("", "ул. Ленина, 12-45"),  # no name
    ],
)
def test_unmatched(full_name: str, address: str) -> None:
    result = match(full_name, address)
    assert (result.outcome, result.chosen, result.candidates) == (Outcome.UNMATCHED, None, ())


def test_unmatched_with_an_unknown_account_says_so() -> None:
    result = match("Сидоров Сидор Сидорович", "ул. Ленина, 12-45", account="ЛС 999")
    assert (result.outcome, result.discrepancies) == (
        Outcome.UNMATCHED,
        ("ЛС 999 не найден в списке должников",),
    )


def test_a_debtor_fetched_twice_is_scored_once() -> None:
    entry = CaseEntry(1, "Иванов Иван Иванович", "ул. Ленина, 12-45")
    result = match_one(entry, None, [DEBTORS[0], DEBTORS[0]], RULES)
    assert (result.outcome, ids(result)) == (Outcome.MATCHED, [1])


def test_by_account_must_hold_the_entrys_account() -> None:
    entry = CaseEntry(1, "Иванов Иван Иванович", account="0020001")
    with pytest.raises(ValueError):
        match_one(entry, DEBTORS[0], [], RULES)
    with pytest.raises(ValueError):
        match_one(CaseEntry(1, "Иванов Иван Иванович"), DEBTORS[0], [], RULES)
