"""Payments, automatic statuses, agreements, promises, the daily check and the debtor card (both backends)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from db.models import Agreement, Debtor, Payment, Promise, StatusChange
from debtors.debtor_card import load_card
from debtors.measures import (
    MeasureError,
    mark_do_not_call,
    parse_schedule,
    record_promise,
    register_agreement,
)
from debtors.payments_import import import_payments
from debtors.registry_import import import_debtors
from debtors.status_service import check_statuses
from debtors.statuses import StatusRules
from dialer.bootstrap import Storage
from dialer.cli import main
from dialer.report_schedule import REPORTS_JOB
from dialer.scheduler import NOTICES_JOB, STATUS_CHECK_JOB, add_jobs, run_notice_generation, run_status_check
from dialer.settings import NoticeSettings, SchedulerSettings, Settings
from tests.fixtures.registry_files import write_csv

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 1)
RULES = StatusRules(instalment_grace_days=5, promise_grace_days=3)
LIST = [
    ["ЛС", "ФИО", "Сумма долга", "Телефон"],
    ["1", "Иванов", "1 000,00", "89120000001"],
    ["2", "Петров", "2 000,00", "89120000002"],
    ["3", "Сидоров", "3 000,00", "89120000003"],
]
PAYMENT_HEADERS = ["Лицевой счёт", "Дата оплаты", "Сумма платежа", "Номер документа"]


@pytest.fixture
def registry(storage: Storage, tmp_path: Path) -> Storage:
    report = import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "list.csv", LIST),
        now=NOW,
        as_of=AS_OF,
        rules=RULES,
    )
    assert report.imported == 3
    return storage


def state(storage: Storage, account: str) -> tuple[str, Decimal, str]:
    with storage.sessions() as session:
        d = session.scalars(select(Debtor).where(Debtor.account == account)).one()
        return d.status, d.debt, d.status_reason


def history(storage: Storage, account: str) -> list[tuple[str, str]]:
    with storage.sessions() as session:
        rows = session.execute(
            select(StatusChange.previous_status, StatusChange.status)
            .join(Debtor)
            .where(Debtor.account == account)
            .order_by(StatusChange.id)
        ).all()
    return [(a, b) for a, b in rows]


def test_payments_pay_off_debts_and_duplicates_are_not_counted_twice(
    registry: Storage, tmp_path: Path
) -> None:
    first = write_csv(
        tmp_path / "p1.csv",
        [
            PAYMENT_HEADERS,
            ["1", "20.11.2026", "1 000,00", "A-1"],
            ["1", "20.11.2026", "1 000,00", "A-1"],  # the same line twice in one file
            ["2", "2026-11-21", "500", "B-1"],
            ["2", "21.11.2026", "500", "B-2"],  # same day and amount, another document: a real second payment
            ["3", "25.10.2026", "3 000,00", "C-0"],  # before the list's as-of date: already in the snapshot
            ["9", "21.11.2026", "10", "X"],
            ["2", "21.13.2026", "10", "Y"],
            ["2", "22.11.2026", "-10", "Z"],
            ["2", "01.01.2099", "10", "F"],
        ],
    )
    report = import_payments(registry.sessions, registry.organisation_id, first, now=NOW, rules=RULES)
    assert (report.rows, report.imported, report.unchanged, report.rejected) == (9, 4, 1, 4)
    assert {(e.row, e.field) for e in report.errors} == {
        (7, "account"),
        (8, "paid_on"),
        (9, "amount"),
        (10, "paid_on"),
    }
    assert state(registry, "1")[:2] == ("paid", Decimal("0.00"))
    assert "реестр платежей" in state(registry, "1")[2]
    assert state(registry, "2")[:2] == ("active", Decimal("1000.00"))
    assert state(registry, "3")[:2] == ("active", Decimal("3000.00")), (
        "a payment before the snapshot is in it"
    )
    assert history(registry, "1") == [("active", "paid")]

    overlapping = write_csv(
        tmp_path / "p2.csv",
        [
            PAYMENT_HEADERS,
            ["2", "21.11.2026", "500", "B-2"],  # already imported from p1
            ["2", "26.11.2026", "1 000,00", "B-3"],
        ],
    )
    report = import_payments(registry.sessions, registry.organisation_id, overlapping, now=NOW, rules=RULES)
    assert (report.imported, report.unchanged) == (1, 1)
    assert state(registry, "2")[:2] == ("paid", Decimal("0.00"))
    again = import_payments(registry.sessions, registry.organisation_id, overlapping, now=NOW, rules=RULES)
    assert again.already_imported == report.import_id
    with registry.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 5


def test_paid_debtor_reactivated_by_a_later_snapshot(registry: Storage, tmp_path: Path) -> None:
    pay = write_csv(tmp_path / "p.csv", [PAYMENT_HEADERS, ["1", "20.11.2026", "1000", "A"]])
    import_payments(registry.sessions, registry.organisation_id, pay, now=NOW, rules=RULES)
    assert state(registry, "1")[0] == "paid"
    december = write_csv(tmp_path / "dec.csv", [LIST[0], ["1", "Иванов", "350,00", "89120000001"]])
    import_debtors(
        registry.sessions, registry.organisation_id, december, now=NOW, as_of=date(2026, 12, 1), rules=RULES
    )
    status, debt, reason = state(registry, "1")
    assert (status, debt) == ("active", Decimal("350.00"))
    assert "новая задолженность" in reason and "выгрузка" in reason
    assert history(registry, "1") == [("active", "paid"), ("paid", "active")]
    zero = write_csv(tmp_path / "jan.csv", [LIST[0], ["1", "Иванов", "0", "89120000001"]])
    import_debtors(
        registry.sessions, registry.organisation_id, zero, now=NOW, as_of=date(2027, 1, 1), rules=RULES
    )
    assert state(registry, "1")[0] == "paid", "a snapshot at the tolerance pays off too"


def test_agreement_stops_then_a_missed_instalment_resumes(registry: Storage, tmp_path: Path) -> None:
    with registry.sessions.begin() as session:
        _, changes = register_agreement(
            session,
            registry.organisation_id,
            "2",
            kind="instalment",
            number="17",
            registered_on=date(2026, 11, 20),
            schedule=parse_schedule("2026-12-01=1000, 2027-01-01=1000"),
            now=NOW,
            rules=RULES,
            actor="operator",
        )
    assert [c.status.value for c in changes] == ["stopped"]
    assert state(registry, "2")[0] == "stopped"
    kept = write_csv(tmp_path / "p.csv", [PAYMENT_HEADERS, ["2", "03.12.2026", "1000", "I-1"]])
    import_payments(
        registry.sessions, registry.organisation_id, kept, now=datetime(2026, 12, 4, tzinfo=UTC), rules=RULES
    )
    for day in (date(2026, 12, 20), date(2027, 1, 6)):
        with registry.sessions.begin() as session:
            assert (
                check_statuses(
                    session, registry.organisation_id, today=day, now=NOW, rules=RULES, actor="scheduler"
                )
                == []
            )
    assert state(registry, "2")[0] == "stopped", "the first instalment was paid on time"
    with registry.sessions.begin() as session:
        (change,) = check_statuses(
            session, registry.organisation_id, today=date(2027, 1, 7), now=NOW, rules=RULES, actor="scheduler"
        )
    assert (change.previous.value, change.status.value) == ("stopped", "active")
    status, _, reason = state(registry, "2")
    assert status == "active"
    assert "нарушено" in reason and "01.01.2027" in reason and "возобновлены" in reason
    with registry.sessions() as session:
        assert session.scalars(select(Agreement.status)).one() == "broken"
    assert history(registry, "2") == [("active", "stopped"), ("stopped", "active")]


def test_promise_pauses_then_expires_or_is_kept(registry: Storage, tmp_path: Path) -> None:
    with registry.sessions.begin() as session:
        promise, _ = record_promise(
            session,
            registry.organisation_id,
            "3",
            pay_by=None,
            amount=None,
            source="ivr",
            now=NOW,
            rules=RULES,
            promise_days=7,
            actor="ivr",
        )
        assert promise.pay_by == NOW.date() + timedelta(days=7)
        record_promise(
            session,
            registry.organisation_id,
            "1",
            pay_by=date(2026, 12, 1),
            amount=Decimal("1000"),
            source="operator",
            now=NOW,
            rules=RULES,
            promise_days=7,
            actor="operator",
        )
    assert state(registry, "3")[0] == state(registry, "1")[0] == "promise"
    pay = write_csv(tmp_path / "p.csv", [PAYMENT_HEADERS, ["1", "30.11.2026", "1000", "A"]])
    import_payments(
        registry.sessions, registry.organisation_id, pay, now=datetime(2026, 11, 30, tzinfo=UTC), rules=RULES
    )
    assert state(registry, "1")[0] == "paid"
    with registry.sessions.begin() as session:
        assert (
            check_statuses(
                session,
                registry.organisation_id,
                today=date(2026, 12, 7),
                now=NOW,
                rules=RULES,
                actor="scheduler",
            )
            == []
        )
        (change,) = check_statuses(
            session,
            registry.organisation_id,
            today=date(2026, 12, 8),
            now=NOW,
            rules=RULES,
            actor="scheduler",
        )
    assert (change.previous.value, change.status.value) == ("promise", "active")
    assert "не выполнено" in state(registry, "3")[2]
    with registry.sessions() as session:
        assert sorted(session.scalars(select(Promise.status))) == ["broken", "kept"]


def test_measures_refuse_bad_input(registry: Storage) -> None:
    with registry.sessions.begin() as session:
        with pytest.raises(MeasureError, match="no debtor with account"):
            register_agreement(
                session,
                registry.organisation_id,
                "404",
                kind="instalment",
                number="1",
                registered_on=AS_OF,
                schedule=parse_schedule("2026-12-01=1"),
                now=NOW,
                rules=RULES,
                actor="t",
            )
        with pytest.raises(MeasureError, match="in the past"):
            record_promise(
                session,
                registry.organisation_id,
                "1",
                pay_by=date(2020, 1, 1),
                amount=None,
                source="operator",
                now=NOW,
                rules=RULES,
                promise_days=7,
                actor="t",
            )
    for bad, message in (
        ("2026-12-01", "DATE=AMOUNT"),
        ("2026-13-01=5", "not a real calendar date"),
        ("2026-12-01=-5", "more than 0"),
        ("", "empty"),
    ):
        with pytest.raises(MeasureError, match=message):
            parse_schedule(bad)


def test_debtors_show_json(registry: Storage, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pay = write_csv(tmp_path / "p.csv", [PAYMENT_HEADERS, ["2", "20.11.2026", "500", "B"]])
    import_payments(registry.sessions, registry.organisation_id, pay, now=NOW, rules=RULES)
    url = registry.engine.url.render_as_string(hide_password=False)
    assert main(["--database-url", url, "--set", "log.level=ERROR", "debtors", "show", "2", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["account"] == "2" and card["debt"] == "1500.00"
    assert card["status"]["code"] == "active" and card["status"]["label"] == "В работе"
    assert card["debt_history"] == [
        {"as_of": "2026-11-01", "amount": "2000.00", "months_overdue": 0, "import_id": 1}
    ]
    assert card["payments"][0]["amount"] == "500.00"
    assert card["phones"][0]["e164"] == "+79120000002"
    assert set(card["counts"]) == {
        "calls_made",
        "heard_to_end",
        "notices_delivered",
        "notices_by_method",
        "measures",
    }
    assert card["notices"] == [] and card["crew_jobs"] == [] and card["legal_cases"] == []
    assert main(["--database-url", url, "debtors", "show", "404"]) == 11
    assert "no debtor with account '404'" in capsys.readouterr().err
    assert main(["--database-url", url, "debtors", "show", "2"]) == 0
    assert "Статус: «В работе»" in capsys.readouterr().out
    with registry.sessions() as session:
        assert load_card(session, registry.organisation_id, "1")["status"]["label"] == "В работе"


def test_the_daily_check_is_scheduled(registry: Storage, settings: Settings) -> None:
    scheduler = BackgroundScheduler()
    add_jobs(scheduler, settings, registry)
    job = scheduler.get_job(STATUS_CHECK_JOB)
    assert job is not None
    assert "hour='6'" in str(job.trigger) and "minute='0'" in str(job.trigger)
    assert str(job.trigger.timezone) == "Europe/Moscow"
    with registry.sessions.begin() as session:
        record_promise(
            session,
            registry.organisation_id,
            "1",
            pay_by=NOW.date(),
            amount=None,
            source="operator",
            now=NOW,
            rules=RULES,
            promise_days=7,
            actor="t",
        )
    later = NOW + timedelta(days=10)
    (change,) = run_status_check(settings, registry, now=later)
    assert change.status.value == "active"
    notices = scheduler.get_job(NOTICES_JOB)
    assert notices is not None
    assert "hour='6'" in str(notices.trigger) and "minute='30'" in str(notices.trigger)
    lenient = settings.model_copy(
        update={"notices": NoticeSettings(primary_min_months=0, primary_min_debt=Decimal("1.00"))}
    )
    made = run_notice_generation(lenient, registry, now=later)
    assert made.primary > 0 and run_notice_generation(lenient, registry, now=later).total == 0
    quiet = BackgroundScheduler()
    add_jobs(quiet, settings.model_copy(update={"scheduler": SchedulerSettings(notices_at="")}), registry)
    assert quiet.get_job(NOTICES_JOB) is None and quiet.get_job(STATUS_CHECK_JOB) is not None
    monthly = scheduler.get_job(REPORTS_JOB)
    assert monthly is not None and monthly.args[2] == Path("reports") and "day='1'" in str(monthly.trigger)
    assert quiet.get_job(REPORTS_JOB) is not None
    none = BackgroundScheduler()
    add_jobs(none, settings.model_copy(update={"scheduler": SchedulerSettings(reports_folder="")}), registry)
    assert none.get_job(REPORTS_JOB) is None


def test_do_not_call_marks_show_on_the_card(registry: Storage) -> None:
    with registry.sessions.begin() as session:
        mark_do_not_call(
            session,
            registry.organisation_id,
            account="1",
            phone=None,
            reason="письменный отказ от звонков",
            now=NOW,
            actor="operator",
        )
        mark_do_not_call(
            session,
            registry.organisation_id,
            account=None,
            phone="8 (912) 000-00-02",
            reason="номер принадлежит соседу",
            now=NOW,
            actor="operator",
        )
        for account, phone, reason, message in (
            (None, None, "x", "either"),
            ("1", "+79120000001", "x", "either"),
            (None, "21-34-56", "x", "not a phone number"),
            ("1", None, " ", "needs a reason"),
        ):
            with pytest.raises(MeasureError, match=message):
                mark_do_not_call(
                    session,
                    registry.organisation_id,
                    account=account,
                    phone=phone,
                    reason=reason,
                    now=NOW,
                    actor="t",
                )
        one = load_card(session, registry.organisation_id, "1")["do_not_call"]
        two = load_card(session, registry.organisation_id, "2")["do_not_call"]
        three = load_card(session, registry.organisation_id, "3")["do_not_call"]
    assert [(m["whole_debtor"], m["reason"]) for m in one] == [(True, "письменный отказ от звонков")]
    assert [(m["phone"], m["whole_debtor"]) for m in two] == [("+79120000002", False)]
    assert three == []
