"""Reads what debtors/field_rules.py decides on (notices, payments, plugs) for a batch of debtors."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import CrewJob, Debtor, Notice, Payment, StatusChange
from debtors.field_rules import FieldFacts, JobKind, JobStatus, NoticeFact, NoticeKind, NoticeState
from debtors.statuses import Status


def local_day(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def load_field_facts(
    session: Session, organisation_id: int, debtor_ids: Sequence[int], timezone: str
) -> dict[int, FieldFacts]:
    """Every debtor's facts for the field rules; dates are local days of the organisation."""
    ids = list(debtor_ids)
    if not ids:
        return {}
    notices: dict[int, list[NoticeFact]] = defaultdict(list)
    for debtor_id, kind, state, created_at, delivered_at in session.execute(
        select(Notice.debtor_id, Notice.kind, Notice.state, Notice.created_at, Notice.delivered_at).where(
            Notice.debtor_id.in_(ids)
        )
    ):
        notices[debtor_id].append(
            NoticeFact(
                NoticeKind(kind),
                NoticeState(state),
                local_day(created_at, timezone),
                local_day(delivered_at, timezone) if delivered_at is not None else None,
            )
        )
    paid_off = dict(
        session.execute(
            select(StatusChange.debtor_id, func.max(StatusChange.at))
            .where(StatusChange.debtor_id.in_(ids), StatusChange.status == Status.PAID.value)
            .group_by(StatusChange.debtor_id)
        ).all()
    )
    last_payment = dict(
        session.execute(
            select(Payment.debtor_id, func.max(Payment.paid_on))
            .where(Payment.debtor_id.in_(ids))
            .group_by(Payment.debtor_id)
        ).all()
    )
    plugs: set[int] = set()
    open_installs: set[int] = set()
    for debtor_id, status in session.execute(
        select(CrewJob.debtor_id, CrewJob.status).where(
            CrewJob.debtor_id.in_(ids), CrewJob.kind == JobKind.INSTALL.value
        )
    ):
        if status == JobStatus.INSTALLED.value:
            plugs.add(debtor_id)
        elif status in (JobStatus.PLANNED.value, JobStatus.NO_ACCESS.value):
            open_installs.add(debtor_id)  # planned, or waiting to be planned again after no access
    facts = {}
    for debtor_id, status, debt, months in session.execute(
        select(Debtor.id, Debtor.status, Debtor.debt, Debtor.months_overdue).where(
            Debtor.id.in_(ids), Debtor.organisation_id == organisation_id
        )
    ):
        paid_at = paid_off.get(debtor_id)
        facts[debtor_id] = FieldFacts(
            status=Status(status),
            debt=debt,
            months_overdue=months,
            notices=tuple(notices.get(debtor_id, ())),
            last_paid_off_on=local_day(paid_at, timezone) if paid_at is not None else None,
            last_payment_on=last_payment.get(debtor_id),
            plug_installed=debtor_id in plugs,
            open_install_job=debtor_id in open_installs,
        )
    return facts
