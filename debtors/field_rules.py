"""The field side's rules as pure decisions: when a paper notice is due, and when a restriction plug may
be installed (../shared/DOMAIN.md, "Restriction (ограничение) workflow").

ПП РФ № 354 (the Government's rules for utility services), clauses 117-119: a service may be restricted
when the debt exceeds two months' charges, after a written warning has been delivered to the debtor, and
not earlier than 20 days after its delivery. Here the threshold, the number of delivered notices and the
days are configurable (the days never below 20); the clock starts at the delivery of the notice that
completes the required number, so later notices do not push it back.

Only notices of the debtor's current episode count: those created after the debtor last paid off their
debt («ДОЛГ ПОГАШЕН»). Reasons are shown to supervisors, so they are Russian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from debtors.statuses import Status


class NoticeKind(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


class NoticeState(StrEnum):
    PENDING = "pending"  # generated, not yet given to a courier
    ASSIGNED = "assigned"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class DeliveryMethod(StrEnum):
    PERSONAL = "personal"
    MAILBOX = "mailbox"
    REFUSED = "refused"
    NOBODY_HOME = "nobody_home"


class JobKind(StrEnum):
    INSTALL = "install"
    REMOVAL = "removal"


class JobStatus(StrEnum):
    PLANNED = "planned"
    INSTALLED = "installed"
    NO_ACCESS = "no_access"
    CANCELLED = "cancelled"
    REMOVED = "removed"


NOTICE_KIND_LABELS = {NoticeKind.PRIMARY: "первичное", NoticeKind.SECONDARY: "повторное"}
NOTICE_STATE_LABELS = {
    NoticeState.PENDING: "не выдано курьеру",
    NoticeState.ASSIGNED: "у курьера",
    NoticeState.DELIVERED: "вручено",
    NoticeState.CANCELLED: "отменено",
}
METHOD_LABELS = {
    DeliveryMethod.PERSONAL: "лично в руки",
    DeliveryMethod.MAILBOX: "в почтовый ящик",
    DeliveryMethod.REFUSED: "отказ от получения",
    DeliveryMethod.NOBODY_HOME: "никого нет дома",
}
JOB_KIND_LABELS = {JobKind.INSTALL: "установка заглушки", JobKind.REMOVAL: "снятие заглушки"}
JOB_STATUS_LABELS = {
    JobStatus.PLANNED: "запланировано",
    JobStatus.INSTALLED: "установлена",
    JobStatus.NO_ACCESS: "нет доступа",
    JobStatus.CANCELLED: "отменено",
    JobStatus.REMOVED: "снята",
}
# Which statuses a job of each kind may be set to by the crew's report (planned is where both start).
JOB_OUTCOMES = {
    JobKind.INSTALL: (JobStatus.INSTALLED, JobStatus.NO_ACCESS, JobStatus.CANCELLED),
    JobKind.REMOVAL: (JobStatus.REMOVED, JobStatus.NO_ACCESS, JobStatus.CANCELLED),
}


@dataclass(frozen=True, slots=True)
class NoticeRules:
    primary_min_months: int = 2
    primary_min_debt: Decimal = Decimal("1000.00")
    secondary_after_days: int = 14
    delivered_methods: frozenset[DeliveryMethod] = frozenset(
        {DeliveryMethod.PERSONAL, DeliveryMethod.MAILBOX, DeliveryMethod.REFUSED}
    )


@dataclass(frozen=True, slots=True)
class RestrictionRules:
    min_debt: Decimal = Decimal("5000.00")
    min_notices_delivered: int = 2
    days_after_delivery: int = 20

    def __post_init__(self) -> None:
        if self.days_after_delivery < 20:
            raise ValueError("ПП РФ № 354 cl. 119: not earlier than 20 days after the warning's delivery")
        if self.min_notices_delivered < 1:
            raise ValueError("a restriction needs at least one delivered notice (the warning)")


@dataclass(frozen=True, slots=True)
class NoticeFact:
    kind: NoticeKind
    state: NoticeState
    created_on: date
    delivered_on: date | None = None


@dataclass(frozen=True, slots=True)
class FieldFacts:
    """What the rules need to know about one debtor."""

    status: Status
    debt: Decimal
    months_overdue: int
    notices: tuple[NoticeFact, ...] = ()
    last_paid_off_on: date | None = None  # the last day the status became «ДОЛГ ПОГАШЕН»
    last_payment_on: date | None = None
    plug_installed: bool = False
    open_install_job: bool = False  # an install job planned (or found no access, to be planned again)

    def episode(self) -> list[NoticeFact]:
        """Notices of the current episode (after the last paid-off day), not cancelled, oldest first."""
        since = self.last_paid_off_on
        return sorted(
            (
                n
                for n in self.notices
                if n.state is not NoticeState.CANCELLED and (since is None or n.created_on > since)
            ),
            key=lambda n: (n.created_on, n.delivered_on or date.max),
        )


@dataclass(frozen=True, slots=True)
class NoticeDue:
    kind: NoticeKind
    reason: str


def notice_due(facts: FieldFacts, today: date, rules: NoticeRules) -> NoticeDue | None:
    """The notice this debtor should get today, if any."""
    if facts.status is not Status.ACTIVE:
        return None
    notices = facts.episode()
    primaries = [n for n in notices if n.kind is NoticeKind.PRIMARY]
    if not primaries:
        if facts.months_overdue >= rules.primary_min_months and facts.debt >= rules.primary_min_debt:
            return NoticeDue(
                NoticeKind.PRIMARY,
                f"долг {_money(facts.debt)} руб. за {facts.months_overdue} мес. "
                f"(правило: от {rules.primary_min_months} мес. и от {_money(rules.primary_min_debt)} руб.)",
            )
        return None
    delivered = [n for n in primaries if n.delivered_on is not None]
    if not delivered:
        return None  # the primary is still on its way
    primary_on = min(n.delivered_on for n in delivered if n.delivered_on is not None)
    if any(n.kind is NoticeKind.SECONDARY and n.created_on >= primary_on for n in notices):
        return None
    if facts.last_payment_on is not None and facts.last_payment_on >= primary_on:
        return None
    if today < primary_on + timedelta(days=rules.secondary_after_days):
        return None
    if facts.debt <= 0:
        return None
    return NoticeDue(
        NoticeKind.SECONDARY,
        f"первичное вручено {primary_on:%d.%m.%Y}, оплаты нет {(today - primary_on).days} дн. "
        f"(правило: {rules.secondary_after_days} дн.)",
    )


@dataclass(frozen=True, slots=True)
class RestrictionClock:
    """Whether and from when a restriction plug may be installed, and why (shown in the UI)."""

    allowed_from: date | None  # None: the rules do not allow it yet whatever the date
    reason: str
    warning_delivered_on: date | None = None

    def allows(self, day: date) -> bool:
        return self.allowed_from is not None and day >= self.allowed_from

    def days_left(self, today: date) -> int | None:
        return None if self.allowed_from is None else max(0, (self.allowed_from - today).days)


def restriction_clock(facts: FieldFacts, rules: RestrictionRules) -> RestrictionClock:
    """The 20-day clock: from when the rules allow a plug for this debtor (see the module's docstring)."""
    if facts.status is not Status.ACTIVE:
        return RestrictionClock(None, "статус не «В работе»: ограничение не применяется")
    if facts.plug_installed:
        return RestrictionClock(None, "заглушка уже установлена")
    if facts.debt < rules.min_debt:
        return RestrictionClock(
            None, f"долг {_money(facts.debt)} руб. меньше порога {_money(rules.min_debt)} руб."
        )
    delivered = sorted(n.delivered_on for n in facts.episode() if n.delivered_on is not None)
    if len(delivered) < rules.min_notices_delivered:
        return RestrictionClock(
            None,
            f"вручено уведомлений: {len(delivered)} из {rules.min_notices_delivered} необходимых",
        )
    warning_on = delivered[rules.min_notices_delivered - 1]
    allowed_from = warning_on + timedelta(days=rules.days_after_delivery)
    return RestrictionClock(
        allowed_from,
        f"предупреждение вручено {warning_on:%d.%m.%Y}; ограничение возможно с {allowed_from:%d.%m.%Y} "
        f"({rules.days_after_delivery} дн. после вручения)",
        warning_on,
    )


def counts_as_delivered(method: DeliveryMethod, rules: NoticeRules) -> bool:
    return method in rules.delivered_methods


@dataclass(frozen=True, slots=True)
class JobFact:
    id: int
    kind: JobKind
    status: JobStatus


@dataclass(frozen=True, slots=True)
class PaidOffPlan:
    """What paying off the debt does to the field work: cancel, and remove an installed plug."""

    cancel_jobs: tuple[int, ...]
    remove_plugs_of: tuple[int, ...]  # install jobs whose plug needs a removal job


def paid_off_plan(jobs: Sequence[JobFact]) -> PaidOffPlan:
    """Planned install jobs are cancelled; every installed plug without a live removal job gets one."""
    removal_pending = any(j.kind is JobKind.REMOVAL and j.status is JobStatus.PLANNED for j in jobs)
    return PaidOffPlan(
        tuple(j.id for j in jobs if j.kind is JobKind.INSTALL and j.status is JobStatus.PLANNED),
        ()
        if removal_pending
        else tuple(j.id for j in jobs if j.kind is JobKind.INSTALL and j.status is JobStatus.INSTALLED),
    )


def _money(amount: Decimal) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")
