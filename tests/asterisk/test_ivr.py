"""The real personalised message through the sandbox Asterisk: what the debtors heard, as the engine
recorded it from the IVR's report and as Asterisk's own log shows it.

The prompts are the ones `upravdolg sounds build` made (espeak-ng placeholders, a minute of message), so
these calls are long; they run side by side in one campaign. Simulated debtors (asterisk_conf/README.md):
…0 stays on the line, …4 / …5 hang up 3 s / 8 s after answer, …9 presses «2» at 4 s, …19 presses «1» at
4 s, …39 presses «0» at 4 s; SIPp hangs up at a chosen moment (in the middle of the amount).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.models import CallAttempt, Debtor, Promise
from debtors.registry_import import import_debtors
from dialer.asterisk_config import SOUNDS_DIR
from dialer.bootstrap import Storage, make_engine_service
from dialer.campaign_spec import parse_spec
from dialer.campaigns import apply_spec, set_state
from dialer.core.message_plan import DebtorFacts, plan_message
from dialer.sandbox import FULL_LOG, Sandbox
from dialer.settings import IvrSettings, Settings
from tests.asterisk.test_engine import ALWAYS, NO_RETRIES, load_debtors, run_until_idle, start_campaign
from tests.asterisk.test_engine import attempts as attempts_of
from tests.fixtures.registry_files import write_csv
from tests.sipp_uas import sipp_errors

HEADERS = ["Лицевой счёт", "ФИО", "Адрес", "Кол-во месяцев", "Сумма задолженности", "Телефон"]
INDEX = SOUNDS_DIR / "build" / "ru" / "upravdolg" / "index.json"
MENU_TIMEOUT = 2.0
# account, months, debt, number: the stay-on-line ones check the grammar of their amounts
DEBTORS = [
    ("7001", 3, "1,01", "+79125557000"),
    ("7002", 1, "21,21", "+79125557010"),
    ("7003", 12, "1 001,00", "+79125557020"),
    ("7004", 2, "2 000,50", "+79125557030"),
    ("7005", 5, "5 000 000,00", "+79125557040"),
    ("7006", 2, "12 345,67", "+79125557004"),  # hangs up 3 s after answer
    ("7007", 2, "12 345,67", "+79125557005"),  # hangs up 8 s after answer
    ("7008", 2, "12 345,67", "+79125557009"),  # «2»: a promise to pay
    ("7009", 2, "12 345,67", "+79125557019"),  # «1»: the message again
    ("7010", 2, "12 345,67", "+79125557039"),  # «0»: an operator
]


def lengths() -> dict[str, int]:
    if not INDEX.is_file():
        pytest.fail(f"{INDEX} is missing: run `upravdolg sounds build` (make test does)")
    return {prompt: int(entry["ms"]) for prompt, entry in json.loads(INDEX.read_text()).items()}


@pytest.fixture
def real_settings(settings: Settings) -> Settings:
    """The installation's own prompts (not the short test ones), with a shorter wait at the menu."""
    return settings.model_copy(update={"ivr": IvrSettings(menu_timeout=MENU_TIMEOUT)})


def load(storage: Storage, tmp_path: Path, rows: list[tuple[str, int, str, str]]) -> None:
    table = [[a, f"Должник {a}", f"ул. Тестовая, д. {a}", str(m), debt, n] for a, m, debt, n in rows]
    report = import_debtors(
        storage.sessions, storage.organisation_id, write_csv(tmp_path / "ivr.csv", [HEADERS, *table]),
        now=datetime.now(UTC),
    )  # fmt: skip
    assert report.imported == len(rows)


def start(storage: Storage, **fields: Any) -> None:
    spec = parse_spec(
        {"name": "IVR", "trunk": "sim", "max_channels": 10, "calls_per_second": 10.0, "dial_timeout": "10s",
         "window": ALWAYS, "retry": NO_RETRIES, **fields},
        source="test",
    )  # fmt: skip
    apply_spec(storage.sessions, storage.organisation_id, spec, datetime.now(UTC))
    set_state(storage.sessions, storage.organisation_id, spec.name, "running", datetime.now(UTC))


def by_account(storage: Storage) -> dict[str, CallAttempt]:
    with storage.sessions() as session:
        rows = session.execute(select(Debtor.account, CallAttempt).join(CallAttempt)).all()
    found: dict[str, CallAttempt] = {}
    for account, attempt in rows:
        assert account not in found, f"one attempt per debtor, {account} has more"
        found[account] = attempt
    return found


