"""What the calling panel («Обзвон») reads beyond a campaign's status: outcomes by hour, the listen figures
and each debtor's listens. Every query reads one campaign's slice of the covering indexes of migration
0006, so the cost follows the campaign's size, not the table's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.models import CallAttempt, Debtor

HEARD_FULL = "heard_full"
ENDED_STATES = ("ended", "lost")
NOT_PLACED = "not_placed"  # an attempt that never went out (eligibility refused it at dial time)


@dataclass(frozen=True, slots=True)
class HourOutcomes:
    hour: datetime  # the hour's start, UTC
    outcomes: dict[str, int]


@dataclass(frozen=True, slots=True)
class ListenFigures:
    answered: int  # answered calls with a listen report
    heard_ms_total: int
    heard_full: int

    @property
    def average_heard_seconds(self) -> float | None:
        return self.heard_ms_total / self.answered / 1000 if self.answered else None


@dataclass(frozen=True, slots=True)
class DebtorListens:
    account: str
    full_name: str
    calls: int
    listens: int  # calls in which the debtor heard some of the message
    heard_ms: int
    heard_full: int


def outcomes_by_hour(
    session: Session, campaign_id: int, *, since: datetime, until: datetime
) -> list[HourOutcomes]:
    """Ended calls of the campaign started in [since, until), counted per UTC hour of their start in the
    database (the page shows the hours in the organisation's zone). Hours without calls are not listed."""
    hour = _utc_hour(session)
    rows = session.execute(
        select(hour, CallAttempt.outcome, func.count())
        .where(
            CallAttempt.campaign_id == campaign_id,
            CallAttempt.started_at >= since,
            CallAttempt.started_at < until,
            CallAttempt.state.in_(ENDED_STATES),
        )
        .group_by(hour, CallAttempt.outcome)
    )
    hours: dict[datetime, dict[str, int]] = {}
    for text, outcome, count in rows:
        start = datetime.strptime(str(text), "%Y-%m-%d %H").replace(tzinfo=UTC)
        hours.setdefault(start, {})[outcome or "unknown"] = int(count)
    return [HourOutcomes(start, hours[start]) for start in sorted(hours)]


def _utc_hour(session: Session) -> Any:
    """``YYYY-MM-DD HH`` of started_at in UTC: SQLite stores naive UTC text (db.types.UtcDateTime);
    PostgreSQL's timestamptz is rendered in UTC explicitly, whatever the session's TimeZone."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m-%d %H", CallAttempt.started_at)
    return func.to_char(func.timezone("UTC", CallAttempt.started_at), "YYYY-MM-DD HH24")


def listen_figures(session: Session, campaign_id: int) -> ListenFigures:
    """Answered calls with a listen report, their total heard time and how many heard it all."""
    answered, heard_ms, heard_full = session.execute(
        select(
            func.count(CallAttempt.heard_ms),
            func.coalesce(func.sum(CallAttempt.heard_ms), 0),
            func.coalesce(func.sum(case((CallAttempt.outcome == HEARD_FULL, 1), else_=0)), 0),
        ).where(CallAttempt.campaign_id == campaign_id)
    ).one()
    return ListenFigures(int(answered), int(heard_ms), int(heard_full))


def debtor_listens(
    session: Session, campaign_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[DebtorListens]]:
    """Per debtor of the campaign: calls (dialled, including one in progress), listens (calls with heard
    time > 0), heard time, heard to the end; the most-listened first. Returns (debtors with at least one
    call, the requested slice)."""
    heard = case((CallAttempt.heard_ms > 0, 1), else_=0)
    per_debtor: Any = (
        select(
            CallAttempt.debtor_id.label("debtor_id"),
            func.count().label("calls"),
            func.sum(heard).label("listens"),
            func.coalesce(func.sum(CallAttempt.heard_ms), 0).label("heard_ms"),
            func.sum(case((CallAttempt.outcome == HEARD_FULL, 1), else_=0)).label("heard_full"),
        )
        .where(CallAttempt.campaign_id == campaign_id, CallAttempt.state != NOT_PLACED)
        .group_by(CallAttempt.debtor_id)
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(per_debtor)) or 0
    rows = session.execute(
        select(
            Debtor.account,
            Debtor.full_name,
            per_debtor.c.calls,
            per_debtor.c.listens,
            per_debtor.c.heard_ms,
            per_debtor.c.heard_full,
        )
        .join(Debtor, Debtor.id == per_debtor.c.debtor_id)
        .order_by(per_debtor.c.heard_ms.desc(), per_debtor.c.listens.desc(), Debtor.account)
        .limit(limit)
        .offset(offset)
    )
    return int(total), [
        DebtorListens(account, name, int(calls or 0), int(listens or 0), int(heard_ms or 0), int(full or 0))
        for account, name, calls, listens, heard_ms, full in rows
    ]


def default_hours_window(now: datetime) -> tuple[datetime, datetime]:
    """The last 24 hours up to the end of the current hour."""
    until = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return until - timedelta(hours=24), until
