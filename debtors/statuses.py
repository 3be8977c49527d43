"""The debtor's status as a pure decision from facts (../shared/DOMAIN.md, "The debtor's status").

The status is derived, not toggled: given the current debt, the active agreement and the open promise,
:func:`decide` says what the status must be today and why. Applying it after every payment, every
imported snapshot, every registered agreement or promise, and once a day, yields exactly the transitions
the domain rules list:

* any → ``paid`` («ДОЛГ ПОГАШЕН») when the debt is at or below the tolerance (a payment or a snapshot);
* ``paid`` → ``active`` when a later snapshot shows debt above the tolerance;
* → ``stopped`` («СТОП!») while a restructuring/instalment agreement is kept;
* ``stopped`` → ``active`` when an instalment is not paid by its due date plus the grace days;
* → ``promise`` while a promise to pay runs (until its date plus grace); then ``paid`` if paid, else
  back to ``active``.

Reasons are shown to supervisors, so they are Russian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum


class Status(StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    STOPPED = "stopped"
    PROMISE = "promise"


LABELS = {
    Status.ACTIVE: "В работе",
    Status.PAID: "ДОЛГ ПОГАШЕН",
    Status.STOPPED: "СТОП!",
    Status.PROMISE: "Обещание оплаты",
}
AGREEMENT_KINDS = {"restructuring": "реструктуризация", "instalment": "рассрочка"}


@dataclass(frozen=True, slots=True)
class StatusRules:
    tolerance: Decimal = Decimal("0.00")
    instalment_grace_days: int = 5
    promise_grace_days: int = 3


@dataclass(frozen=True, slots=True)
class AgreementFacts:
    agreement_id: int
    kind: str
    number: str
    registered_on: date
    instalments: tuple[tuple[date, Decimal], ...]  # (due on, amount), any order
    payments: tuple[tuple[date, Decimal], ...]  # the debtor's payments (paid on, amount)


@dataclass(frozen=True, slots=True)
class PromiseFacts:
    promise_id: int
    pay_by: date


@dataclass(frozen=True, slots=True)
class DebtorFacts:
    status: Status
    debt: Decimal
    agreement: AgreementFacts | None = None  # the active one, if any
    promise: PromiseFacts | None = None  # the open one, if any


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    reason: str
    agreement_outcome: str | None = None  # "broken" | "completed" for facts.agreement
    promise_outcome: str | None = None  # "kept" | "broken" for facts.promise

    def changes(self, facts: DebtorFacts) -> bool:
        return (
            self.status is not facts.status
            or self.agreement_outcome is not None
            or self.promise_outcome is not None
        )


def _money(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ").replace(".", ",") + " ₽"


def missed_instalment(agreement: AgreementFacts, today: date, grace_days: int) -> tuple[date, Decimal] | None:
    """The first instalment whose cumulative amount was not paid by its due date + grace, if any.

    Payments count from the agreement's registration on; each is applied to the earliest instalments
    first, so paying ahead covers later instalments.
    """
    grace = timedelta(days=grace_days)
    required = Decimal(0)
    for due_on, amount in sorted(agreement.instalments):
        required += amount
        deadline = due_on + grace
        if deadline >= today:
            return None
        paid = sum(
            (a for paid_on, a in agreement.payments if agreement.registered_on <= paid_on <= deadline),
            Decimal(0),
        )
        if paid < required:
            return due_on, required - paid
    return None


def decide(facts: DebtorFacts, today: date, rules: StatusRules) -> Decision:
    """What the status must be today, and why."""
    if facts.debt <= rules.tolerance:
        return Decision(
            Status.PAID,
            f"задолженность {_money(facts.debt)} не выше порога {_money(rules.tolerance)}",
            agreement_outcome="completed" if facts.agreement else None,
            promise_outcome="kept" if facts.promise else None,
        )
    if facts.agreement is not None:
        agreement = facts.agreement
        kind = AGREEMENT_KINDS.get(agreement.kind, agreement.kind)
        missed = missed_instalment(agreement, today, rules.instalment_grace_days)
        if missed is not None:
            due_on, short = missed
            return Decision(
                Status.ACTIVE,
                f"соглашение ({kind}) №{agreement.number} нарушено: платёж до {due_on:%d.%m.%Y} "
                f"(+{rules.instalment_grace_days} дн.) не внесён, не хватает {_money(short)}; "
                "уведомления возобновлены",
                agreement_outcome="broken",
            )
        return Decision(
            Status.STOPPED,
            f"зарегистрировано соглашение ({kind}) №{agreement.number} от {agreement.registered_on:%d.%m.%Y}",
        )
    if facts.promise is not None:
        promise = facts.promise
        until = promise.pay_by + timedelta(days=rules.promise_grace_days)
        if today <= until:
            return Decision(Status.PROMISE, f"обещание оплатить до {promise.pay_by:%d.%m.%Y}")
        return Decision(
            Status.ACTIVE,
            f"обещание оплатить до {promise.pay_by:%d.%m.%Y} не выполнено, долг {_money(facts.debt)}",
            promise_outcome="broken",
        )
    if facts.status is Status.PAID:
        return Decision(Status.ACTIVE, f"новая задолженность {_money(facts.debt)}")
    if facts.status is Status.ACTIVE:
        return Decision(Status.ACTIVE, "")
    return Decision(Status.ACTIVE, f"задолженность {_money(facts.debt)}, мер не зарегистрировано")


def current_debt(
    snapshot_amount: Decimal, snapshot_as_of: date | None, payments: Sequence[tuple[date, Decimal]]
) -> Decimal:
    """The latest snapshot minus the payments dated after it (earlier ones are in the snapshot)."""
    after = sum(
        (a for paid_on, a in payments if snapshot_as_of is None or paid_on > snapshot_as_of), Decimal(0)
    )
    return snapshot_amount - after
