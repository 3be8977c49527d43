"""Campaigns as users manage them: apply a definition, start, pause, stop, look at the status.

One service for every outlet (CLI now; the dashboard and the API later), so a rule lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from db.campaign_figures import campaign_figures
from db.models import Campaign, CampaignDebtor
from dialer.campaign_spec import CampaignError, CampaignSpec

STATES = ("stopped", "running", "paused")
# An engine touches each campaign it works on at least this often (engine.poll_interval is far shorter).
HEARTBEAT_STALE = timedelta(seconds=30)
STATE_LABELS = {"running": "идёт", "paused": "пауза", "stopped": "остановлена"}


@dataclass(frozen=True, slots=True)
class Applied:
    campaign_id: int
    name: str
    created: bool
    changed: bool
    revision: int


def apply_spec(
    sessions: sessionmaker[Session], organisation_id: int, spec: CampaignSpec, now: datetime
) -> Applied:
    """Create the campaign, or update the one with the same name (a running engine picks it up)."""
    text = spec.to_json()
    with sessions.begin() as session:
        campaign = _find(session, organisation_id, spec.name)
        if campaign is None:
            campaign = Campaign(
                organisation_id=organisation_id,
                name=spec.name,
                spec=text,
                state="stopped",
                state_reason="",
                revision=1,
                created_at=now,
                updated_at=now,
            )
            session.add(campaign)
            session.flush()
            return Applied(campaign.id, campaign.name, created=True, changed=True, revision=1)
        if campaign.spec == text:
            return Applied(
                campaign.id, campaign.name, created=False, changed=False, revision=campaign.revision
            )
        campaign.spec, campaign.revision, campaign.updated_at = text, campaign.revision + 1, now
        return Applied(campaign.id, campaign.name, created=False, changed=True, revision=campaign.revision)


def set_state(
    sessions: sessionmaker[Session], organisation_id: int, name: str, state: str, now: datetime
) -> tuple[str, str]:
    """Move a campaign to ``state`` (running, paused, stopped); returns (previous, new)."""
    if state not in STATES:
        raise CampaignError(f"unknown campaign state {state!r}", hint=f"one of {', '.join(STATES)}")
    with sessions.begin() as session:
        campaign = _require(session, organisation_id, name)
        previous = campaign.state
        if state == "paused" and previous == "stopped":
            raise CampaignError(f"campaign {name!r} is stopped; start it first")
        if previous != state:
            campaign.state, campaign.revision, campaign.updated_at = state, campaign.revision + 1, now
            campaign.state_reason = ""
            if state == "running":
                campaign.started_at = now
        return previous, state


def campaign_status(
    sessions: sessionmaker[Session], organisation_id: int, name: str, now: datetime
) -> dict[str, Any]:
    """The campaign's live figures (the ``status --json`` document)."""
    with sessions() as session:
        campaign = _require(session, organisation_id, name)
        figures = campaign_figures(session, campaign.id)  # the engine's rollups and the calls in flight
        outcomes = figures.outcomes
        in_flight, placed, answered = figures.in_flight, figures.placed, figures.answered
        queue: dict[str, int] = dict(
            session.execute(
                select(CampaignDebtor.state, func.count())
                .where(CampaignDebtor.campaign_id == campaign.id)
                .group_by(CampaignDebtor.state)
            ).all()
        )
        due_now = session.scalar(
            select(func.count()).where(
                CampaignDebtor.campaign_id == campaign.id,
                CampaignDebtor.state == "due",
                CampaignDebtor.next_attempt_at <= now,
            )
        )
        next_due = session.scalar(
            select(func.min(CampaignDebtor.next_attempt_at)).where(
                CampaignDebtor.campaign_id == campaign.id, CampaignDebtor.state == "due"
            )
        )
        spec = CampaignSpec.from_json(campaign.spec)
        heartbeat = campaign.heartbeat_at
        reason = live_reason(campaign.state, campaign.state_reason, heartbeat, now)
        return {
            "name": campaign.name,
            "state": campaign.state,
            "reason": reason,
            "revision": campaign.revision,
            "trunk": spec.trunk,
            "max_channels": spec.max_channels,
            "calls_per_second": spec.calls_per_second,
            "in_flight": int(in_flight or 0),
            "placed": int(placed or 0),
            "answered": int(answered or 0),
            "heard_full": outcomes.get("heard_full", 0),
            "partial": outcomes.get("partial", 0),
            "busy": outcomes.get("busy", 0),
            "no_answer": outcomes.get("no_answer", 0),
            "congestion": outcomes.get("congestion", 0),
            "failed": outcomes.get("failed", 0) + outcomes.get("invalid_number", 0),
            "lost": outcomes.get("lost", 0),
            "reported": figures.reported,  # answered calls with a listen report from the IVR
            "heard_ms": figures.heard_ms,
            "average_heard_seconds": figures.average_heard_seconds,
            "outcomes": outcomes,
            "debtors": sum(queue.values()),
            "pending": queue.get("due", 0),
            "due_now": int(due_now or 0),  # of the pending: their next attempt's time has come
            "calling": queue.get("calling", 0),
            "done": queue.get("done", 0),
            "next_attempt_at": next_due.isoformat() if next_due is not None else None,
            "heartbeat_at": heartbeat.isoformat() if heartbeat is not None else None,
            "id": campaign.id,
        }


