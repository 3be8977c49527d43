"""The `report` command: any report of debtors/reports in PDF, XLSX or CSV (the same engine the dashboard
and the monthly run use)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from dialer.errors import UpravDolgError
from dialer.settings import Settings

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def add_report_parsers(sub: SubParsers) -> None:
    p = sub.add_parser(
        "report",
        help="a report (notices, plugs, calls, debt, payments, contact) for a period as PDF, XLSX or CSV",
        description="Build a report for whole local days of the organisation, FROM and TO included. "
        "`upravdolg report --list` names the reports (docs/reports.md).",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="the report's name (see --list)")
    p.add_argument("--list", action="store_true", help="print the report names, one a line")
    p.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="the first day")
    p.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="the last day (included)")
    p.add_argument("--district", action="append", default=[], help="only debtors of a district (repeatable)")
    p.add_argument("--campaign", help="calls: only this campaign")
    p.add_argument(
        "--price-per-attempt",
        default="0",
        metavar="RUBLES",
        help="calls: the cost of one dialled attempt, e.g. 1.20 (default 0)",
    )
    p.add_argument(
        "--within-days",
        type=int,
        metavar="N",
        help="contact: a payment within N days after the contact counts "
        "(default: scheduler.contact_effect_days)",
    )
    p.add_argument("--format", choices=("pdf", "xlsx", "csv"), help="default: from the --out suffix")
    p.add_argument("--out", type=Path, help="the file to write")


def _date(option: str, text: str | None) -> date:
    if not text:
        raise UpravDolgError(f"{option} is required", hint="give a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UpravDolgError(f"{option} {text!r}: expected a date as YYYY-MM-DD") from None


def _price(text: str) -> Decimal:
    try:
        price = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise UpravDolgError(f"--price-per-attempt {text!r}: expected an amount such as 1.20") from None
    if not price.is_finite() or price < 0:
        raise UpravDolgError(f"--price-per-attempt {text!r}: expected an amount of 0 or more")
    return price


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.reports.model import ReportParams
    from debtors.reports.outlets import format_of, render
    from debtors.reports.registry import build_report, definition, report_names
    from dialer.bootstrap import open_storage, utc_now

    if args.list:
        for name in report_names():
            _out(name)
        return 0
    if not args.name:
        raise UpravDolgError("which report?", hint="give its name, or --list to see them")
    definition(args.name)  # an unknown name fails before anything else
    date_from, date_to = _date("--from", args.date_from), _date("--to", args.date_to)
    if date_to < date_from:
        raise UpravDolgError(f"--to {date_to:%Y-%m-%d} is before --from {date_from:%Y-%m-%d}")
    within_days = settings.scheduler.contact_effect_days if args.within_days is None else args.within_days
    if within_days < 0:
        raise UpravDolgError(f"--within-days {within_days}: expected 0 or more days")
    if args.out is None:
        raise UpravDolgError("--out is required", hint="the file to write, e.g. report.pdf")
    out: Path = args.out
    fmt = format_of(out, args.format)
    if not out.parent.is_dir():
        raise UpravDolgError(f"{out}: the folder {out.parent} does not exist")
    params = ReportParams(
        date_from=date_from,
        date_to=date_to,
        timezone=settings.organisation.timezone,
        generated_at=utc_now(),
        districts=tuple(args.district),
        campaign=args.campaign,
        price_per_attempt=_price(args.price_per_attempt),
        within_days=within_days,
    )
    with open_storage(settings) as storage, storage.sessions() as session:
        report = build_report(session, storage.organisation_id, args.name, params)
    data = render(report, fmt)
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise UpravDolgError(f"{out}: cannot write the report: {exc.strerror or exc}") from None
    _out(f"{report.title} ({report.period_text}) written to {out} ({fmt}, {len(data)} bytes)")
    return 0


REPORT_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"report": cmd_report}
