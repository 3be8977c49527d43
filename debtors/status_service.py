"""Applies :func:`debtors.statuses.decide` to debtors in the database, recording every change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from db.models import Agreement, Debtor, Instalment, Payment, Promise, StatusChange
from debtors.crew_jobs import on_paid_off
from debtors.statuses import AgreementFacts, DebtorFacts, PromiseFacts, Status, StatusRules, decide

BATCH = 2000


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    debtor_id: int
    previous: Status
    status: Status
    reason: str


def record_change(
    session: Session, organisation_id: int, change: StatusUpdate, *, actor: str, now: datetime
) -> None:
    session.execute(
        update(Debtor)
        .where(Debtor.id == change.debtor_id)
        .values(status=change.status.value, status_reason=change.reason, status_since=now, updated_at=now)
    )
    session.add(
        StatusChange(
            organisation_id=organisation_id,
            debtor_id=change.debtor_id,
            previous_status=change.previous.value,
            status=change.status.value,
            reason=change.reason,
            actor=actor,
            at=now,
        )
    )


def refresh_statuses(
    session: Session,
    organisation_id: int,
    debtor_ids: Iterable[int],
    *,
    today: date,
    now: datetime,
    rules: StatusRules,
    actor: str,
    trigger: str = "",
) -> list[StatusUpdate]:
    """Re-decide the status of ``debtor_ids``; write and return the changes."""
    ids = sorted(set(debtor_ids))
    changes: list[StatusUpdate] = []
    for start in range(0, len(ids), BATCH):
        changes.extend(
            _refresh_batch(
                session,
                organisation_id,
                ids[start : start + BATCH],
                today=today,
                now=now,
                rules=rules,
                actor=actor,
                trigger=trigger,
            )
        )
    return changes


def _refresh_batch(
    session: Session,
    organisation_id: int,
    ids: Sequence[int],
    *,
    today: date,
    now: datetime,
    rules: StatusRules,
    actor: str,
    trigger: str,
) -> list[StatusUpdate]:
    debtors = session.execute(
        select(Debtor.id, Debtor.status, Debtor.debt).where(
            Debtor.id.in_(ids), Debtor.organisation_id == organisation_id
        )
    ).all()
    agreements = {
        a.debtor_id: a
        for a in session.scalars(
            select(Agreement)
            .where(Agreement.debtor_id.in_(ids), Agreement.status == "active")
            .order_by(Agreement.registered_on)
        )
    }
    instalments: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    payments: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    if agreements:
        agreement_ids = [a.id for a in agreements.values()]
        for agreement_id, due_on, amount in session.execute(
            select(Instalment.agreement_id, Instalment.due_on, Instalment.amount).where(
                Instalment.agreement_id.in_(agreement_ids)
            )
        ):
            instalments[agreement_id].append((due_on, amount))
        for debtor_id, paid_on, amount in session.execute(
            select(Payment.debtor_id, Payment.paid_on, Payment.amount).where(
                Payment.debtor_id.in_(list(agreements))
            )
        ):
            payments[debtor_id].append((paid_on, amount))
    promises = {
        p.debtor_id: p
        for p in session.scalars(
            select(Promise)
            .where(Promise.debtor_id.in_(ids), Promise.status == "open")
            .order_by(Promise.pay_by)
        )
    }
    changes = []
    for debtor_id, status, debt in debtors:
        agreement = agreements.get(debtor_id)
        promise = promises.get(debtor_id)
        facts = DebtorFacts(
            status=Status(status),
            debt=debt,
            agreement=AgreementFacts(
                agreement.id,
                agreement.kind,
                agreement.number,
                agreement.registered_on,
                tuple(instalments[agreement.id]),
                tuple(payments[debtor_id]),
            )
            if agreement
            else None,
            promise=PromiseFacts(promise.id, promise.pay_by) if promise else None,
        )
        decision = decide(facts, today, rules)
        if not decision.changes(facts):
            continue
        reason = f"{decision.reason} ({trigger})" if trigger else decision.reason
        if agreement is not None and decision.agreement_outcome:
            agreement.status = decision.agreement_outcome
            agreement.status_reason = reason
        if promise is not None and decision.promise_outcome:
            promise.status = decision.promise_outcome
        if decision.status is not facts.status:
            change = StatusUpdate(debtor_id, facts.status, decision.status, reason)
            record_change(session, organisation_id, change, actor=actor, now=now)
            changes.append(change)
    paid_off = [c.debtor_id for c in changes if c.status is Status.PAID]
    if paid_off:
        on_paid_off(
            session,
            organisation_id,
            paid_off,
            today=today,
            now=now,
            reason=f"долг погашен ({trigger})" if trigger else "долг погашен",
            actor=actor,
        )
    return changes


def check_statuses(
    session: Session, organisation_id: int, *, today: date, now: datetime, rules: StatusRules, actor: str
) -> list[StatusUpdate]:
    """The daily check: every debtor with an active agreement or an open promise is re-decided, so a
    missed instalment or an expired promise resumes notifications on the day it happens."""
    with_agreement = select(Agreement.debtor_id).where(
        Agreement.organisation_id == organisation_id, Agreement.status == "active"
    )
    with_promise = select(Promise.debtor_id).where(
        Promise.organisation_id == organisation_id, Promise.status == "open"
    )
    ids = set(session.scalars(with_agreement)) | set(session.scalars(with_promise))
    return refresh_statuses(
        session,
        organisation_id,
        ids,
        today=today,
        now=now,
        rules=rules,
        actor=actor,
        trigger=f"ежедневная проверка {today:%d.%m.%Y}",
    )