def live_reason(state: str, engine_reason: str, heartbeat: datetime | None, now: datetime) -> str:
    """Why the campaign is (not) dialling, as a supervisor reads it: its state, a stale engine, or the
    engine's own word (outside the window, caps, nothing due, Asterisk down)."""
    if state == "paused":
        return "кампания на паузе"
    if state == "stopped":
        return "кампания остановлена"
    if heartbeat is None or heartbeat < now - HEARTBEAT_STALE:  # UtcDateTime: aware
        return "движок обзвона не запущен (upravdolg run)"
    return engine_reason


@dataclass(frozen=True, slots=True)
class CampaignSummary:
    id: int
    name: str
    state: str
    reason: str
    revision: int
    updated_at: datetime
    started_at: datetime | None


def campaign_summaries(
    sessions: sessionmaker[Session], organisation_id: int, now: datetime
) -> list[CampaignSummary]:
    """Every campaign with its live state and reason (one query: the panel's list)."""
    with sessions() as session:
        return [
            CampaignSummary(
                c.id,
                c.name,
                c.state,
                live_reason(c.state, c.state_reason, c.heartbeat_at, now),
                c.revision,
                c.updated_at,
                c.started_at,
            )
            for c in session.scalars(
                select(Campaign).where(Campaign.organisation_id == organisation_id).order_by(Campaign.name)
            )
        ]


def get_spec(sessions: sessionmaker[Session], organisation_id: int, name: str) -> CampaignSpec:
    """The campaign's current definition (to edit it with the same fields as its TOML)."""
    with sessions() as session:
        return CampaignSpec.from_json(_require(session, organisation_id, name).spec)


def list_campaigns(sessions: sessionmaker[Session], organisation_id: int) -> list[tuple[str, str]]:
    with sessions() as session:
        return [
            (name, state)
            for name, state in session.execute(
                select(Campaign.name, Campaign.state)
                .where(Campaign.organisation_id == organisation_id)
                .order_by(Campaign.name)
            )
        ]


def format_status(status: dict[str, Any]) -> str:
    """The status as a supervisor reads it (Russian labels: the same words as the dashboard)."""
    lines = [
        f"Кампания «{status['name']}»: {STATE_LABELS.get(status['state'], status['state'])}"
        + (f" — {status['reason']}" if status["reason"] else ""),
        f"  линий {status['in_flight']} из {status['max_channels']}, {status['calls_per_second']:g} выз./с, "
        f"транк {status['trunk']}",
        f"  набрано {status['placed']}, ответили {status['answered']}, прослушали полностью "
        f"{status['heard_full']}, частично {status['partial']}",
        f"  занято {status['busy']}, не ответили {status['no_answer']}, перегрузка {status['congestion']}, "
        f"ошибки {status['failed']}, потеряно {status['lost']}",
        f"  должников {status['debtors']}: ждут звонка {status['pending']} "
        f"(пора сейчас {status['due_now']}), на линии {status['calling']}, завершено {status['done']}",
    ]
    if status["next_attempt_at"]:
        lines.append(f"  следующий звонок не раньше {status['next_attempt_at']}")
    return "\n".join(lines) + "\n"


def _find(session: Session, organisation_id: int, name: str) -> Campaign | None:
    return session.scalars(
        select(Campaign).where(Campaign.organisation_id == organisation_id, Campaign.name == name.strip())
    ).one_or_none()


def _require(session: Session, organisation_id: int, name: str) -> Campaign:
    campaign = _find(session, organisation_id, name)
    if campaign is None:
        known = session.scalars(
            select(Campaign.name).where(Campaign.organisation_id == organisation_id)
        ).all()
        raise CampaignError(
            f"no campaign named {name!r}",
            hint=("known: " + ", ".join(known))
            if known
            else "create one with `upravdolg campaign apply FILE`",
        )
    return campaign
