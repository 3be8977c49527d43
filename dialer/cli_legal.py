"""`upravdolg legal`: the lawyer's cases (debtors/legal_cases.py — the same services the dashboard calls)."""

from __future__ import annotations

import argparse
import mimetypes
import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dialer.errors import UpravDolgError
from dialer.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
    imported = a.add_parser("import", help="match a court's or bailiff's registry (CSV/XLSX) to the debtors")
    imported.add_argument("file", type=Path)
    imported.add_argument("--encoding", help="the CSV's encoding (default: detected)")
    a.add_parser("review", help="the registry rows waiting for a lawyer's decision, with candidates")
    decide = a.add_parser("decide", help="decide a registry row: a debtor's account, or «нет в базе»")
    decide.add_argument("row", type=int)
    chosen = decide.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--account", help="the debtor the row is about")
    chosen.add_argument("--none", action="store_true", help="the debtor is not in our list")


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
        elif args.action in {"import", "review", "decide"}:
            _registry_action(args, session, org, today=today, now=now)
        else:
            for row in list_cases(session, org, stages=[Stage(s) for s in args.stage]):
                claimed = f"{row.amount_claimed}" if row.amount_claimed is not None else "-"
                _out(
                    f"#{row.id}  {row.account}  {stage_label(row.stage)} {row.stage_on:%Y-%m-%d}  "
                    f"{row.case_number or '-'}  claimed {claimed}  debt {row.debt}  {row.full_name}"
                )
    return 0


def _registry_action(
    args: argparse.Namespace, session: Session, org: int, *, today: date, now: datetime
) -> None:
    """`legal import`, `legal review`, `legal decide` (debtors/legal_import.py)."""
    from debtors.legal_import import decide_row, import_court_registry, pending_rows
    from debtors.legal_matching import MatchRules

    if args.action == "import":
        summary = import_court_registry(
            session,
            org,
            args.file,
            rules=MatchRules(),
            actor="cli",
            now=now,
            opened_on=today,
            encoding=args.encoding,
        )
        _out(
            f"{summary.source}: {summary.rows} rows: {summary.exact} exact account, {summary.matched} "
            f"matched, {summary.ambiguous} ambiguous, {summary.unmatched} unmatched, {summary.bad} bad; "
            f"cases opened {summary.cases_opened}, updated {summary.cases_updated}"
        )
        for error in summary.errors:
            _out(f"  row {error.row} {error.field} {error.value!r}: {error.message}")
        if summary.ambiguous or summary.unmatched:
            _out("  see `upravdolg legal review`")
    elif args.action == "review":
        rows = pending_rows(session, org)
        for row in rows:
            claimed = f"{row.amount_claimed}" if row.amount_claimed is not None else "-"
            _out(
                f"#{row.id}  {row.source}:{row.row}  {row.outcome}  {row.full_name or '-'}  "
                f"{row.address or '-'}  ЛС {row.account or '-'}  claimed {claimed}  "
                f"{row.case_number or '-'}  {row.court or '-'}"
            )
            for note in row.discrepancies:
                _out(f"    ! {note}")
            for candidate in row.candidates:
                _out(
                    f"    {candidate['score']:.2f}  {candidate['account']}  {candidate['full_name']}  "
                    f"{candidate['address']}"
                )
                for note in candidate.get("notes", []):
                    _out(f"          - {note}")
        _out(f"{len(rows)} rows wait for a decision")
    else:
        decided = decide_row(
            session, org, args.row, None if args.none else args.account, actor="cli", now=now,
            opened_on=today,
        )  # fmt: skip
        if decided.debtor_id is None:
            _out(f"row #{decided.id}: нет в базе")
        else:
            case = f", case #{decided.case_id}" if decided.case_id is not None else ""
            _out(f"row #{decided.id}: debtor {args.account}{case}")


LEGAL_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"legal": cmd_legal}
