"""The personalised message as named segments of prompt ids (pure): what the debtor hears, in order.

greeting (who is calling) → account number (digit by digit) → «задолженность … составляет» + the amount
in rubles and kopecks → months overdue → how and where to pay → consequences → the menu. Which segment
marks "heard the whole message" is configurable (default: the end of the payment instructions). The IVR
flow plays these segments and measures each; the sound pipeline records or synthesises every prompt in
:data:`PHRASES` and :data:`dialer.core.russian_numbers.WORDS`.

The organisation's own name is a prompt too (``org/name``): recorded per installation, synthesised as a
placeholder from the configured name until then.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dialer.core.russian_numbers import Gender, money_prompts, noun_prompt, number_prompts

SEGMENTS = ("greeting", "account", "amount", "months", "payment", "consequences", "menu")
DEFAULT_COMPLETION = "payment"

# Fixed phrases: prompt id -> Russian text (the sound pipeline's manifest adds the number words).
PHRASES: dict[str, str] = {
    "msg/greeting": "Здравствуйте! Вас беспокоит",
    "msg/account": "По лицевому счёту номер",
    "msg/debt-is": "задолженность по оплате жилищно-коммунальных услуг составляет",
    "msg/months-overdue": "Срок задолженности —",
    "msg/payment": (
        "Оплатить задолженность можно в отделениях банков, в почтовых отделениях, через банкомат или "
        "мобильное приложение банка по номеру лицевого счёта, а также в кассе управляющей компании."
    ),
    "msg/consequences": (
        "При непогашении задолженности в течение двадцати дней предоставление коммунальной услуги может быть "
        "ограничено, а задолженность взыскана в судебном порядке."
    ),
    "msg/menu": (
        "Чтобы прослушать сообщение ещё раз, нажмите один. Если вы обещаете оплатить задолженность, "
        "нажмите два. Чтобы соединиться с оператором, нажмите ноль."
    ),
    "msg/goodbye": "Спасибо. До свидания!",
    "msg/promise-recorded": "Спасибо, ваше обещание оплатить задолженность записано.",
    "msg/connecting": "Соединяю с оператором.",
    "org/name": "",  # the organisation's name: from the configuration until a recording is imported
}
DIGIT_PROMPTS = {str(d): f"num/{d}" for d in range(10)}


@dataclass(frozen=True, slots=True)
class DebtorFacts:
    """What the message says about one debtor (the organisation's name is a prompt of its own)."""

    account: str
    debt: Decimal
    months_overdue: int


@dataclass(frozen=True, slots=True)
class Segment:
    name: str
    prompts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MessagePlan:
    segments: tuple[Segment, ...]
    completion: str  # the segment whose end means "heard the whole message"

    @property
    def completion_index(self) -> int:
        return [s.name for s in self.segments].index(self.completion)

    def prompts(self) -> list[str]:
        return [p for segment in self.segments for p in segment.prompts]


def account_prompts(account: str) -> list[str]:
    """The account number digit by digit («один два три …»); other characters (dashes, letters) are
    skipped, since a listener copies the digits. Refuses an account without any digit."""
    digits = [DIGIT_PROMPTS[c] for c in account if c in DIGIT_PROMPTS]
    if not digits:
        raise ValueError(f"account {account!r} has no digits to say")
    return digits


def plan_message(facts: DebtorFacts, *, completion: str = DEFAULT_COMPLETION) -> MessagePlan:
    """The debtor's message. ``completion`` names the segment whose end counts as heard in full."""
    if completion not in SEGMENTS:
        raise ValueError(f"completion must be one of {', '.join(SEGMENTS)}, not {completion!r}")
    if facts.months_overdue < 0:
        raise ValueError("months overdue cannot be negative")
    segments = [
        Segment("greeting", ("msg/greeting", "org/name")),
        Segment("account", ("msg/account", *account_prompts(facts.account))),
        Segment("amount", ("msg/debt-is", *money_prompts(facts.debt))),
    ]
    if facts.months_overdue > 0:
        months = facts.months_overdue
        segments.append(
            Segment(
                "months",
                (
                    "msg/months-overdue",
                    *number_prompts(months, Gender.MASCULINE),
                    noun_prompt("month", months),
                ),
            )
        )
    segments += [
        Segment("payment", ("msg/payment",)),
        Segment("consequences", ("msg/consequences",)),
        Segment("menu", ("msg/menu",)),
    ]
    return MessagePlan(tuple(segments), completion)
