"""`upravdolg claim`: the application for a court order with its calculation, as PDF or DOCX
(debtors/claim_documents.py; docs/legal.md «Claim documents»)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dialer.errors import UpravDolgError
from dialer.settings import Settings

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

FORMATS = (".pdf", ".docx")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date as YYYY-MM-DD") from None


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise UpravDolgError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UpravDolgError(f"{path}: the {what} is not UTF-8 text", hint="save it as UTF-8") from None


def add_claim_parsers(sub: SubParsers) -> None:
    claim = sub.add_parser(
        "claim", help="an application for a court order with the debt and penalty calculation (PDF or DOCX)"
    )
    claim.add_argument("case", type=int, help="the legal case's number")
    claim.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.docx")
    claim.add_argument("--date", type=_day, help="the calculation date (default today)")
    claim.add_argument(
        "--charges",
        type=Path,
        help="a CSV period;amount with the real monthly charges (replaces the estimate)",
    )
    claim.add_argument("--template", type=Path, help="your copy of debtors/templates/court_order_claim.txt")


def cmd_claim(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.claim_charges import parse_charges_file
    from debtors.claim_documents import (
        TEMPLATE_PATH,
        build_claim_data,
        parse_template,
        render_claim_docx,
        render_claim_pdf,
    )
    from dialer.bootstrap import open_storage, utc_now

    out: Path = args.out
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise UpravDolgError(f"{out}: the output must end in .pdf or .docx")
    template_path: Path = args.template or TEMPLATE_PATH
    template = _read(template_path, "template")
    parse_template(template, str(template_path))  # template errors before any database work
    charges = None
    if args.charges is not None:
        charges = parse_charges_file(_read(args.charges, "charges file"), str(args.charges))
    today = utc_now().astimezone(ZoneInfo(settings.organisation.timezone)).date()
    with open_storage(settings) as storage, storage.sessions() as session:
        data = build_claim_data(
            session, storage.organisation_id, args.case, calculated_on=args.date or today, charges=charges
        )
    render = render_claim_pdf if suffix == ".pdf" else render_claim_docx
    content = render(data, template, source=str(template_path))
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise UpravDolgError(f"{out}: cannot write it ({exc.strerror})") from None
    sys.stdout.write(
        f"{out}: case #{data.case_id}, {data.debtor_name}, principal {data.principal}, "
        f"penalty {data.penalty}, total {data.total}, state fee {data.state_fee}\n"
    )
    return 0


CLAIM_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"claim": cmd_claim}
