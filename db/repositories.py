"""Repositories: the only place that knows how rows are queried. Services and pages go through these."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CallAttempt, Debtor, Organisation, Phone


def ensure_organisation(session: Session, name: str, timezone: str, now: datetime) -> Organisation:
    """The embedded setup has one organisation: the first one, created on first use."""
    organisation = session.scalars(select(Organisation).order_by(Organisation.id).limit(1)).one_or_none()
    if organisation is None:
        organisation = Organisation(name=name, timezone=timezone, created_at=now)
        session.add(organisation)
        session.flush()
    return organisation


@dataclass(frozen=True, slots=True)
class DialTarget:
    debtor_id: int
    phone_id: int
    account: str
    full_name: str
    e164: str


def callable_targets(session: Session, organisation_id: int, limit: int | None = None) -> list[DialTarget]:
    """Every callable phone of every debtor, in account order."""
    query = (
        select(Debtor.id, Phone.id, Debtor.account, Debtor.full_name, Phone.e164)
        .join(Phone, Phone.debtor_id == Debtor.id)
        .where(
            Debtor.organisation_id == organisation_id,
            Phone.callable.is_(True),
            Phone.e164.is_not(None),
            Phone.removed_at.is_(None),
        )
        .order_by(Debtor.account, Phone.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [DialTarget(d, p, a, n, e or "") for d, p, a, n, e in session.execute(query)]


def attempts_for_debtor(session: Session, debtor_id: int) -> list[CallAttempt]:
    return list(
        session.scalars(
            select(CallAttempt).where(CallAttempt.debtor_id == debtor_id).order_by(CallAttempt.started_at)
        )
    )
