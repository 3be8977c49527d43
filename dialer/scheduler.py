"""Scheduled jobs (APScheduler 3.x): the daily status check and the statistics refresh. `upravdolg scheduler
run` hosts them."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from debtors.statistics import StoredStatistics, refresh_statistics
from debtors.status_service import StatusUpdate, check_statuses
from dialer.bootstrap import Storage, status_rules, utc_now
from dialer.settings import Settings

logger = logging.getLogger(__name__)
STATUS_CHECK_JOB = "status_check"
STATISTICS_JOB = "statistics_refresh"


def run_status_check(settings: Settings, storage: Storage, now: datetime | None = None) -> list[StatusUpdate]:
    """One pass of the daily check, in the organisation's local date."""
    moment = now or utc_now()
    today = moment.astimezone(ZoneInfo(settings.organisation.timezone)).date()
    with storage.sessions.begin() as session:
        changes = check_statuses(
            session,
            storage.organisation_id,
            today=today,
            now=moment,
            rules=status_rules(settings),
            actor="scheduler",
        )
    logger.info("status check for %s: %d changes", today, len(changes), extra={"action": "status_check"})
    return changes


def run_statistics_refresh(
    settings: Settings, storage: Storage, now: datetime | None = None
) -> StoredStatistics:
    """Recompute the «Статистика» figures (also after every import and from the dashboard)."""
    stored = refresh_statistics(
        storage.sessions,
        storage.organisation_id,
        now=now or utc_now(),
        zone=ZoneInfo(settings.organisation.timezone),
        window_days=settings.scheduler.contact_effect_days,
    )
    logger.info("statistics refreshed in %d ms", stored.duration_ms, extra={"action": "statistics_refresh"})
    return stored


def add_jobs(scheduler: BaseScheduler, settings: Settings, storage: Storage) -> None:
    hour, minute = (int(part) for part in settings.scheduler.status_check_at.split(":"))
    scheduler.add_job(
        run_status_check,
        CronTrigger(hour=hour, minute=minute, timezone=ZoneInfo(settings.organisation.timezone)),
        args=[settings, storage],
        id=STATUS_CHECK_JOB,
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    scheduler.add_job(
        run_statistics_refresh,
        IntervalTrigger(minutes=settings.scheduler.statistics_every_minutes),
        args=[settings, storage],
        id=STATISTICS_JOB,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