def played_by_channel(log_lines: list[str]) -> dict[str, list[str]]:
    """Asterisk's own record (full.log, verbose 3) of the files each channel played, in order."""
    played: dict[str, list[str]] = {}
    for line in log_lines:
        match = re.search(r"<(Local/\d+@upravdolg-sim-[0-9a-f]+;1)> Playing '([^']+)'", line)
        if match is not None:
            name = match.group(2).split(".")[0]  # 'upravdolg/num/5.wav' -> upravdolg/num/5
            played.setdefault(match.group(1), []).append(name)
    return played


def ms_between(start: datetime | None, end: datetime | None) -> float:
    assert start is not None and end is not None
    aware = [v if v.tzinfo else v.replace(tzinfo=UTC) for v in (start, end)]
    return (aware[1] - aware[0]).total_seconds() * 1000


async def test_what_each_debtor_heard(
    sandbox: Sandbox, real_settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    known = lengths()
    log_from = len((sandbox.root / FULL_LOG).read_text(errors="replace").splitlines())
    load(storage, tmp_path, DEBTORS)
    start(storage)
    await run_until_idle(make_engine_service(real_settings, storage), limit=240)
    attempts = by_account(storage)
    plans = {
        account: plan_message(DebtorFacts(account, Decimal(debt.replace(" ", "").replace(",", ".")), months))
        for account, months, debt, _ in DEBTORS
    }
    message_ms = {a: sum(known[p] for p in plan.prompts()) for a, plan in plans.items()}
    closing = 2 * MENU_TIMEOUT * 1000 + known["msg/menu"] + known["msg/goodbye"]

    # Those who stayed heard it all, measured and as Asterisk timed the call.
    for account in ("7001", "7002", "7003", "7004", "7005"):
        a = attempts[account]
        assert (a.outcome, a.completed, a.ended_by, a.digits) == ("heard_full", True, "finished", ""), account
        assert a.message_ms == message_ms[account] and abs((a.heard_ms or 0) - message_ms[account]) <= 300
        on_the_line = ms_between(a.answered_at, a.ended_at)
        assert abs(on_the_line - message_ms[account] - closing) <= 1500, (account, on_the_line)
    # Hung up after 3 s / 8 s: partial, heard within ±500 ms of that.
    for account, after_ms in (("7006", 3000), ("7007", 8000)):
        a = attempts[account]
        assert (a.outcome, a.completed, a.ended_by) == ("partial", False, "hung_up"), account
        assert abs((a.heard_ms or 0) - after_ms) <= 500, (account, a.heard_ms)
    # «2» at 4 s: a promise to pay, recorded with the date «within N days».
    a = attempts["7008"]
    assert (a.digits, a.ended_by, a.completed) == ("2", "finished", False)
    assert abs((a.heard_ms or 0) - 4000) <= 500
    with storage.sessions() as session:
        debtor = session.scalars(select(Debtor).where(Debtor.account == "7008")).one()
        promise = session.scalars(select(Promise).where(Promise.debtor_id == debtor.id)).one()
        assert (debtor.status, promise.source, promise.status) == ("promise", "ivr", "open")
        days = real_settings.statuses.promise_days
        assert promise.pay_by in {
            datetime.now(UTC).date() + timedelta(days=days),
            datetime.now(UTC).date() + timedelta(days=days + 1),
        }
    # «1» at 4 s: the message again, counted, heard through.
    a = attempts["7009"]
    assert (a.digits, a.repeats, a.completed, a.outcome) == ("1", 1, True, "heard_full")
    assert abs((a.heard_ms or 0) - 4000 - message_ms["7009"]) <= 500
    # «0» at 4 s: handed to the operator (who talks for 3 s).
    a = attempts["7010"]
    assert (a.digits, a.ended_by) == ("0", "transferred")

    # The debtor's card shows the listens, as `upravdolg debtors show ACCOUNT --json` prints it.
    shown = subprocess.run(  # noqa: ASYNC221 - the engine has stopped; nothing else runs on this loop
        [sys.executable, "-m", "dialer", "debtors", "show", "7009", "--json"],
        env={**os.environ, "UPRAVDOLG_DATABASE_URL": real_settings.database.url},
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    card = json.loads(shown.stdout)
    (listed,) = card["attempts"]
    repeated = attempts["7009"]
    assert (listed["outcome"], listed["heard_ms"], listed["message_ms"], listed["completed"]) == (
        "heard_full", repeated.heard_ms, message_ms["7009"], True
    )  # fmt: skip
    assert (listed["digits"], listed["repeats"], listed["ended_by"]) == ("1", 1, "finished")
    assert (
        listed["started_at"] and listed["ended_at"] and len(listed["segments"]) == len(plans["7009"].segments)
    )
    assert card["listens"] == {"count": 1, "heard_ms": repeated.heard_ms}

    log = (sandbox.root / FULL_LOG).read_text(errors="replace").splitlines()[log_from:]
    played = played_by_channel(log)
    channels = {a.number.removeprefix("+"): c for c in played for a in attempts.values() if a.number[1:] in c}
    # The grammar, as Asterisk played it: each stayer's whole message, then the menu again and goodbye.
    for account, *_rest, number in DEBTORS[:5]:
        expected = [f"upravdolg/{p}" for p in [*plans[account].prompts(), "msg/menu", "msg/goodbye"]]
        assert played[channels[number[1:]]] == expected, account
    dialled = [line for line in log if "Dial(" in line and "Local/operator@upravdolg-sim" in line]
    assert len(dialled) == 1 and channels["79125557039"] in dialled[0], "the operator was dialled for «0»"
    assert any("operator@upravdolg-sim:1] Answer" in line for line in log), "and answered"


async def test_a_hang_up_in_the_middle_of_the_amount(
    sandbox: Sandbox, real_settings: Settings, storage: Storage, tmp_path: Path, *, sipp: Any
) -> None:
    known = lengths()
    plan = plan_message(DebtorFacts("7020", Decimal("12345.67"), 2))
    before = sum(known[p] for s in plan.segments[:2] for p in s.prompts)
    amount = next(s for s in plan.segments if s.name == "amount")
    hang_up_ms = before + sum(known[p] for p in amount.prompts) // 2
    load(storage, tmp_path, [("7020", 2, "12 345,67", "+79125557050")])
    process = sipp("uas_answer_wait_bye.xml", hang_up_ms)
    start(storage, trunk="sipp")
    await run_until_idle(make_engine_service(real_settings, storage), limit=90)
    a = by_account(storage)["7020"]
    said = f"SIPp: {sipp_errors(process) or 'no unexpected messages'}"
    assert (a.outcome, a.ended_by, a.completed) == ("partial", "hung_up", False), said
    assert abs((a.heard_ms or 0) - hang_up_ms) <= 500, (a.heard_ms, hang_up_ms)
    segments = dict(item.split("=") for item in a.segments.split())
    played, length = (int(x) for x in segments["amount"].split("/"))
    assert 0 < played < length, segments
    assert segments["payment"].startswith("0/") and segments["greeting"].split("/")[0] == str(
        sum(known[p] for p in plan.segments[0].prompts)
    )


async def test_the_process_agi_transport(
    sandbox: Sandbox, settings: Settings, storage: Storage, tmp_path: Path
) -> None:
    """The same flow as a pyst2 process AGI that Asterisk runs in the chroot (agi-bin/upravdolg-notify.py):
    its report reaches the engine only as the UserEvent over AMI. Short test prompts (a 10.5 s message)."""
    assert (sandbox.root / "usr/share/asterisk/agi-bin/upravdolg-notify.py").is_file()
    process_settings = settings.model_copy(
        update={"ivr": settings.ivr.model_copy(update={"transport": "process"})}
    )
    load_debtors(storage, tmp_path, ["+79125557100", "+79125557104", "+79125557109"])
    start_campaign(storage)
    engine = make_engine_service(process_settings, storage)
    await run_until_idle(engine, limit=60)
    assert engine.agi.sessions == 0, "the dialer's own listener played nothing"
    found = {a.number[-1]: a for a in attempts_of(storage)}
    stayed, hung_up, promised = found["0"], found["4"], found["9"]
    assert (stayed.outcome, stayed.heard_ms, stayed.message_ms, stayed.ended_by) == (
        "heard_full", 10500, 10500, "finished"
    )  # fmt: skip
    assert hung_up.outcome == "partial" and abs((hung_up.heard_ms or 0) - 3000) <= 500
    assert (promised.digits, promised.ended_by) == ("2", "finished")
    with storage.sessions() as session:
        assert session.scalar(select(Debtor.status).where(Debtor.id == promised.debtor_id)) == "promise"


def test_sounds_check_is_clean_after_the_build(capsys: pytest.CaptureFixture[str]) -> None:
    """`make test` ran `upravdolg sounds build` before the sandbox came up: every prompt of the manifest
    is there, in every format, saying the manifest's current text."""
    from dialer.cli import main

    assert main(["sounds", "check"]) == 0, capsys.readouterr().out
    out = capsys.readouterr().out
    assert "missing" not in out and "older text" not in out
