"""The monthly run of reports: every report of debtors/reports for the previous calendar month (the
organisation's local month), in PDF and XLSX, written to ``<folder>/<YYYY-MM>/<name>.<ext>``.

The folder is given by the caller (the composition root wires it from the settings); the job is added to
the same APScheduler 3 scheduler as the daily jobs (dialer/scheduler.py)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from debtors.reports.model import ReportParams
from debtors.reports.outlets import render
from debtors.reports.registry import build_report, report_names
from dialer.bootstrap import Storage, utc_now
from dialer.errors import UpravDolgError
from dialer.settings import Settings

logger = logging.getLogger(__name__)
REPORTS_JOB = "reports_monthly"
FORMATS = ("pdf", "xlsx")


def previous_month(today: date) -> tuple[date, date]:
    """The first and the last day of the calendar month before ``today``'s."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def run_monthly_reports(
    settings: Settings, storage: Storage, folder: Path, now: datetime | None = None
) -> list[Path]:
    """Build every report for the month before ``now``'s local month and write each format; returns the
    files written. A file of the same name is replaced (a re-run of the month writes it afresh). A file
    that cannot be rendered or written is logged and skipped: the others are still written; a report that
    cannot be built (the database is down) stops the run."""
    moment = now or utc_now()
    date_from, date_to = previous_month(moment.astimezone(ZoneInfo(settings.organisation.timezone)).date())
    return write_reports(settings, storage, folder / f"{date_from:%Y-%m}", date_from, date_to, moment=moment)


def write_reports(
    settings: Settings, storage: Storage, target: Path, date_from: date, date_to: date, *, moment: datetime
) -> list[Path]:
    """Every report for ``date_from``..``date_to`` in every format into ``target`` (see
    :func:`run_monthly_reports`; the demo writes the current month's this way)."""
    zone = settings.organisation.timezone
    params = ReportParams(
        date_from=date_from,
        date_to=date_to,
        timezone=zone,
        generated_at=moment,
        within_days=settings.scheduler.contact_effect_days,
    )
    target.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in report_names():
        with storage.sessions() as session:
            report = build_report(session, storage.organisation_id, name, params)
        for fmt in FORMATS:
            path = target / f"{name}.{fmt}"
            try:
                path.write_bytes(render(report, fmt))
            except (ValueError, OSError, UpravDolgError) as exc:  # one file failing costs no other
                logger.error(
                    "monthly report %s.%s failed: %s",
                    name,
                    fmt,
                    str(exc),
                    extra={"action": "reports_monthly"},
                )
                continue
            written.append(path)
    logger.info(
        "monthly reports for %s: %d files in %s",
        f"{date_from:%Y-%m}",
        len(written),
        target,
        extra={"action": "reports_monthly"},
    )
    return written


def add_report_job(
    scheduler: BaseScheduler,
    settings: Settings,
    storage: Storage,
    folder: Path,
    *,
    day: int = 1,
    at: str = "07:00",
) -> None:
    """Run :func:`run_monthly_reports` on ``day`` of every month at ``at`` (HH:MM), local time."""
    hour, minute = (int(part) for part in at.split(":"))
    scheduler.add_job(
        run_monthly_reports,
        CronTrigger(day=day, hour=hour, minute=minute, timezone=ZoneInfo(settings.organisation.timezone)),
        args=[settings, storage, folder],
        id=REPORTS_JOB,
        replace_existing=True,
        coalesce=True,
        misfire_grace_time=24 * 3600,
    )
