"""`upravdolg demo`: the main job on the embedded default (SQLite), end to end, with a printed summary.

It imports the sample debtor list through the registry import, applies and starts a campaign over it, and
runs the campaign engine until it is idle: every debtor is called through the sandbox Asterisk (the
simulated debtors: the number's last digit picks the behaviour), hears the message through the engine's
FastAGI listener, and gets an outcome and a next attempt. Then it prints the outcome table and the
campaign's status.

The demo works in its own database (``<sandbox.cache_dir>/demo/upravdolg-demo.db``), made afresh on every
run so that the demo always calls everybody; it never touches ``database.url``.

Before the calls start it starts the dashboard on that database (a supervisor ``demo`` is created; the
URL and the password are printed) so the campaign's progress can be watched live; the dashboard keeps
running after the demo for a look at the results, and the next demo replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from dashboard.launch import streamlit_command, streamlit_environment
from db.debtor_list import filter_choices
from db.models import CallAttempt, CampaignDebtor, Debtor
from debtors.couriers import add_courier, courier_link
from debtors.import_runs import print_import
from debtors.notice_pdf import NoticeLetterhead, render_notices, render_route_sheet
from debtors.notices import assign_notices, generate_notices, printable
from debtors.registry_import import import_debtors
from debtors.statuses import LABELS, Status
from dialer.bootstrap import (
    Storage,
    api_base_url,
    make_accounts,
    make_engine_service,
    notice_rules,
    open_storage,
    utc_now,
)
from dialer.campaign_spec import parse_spec
from dialer.campaigns import apply_spec, campaign_status, format_status, set_state
from dialer.probe import mask_number
from dialer.report_schedule import write_reports
from dialer.scheduler import run_statistics_refresh
from dialer.service_loop import run_service
from dialer.settings import DatabaseSettings, Settings

SAMPLE = Path(__file__).resolve().parent.parent / "debtors" / "samples" / "debtors_2026-11.csv"
DEMO_CAMPAIGN: dict[str, Any] = {
    "name": "Демо",
    "trunk": "sim",
    "max_channels": 4,
    "calls_per_second": 2.0,
    "dial_timeout": "8s",
    # The demo must work whenever it is run; a real campaign keeps the legal hours (the defaults).
    "window": {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"},
}
DEMO_TIMEOUT_SECONDS = 420.0  # a debtor who stays on the line hears about a minute of message
DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo-password"  # noqa: S105 (the demo database's own, printed for the user)
DASHBOARD_START_SECONDS = 40.0


def demo_database(settings: Settings) -> Path:
    return settings.sandbox.cache_dir / "demo" / "upravdolg-demo.db"


def run_demo(settings: Settings, out: TextIO) -> int:
    path = demo_database(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    demo_settings = settings.model_copy(update={"database": DatabaseSettings(url=f"sqlite:///{path}")})
    with open_storage(demo_settings) as storage:
        return _run_demo(demo_settings, storage, out)


def _run_demo(settings: Settings, storage: Storage, out: TextIO) -> int:
    out.write(f"Database: {storage.engine.url.render_as_string(hide_password=True)}\n")
    report = import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=utc_now())
    print_import(report, SAMPLE, out)
    make_accounts(settings, storage).add_user(
        DEMO_LOGIN, DEMO_PASSWORD, "supervisor", utc_now(), full_name="Демо Руководитель"
    )
    _start_dashboard(settings, out)
    spec = parse_spec(DEMO_CAMPAIGN, source="the demo campaign")
    apply_spec(storage.sessions, storage.organisation_id, spec, utc_now())
    set_state(storage.sessions, storage.organisation_id, spec.name, "running", utc_now())
    out.write(
        f"Campaign «{spec.name}»: {spec.max_channels} channels, {spec.calls_per_second:g} calls/s, "
        "through the sandbox's simulated debtors; running the engine until it is idle...\n"
    )
    engine = make_engine_service(settings, storage)
    run_service(asyncio.wait_for(engine.run(until_idle=True), DEMO_TIMEOUT_SECONDS))
    rows = _outcome_rows(storage)
    width = max((len(r["name"]) for r in rows), default=10)
    out.write(
        f"\n{'account':<8} {'debtor':<{width}} {'number':<13} {'outcome':<11} {'heard/message':>13} "
        f"{'keys':<4} {'ended':<11} {'next attempt':<17} facts from Asterisk\n"
    )
    for row in rows:
        out.write(
            f"{row['account']:<8} {row['name']:<{width}} {mask_number(row['number']):<13} "
            f"{row['outcome']:<11} {row['heard']:>13} {row['keys']:<4} {row['ended']:<11} {row['next']:<17} "
            f"{row['facts']}\n"
        )
    out.write(
        f"\nPer debtor:\n{'account':<8} {'debtor':<{width}} {'calls':>5} {'listens':>7} {'heard s':>8}"
        "  status\n"
    )
    for account, name, calls, listens, heard, status in _per_debtor(storage):
        out.write(f"{account:<8} {name:<{width}} {calls:>5} {listens:>7} {heard:>8.1f}  {status}\n")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
    out.write("\nSummary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n\n")
    out.write(format_status(campaign_status(storage.sessions, storage.organisation_id, spec.name, utc_now())))
    out.write(
        f"\nLook again with: upravdolg --database-url sqlite:///{demo_database(settings)} "
        f"campaign status {spec.name}\n"
    )
    run_statistics_refresh(settings, storage)  # the dashboard's «Статистика» shows the demo's figures
    _field_demo(settings, storage, out)
    _reports_demo(settings, storage, out)
    _start_api(settings, out)
    _dashboard_reminder(settings, out)
    finished = all(r["outcome"] not in {"-", "lost"} for r in rows)
    return 0 if rows and finished and counts.get("heard_full", 0) > 0 else 1


def _outcome_rows(storage: Storage) -> list[dict[str, str]]:
    with storage.sessions() as session:
        found = session.execute(
            select(CallAttempt, Debtor.account, Debtor.full_name, CampaignDebtor.next_attempt_at)
            .join(Debtor, Debtor.id == CallAttempt.debtor_id)
            .outerjoin(CampaignDebtor, CampaignDebtor.id == CallAttempt.campaign_debtor_id)
            .order_by(Debtor.account, CallAttempt.started_at)
        ).all()
    rows = []
    for attempt, account, name, next_at in found:
        facts = [
            f"DialStatus {attempt.dial_status}" if attempt.dial_status else "",
            f"cause {attempt.hangup_cause}" if attempt.hangup_cause is not None else "",
            f"Reason {attempt.originate_reason}" if attempt.originate_reason is not None else "",
        ]
        rows.append(
            {
                "account": account,
                "name": name,
                "number": attempt.number,
                "outcome": attempt.outcome or "-",
                "heard": (
                    f"{attempt.heard_ms / 1000:.1f}/{(attempt.message_ms or 0) / 1000:.1f} s"
                    if attempt.heard_ms is not None
                    else ""
                ),
                "keys": attempt.digits or "",
                "ended": attempt.ended_by or "",
                "next": _local(next_at),
                "facts": ", ".join(f for f in facts if f),
            }
        )
    return rows


def _per_debtor(storage: Storage) -> list[tuple[str, str, int, int, float, str]]:
    """Account, name, calls answered or not, listens (answered calls that played some of the message),
    seconds heard over all of them, and the status label."""
    listened = CallAttempt.heard_ms > 0
    with storage.sessions() as session:
        found = session.execute(
            select(
                Debtor.account,
                Debtor.full_name,
                func.count(CallAttempt.id),
                func.count(CallAttempt.id).filter(listened),
                func.coalesce(func.sum(CallAttempt.heard_ms), 0),
                Debtor.status,
            )
            .join(CallAttempt, CallAttempt.debtor_id == Debtor.id)
            .group_by(Debtor.id)
            .order_by(Debtor.account)
        ).all()
    return [(a, n, c, li, (h or 0) / 1000, LABELS[Status(st)]) for a, n, c, li, h, st in found]


def _local(value: datetime | None) -> str:
    if value is None:
        return "none"
    return value.strftime("%d.%m %H:%M UTC")  # UtcDateTime: aware UTC


@dataclass(frozen=True, slots=True)
class _Background:
    """A server the demo leaves running on its database (the dashboard, the API); the next demo stops it."""

    name: str
    url: str
    health: str  # answers 200 when it serves
    marker: bytes  # in its command line: a reused pid is not ours
    folder: Path

    @property
    def pid_file(self) -> Path:
        return self.folder / f"{self.name}.pid"

    @property
    def log(self) -> Path:
        return self.folder / f"{self.name}.log"

    def serving(self) -> bool:
        try:
            with urllib.request.urlopen(self.health, timeout=1) as reply:  # noqa: S310 (our URL)
                return bool(reply.status == 200)
        except OSError:
            return False

    def stop_previous(self) -> None:
        """The previous demo's server reads a database file that is gone now: stop it."""
        try:
            pid = int(self.pid_file.read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return
        if self.marker not in command:
            return  # the pid was reused by something else
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
        self.pid_file.unlink(missing_ok=True)

    def start(self, command: list[str], env: dict[str, str], out: TextIO) -> bool:
        self.stop_previous()
        if self.serving():
            out.write(f"{self.name}: {self.url} is taken by another server; not started.\n")
            return False
        with self.log.open("wb") as sink:
            process = subprocess.Popen(
                command,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # it outlives the demo; the next demo stops it
            )
        self.pid_file.write_text(f"{process.pid}\n")
        deadline = time.monotonic() + DASHBOARD_START_SECONDS
        while not self.serving():
            if process.poll() is not None or time.monotonic() > deadline:
                out.write(f"{self.name} did not start (see {self.log}); the demo goes on without it.\n")
                return False
            time.sleep(0.3)
        return True

    def running_pid(self) -> str | None:
        if self.pid_file.exists() and self.serving():
            return self.pid_file.read_text().strip()
        return None


def _dashboard(settings: Settings) -> _Background:
    url = f"http://{settings.dashboard.address}:{settings.dashboard.port}/"
    return _Background("dashboard", url, f"{url}_stcore/health", b"streamlit", demo_database(settings).parent)


def _api(settings: Settings) -> _Background:
    url = f"http://{settings.api.address}:{settings.api.port}/"
    return _Background("api", url, f"{url}api/v1/health", b"dialer", demo_database(settings).parent)


def _start_dashboard(settings: Settings, out: TextIO) -> None:
    dashboard = _dashboard(settings)
    command = streamlit_command(port=settings.dashboard.port, address=settings.dashboard.address)
    if dashboard.start(command, streamlit_environment(settings, os.environ), out):
        out.write(
            f"Dashboard: {dashboard.url}  login «{DEMO_LOGIN}», password «{DEMO_PASSWORD}» "
            "— open «Обзвон» to watch the campaign live\n"
        )
        out.flush()


def _start_api(settings: Settings, out: TextIO) -> None:
    """The couriers' page and API on the demo's database, so the printed courier link opens."""
    api = _api(settings)
    url = settings.database.url
    command = [sys.executable, "-m", "dialer", "--database-url", url, "api", "--port", str(settings.api.port)]
    if api.start(command, dict(os.environ), out):
        out.write(f"API: {api.url}api/v1/ (its OpenAPI document: {api.url}api/v1/openapi.json)\n")


def _dashboard_reminder(settings: Settings, out: TextIO) -> None:
    dashboard, api = _dashboard(settings), _api(settings)
    pid = dashboard.running_pid()
    if pid is not None:
        out.write(
            f"\nThe dashboard keeps running at {dashboard.url} (login «{DEMO_LOGIN}», password "
            f"«{DEMO_PASSWORD}»); stop it with: kill {pid}\n"
        )
    pid = api.running_pid()
    if pid is not None:
        out.write(f"The API and the couriers' page keep running at {api.url}; stop them with: kill {pid}\n")


DEMO_COURIER = "Курьер Демо"


def _field_demo(settings: Settings, storage: Storage, out: TextIO) -> None:
    """The field side on the sample debtors: notices by the rules, one courier with every district, the
    printed batch and route sheet, and the courier's link (debtors/notices.py, the same as the CLI)."""
    now = utc_now()
    timezone = settings.organisation.timezone
    folder = demo_database(settings).parent
    with storage.sessions.begin() as session:
        org = storage.organisation_id
        made = generate_notices(session, org, now=now, timezone=timezone, rules=notice_rules(settings))
        courier, token = add_courier(session, org, DEMO_COURIER, now=now)
        districts = filter_choices(session, org).districts
        assigned = assign_notices(session, org, courier.id, districts=districts, now=now)
        batch = printable(session, org, courier_id=courier.id, now=now, timezone=timezone)
    letterhead = NoticeLetterhead(
        organisation=settings.organisation.name,
        how_to_pay=settings.notices.how_to_pay,
        restriction_days=settings.restrictions.days_after_delivery,
        printed_at=now,
        timezone=timezone,
    )
    notices_pdf, route_pdf = folder / "notices.pdf", folder / "route-sheet.pdf"
    notices_pdf.write_bytes(render_notices(batch, letterhead))
    today = now.astimezone(ZoneInfo(timezone)).date()
    route_pdf.write_bytes(render_route_sheet(courier.name, today, batch, letterhead))
    out.write(
        f"\nNotices: {made.primary} primary, {made.secondary} secondary generated by the rules; {assigned} "
        f"assigned to «{courier.name}».\n  printed: {notices_pdf}\n  route sheet: {route_pdf}\n"
        f"  courier's link (a phone page; the API started below serves it): "
        f"{courier_link(api_base_url(settings), token)}\n"
    )


def _reports_demo(settings: Settings, storage: Storage, out: TextIO) -> None:
    """One report of each kind for this month so far, PDF and XLSX (dialer/report_schedule.py)."""
    now = utc_now()
    today = now.astimezone(ZoneInfo(settings.organisation.timezone)).date()
    folder = demo_database(settings).parent / "reports"
    written = write_reports(settings, storage, folder, today.replace(day=1), today, moment=now)
    names = sorted({p.stem for p in written})
    out.write(f"\nReports ({', '.join(names)}) for {today:%m.%Y}, PDF and XLSX: {folder}\n")
