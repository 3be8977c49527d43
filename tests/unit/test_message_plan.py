"""The personalised message's plan: segments in order, correct Russian forms, the completion mark."""

from __future__ import annotations

from decimal import Decimal

import pytest
from num2words import num2words

from dialer.core.message_plan import PHRASES, SEGMENTS, DebtorFacts, account_prompts, plan_message
from dialer.core.russian_numbers import WORDS, say


def words(prompts: tuple[str, ...] | list[str]) -> str:
    return " ".join(WORDS.get(p) or PHRASES[p] for p in prompts)


def test_the_segments_come_in_order_and_say_the_facts() -> None:
    plan = plan_message(DebtorFacts(account="12-034", debt=Decimal("21001.02"), months_overdue=22))
    assert [s.name for s in plan.segments] == list(SEGMENTS)
    by_name = {s.name: s.prompts for s in plan.segments}
    assert by_name["greeting"] == ("msg/greeting", "org/name")
    assert say(list(by_name["account"][1:])) == "один два ноль три четыре"
    assert say(list(by_name["amount"][1:])) == "двадцать одна тысяча один рубль две копейки"
    assert say(list(by_name["months"][1:])) == "двадцать два месяца"
    assert plan.completion == "payment" and plan.completion_index == SEGMENTS.index("payment")
    assert plan.prompts()[0] == "msg/greeting" and plan.prompts()[-1] == "msg/menu"


@pytest.mark.parametrize(
    ("months", "expected"),
    [(1, "один месяц"), (2, "два месяца"), (5, "пять месяцев"), (11, "одиннадцать месяцев"),
     (21, "двадцать один месяц"), (104, "сто четыре месяца")],
)  # fmt: skip
def test_months_take_the_right_form(months: int, expected: str) -> None:
    plan = plan_message(DebtorFacts(account="1", debt=Decimal(1), months_overdue=months))
    (segment,) = [s for s in plan.segments if s.name == "months"]
    assert say(list(segment.prompts[1:])) == expected
    assert say(list(segment.prompts[1:-1])) == num2words(months, lang="ru")


def test_no_months_segment_when_not_overdue_and_the_completion_is_configurable() -> None:
    plan = plan_message(DebtorFacts(account="7", debt=Decimal("0.5"), months_overdue=0), completion="amount")
    assert "months" not in [s.name for s in plan.segments]
    assert plan.completion_index == 2
    assert words(plan.segments[2].prompts).endswith("ноль рублей пятьдесят копеек")


def test_every_prompt_has_text_to_record() -> None:
    plan = plan_message(DebtorFacts(account="9081726354", debt=Decimal("5000000.99"), months_overdue=13))
    missing = [p for p in plan.prompts() if p not in WORDS and p not in PHRASES]
    assert missing == []


@pytest.mark.parametrize(
    ("facts", "completion", "message"),
    [
        (DebtorFacts("1", Decimal(1), 1), "nowhere", "completion must be one of"),
        (DebtorFacts("1", Decimal(1), -1), "payment", "cannot be negative"),
        (DebtorFacts("Л/С", Decimal(1), 1), "payment", "has no digits"),
        (DebtorFacts("1", Decimal(-1), 1), "payment", "cannot be negative"),
    ],
)
def test_bad_facts_are_refused_with_a_clear_reason(facts: DebtorFacts, completion: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plan_message(facts, completion=completion)


def test_account_digits_skip_separators() -> None:
    assert account_prompts("0-1 2") == ["num/0", "num/1", "num/2"]
