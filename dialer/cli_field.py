"""The field side's commands: `notices`, `couriers`, `crews`, `restrictions` (debtors/notices.py,
debtors/couriers.py, debtors/crew_jobs.py — the same services the dashboard and the API call)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dialer.errors import UpravDolgError
from dialer.settings import Settings

if TYPE_CHECKING:
    from db.debtor_list import Building

    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a date as YYYY-MM-DD") from None


def add_field_parsers(sub: SubParsers) -> None:
    notices = sub.add_parser("notices", help="paper notices: generate, assign to couriers, print")
    n = notices.add_subparsers(dest="action", required=True, metavar="ACTION")
    n.add_parser("generate", help="create the primary and secondary notices the rules call for today")
    assign = n.add_parser("assign", help="give the open notices of districts or buildings to a courier")
    assign.add_argument("--courier", required=True, help="the courier's name")
    assign.add_argument("--district", action="append", default=[], help="a district (repeatable)")
    assign.add_argument(
        "--building",
        action="append",
        default=[],
        metavar="DISTRICT:STREET:HOUSE[:KORPUS]",
        help="a building (repeatable)",
    )
    assign.add_argument("--reassign", action="store_true", help="also take undelivered notices from others")
    printing = n.add_parser("print", help="the notices as a PDF (one per page), and a courier's route sheet")
    printing.add_argument("--out", type=Path, required=True, help="PDF file of the notices")
    printing.add_argument("--courier", help="only this courier's notices (their route)")
    printing.add_argument("--route-sheet", type=Path, help="also write the courier's route sheet here")
    printing.add_argument("--unprinted", action="store_true", help="only notices not printed before")
    status = n.add_parser("status", help="how many notices are open, delivered and how, per courier")
    status.add_argument("--json", action="store_true")

    couriers = sub.add_parser("couriers", help="courier accounts and their links")
    c = couriers.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = c.add_parser("add", help="add a courier and print their link (shown once)")
    add.add_argument("name")
    add.add_argument("--phone", default="")
    c.add_parser("link", help="a new link for a courier (the old one stops working)").add_argument("name")
    c.add_parser("disable", help="disable a courier and their link").add_argument("name")
    c.add_parser("list", help="every courier")

    crews = sub.add_parser("crews", help="restriction crews («монтажные бригады»)")
    w = crews.add_subparsers(dest="action", required=True, metavar="ACTION")
    w.add_parser("add", help="add a crew").add_argument("name")
    w.add_parser("list", help="every crew")

    restrictions = sub.add_parser("restrictions", help="restriction plugs: candidates, crew jobs, reports")
    r = restrictions.add_subparsers(dest="action", required=True, metavar="ACTION")
    cand = r.add_parser("candidates", help="debtors the rules allow a plug for, with the date it is allowed")
    cand.add_argument("--json", action="store_true")
    plan = r.add_parser("plan", help="plan a plug for a debtor (refused before the rules allow it)")
    plan.add_argument("account")
    plan.add_argument("--date", type=_day, required=True, help="planned date, YYYY-MM-DD")
    plan.add_argument("--crew")
    plan.add_argument("--note", default="")
    report = r.add_parser("report", help="record a job's outcome, or re-plan a job that found no access")
    report.add_argument("job", type=int)
    report.add_argument(
        "--status", required=True, choices=("installed", "removed", "no_access", "cancelled", "planned")
    )
    report.add_argument("--date", type=_day, help="when (default today)")
    report.add_argument("--crew")
    report.add_argument("--note", default="")
    jobs = r.add_parser("jobs", help="the jobs board")
    jobs.add_argument("--status", action="append", default=[])
    jobs.add_argument("--json", action="store_true")


def _building(text: str) -> Building:
    from db.debtor_list import Building

    parts = text.split(":")
    if len(parts) not in (3, 4) or not all(parts[:3]):
        raise UpravDolgError(f"--building {text!r}: expected DISTRICT:STREET:HOUSE[:KORPUS]")
    return Building(parts[0], parts[1], parts[2], parts[3] if len(parts) == 4 else "")


def cmd_notices(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.couriers import find_courier
    from debtors.notices import assign_notices, delivery_figures, generate_notices
    from dialer.bootstrap import notice_rules, open_storage, utc_now

    timezone = settings.organisation.timezone
    with open_storage(settings) as storage, storage.sessions.begin() as session:
        org = storage.organisation_id
        if args.action == "generate":
            made = generate_notices(
                session, org, now=utc_now(), timezone=timezone, rules=notice_rules(settings)
            )
            _out(f"notices created: {made.primary} primary, {made.secondary} secondary")
        elif args.action == "assign":
            courier = find_courier(session, org, args.courier)
            count = assign_notices(
                session,
                org,
                courier.id,
                districts=args.district,
                buildings=[_building(b) for b in args.building],
                reassign=args.reassign,
                now=utc_now(),
            )
            _out(f"{count} notice(s) assigned to {courier.name}")
        elif args.action == "print":
            _print(session, org, args, settings)
        else:
            figures = delivery_figures(session, org)
            if args.json:
                _out(
                    json.dumps(
                        {
                            "by_kind_state": [
                                {"kind": k, "state": s, "count": n}
                                for (k, s), n in figures.by_kind_state.items()
                            ],
                            "delivered_by_method": figures.by_method,
                            "couriers": [
                                {"name": name, "on_hand": o, "delivered": d, "visits": v}
                                for name, o, d, v in figures.by_courier
                            ],
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                for (kind, state), count in sorted(figures.by_kind_state.items()):
                    _out(f"{kind:10} {state:10} {count}")
                for method, count in sorted(figures.by_method.items()):
                    _out(f"delivered {method:12} {count}")
                for name, on_hand, done, visits in figures.by_courier:
                    _out(f"courier {name}: {on_hand} on hand, {done} delivered, {visits} report(s)")
    return 0


def _print(session: object, org: int, args: argparse.Namespace, settings: Settings) -> None:
    from sqlalchemy.orm import Session

    from debtors.couriers import find_courier
    from debtors.notice_pdf import NoticeLetterhead, render_notices, render_route_sheet
    from debtors.notices import printable
    from dialer.bootstrap import utc_now

    assert isinstance(session, Session)
    timezone = settings.organisation.timezone
    courier = find_courier(session, org, args.courier) if args.courier else None
    if args.route_sheet and courier is None:
        raise UpravDolgError("--route-sheet needs --courier: a route sheet is one courier's")
    now = utc_now()
    notices = printable(
        session,
        org,
        courier_id=courier.id if courier else None,
        unprinted_only=args.unprinted,
        now=now,
        timezone=timezone,
    )
    if not notices:
        raise UpravDolgError("no notices to print", hint="generate them with `upravdolg notices generate`")
    letterhead = NoticeLetterhead(
        organisation=settings.organisation.name,
        how_to_pay=settings.notices.how_to_pay,
        restriction_days=settings.restrictions.days_after_delivery,
        printed_at=now,
        timezone=timezone,
    )
    args.out.write_bytes(render_notices(notices, letterhead))
    _out(f"{len(notices)} notice(s) written to {args.out}")
    if args.route_sheet and courier is not None:
        today = now.astimezone(ZoneInfo(timezone)).date()
        args.route_sheet.write_bytes(render_route_sheet(courier.name, today, notices, letterhead))
        _out(f"route sheet of {courier.name} written to {args.route_sheet}")


def cmd_couriers(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.couriers import add_courier, courier_link, disable_courier, list_couriers, new_link
    from dialer.bootstrap import api_base_url, open_storage, utc_now

    with open_storage(settings) as storage, storage.sessions.begin() as session:
        org = storage.organisation_id
        if args.action == "add":
            account, token = add_courier(session, org, args.name, phone=args.phone, now=utc_now())
            _out(f"courier {account.name!r} added; their link (shown once):")
            _out(courier_link(api_base_url(settings), token))
        elif args.action == "link":
            _out(courier_link(api_base_url(settings), new_link(session, org, args.name)))
        elif args.action == "disable":
            account = disable_courier(session, org, args.name, now=utc_now())
            _out(f"courier {account.name!r} disabled; their link no longer works")
        else:
            for c in list_couriers(session, org):
                _out(f"{c.name}  {c.phone}  {'active' if c.active else 'disabled'}")
    return 0


def cmd_crews(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.crew_jobs import add_crew, list_crews
    from dialer.bootstrap import open_storage, utc_now

    with open_storage(settings) as storage, storage.sessions.begin() as session:
        if args.action == "add":
            crew = add_crew(session, storage.organisation_id, args.name, now=utc_now())
            _out(f"crew {crew.name!r} added")
        else:
            for crew in list_crews(session, storage.organisation_id):
                _out(f"{crew.name}  {'active' if crew.disabled_at is None else 'disabled'}")
    return 0


def cmd_restrictions(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.crew_jobs import jobs_board, plan_install, report_job, restriction_candidates
    from debtors.field_rules import JOB_KIND_LABELS, JOB_STATUS_LABELS, JobKind, JobStatus
    from dialer.bootstrap import open_storage, restriction_rules, utc_now

    timezone = settings.organisation.timezone
    rules = restriction_rules(settings)
    now = utc_now()
    today = now.astimezone(ZoneInfo(timezone)).date()
    with open_storage(settings) as storage, storage.sessions.begin() as session:
        org = storage.organisation_id
        if args.action == "candidates":
            found = restriction_candidates(session, org, timezone=timezone, rules=rules)
            if args.json:
                _out(
                    json.dumps(
                        [
                            {
                                "account": c.account,
                                "full_name": c.full_name,
                                "address": c.address,
                                "debt": str(c.debt),
                                "allowed_from": c.clock.allowed_from.isoformat()
                                if c.clock.allowed_from
                                else None,
                                "reason": c.clock.reason,
                            }
                            for c in found
                        ],
                        ensure_ascii=False,
                    )
                )
            for c in [] if args.json else found:
                when = c.clock.allowed_from.isoformat() if c.clock.allowed_from else "-"
                _out(f"{c.account}  {c.debt:>12}  from {when}  {c.full_name}, {c.address}")
        elif args.action == "plan":
            job = plan_install(
                session,
                org,
                args.account,
                crew=args.crew,
                planned_on=args.date,
                note=args.note,
                timezone=timezone,
                rules=rules,
                actor="cli",
                now=now,
            )
            _out(f"job #{job.id} planned for {job.planned_on:%Y-%m-%d}: {job.reason}")
        elif args.action == "report":
            job = report_job(
                session,
                org,
                args.job,
                JobStatus(args.status),
                on=args.date or today,
                planned_on=args.date,
                note=args.note,
                crew=args.crew,
                timezone=timezone,
                rules=rules,
                actor="cli",
                now=now,
            )
            _out(f"job #{job.id}: {JOB_STATUS_LABELS[JobStatus(job.status)]}")
        else:
            rows = jobs_board(session, org, statuses=[JobStatus(s) for s in args.status])
            if args.json:
                _out(
                    json.dumps(
                        [
                            {
                                "id": j.id,
                                "kind": j.kind,
                                "status": j.status,
                                "planned_on": j.planned_on.isoformat(),
                                "installed_on": j.installed_on.isoformat() if j.installed_on else None,
                                "removed_on": j.removed_on.isoformat() if j.removed_on else None,
                                "crew": j.crew,
                                "account": j.account,
                            }
                            for j in rows
                        ],
                        ensure_ascii=False,
                    )
                )
            for j in [] if args.json else rows:
                _out(
                    f"#{j.id}  {JOB_KIND_LABELS[JobKind(j.kind)]}  {JOB_STATUS_LABELS[JobStatus(j.status)]}  "
                    f"{j.planned_on:%Y-%m-%d}  {j.crew}  {j.account}  {j.address}"
                )
    return 0


FIELD_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "notices": cmd_notices,
    "couriers": cmd_couriers,
    "crews": cmd_crews,
    "restrictions": cmd_restrictions,
}
