"""The field rules with a fixed clock: when notices are due, and the 20-day restriction clock."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from debtors.field_rules import (
    DeliveryMethod,
    FieldFacts,
    JobFact,
    JobKind,
    JobStatus,
    NoticeFact,
    NoticeKind,
    NoticeRules,
    NoticeState,
    RestrictionRules,
    counts_as_delivered,
    notice_due,
    paid_off_plan,
    restriction_clock,
)
from debtors.statuses import Status

TODAY = date(2026, 12, 10)
RULES = NoticeRules(primary_min_months=3, primary_min_debt=Decimal("1000"), secondary_after_days=14)
LIMITS = RestrictionRules(min_debt=Decimal("5000"), min_notices_delivered=2, days_after_delivery=20)


def facts(
    *notices: NoticeFact,
    status: Status = Status.ACTIVE,
    debt: str = "8000",
    months: int = 4,
    paid_off: date | None = None,
    payment: date | None = None,
    plug: bool = False,
) -> FieldFacts:
    return FieldFacts(
        status=status,
        debt=Decimal(debt),
        months_overdue=months,
        notices=notices,
        last_paid_off_on=paid_off,
        last_payment_on=payment,
        plug_installed=plug,
    )


def delivered(kind: NoticeKind, on: date, created: date | None = None) -> NoticeFact:
    return NoticeFact(kind, NoticeState.DELIVERED, created or on - timedelta(days=2), on)


P, S = NoticeKind.PRIMARY, NoticeKind.SECONDARY


@pytest.mark.parametrize(
    ("months", "debt", "status", "expected"),
    [
        (3, "1000", Status.ACTIVE, P),  # both thresholds met exactly
        (2, "9000", Status.ACTIVE, None),  # too few months
        (5, "999.99", Status.ACTIVE, None),  # too little debt
        (5, "9000", Status.STOPPED, None),  # «СТОП!»: an agreement runs
        (5, "9000", Status.PROMISE, None),
        (5, "9000", Status.PAID, None),
    ],
)
def test_a_primary_notice_needs_months_debt_and_an_active_status(
    months: int, debt: str, status: Status, expected: NoticeKind | None
) -> None:
    due = notice_due(facts(months=months, debt=debt, status=status), TODAY, RULES)
    assert (due.kind if due else None) is expected
    if due is not None:
        assert "3 мес." in due.reason and "1 000,00" in due.reason


def test_no_second_primary_while_one_is_open_or_delivered() -> None:
    pending = NoticeFact(P, NoticeState.PENDING, TODAY - timedelta(days=1))
    assert notice_due(facts(pending), TODAY, RULES) is None
    cancelled = NoticeFact(P, NoticeState.CANCELLED, TODAY - timedelta(days=1))
    due = notice_due(facts(cancelled), TODAY, RULES)
    assert due is not None and due.kind is P, "a cancelled notice does not count"


def test_secondary_after_the_days_without_payment() -> None:
    primary = delivered(P, TODAY - timedelta(days=14))
    due = notice_due(facts(primary), TODAY, RULES)
    assert due is not None and due.kind is S
    assert "14 дн." in due.reason
    assert notice_due(facts(primary), TODAY - timedelta(days=1), RULES) is None, "day 13: not yet"


def test_a_payment_after_the_primary_holds_the_secondary_back() -> None:
    primary = delivered(P, TODAY - timedelta(days=30))
    assert notice_due(facts(primary, payment=TODAY - timedelta(days=29)), TODAY, RULES) is None
    due = notice_due(facts(primary, payment=TODAY - timedelta(days=31)), TODAY, RULES)
    assert due is not None and due.kind is S, "a payment before the delivery does not count"


def test_one_secondary_per_primary_and_none_before_delivery() -> None:
    primary = delivered(P, TODAY - timedelta(days=30))
    secondary = NoticeFact(S, NoticeState.ASSIGNED, TODAY - timedelta(days=10))
    assert notice_due(facts(primary, secondary), TODAY, RULES) is None
    on_the_way = NoticeFact(P, NoticeState.ASSIGNED, TODAY - timedelta(days=40))
    assert notice_due(facts(on_the_way), TODAY, RULES) is None


def test_paying_off_starts_a_new_episode() -> None:
    old = delivered(P, date(2026, 3, 1))
    assert notice_due(facts(old, paid_off=date(2026, 5, 1)), TODAY, RULES).kind is P  # type: ignore[union-attr]
    assert notice_due(facts(old), TODAY, RULES).kind is S  # type: ignore[union-attr]


def test_restriction_clock_counts_from_the_delivery_that_completes_the_warnings() -> None:
    first = delivered(P, date(2026, 11, 1))
    second = delivered(S, date(2026, 11, 20))
    later = delivered(S, date(2026, 12, 5))
    clock = restriction_clock(facts(first, second, later), LIMITS)
    assert clock.allowed_from == date(2026, 12, 10), "20 days after the second delivery, not the third"
    assert clock.warning_delivered_on == date(2026, 11, 20)
    assert not clock.allows(date(2026, 12, 9)) and clock.allows(date(2026, 12, 10))
    assert clock.days_left(date(2026, 12, 5)) == 5 and clock.days_left(date(2026, 12, 20)) == 0
    assert "20.11.2026" in clock.reason and "10.12.2026" in clock.reason


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (facts(delivered(P, date(2026, 11, 1))), "вручено уведомлений: 1 из 2"),
        (
            facts(delivered(P, date(2026, 11, 1)), delivered(S, date(2026, 11, 2)), debt="4999.99"),
            "меньше порога",
        ),
        (
            facts(delivered(P, date(2026, 11, 1)), delivered(S, date(2026, 11, 2)), plug=True),
            "уже установлена",
        ),
        (
            facts(delivered(P, date(2026, 11, 1)), delivered(S, date(2026, 11, 2)), status=Status.STOPPED),
            "статус",
        ),
        (
            facts(delivered(P, date(2026, 3, 1)), delivered(S, date(2026, 3, 20)), paid_off=date(2026, 4, 1)),
            "вручено уведомлений: 0 из 2",
        ),
    ],
)
def test_restriction_clock_refusals(case: FieldFacts, expected: str) -> None:
    clock = restriction_clock(case, LIMITS)
    assert clock.allowed_from is None and not clock.allows(date(2030, 1, 1))
    assert expected in clock.reason


def test_the_rules_never_go_below_twenty_days() -> None:
    with pytest.raises(ValueError, match="20 days"):
        RestrictionRules(days_after_delivery=19)


def test_delivery_methods_counted_as_delivered_are_configurable() -> None:
    assert counts_as_delivered(DeliveryMethod.REFUSED, RULES)
    assert not counts_as_delivered(DeliveryMethod.NOBODY_HOME, RULES)
    strict = NoticeRules(delivered_methods=frozenset({DeliveryMethod.PERSONAL}))
    assert not counts_as_delivered(DeliveryMethod.MAILBOX, strict)


def test_paying_off_cancels_planned_installs_and_removes_installed_plugs() -> None:
    plan = paid_off_plan(
        [
            JobFact(1, JobKind.INSTALL, JobStatus.PLANNED),
            JobFact(2, JobKind.INSTALL, JobStatus.INSTALLED),
            JobFact(3, JobKind.INSTALL, JobStatus.NO_ACCESS),
        ]
    )
    assert plan.cancel_jobs == (1,) and plan.remove_plugs_of == (2,)
    again = paid_off_plan(
        [JobFact(2, JobKind.INSTALL, JobStatus.INSTALLED), JobFact(4, JobKind.REMOVAL, JobStatus.PLANNED)]
    )
    assert again.remove_plugs_of == (), "a removal is already planned"
