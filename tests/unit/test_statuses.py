"""The status decision table (pure): every transition of ../shared/DOMAIN.md, with a fixed clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from debtors.statuses import (
    AgreementFacts,
    DebtorFacts,
    PromiseFacts,
    Status,
    StatusRules,
    current_debt,
    decide,
    missed_instalment,
)

RULES = StatusRules(tolerance=Decimal("0.00"), instalment_grace_days=5, promise_grace_days=3)
D = Decimal


def agreement(payments: tuple[tuple[date, Decimal], ...] = ()) -> AgreementFacts:
    return AgreementFacts(
        agreement_id=1,
        kind="instalment",
        number="17",
        registered_on=date(2026, 11, 20),
        instalments=((date(2026, 12, 1), D("4000")), (date(2027, 1, 1), D("4000"))),
        payments=payments,
    )


@pytest.mark.parametrize(
    ("facts", "today", "status", "reason_part", "agreement_outcome", "promise_outcome"),
    [
        (DebtorFacts(Status.ACTIVE, D("0.00")), date(2026, 12, 1), Status.PAID, "не выше порога", None, None),
        (DebtorFacts(Status.ACTIVE, D("-5")), date(2026, 12, 1), Status.PAID, "не выше порога", None, None),
        (
            DebtorFacts(Status.PAID, D("100")),
            date(2026, 12, 1),
            Status.ACTIVE,
            "новая задолженность",
            None,
            None,
        ),
        (
            DebtorFacts(Status.ACTIVE, D("100"), agreement=agreement()),
            date(2026, 11, 21),
            Status.STOPPED,
            "зарегистрировано соглашение (рассрочка) №17",
            None,
            None,
        ),
        # due 1 Dec + 5 days grace: still «СТОП!» on 6 Dec, broken on 7 Dec
        (
            DebtorFacts(Status.STOPPED, D("8000"), agreement=agreement()),
            date(2026, 12, 6),
            Status.STOPPED,
            "соглашение",
            None,
            None,
        ),
        (
            DebtorFacts(Status.STOPPED, D("8000"), agreement=agreement()),
            date(2026, 12, 7),
            Status.ACTIVE,
            "нарушено: платёж до 01.12.2026",
            "broken",
            None,
        ),
        (
            DebtorFacts(Status.STOPPED, D("4000"), agreement=agreement(((date(2026, 12, 5), D("4000")),))),
            date(2026, 12, 20),
            Status.STOPPED,
            "соглашение",
            None,
            None,
        ),
        # a payment before the agreement does not count towards it
        (
            DebtorFacts(Status.STOPPED, D("4000"), agreement=agreement(((date(2026, 11, 1), D("4000")),))),
            date(2026, 12, 20),
            Status.ACTIVE,
            "не хватает 4 000,00 ₽",
            "broken",
            None,
        ),
        (
            DebtorFacts(Status.STOPPED, D("0"), agreement=agreement()),
            date(2026, 12, 20),
            Status.PAID,
            "не выше порога",
            "completed",
            None,
        ),
        (
            DebtorFacts(Status.ACTIVE, D("500"), promise=PromiseFacts(3, date(2026, 12, 5))),
            date(2026, 12, 1),
            Status.PROMISE,
            "обещание оплатить до 05.12.2026",
            None,
            None,
        ),
        (
            DebtorFacts(Status.PROMISE, D("500"), promise=PromiseFacts(3, date(2026, 12, 5))),
            date(2026, 12, 8),
            Status.PROMISE,
            "обещание",
            None,
            None,
        ),
        (
            DebtorFacts(Status.PROMISE, D("500"), promise=PromiseFacts(3, date(2026, 12, 5))),
            date(2026, 12, 9),
            Status.ACTIVE,
            "не выполнено",
            None,
            "broken",
        ),
        (
            DebtorFacts(Status.PROMISE, D("0"), promise=PromiseFacts(3, date(2026, 12, 5))),
            date(2026, 12, 3),
            Status.PAID,
            "не выше порога",
            None,
            "kept",
        ),
        (
            DebtorFacts(Status.STOPPED, D("100")),
            date(2026, 12, 3),
            Status.ACTIVE,
            "мер не зарегистрировано",
            None,
            None,
        ),
    ],
)
def test_decide(
    facts: DebtorFacts,
    today: date,
    status: Status,
    reason_part: str,
    *,
    agreement_outcome: str | None,
    promise_outcome: str | None,
) -> None:
    decision = decide(facts, today, RULES)
    assert decision.status is status
    assert reason_part in decision.reason
    assert (decision.agreement_outcome, decision.promise_outcome) == (agreement_outcome, promise_outcome)


def test_an_active_debtor_staying_active_is_no_change() -> None:
    facts = DebtorFacts(Status.ACTIVE, D("100"))
    assert not decide(facts, date(2026, 12, 1), RULES).changes(facts)


def test_tolerance_is_configurable() -> None:
    rules = StatusRules(tolerance=D("10.00"))
    assert decide(DebtorFacts(Status.ACTIVE, D("9.99")), date(2026, 12, 1), rules).status is Status.PAID
    assert decide(DebtorFacts(Status.ACTIVE, D("10.01")), date(2026, 12, 1), rules).status is Status.ACTIVE


def test_paying_ahead_covers_later_instalments() -> None:
    facts = agreement(((date(2026, 11, 25), D("8000")),))
    assert missed_instalment(facts, date(2027, 2, 1), 5) is None
    assert missed_instalment(agreement(((date(2026, 12, 3), D("5000")),)), date(2027, 2, 1), 5) == (
        date(2027, 1, 1),
        D("3000"),
    )


def test_current_debt_subtracts_only_later_payments() -> None:
    payments = [(date(2026, 10, 20), D("100")), (date(2026, 11, 5), D("300")), (date(2026, 11, 6), D("50"))]
    assert current_debt(D("1000"), date(2026, 11, 1), payments) == D("650")
    assert current_debt(D("1000"), None, payments) == D("550")
