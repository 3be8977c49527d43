"""`upravdolg legal`: the lawyer's cases (debtors/legal_cases.py — the same services the dashboard calls)."""

from __future__ import annotations

import argparse
import mimetypes
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dialer.errors import UpravDolgError
from dialer.settings import Settings

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date as YYYY-MM-DD") from None


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r}: expected an amount like 12345.67") from None


def add_legal_parsers(sub: SubParsers) -> None:
    legal = sub.add_parser("legal", help="the lawyer's cases: open, move through stages, attach documents")
    a = legal.add_subparsers(dest="action", required=True, metavar="ACTION")
    opened = a.add_parser("open", help="open a case against a debtor (stage «подготовка»)")
    opened.add_argument("account")
    opened.add_argument("--date", type=_day, help="opened on (default today)")
    opened.add_argument("--court", default="")
    opened.add_argument("--number", default="", help="the court's case number")
    opened.add_argument("--amount", type=_amount, help="amount claimed")
    opened.add_argument("--penalty", type=_amount, help="penalty (пени) claimed")
    opened.add_argument("--note", default="")
    stage = a.add_parser("stage", help="move a case to its next stage")
    stage.add_argument("case", type=int)
    stage.add_argument(
        "stage",
        choices=("filed", "court_order", "cancelled", "lawsuit", "judgement", "enforcement", "closed"),
    )
    stage.add_argument("--date", type=_day, help="the stage's date (default today)")
    stage.add_argument("--court")
    stage.add_argument("--number", help="the court's case number")
    stage.add_argument("--note", default="")
    attach = a.add_parser("attach", help="keep a document with a case")
    attach.add_argument("case", type=int)
    attach.add_argument("file", type=Path)
    attach.add_argument("--title", default="")
    listing = a.add_parser("list", help="the cases, newest stage first")
    listing.add_argument("--stage", action="append", default=[])


def cmd_legal(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.legal_cases import attach_document, list_cases, move_case, open_case
    from debtors.legal_stages import Stage, stage_label
    from dialer.bootstrap import open_storage, utc_now

    now = utc_now()
    today = now.astimezone(ZoneInfo(settings.organisation.timezone)).date()
    with open_storage(settings) as storage, storage.sessions.begin() as session:
        org = storage.organisation_id
        if args.action == "open":
            case = open_case(
                session,
                org,
                args.account,
                opened_on=args.date or today,
                court=args.court,
                case_number=args.number,
                amount_claimed=args.amount,
                penalty_claimed=args.penalty,
                note=args.note,
                actor="cli",
                now=now,
            )
            _out(f"case #{case.id} opened for account {args.account}: {stage_label(case.stage)}")
        elif args.action == "stage":
            case = move_case(
                session,
                org,
                args.case,
                Stage(args.stage),
                on=args.date or today,
                note=args.note,
                court=args.court,
                case_number=args.number,
                actor="cli",
                now=now,
            )
            _out(f"case #{case.id}: {stage_label(case.stage)} since {case.stage_on:%Y-%m-%d}")
        elif args.action == "attach":
            try:
                content = args.file.read_bytes()
            except OSError as exc:
                raise UpravDolgError(f"{args.file}: cannot read it ({exc.strerror})") from None
            media = mimetypes.guess_type(args.file.name)[0] or "application/octet-stream"
            document = attach_document(
                session,
                org,
                args.case,
                title=args.title,
                filename=args.file.name,
                content=content,
                media_type=media,
                actor="cli",
                now=now,
            )
            _out(
                f"document #{document.id} ({document.filename}, {len(content)} bytes) "
                f"kept with case #{args.case}"
            )
        else:
            for row in list_cases(session, org, stages=[Stage(s) for s in args.stage]):
                claimed = f"{row.amount_claimed}" if row.amount_claimed is not None else "-"
                _out(
                    f"#{row.id}  {row.account}  {stage_label(row.stage)} {row.stage_on:%Y-%m-%d}  "
                    f"{row.case_number or '-'}  claimed {claimed}  debt {row.debt}  {row.full_name}"
                )
    return 0


LEGAL_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"legal": cmd_legal}
