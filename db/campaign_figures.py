"""The calling panel's figures from the rollups the engine keeps (``campaign_hours``, and the listen
columns of ``campaign_debtors``), plus the calls in flight read live. Each read costs the same whatever the
campaign's size: a campaign of a million attempts has a few thousand hour rows.

The engine adds a call to its hour in the transaction that records the call's outcome
(dialer/campaign_store.py ``finish``); :func:`rebuild` recomputes the rollups from the call attempts (the
migration that introduced them, and the benchmark's bulk-loaded data, use it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

from db.models import CallAttempt, CampaignDebtor, CampaignHour, Debtor

HEARD_FULL = "heard_full"
LIVE_STATES = ("dialling", "up")
FINISHED_STATES = ("ended", "lost")


@dataclass(frozen=True, slots=True)
class CampaignFigures:
    """Calls of one campaign: finished ones by outcome (from the rollup) and the ones in flight (live)."""

    outcomes: dict[str, int] = field(default_factory=dict)
    finished: int = 0
    in_flight: int = 0
    answered: int = 0  # finished answered calls plus those on the line now
    reported: int = 0  # answered with a listen report
    listened: int = 0
    heard_ms: int = 0

    @property
    def placed(self) -> int:
        return self.finished + self.in_flight

    @property
    def average_heard_seconds(self) -> float | None:
        return self.heard_ms / self.reported / 1000 if self.reported else None


@dataclass(frozen=True, slots=True)
class HourOutcomes:
    hour: datetime  # the hour's start, UTC
    outcomes: dict[str, int]


@dataclass(frozen=True, slots=True)
class DebtorListens:
    account: str
    full_name: str
    calls: int  # dialled, including one in progress
    listens: int  # calls in which the debtor heard some of the message
    heard_ms: int
    heard_full: int


def campaign_figures(session: Session, campaign_id: int) -> CampaignFigures:
    outcomes: dict[str, int] = {}
    answered = reported = listened = heard_ms = 0
    for outcome, calls, ans, rep, lis, heard in session.execute(
        select(
            CampaignHour.outcome,
            func.sum(CampaignHour.calls),
            func.sum(CampaignHour.answered),
            func.sum(CampaignHour.reported),
            func.sum(CampaignHour.listened),
            func.sum(CampaignHour.heard_ms),
        )
        .where(CampaignHour.campaign_id == campaign_id)
        .group_by(CampaignHour.outcome)
    ):
        outcomes[outcome] = int(calls or 0)
        answered += int(ans or 0)
        reported += int(rep or 0)
        listened += int(lis or 0)
        heard_ms += int(heard or 0)
    live: dict[str, int] = {
        state: int(count)
        for state, count in session.execute(
            select(CallAttempt.state, func.count())
            .where(CallAttempt.campaign_id == campaign_id, CallAttempt.state.in_(LIVE_STATES))
            .group_by(CallAttempt.state)
        )
    }
    return CampaignFigures(
        outcomes=outcomes,
        finished=sum(outcomes.values()),
        in_flight=sum(live.values()),
        answered=answered + live.get("up", 0),
        reported=reported,
        listened=listened,
        heard_ms=heard_ms,
    )


def outcomes_by_hour(
    session: Session, campaign_id: int, *, since: datetime, until: datetime
) -> list[HourOutcomes]:
    """Finished calls of the campaign started in [since, until), per UTC hour of their start."""
    hours: dict[datetime, dict[str, int]] = {}
    for hour, outcome, calls in session.execute(
        select(CampaignHour.hour, CampaignHour.outcome, CampaignHour.calls).where(
            CampaignHour.campaign_id == campaign_id, CampaignHour.hour >= since, CampaignHour.hour < until
        )
    ):
        hours.setdefault(hour, {})[outcome] = int(calls)
    return [HourOutcomes(hour, hours[hour]) for hour in sorted(hours)]


def debtor_listens(
    session: Session, campaign_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[bool, list[DebtorListens]]:
    """The campaign's debtors with at least one dialled call, most-listened first: the requested slice and
    whether more follow. A walk down (campaign, heard_ms, listens) — the index's own order, ties by the
    queue entry — that stops after ``limit + 1`` rows; no count of a possibly million-strong campaign."""
    rows = session.execute(
        select(
            Debtor.account,
            Debtor.full_name,
            CampaignDebtor.attempts,
            CampaignDebtor.listens,
            CampaignDebtor.heard_ms,
            CampaignDebtor.heard_full,
        )
        .join(Debtor, Debtor.id == CampaignDebtor.debtor_id)
        .where(CampaignDebtor.campaign_id == campaign_id, CampaignDebtor.attempts > 0)
        .order_by(CampaignDebtor.heard_ms.desc(), CampaignDebtor.listens.desc(), CampaignDebtor.id.desc())
        .limit(limit + 1)
        .offset(offset)
    ).all()
    return len(rows) > limit, [
        DebtorListens(account, name, int(calls), int(listens), int(heard), int(full))
        for account, name, calls, listens, heard, full in rows[:limit]
    ]


def default_hours_window(now: datetime) -> tuple[datetime, datetime]:
    """The last 24 hours up to the end of the current hour."""
    until = hour_start(now) + timedelta(hours=1)
    return until - timedelta(hours=24), until


def hour_start(moment: datetime) -> datetime:
    """The UTC hour a call started in (the rollup's key)."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def rebuild(connection: Connection, campaign_id: int | None = None) -> int:
    """Recompute the rollups from the call attempts (all campaigns, or one); returns the hour rows written.

    Reads the finished attempts once, ordered, and folds them in Python: the hour bucketing stays the same
    on every backend (SQLite keeps naive UTC text, PostgreSQL timestamptz)."""
    scope: list[ColumnElement[bool]] = [
        CallAttempt.campaign_id.is_not(None),
        CallAttempt.state.in_(FINISHED_STATES),
    ]
    queue_scope: list[ColumnElement[bool]] = []
    if campaign_id is not None:
        scope.append(CallAttempt.campaign_id == campaign_id)
        queue_scope.append(CampaignDebtor.campaign_id == campaign_id)
    hour_scope = [CampaignHour.campaign_id == campaign_id] if campaign_id is not None else []
    connection.execute(delete(CampaignHour).where(*hour_scope))
    hours: dict[tuple[int, datetime, str], list[int]] = {}
    result = connection.execute(
        select(
            CallAttempt.campaign_id,
            CallAttempt.started_at,
            CallAttempt.outcome,
            CallAttempt.answered_at.is_not(None),
            CallAttempt.heard_ms,
        )
        .where(*scope)
        .execution_options(yield_per=20_000)
    )
    for campaign, started_at, outcome, was_answered, heard in result:
        key = (int(campaign or 0), hour_start(started_at), outcome or "unknown")  # scope: never None
        sums = hours.setdefault(key, [0, 0, 0, 0, 0])
        sums[0] += 1
        sums[1] += 1 if was_answered else 0
        sums[2] += 1 if heard is not None else 0
        sums[3] += 1 if (heard or 0) > 0 else 0
        sums[4] += heard or 0
    rows = [
        {
            "campaign_id": c,
            "hour": h,
            "outcome": o,
            "calls": v[0],
            "answered": v[1],
            "reported": v[2],
            "listened": v[3],
            "heard_ms": v[4],
        }
        for (c, h, o), v in hours.items()
    ]
    for first in range(0, len(rows), 5000):
        connection.execute(insert(CampaignHour), rows[first : first + 5000])
    per_debtor: Any = (
        select(
            CallAttempt.campaign_debtor_id.label("entry"),
            func.sum(case((CallAttempt.heard_ms > 0, 1), else_=0)).label("listens"),
            func.coalesce(func.sum(CallAttempt.heard_ms), 0).label("heard_ms"),
            func.sum(case((CallAttempt.outcome == HEARD_FULL, 1), else_=0)).label("heard_full"),
        )
        .where(*scope, CallAttempt.campaign_debtor_id.is_not(None))
        .group_by(CallAttempt.campaign_debtor_id)
        .subquery()
    )
    connection.execute(update(CampaignDebtor).where(*queue_scope).values(listens=0, heard_ms=0, heard_full=0))
    connection.execute(
        update(CampaignDebtor)
        .where(CampaignDebtor.id == per_debtor.c.entry)
        .values(
            listens=per_debtor.c.listens, heard_ms=per_debtor.c.heard_ms, heard_full=per_debtor.c.heard_full
        )
    )
    return len(rows)
