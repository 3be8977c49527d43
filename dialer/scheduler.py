"""Scheduled jobs (APScheduler 3.x): the daily status check, the daily generation of paper notices, the
monthly reports and the statistics refresh. `upravdolg scheduler run` hosts them."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from debtors.notices import GenerateReport, generate_notices
from debtors.statistics import StoredStatistics, refresh_statistics
from debtors.status_service import StatusUpdate, check_statuses
from dialer.bootstrap import Storage, notice_rules, status_rules, utc_now
from dialer.report_schedule import add_report_job
from dialer.settings import Settings

logger = logging.getLogger(__name__)
STATUS_CHECK_JOB = "status_check"
STATISTICS_JOB = "statistics_refresh"
NOTICES_JOB = "notices_generate"


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


def run_notice_generation(
    settings: Settings, storage: Storage, now: datetime | None = None
) -> GenerateReport:
    """The notices the rules call for today (the same as `upravdolg notices generate`)."""
    with storage.sessions.begin() as session:
        made = generate_notices(
            session,
            storage.organisation_id,
            now=now or utc_now(),
            timezone=settings.organisation.timezone,
            rules=notice_rules(settings),
        )
    logger.info(
        "notices generated: %d primary, %d secondary",
        made.primary,
        made.secondary,
        extra={"action": "notices_generate"},
    )
    return made


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
    if settings.scheduler.notices_at:
        n_hour, n_minute = (int(part) for part in settings.scheduler.notices_at.split(":"))
        scheduler.add_job(
            run_notice_generation,
            CronTrigger(hour=n_hour, minute=n_minute, timezone=ZoneInfo(settings.organisation.timezone)),
            args=[settings, storage],
            id=NOTICES_JOB,
            replace_existing=True,
            coalesce=True,
            misfire_grace_time=6 * 3600,
        )
    if settings.scheduler.reports_folder:
        add_report_job(scheduler, settings, storage, Path(settings.scheduler.reports_folder))
    scheduler.add_job(
        run_statistics_refresh,
        IntervalTrigger(minutes=settings.scheduler.statistics_every_minutes),
        args=[settings, storage],
        id=STATISTICS_JOB,
        replace_existing=True,
        coalesce=True,
        max_instances=1,
    )
