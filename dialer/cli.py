"""The `upravdolg` command line (also `python -m dialer`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tomllib
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from dialer.cli_claims import CLAIM_COMMANDS, add_claim_parsers
from dialer.cli_field import FIELD_COMMANDS, add_field_parsers
from dialer.cli_legal import LEGAL_COMMANDS, add_legal_parsers
from dialer.cli_reports import REPORT_COMMANDS, add_report_parsers
from dialer.cli_workers import WORKER_COMMANDS, add_worker_parsers
from dialer.errors import UpravDolgError
from dialer.settings import Settings, load_settings, parse_overrides

logger = logging.getLogger("upravdolg")

NEW_PASSWORD_ENV = "UPRAVDOLG_NEW_PASSWORD"  # noqa: S105 (the variable's name, not a password)

DESCRIPTION = """\
UpravDolg — utility-debt collection: debtor registry, unattended calling through Asterisk, and the
supervisor's tools. Settings come from defaults < upravdolg.toml < UPRAVDOLG_* environment < these flags
(see upravdolg.example.toml)."""


def _add_asterisk(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "asterisk",
        help="the Asterisk 22 sandbox (a Debian-testing chroot) for the demo and the tests",
        description="Build, start, stop and inspect the sandbox Asterisk. Needs root. The chroot is built "
        "once with debootstrap under sandbox.cache_dir (default /var/cache/upravdolg) and reused.",
    )
    a = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a.add_parser(
        "up",
        help="build the chroot if missing, install asterisk_conf/ and sounds/, start Asterisk, "
        "and return once AMI answers a login and FullyBooted was seen",
    )
    a.add_parser("down", help="stop Asterisk and every process left in the chroot")
    a.add_parser(
        "status",
        help="say whether the sandbox is built, running, and answering on AMI (exit 0 running, 3 stopped)",
    )
    logs = a.add_parser("logs", help="print the last lines of Asterisk's log")
    logs.add_argument("-n", "--lines", type=int, default=40, help="how many lines (default 40)")
    logs.add_argument("--full", action="store_true", help="full.log with dialplan tracing, not messages.log")
    render = a.add_parser(
        "render",
        help="render asterisk_conf/ with the AMI user and secret into DIR, "
        "for installing on your own Asterisk server",
    )
    render.add_argument("directory", type=Path)


def _add_db(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "db",
        help="the database (SQLite by default, PostgreSQL by URL)",
        description="Create or migrate the schema (Alembic). Safe to run repeatedly.",
    )
    a = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a.add_parser("upgrade", help="create the database or migrate it to the current schema")
    a.add_parser("status", help="print the schema revision of the database and of this program")


def _add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import", help="import billing-centre files into the debtor registry")
    a = p.add_subparsers(dest="kind", required=True, metavar="KIND")
    d = a.add_parser(
        "debtors",
        help="a debtor list (CSV; cp1251 or UTF-8, ';' ',' or tab detected)",
        description="Upsert debtors by account. Bad rows are reported with row, field and what "
        "was expected; good rows are imported; a file-level problem writes nothing.",
    )
    d.add_argument("file", type=Path, help="CSV, XLSX or DBF")
    d.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the date the list states the debt on (default: today)",
    )
    d.add_argument("--encoding", help="force the file's encoding (default: detected — UTF-8, cp1251, cp866)")
    d.add_argument(
        "--mapping",
        type=Path,
        help='TOML file mapping file headers to fields, e.g. "Номер абонента" = "account"',
    )
    d.add_argument("--json", action="store_true", help="print the result as JSON")
    pay = a.add_parser(
        "payments",
        help="a payments registry (account, date, amount, reference)",
        description="The same payment line imported twice is counted once. Debts and statuses "
        "follow: a debt paid to the tolerance becomes «ДОЛГ ПОГАШЕН».",
    )
    pay.add_argument("file", type=Path, help="CSV, XLSX or DBF")
    pay.add_argument("--encoding", help="force the file's encoding")
    pay.add_argument(
        "--mapping",
        type=Path,
        help="TOML file mapping file headers to fields (account, paid_on, amount, reference)",
    )
    pay.add_argument("--json", action="store_true", help="print the result as JSON")


def _add_registry(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    debtors = sub.add_parser("debtors", help="look at debtors in the registry")
    d = debtors.add_subparsers(dest="action", required=True, metavar="ACTION")
    show = d.add_parser("show", help="one debtor: status with reason, debt history, payments, phones, counts")
    show.add_argument("account", help="the account number (лицевой счёт)")
    show.add_argument("--json", action="store_true", help="print the card as JSON")
    export = d.add_parser(
        "export",
        help="write the debtors (all, or a filtered view as on the dashboard) to CSV or XLSX",
        description="The same view and columns as the dashboard's «Должники» export, without its row limit; "
        "rows stream from the database, so any size fits in memory.",
    )
    export.add_argument("--out", type=Path, required=True, help="the file to write (.csv or .xlsx)")
    export.add_argument("--format", choices=("csv", "xlsx"), help="default: from the --out suffix")
    export.add_argument("--district", action="append", default=[], help="only this district (repeatable)")
    export.add_argument("--status", action="append", default=[], help="active, paid, stopped or promise")
    export.add_argument("--ownership", action="append", default=[], help="only this ownership type")
    export.add_argument("--debt-min", help="debt at least, e.g. 10000 or 10 000,00")
    export.add_argument("--debt-max", help="debt at most")
    export.add_argument("--months-min", type=int, help="months overdue at least")
    export.add_argument("--months-max", type=int, help="months overdue at most")
    export.add_argument("--sort", default="debt", help="debt, months_overdue, account or full_name")
    export.add_argument("--ascending", action="store_true", help="smallest first (default: largest)")

    agreements = sub.add_parser("agreements", help="restructuring and instalment agreements («СТОП!»)")
    a = agreements.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = a.add_parser(
        "add",
        help="register an agreement: the debtor becomes «СТОП!» until an instalment "
        "is missed (due date + statuses.instalment_grace_days)",
    )
    add.add_argument("account")
    add.add_argument("--kind", choices=["instalment", "restructuring"], default="instalment")
    add.add_argument("--number", required=True, help="the agreement's number")
    add.add_argument(
        "--date", type=date.fromisoformat, metavar="YYYY-MM-DD", help="signed on (default today)"
    )
    add.add_argument(
        "--schedule",
        required=True,
        metavar="DATE=AMOUNT,...",
        help="instalments, e.g. 2026-12-01=5000,2027-01-01=5000",
    )

    promises = sub.add_parser("promises", help="promises to pay")
    p = promises.add_subparsers(dest="action", required=True, metavar="ACTION")
    padd = p.add_parser(
        "add", help="record a promise: contact pauses until the date + statuses.promise_grace_days"
    )
    padd.add_argument("account")
    padd.add_argument(
        "--pay-by",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="promised date (default: today + statuses.promise_days)",
    )
    padd.add_argument("--amount", help="promised amount, rubles")
    padd.add_argument("--source", choices=["operator", "ivr"], default="operator")

    dnc = sub.add_parser("do-not-call", help="do-not-call marks (the dialer never calls them)")
    dn = dnc.add_subparsers(dest="action", required=True, metavar="ACTION")
    dadd = dn.add_parser("add", help="mark a debtor (all their numbers) or one number as never to be called")
    target = dadd.add_mutually_exclusive_group(required=True)
    target.add_argument("--account", help="the debtor's account number")
    target.add_argument("--phone", help="one phone number, any format")
    dadd.add_argument("--reason", required=True, help="why, e.g. «письменный отказ от звонков»")

    statuses = sub.add_parser("statuses", help="automatic statuses")
    st = statuses.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = st.add_parser("check", help="run the daily check now: missed instalments, expired promises")
    check.add_argument("--json", action="store_true")

    scheduler = sub.add_parser("scheduler", help="run scheduled jobs (the daily status check) until stopped")
    scheduler.add_subparsers(dest="action", required=True, metavar="ACTION").add_parser(
        "run", help="run the scheduler in the foreground (Ctrl-C stops it)"
    )


def _add_probe(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "probe",
        help="place test calls to numbers and print what Asterisk reported",
        description="Originate one call per number (our side holds an answered call --hold seconds) and "
        "report the outcome, talk time, hang-up cause and digits. With --trunk sim the last digit picks the "
        "simulated debtor's behaviour (asterisk_conf/README.md).",
    )
    p.add_argument("numbers", nargs="+", help="numbers in any Russian format, e.g. +79120000004")
    p.add_argument("--trunk", default="sim", help='"sim" (default) or a PJSIP endpoint name, e.g. sipp')
    p.add_argument("--hold", type=int, default=10, help="seconds our side holds an answered call")
    p.add_argument("--timeout", type=float, default=8.0, help="dial timeout in seconds")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _add_campaigns(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "campaign",
        help="define and control calling campaigns",
        description="Campaigns are defined in TOML (docs/campaigns.md) and run by `upravdolg run`.",
    )
    a = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    apply = a.add_parser("apply", help="create a campaign from a TOML file, or update the one with its name")
    apply.add_argument("file", type=Path)
    for action, text in (
        ("start", "start (or resume) calling"),
        ("pause", "stop placing new calls; calls in progress end normally"),
        ("stop", "end the campaign; calls in progress end normally (start resumes it)"),
    ):
        a.add_parser(action, help=text).add_argument("name")
    status = a.add_parser("status", help="live figures: calls in flight, outcomes, why nothing is dialling")
    status.add_argument("name")
    status.add_argument("--json", action="store_true")
    a.add_parser("list", help="every campaign with its state")

    run = sub.add_parser(
        "run",
        help="run the campaign engine (and its FastAGI listener) in the foreground",
        description="Places the calls of every running campaign until stopped (Ctrl-C / SIGTERM: live calls "
        "end normally first).",
    )
    run.add_argument(
        "--until-idle",
        action="store_true",
        help="exit once no running campaign has a call in progress or a debtor due now",
    )
    run.add_argument(
        "--no-api",
        action="store_true",
        help="do not serve the couriers' HTTP API beside the engine (also off when api.port is 0)",
    )


def _add_users(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "users",
        help="who may log in to the dashboard: add users, change passwords, disable, list",
        description="Users of the supervisor dashboard (docs/access.md). Passwords are read from "
        f"{NEW_PASSWORD_ENV} if it is set (for scripts), else asked twice; they are stored only as "
        "argon2id hashes.",
    )
    a = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = a.add_parser("add", help="add a user with a role and a password")
    add.add_argument("login", help="letters, digits, '.', '_', '-' or '@'; case does not matter")
    add.add_argument(
        "--role",
        required=True,
        metavar="ROLE",
        help="supervisor (everything), operator (calls and debtors, no user admin), viewer (read-only)",
    )
    add.add_argument("--name", default="", help="the person's full name, e.g. «Петрова Анна Сергеевна»")
    a.add_parser("passwd", help="set a new password (the user's open sessions end)").add_argument("login")
    a.add_parser("disable", help="disable a user for good and end their sessions").add_argument("login")
    lst = a.add_parser("list", help="every user with role and state")
    lst.add_argument("--json", action="store_true", help="print the users as JSON")


def _add_statistics(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("statistics", help="the «Статистика» figures (also refreshed after imports)")
    a = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    a.add_parser("refresh", help="recompute and store them now")


def _add_api(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "api",
        help="serve the couriers' HTTP API and their phone page in the foreground",
        description="Serves /api/v1/ (the OpenAPI document at /api/v1/openapi.json) and the couriers' page "
        "/courier/<token> (links from `upravdolg couriers add|link`) until Ctrl-C / SIGTERM. `upravdolg run` "
        "serves the same API beside the engine. Phones need HTTPS for their location: put it behind a TLS "
        "proxy and set api.public_url.",
    )
    p.add_argument("--port", type=int, help="port to listen on (default: api.port, 8080)")
    p.add_argument("--address", help="address to listen on (default: api.address, 127.0.0.1)")


def _add_dashboard(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "dashboard",
        help="run the supervisors' dashboard (Streamlit) in the foreground",
        description="Serves the Russian dashboard: debtors, the calling panel, statistics — behind a login "
        "(add users with `upravdolg users add`). See docs/dashboard.md.",
    )
    p.add_argument("--port", type=int, help="port to listen on (default: dashboard.port, 8501)")
    p.add_argument("--address", help="address to listen on (default: dashboard.address, 127.0.0.1)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="upravdolg", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--config", type=Path, help="TOML settings file (default: ./upravdolg.toml if present)"
    )
    parser.add_argument("--database-url", help="database URL (overrides database.url)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any setting, e.g. --set ami.port=5038 (repeatable)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_asterisk(sub)
    _add_db(sub)
    _add_import(sub)
    _add_registry(sub)
    _add_probe(sub)
    _add_campaigns(sub)
    _add_users(sub)
    _add_dashboard(sub)
    _add_api(sub)
    _add_statistics(sub)
    add_field_parsers(sub)
    add_report_parsers(sub)
    add_legal_parsers(sub)
    add_claim_parsers(sub)
    add_worker_parsers(sub)
    sounds = sub.add_parser(
        "sounds", help="the IVR's prompts: build placeholders, import recordings, check what is missing"
    )
    s = sounds.add_subparsers(dest="action", required=True, metavar="ACTION")
    b = s.add_parser("build", help="synthesise missing or outdated prompts (espeak-ng) into sounds/build/")
    b.add_argument("--only", default="", metavar="PREFIX", help="only prompt ids starting with PREFIX")
    s.add_parser("check", help="list prompts that are missing, incomplete or built from an older text")
    imp = s.add_parser(
        "import",
        help="make a real recording (wav, mp3 or ogg) a prompt: trim silence, normalise loudness, convert",
        description="Trim the silence before and after the speech, bring it to the prompts' loudness and "
        "write every format Asterisk plays; `sounds build` never replaces it. See docs/sounds.md.",
    )
    imp.add_argument("file", type=Path, help="the recording: wav, mp3 or ogg")
    imp.add_argument(
        "--as", dest="prompt_id", required=True, metavar="PROMPT_ID", help="the prompt it says, e.g. org/name"
    )
    sub.add_parser(
        "demo",
        help="the main job on the embedded default: import the sample list and call "
        "the simulated debtors through the sandbox, then print what happened",
    )
    cfg = sub.add_parser("config", help="show the effective settings (secrets masked)")
    cfg.add_subparsers(dest="action", required=True, metavar="ACTION").add_parser(
        "show", help="print the merged settings as TOML-like text"
    )
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    layer = parse_overrides(args.set)
    if args.database_url:
        layer.setdefault("database", {})["url"] = args.database_url
    return load_settings(args.config, cli_layer=layer)


def _out(text: str) -> None:
    sys.stdout.write(text + ("" if text.endswith("\n") else "\n"))


def cmd_asterisk(args: argparse.Namespace, settings: Settings) -> int:
    from dialer.asterisk_config import render_config
    from dialer.errors import SandboxError
    from dialer.sandbox import Sandbox

    sandbox = Sandbox(settings)
    if args.action == "up":
        _out(sandbox.up())
        return 0
    if args.action == "down":
        _out(sandbox.down())
        return 0
    if args.action == "status":
        status = sandbox.status()
        _out(f"Asterisk sandbox: {status.detail}")
        return 0 if status.running and status.ami_ok else 3
    if args.action == "logs":
        if not sandbox.built:
            raise SandboxError(
                f"no sandbox chroot in {sandbox.root}, so there is no Asterisk log",
                hint="`upravdolg asterisk up` builds and starts it",
            )
        lines = sandbox.last_log_lines(args.lines, full=args.full)
        _out("\n".join(lines) if lines else "(no log yet)")
        return 0
    if args.action == "render":
        values = {"AMI_USERNAME": settings.ami.username, "AMI_SECRET": settings.ami.read_secret()}
        for path in render_config(args.directory, values):
            _out(str(path))
        return 0
    raise AssertionError(args.action)  # pragma: no cover - argparse restricts the choices


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from db.migrate import current_revision, head_revision
    from db.session import make_engine
    from dialer.bootstrap import open_storage

    if args.action == "upgrade":
        with open_storage(settings) as storage:
            _out(
                f"{storage.engine.url.render_as_string(hide_password=True)}: schema at revision "
                f"{current_revision(storage.engine)}"
            )
        return 0
    engine = make_engine(settings.database.url)
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    _out(f"database revision: {current or 'none (run `upravdolg db upgrade`)'}; program expects: {head}")
    return 0 if current == head else 1


def _read_mapping(path: Path | None) -> dict[str, str] | None:
    from debtors.readers import ImportFileError

    if path is None:
        return None
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ImportFileError(f"mapping file {path}: {exc}") from None
    return {str(k): str(v) for k, v in raw.items()}


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.import_runs import print_import
    from debtors.payments_import import import_payments
    from debtors.registry_import import import_debtors
    from dialer.bootstrap import open_storage, status_rules, utc_now
    from dialer.scheduler import run_statistics_refresh

    mapping = _read_mapping(args.mapping)
    with open_storage(settings) as storage:
        if args.kind == "debtors":
            report = import_debtors(
                storage.sessions,
                storage.organisation_id,
                args.file,
                now=utc_now(),
                as_of=args.as_of,
                encoding=args.encoding,
                mapping=mapping,
                rules=status_rules(settings),
            )
        else:
            report = import_payments(
                storage.sessions,
                storage.organisation_id,
                args.file,
                now=utc_now(),
                encoding=args.encoding,
                mapping=mapping,
                rules=status_rules(settings),
            )
        stored = run_statistics_refresh(settings, storage)
    if args.json:
        _out(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        print_import(report, args.file, sys.stdout)
        _out(f"statistics refreshed in {stored.duration_ms / 1000:.1f} s")
    return 0


def cmd_debtors(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.debtor_card import load_card, render_card
    from dialer.bootstrap import open_storage

    if args.action == "export":
        return _export_debtors(args, settings)
    with open_storage(settings) as storage, storage.sessions() as session:
        card = load_card(session, storage.organisation_id, args.account)
    _out(json.dumps(card, ensure_ascii=False, indent=2) if args.json else render_card(card))
    return 0


def _export_debtors(args: argparse.Namespace, settings: Settings) -> int:
    from db.debtor_list import SORT_COLUMNS, DebtorFilter, DebtorSort
    from debtors.amounts import AmountError, parse_amount
    from debtors.export import write_export
    from debtors.statuses import Status
    from dialer.bootstrap import open_storage

    fmt = args.format or args.out.suffix.lstrip(".").lower()
    if fmt not in {"csv", "xlsx"}:
        raise UpravDolgError(f"{args.out}: cannot tell the format from the name; give --format csv or xlsx")
    if args.sort not in SORT_COLUMNS:
        raise UpravDolgError(f"--sort {args.sort!r}: expected one of {', '.join(SORT_COLUMNS)}")
    for status in args.status:
        if status not in {s.value for s in Status}:
            raise UpravDolgError(f"--status {status!r}: expected one of {', '.join(s.value for s in Status)}")
    amounts = {}
    for name in ("debt_min", "debt_max"):
        value = getattr(args, name)
        try:
            amounts[name] = parse_amount(value) if value is not None else None
        except AmountError as exc:
            raise UpravDolgError(f"--{name.replace('_', '-')} {value!r}: {exc}") from None
    flt = DebtorFilter(
        debt_min=amounts["debt_min"],
        debt_max=amounts["debt_max"],
        months_min=args.months_min,
        months_max=args.months_max,
        ownership=tuple(args.ownership),
        districts=tuple(args.district),
        statuses=tuple(args.status),
    )
    partial = args.out.with_name(args.out.name + ".part")
    try:
        with open_storage(settings) as storage, storage.sessions() as session, partial.open("wb") as out:
            sort = DebtorSort(args.sort, not args.ascending)
            written = write_export(session, storage.organisation_id, flt, sort, out=out, fmt=fmt)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(args.out)  # a failed export never leaves a half-written file under the real name
    _out(f"{written} debtor(s) written to {args.out}")
    return 0


def cmd_agreements(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.measures import parse_schedule, register_agreement
    from debtors.statuses import LABELS
    from dialer.bootstrap import open_storage, status_rules, utc_now

    now = utc_now()
    schedule = parse_schedule(args.schedule)
    with open_storage(settings) as storage, storage.sessions.begin() as session:
        agreement, changes = register_agreement(
            session,
            storage.organisation_id,
            args.account,
            kind=args.kind,
            number=args.number,
            registered_on=args.date or now.date(),
            schedule=schedule,
            now=now,
            rules=status_rules(settings),
            actor="cli",
        )
        _out(f"agreement №{agreement.number} registered for {args.account}: {len(schedule)} instalments")
        for change in changes:
            _out(f"status: «{LABELS[change.status]}» — {change.reason}")
    return 0


def cmd_promises(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.amounts import AmountError, parse_amount
    from debtors.measures import MeasureError, record_promise
    from debtors.statuses import LABELS
    from dialer.bootstrap import open_storage, status_rules, utc_now

    amount = None
    if args.amount:
        try:
            amount = parse_amount(args.amount)
        except AmountError as exc:
            raise MeasureError(f"--amount: {exc}") from None
    with open_storage(settings) as storage, storage.sessions.begin() as session:
        promise, changes = record_promise(
            session,
            storage.organisation_id,
            args.account,
            pay_by=args.pay_by,
            amount=amount,
            source=args.source,
            now=utc_now(),
            rules=status_rules(settings),
            promise_days=settings.statuses.promise_days,
            actor="cli",
        )
        _out(f"promise recorded for {args.account}: pay by {promise.pay_by.isoformat()}")
        for change in changes:
            _out(f"status: «{LABELS[change.status]}» — {change.reason}")
    return 0


def cmd_do_not_call(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.measures import mark_do_not_call
    from dialer.bootstrap import open_storage, utc_now

    with open_storage(settings) as storage, storage.sessions.begin() as session:
        mark = mark_do_not_call(
            session,
            storage.organisation_id,
            account=args.account,
            phone=args.phone,
            reason=args.reason,
            now=utc_now(),
            actor="cli",
        )
        _out(f"do-not-call mark #{mark.id} recorded for {args.account or mark.e164}")
    return 0


def cmd_statuses(args: argparse.Namespace, settings: Settings) -> int:
    from dialer.bootstrap import open_storage
    from dialer.scheduler import run_status_check

    with open_storage(settings) as storage:
        changes = run_status_check(settings, storage)
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "debtor_id": c.debtor_id,
                        "from": c.previous.value,
                        "to": c.status.value,
                        "reason": c.reason,
                    }
                    for c in changes
                ],
                ensure_ascii=False,
            )
        )
    else:
        _out(f"status check: {len(changes)} change(s)")
        for change in changes:
            _out(
                f"  debtor #{change.debtor_id}: {change.previous.value} → {change.status.value}: "
                f"{change.reason}"
            )
    return 0


def cmd_scheduler(_args: argparse.Namespace, settings: Settings) -> int:
    from apscheduler.schedulers.blocking import BlockingScheduler

    from dialer.bootstrap import open_storage
    from dialer.scheduler import add_jobs

    with open_storage(settings) as storage:
        scheduler = BlockingScheduler()
        add_jobs(scheduler, settings, storage)
        _out(
            f"scheduler running: daily status check at {settings.scheduler.status_check_at} "
            f"({settings.organisation.timezone}), statistics every "
            f"{settings.scheduler.statistics_every_minutes} min; Ctrl-C stops it"
        )
        scheduler.start()
    return 0


def cmd_probe(args: argparse.Namespace, settings: Settings) -> int:
    from debtors.phones import normalise
    from dialer.bootstrap import make_ami_client
    from dialer.probe import describe, probe_calls

    targets = []
    for number in args.numbers:
        phone = normalise(number)
        if phone.e164 is None:
            raise UpravDolgError(f"{number!r} is not a phone number we can dial: {phone.problem}")
        targets.append((f"probe-{uuid.uuid4().hex[:16]}", phone.e164))

    async def run() -> list[Any]:
        client = make_ami_client(settings)
        await client.connect()
        try:
            return await probe_calls(
                client, targets, trunk=args.trunk, hold_seconds=args.hold, dial_timeout=args.timeout
            )
        finally:
            await client.close()

    results = asyncio.run(run())
    if args.json:
        _out(
            json.dumps(
                [
                    {
                        "number": r.e164,
                        "outcome": r.outcome.value if r.outcome else None,
                        "talk_seconds": r.call.talk_seconds,
                        "hangup_cause": r.call.hangup_cause,
                        "dial_status": r.call.dial_status,
                        "originate_reason": r.call.originate_reason,
                        "digits": r.call.digits,
                        "detail": r.detail,
                    }
                    for r in results
                ],
                ensure_ascii=False,
            )
        )
    else:
        for result in results:
            _out(f"{result.e164}: {describe(result)}")
    return 0 if all(r.outcome is not None for r in results) else 1


def cmd_demo(_args: argparse.Namespace, settings: Settings) -> int:
    from dialer.demo import run_demo

    return run_demo(settings, sys.stdout)


def cmd_campaign(args: argparse.Namespace, settings: Settings) -> int:
    from dialer.bootstrap import open_storage, utc_now
    from dialer.campaign_spec import load_spec
    from dialer.campaigns import apply_spec, campaign_status, format_status, list_campaigns, set_state

    with open_storage(settings) as storage:
        org, sessions = storage.organisation_id, storage.sessions
        if args.action == "apply":
            applied = apply_spec(sessions, org, load_spec(args.file), utc_now())
            verb = "created" if applied.created else ("updated" if applied.changed else "unchanged")
            _out(f"campaign {applied.name!r} {verb} (revision {applied.revision})")
            return 0
        if args.action in {"start", "pause", "stop"}:
            target = {"start": "running", "pause": "paused", "stop": "stopped"}[args.action]
            previous, state = set_state(sessions, org, args.name, target, utc_now())
            _out(
                f"campaign {args.name!r}: {previous} → {state}"
                if previous != state
                else f"campaign {args.name!r} is already {state}"
            )
            return 0
        if args.action == "list":
            for name, state in list_campaigns(sessions, org):
                _out(f"{state:8} {name}")
            return 0
        status = campaign_status(sessions, org, args.name, utc_now())
        _out(json.dumps(status, ensure_ascii=False, indent=2) if args.json else format_status(status))
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import signal

    from dialer.bootstrap import make_engine_service, open_storage
    from dialer.http_api import start_api
    from dialer.service_loop import run_service

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        with open_storage(settings) as storage:
            engine = make_engine_service(settings, storage)
            # The couriers' API lives as long as the engine (which returns once `stop` is set, or when idle
            # with --until-idle); it binds first, so a taken port fails before any call is placed.
            # Off with --no-api or api.port = 0.
            api = None
            if not args.no_api and settings.api.port:
                api = await start_api(settings, storage)
            try:
                await engine.run(until_idle=args.until_idle, stop=stop)
            finally:
                if api is not None:
                    await api.cleanup()

    run_service(main())
    return 0


def cmd_api(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import signal

    from dialer.bootstrap import open_storage
    from dialer.http_api import serve_api
    from dialer.service_loop import run_service

    port = args.port if args.port is not None else settings.api.port
    address = args.address or settings.api.address
    if not 1 <= port <= 65535:
        raise UpravDolgError(
            f"port {port}: expected 1 to 65535",
            hint="give --port N (api.port = 0 only turns the API off inside `upravdolg run`)",
        )
    settings = settings.model_copy(
        update={"api": settings.api.model_copy(update={"port": port, "address": address})}
    )

    def ready() -> None:
        _out(f"api: http://{address}:{port}/api/v1/ (couriers: /courier/<token>)")
        sys.stdout.flush()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        with open_storage(settings) as storage:
            await serve_api(settings, storage, stop, on_ready=ready)

    run_service(main())
    return 0


def cmd_statistics(_args: argparse.Namespace, settings: Settings) -> int:
    from dialer.bootstrap import open_storage
    from dialer.scheduler import run_statistics_refresh

    with open_storage(settings) as storage:
        stored = run_statistics_refresh(settings, storage)
    figures = stored.statistics
    _out(
        f"statistics refreshed in {stored.duration_ms / 1000:.1f} s: {figures.debtors} debtor(s) owe "
        f"{figures.total_debt} in all"
    )
    return 0


def cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    import os

    from dashboard.launch import streamlit_command, streamlit_environment
    from dialer.bootstrap import make_accounts, open_storage

    port = args.port if args.port is not None else settings.dashboard.port
    if not 1 <= port <= 65535:
        raise UpravDolgError(f"--port {port}: expected 1 to 65535")
    address = args.address or settings.dashboard.address
    with open_storage(settings) as storage:  # migrate now: a database problem shows here, not in a browser
        users = make_accounts(settings, storage).list_users()
    if not any(u.active for u in users):
        logging.getLogger(__name__).warning(
            "no active users: nobody can log in; add one with `upravdolg users add LOGIN --role supervisor`"
        )
    _out(f"dashboard: http://{address}:{port}/")
    sys.stdout.flush()
    command = streamlit_command(port=port, address=address)
    os.execve(command[0], command, streamlit_environment(settings, os.environ))  # noqa: S606 (our fixed argv)
    return 0  # not reached: the process is Streamlit now


def cmd_config(_args: argparse.Namespace, settings: Settings) -> int:
    for section, values in settings.model_dump(mode="json").items():
        _out(f"[{section}]")
        for key, value in values.items():
            shown = ("(set)" if value else "(not set)") if key == "secret" else value
            _out(f"{key} = {json.dumps(shown, ensure_ascii=False)}")
        _out("")
    return 0


def cmd_sounds(args: argparse.Namespace, settings: Settings) -> int:
    from dialer.asterisk_config import SOUNDS_DIR
    from sounds.build import build, check
    from sounds.importer import import_recording
    from sounds.manifest import prompt_texts

    texts = prompt_texts(settings.organisation.name)
    root = SOUNDS_DIR / "build"
    if args.action == "build":
        report = build(texts, root, only=args.only)
        _out(f"built {len(report.built)} prompt(s), {len(report.kept)} already up to date, in {root}")
        if report.to_record:
            _out(f"kept {len(report.to_record)} recording(s) that must be recorded again: see `sounds check`")
        return 0
    if args.action == "import":
        _out("\n".join(import_recording(args.file, args.prompt_id, texts, root).summary()))
        return 0
    problems = check(texts, root)
    for line in problems:
        _out(line)
    _out(
        f"{len(texts) - len(problems)} of {len(texts)} prompts ready"
        if problems
        else f"all {len(texts)} prompts ready"
    )
    return 1 if problems else 0


def _new_password(login: str) -> str:
    """The new password: from UPRAVDOLG_NEW_PASSWORD, else typed twice (never echoed, never logged)."""
    import getpass
    import os

    from access.accounts import AccessError

    password = os.environ.get(NEW_PASSWORD_ENV, "")
    if password:
        return password
    password = getpass.getpass(f"New password for {login}: ")
    if getpass.getpass("Repeat it: ") != password:
        raise AccessError("the two passwords differ", hint="nothing was changed; try again")
    return password


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from access.rules import ROLE_LABELS
    from dialer.bootstrap import make_accounts, open_storage, utc_now

    with open_storage(settings) as storage:
        accounts = make_accounts(settings, storage)
        if args.action == "add":
            accounts.check_new_user(args.login, args.role)  # fail before the password is asked for
            user = accounts.add_user(
                args.login, _new_password(args.login), args.role, utc_now(), full_name=args.name
            )
            _out(f"user {user.login!r} added: {user.role.value} ({ROLE_LABELS[user.role]})")
        elif args.action == "passwd":
            accounts.get_user(args.login)  # an unknown login fails before the password is asked for
            user = accounts.set_password(args.login, _new_password(args.login), utc_now())
            _out(f"password of {user.login!r} changed; their open sessions have ended")
        elif args.action == "disable":
            user, changed = accounts.disable_user(args.login, utc_now())
            when = user.disabled_at.isoformat(timespec="seconds") if user.disabled_at else ""
            _out(
                f"user {user.login!r} disabled; their open sessions have ended"
                if changed
                else f"user {user.login!r} was already disabled (since {when})"
            )
        else:
            users = accounts.list_users()
            if args.json:
                _out(
                    json.dumps(
                        [
                            {
                                "login": u.login,
                                "full_name": u.full_name,
                                "role": u.role.value,
                                "active": u.active,
                                "created_at": u.created_at.isoformat(),
                                "password_changed_at": u.password_changed_at.isoformat(),
                                "disabled_at": u.disabled_at.isoformat() if u.disabled_at else None,
                            }
                            for u in users
                        ],
                        ensure_ascii=False,
                    )
                )
            elif not users:
                _out("no users yet: add one with `upravdolg users add LOGIN --role supervisor`")
            else:
                width = max(len(u.login) for u in users)
                for u in users:
                    state = f"disabled {u.disabled_at:%Y-%m-%d}" if u.disabled_at else "active"
                    _out(f"{u.login:{width}}  {u.role.value:10}  {state:19}  {u.full_name}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "asterisk": cmd_asterisk,
    "db": cmd_db,
    "import": cmd_import,
    "debtors": cmd_debtors,
    "agreements": cmd_agreements,
    "promises": cmd_promises,
    "do-not-call": cmd_do_not_call,
    "statuses": cmd_statuses,
    "scheduler": cmd_scheduler,
    "probe": cmd_probe,
    "campaign": cmd_campaign,
    "users": cmd_users,
    "dashboard": cmd_dashboard,
    "statistics": cmd_statistics,
    "run": cmd_run,
    "api": cmd_api,
    "demo": cmd_demo,
    "sounds": cmd_sounds,
    "config": cmd_config,
    **FIELD_COMMANDS,
    **REPORT_COMMANDS,
    **LEGAL_COMMANDS,
    **CLAIM_COMMANDS,
    **WORKER_COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = _settings(args)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else getattr(logging, settings.log.level),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        for chatty in ("alembic", "panoramisk"):
            logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
        return COMMANDS[args.command](args, settings)
    except UpravDolgError as exc:
        sys.stderr.write(f"upravdolg: error: {exc}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("upravdolg: interrupted\n")
        return 130
