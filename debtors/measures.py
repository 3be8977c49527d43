"""Registering agreements (restructuring / instalments) and promises to pay, with their status effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Agreement, Debtor, DoNotCall, Instalment, Promise
from debtors.amounts import AmountError, parse_amount
from debtors.dates import DateError, parse_date
from debtors.phones import normalise
from debtors.status_service import StatusUpdate, refresh_statuses
from debtors.statuses import AGREEMENT_KINDS, StatusRules
from dialer.errors import UpravDolgError


class MeasureError(UpravDolgError):
    """The agreement or promise cannot be registered."""

    exit_code = 11


def find_debtor(session: Session, organisation_id: int, account: str) -> Debtor:
    debtor = session.scalars(
        select(Debtor).where(Debtor.organisation_id == organisation_id, Debtor.account == account)
    ).one_or_none()
    if debtor is None:
        raise MeasureError(
            f"no debtor with account {account!r}", hint="check the account number (лицевой счёт)"
        )
    return debtor


def parse_schedule(text: str) -> list[tuple[date, Decimal]]:
    """``2026-12-01=5000,2027-01-01=5000`` (or ``01.12.2026=5 000,00;…``) as (due date, amount) pairs."""
    schedule = []
    for part in (p.strip() for p in text.replace(";", ",").split(",") if p.strip()):
        due, sep, amount = part.partition("=")
        if not sep:
            raise MeasureError(f"schedule item {part!r}: expected DATE=AMOUNT, e.g. 2026-12-01=5000")
        try:
            schedule.append((parse_date(due), parse_amount(amount)))
        except (DateError, AmountError) as exc:
            raise MeasureError(f"schedule item {part!r}: {exc}") from None
    if not schedule:
        raise MeasureError("the schedule is empty: give at least one DATE=AMOUNT")
    if any(amount <= 0 for _, amount in schedule):
        raise MeasureError("every instalment must be more than 0")
    return sorted(schedule)


def register_agreement(
    session: Session,
    organisation_id: int,
    account: str,
    *,
    kind: str,
    number: str,
    registered_on: date,
    schedule: Sequence[tuple[date, Decimal]],
    now: datetime,
    rules: StatusRules,
    actor: str,
) -> tuple[Agreement, list[StatusUpdate]]:
    """Register an agreement; the debtor becomes «СТОП!» (unless the debt is already paid)."""
    if kind not in AGREEMENT_KINDS:
        raise MeasureError(f"unknown agreement kind {kind!r}: expected {' or '.join(AGREEMENT_KINDS)}")
    debtor = find_debtor(session, organisation_id, account)
    for active in session.scalars(
        select(Agreement).where(Agreement.debtor_id == debtor.id, Agreement.status == "active")
    ):
        active.status = "replaced"
        active.status_reason = f"заменено соглашением №{number} от {registered_on:%d.%m.%Y}"
    agreement = Agreement(
        organisation_id=organisation_id,
        debtor_id=debtor.id,
        kind=kind,
        number=number,
        registered_on=registered_on,
        status="active",
        status_reason="",
        created_at=now,
    )
    agreement.instalments = [Instalment(due_on=d, amount=a) for d, a in schedule]
    session.add(agreement)
    session.flush()
    changes = refresh_statuses(
        session, organisation_id, [debtor.id], today=now.date(), now=now, rules=rules, actor=actor
    )
    return agreement, changes


def record_promise(
    session: Session,
    organisation_id: int,
    account: str,
    *,
    pay_by: date | None,
    amount: Decimal | None,
    source: str,
    now: datetime,
    rules: StatusRules,
    promise_days: int,
    actor: str,
) -> tuple[Promise, list[StatusUpdate]]:
    """Record a promise to pay (from the IVR or an operator); contact pauses until pay_by + grace."""
    if source not in {"ivr", "operator"}:
        raise MeasureError(f"unknown promise source {source!r}: expected ivr or operator")
    today = now.date()
    due = pay_by or today + timedelta(days=promise_days)
    if due < today:
        raise MeasureError(f"the promised date {due:%d.%m.%Y} is in the past")
    debtor = find_debtor(session, organisation_id, account)
    for open_promise in session.scalars(
        select(Promise).where(Promise.debtor_id == debtor.id, Promise.status == "open")
    ):
        open_promise.status = "replaced"
    promise = Promise(
        organisation_id=organisation_id,
        debtor_id=debtor.id,
        made_on=today,
        pay_by=due,
        amount=amount,
        source=source,
        status="open",
        created_at=now,
    )
    session.add(promise)
    session.flush()
    changes = refresh_statuses(
        session, organisation_id, [debtor.id], today=today, now=now, rules=rules, actor=actor
    )
    return promise, changes


def mark_do_not_call(
    session: Session,
    organisation_id: int,
    *,
    account: str | None,
    phone: str | None,
    reason: str,
    now: datetime,
    actor: str,
) -> DoNotCall:
    """Never call this debtor (any of their numbers) or this number (whoever it belongs to)."""
    if (account is None) == (phone is None):
        raise MeasureError("give either an account or a phone number")
    if not reason.strip():
        raise MeasureError("a do-not-call mark needs a reason (e.g. the debtor's written request)")
    debtor_id = find_debtor(session, organisation_id, account).id if account is not None else None
    e164 = None
    if phone is not None:
        parsed = normalise(phone)
        if parsed.e164 is None:
            raise MeasureError(f"{phone!r} is not a phone number: {parsed.problem}")
        e164 = parsed.e164
    mark = DoNotCall(
        organisation_id=organisation_id,
        debtor_id=debtor_id,
        e164=e164,
        reason=reason.strip(),
        actor=actor,
        created_at=now,
    )
    session.add(mark)
    session.flush()
    return mark
