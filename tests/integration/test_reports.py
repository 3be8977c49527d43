"""The report engine on SQLite and PostgreSQL: the figures of the notices, plugs and calls reports
(hand-counted from the data built here through the services), the period, district and campaign filters,
the three formats read back, and the `report` command."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from db.models import CallAttempt, Campaign, CrewJob, Debtor, Notice
from debtors.couriers import add_courier
from debtors.crew_jobs import add_crew, on_paid_off, plan_install, report_job
from debtors.field_reports import DeliveryReport
from debtors.field_rules import DeliveryMethod, JobKind, JobStatus, NoticeRules, RestrictionRules
from debtors.notices import assign_notices, generate_notices, record_delivery
from debtors.payments_import import import_payments
from debtors.registry_import import import_debtors
from debtors.reports.model import Report, ReportError, ReportParams, Section
from debtors.reports.outlets import render
from debtors.reports.registry import REPORTS, build_report, report_names
from dialer.bootstrap import Storage
from dialer.cli import main
from dialer.report_schedule import REPORTS_JOB, add_report_job, previous_month, run_monthly_reports
from dialer.settings import Settings
from tests.fixtures.registry_files import write_csv

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
TZ = "Europe/Moscow"
T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 5, 7, 15, tzinfo=UTC)  # 10:15 in Moscow
NOTICES = NoticeRules(primary_min_months=3, primary_min_debt=Decimal("5000"), secondary_after_days=14)
ONE_WARNING = RestrictionRules(min_debt=Decimal("5000"), min_notices_delivered=1, days_after_delivery=20)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
REPORT_TITLES = {name: d.title for name, d in REPORTS.items()}
DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))


def params(period: tuple[date, date], **options: object) -> ReportParams:
    return ReportParams(period[0], period[1], TZ, NOW, **options)  # type: ignore[arg-type]


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def data(storage: Storage) -> Storage:
    """Notices, deliveries, plugs and calls of November-December 2026 (the figures the tests count)."""
    org = storage.organisation_id
    import_debtors(storage.sessions, org, SAMPLE, now=T0, as_of=date(2026, 11, 1))
    with storage.sessions() as session:
        ids = {a: i for a, i in session.execute(select(Debtor.account, Debtor.id))}
    # 8 primaries: Ленинский 100001 100002 100007 100009, Кировский 100004 100008, Октябрьский 100005 100010
    with storage.sessions.begin() as session:
        assert generate_notices(session, org, now=T0, timezone=TZ, rules=NOTICES).primary == 8
        anna, _ = add_courier(session, org, "Анна", now=T0)
        boris, _ = add_courier(session, org, "Борис", now=T0)
        assert assign_notices(session, org, anna.id, districts=["Ленинский"], now=T0) == 4
        assert assign_notices(session, org, boris.id, districts=["Кировский", "Октябрьский"], now=T0) == 4
        notice = {
            a: n
            for a, n in session.execute(
                select(Debtor.account, Notice.id).join(Notice, Notice.debtor_id == Debtor.id)
            )
        }

    def deliver(courier: int, account: str, method: str, when: datetime) -> None:
        with storage.sessions.begin() as session:
            report = DeliveryReport(f"{account}-{when:%m%d%H}", DeliveryMethod(method), 1, when)
            record_delivery(session, org, courier, notice[account], report, now=when, rules=NOTICES)

    deliver(anna.id, "100001", "nobody_home", at(2, 9))
    deliver(anna.id, "100001", "mailbox", at(3, 10))
    deliver(anna.id, "100002", "personal", at(5, 10))
    deliver(boris.id, "100004", "refused", at(10, 10))
    deliver(boris.id, "100005", "nobody_home", at(10, 11))
    deliver(anna.id, "100007", "personal", at(2, 10, month=12))
    with storage.sessions.begin() as session:  # secondaries for 100001 and 100002 (delivered 14+ days ago)
        assert generate_notices(session, org, now=at(20, 10), timezone=TZ, rules=NOTICES).secondary == 2

    def job(account: str, day: date, crew: str) -> None:
        with storage.sessions.begin() as session:
            planned = plan_install(
                session,
                org,
                account,
                crew=crew,
                planned_on=day,
                timezone=TZ,
                rules=ONE_WARNING,
                actor="t",
                now=NOW,
            )
            report_job(
                session,
                org,
                planned.id,
                JobStatus.INSTALLED,
                on=day,
                timezone=TZ,
                rules=ONE_WARNING,
                actor="t",
                now=NOW,
            )

    with storage.sessions.begin() as session:
        add_crew(session, org, "Бригада 1", now=T0)
        add_crew(session, org, "Бригада 2", now=T0)
    job("100001", date(2026, 11, 24), "Бригада 1")
    job("100002", date(2026, 11, 26), "Бригада 2")
    job("100004", date(2026, 12, 1), "Бригада 1")
    with storage.sessions.begin() as session:  # 100001 paid off: its secondary is cancelled, the plug removed
        on_paid_off(
            session,
            org,
            [ids["100001"]],
            today=date(2026, 12, 3),
            now=at(3, 9, month=12),
            reason="тест",
            actor="t",
        )
        removal = session.scalars(select(CrewJob).where(CrewJob.kind == JobKind.REMOVAL.value)).one()
        report_job(
            session,
            org,
            removal.id,
            JobStatus.REMOVED,
            on=date(2026, 12, 3),
            timezone=TZ,
            rules=ONE_WARNING,
            actor="t",
            now=NOW,
        )

    with storage.sessions.begin() as session:
        november = Campaign(organisation_id=org, name="Ноябрь", spec="{}", created_at=T0, updated_at=T0)
        december = Campaign(organisation_id=org, name="Декабрь", spec="{}", created_at=T0, updated_at=T0)
        session.add_all([november, december])
        session.flush()
        calls = [  # account, campaign, started (UTC), answered, outcome, heard ms, state
            ("100001", november, at(10, 9), True, "heard_full", 30_000, "ended"),
            ("100002", november, at(10, 10), True, "partial", 10_000, "ended"),
            ("100004", november, at(11, 8), False, "no_answer", None, "ended"),
            ("100005", november, at(11, 20, 30), False, "busy", None, "ended"),  # 23:30 local, Nov 11
            ("100007", november, at(30, 21, 30), True, "heard_full", 29_000, "ended"),  # Dec 1 local
            ("100008", november, at(12, 8), False, None, None, "not_placed"),  # never dialled
            ("100009", december, at(20, 9), True, "machine", 0, "ended"),
            ("100010", november, datetime(2026, 10, 31, 20, 59, tzinfo=UTC), False, "busy", None, "ended"),
            (
                "100010",
                november,
                datetime(2026, 10, 31, 21, 0, tzinfo=UTC),
                False,
                "no_answer",
                None,
                "ended",
            ),
        ]
        for number, (account, campaign, started, answered, outcome, heard, state) in enumerate(calls):
            session.add(
                CallAttempt(
                    id=f"call-{number}",
                    organisation_id=org,
                    debtor_id=ids[account],
                    number="+79120000000",
                    dial_string="PJSIP/t",
                    state=state,
                    outcome=outcome,
                    started_at=started,
                    answered_at=started + timedelta(seconds=5) if answered else None,
                    heard_ms=heard,
                    campaign_id=campaign.id,
                )
            )
    return storage


def build(storage: Storage, name: str, p: ReportParams) -> Report:
    with storage.sessions() as session:
        return build_report(session, storage.organisation_id, name, p)


def section(report: Report, caption: str) -> Section:
    return next(s for s in report.sections if s.caption == caption)


def table(s: Section) -> list[list[object]]:
    return [list(r) for r in (*s.rows, *s.totals)]


def test_notices_report(data: Storage) -> None:
    report = build(data, "notices", params(NOVEMBER))
    assert (report.organisation, report.title, report.period_text) == (
        "УК «Пример»",
        "Отчёт по уведомлениям",
        "01.11.2026 – 30.11.2026",
    )
    assert report.generated_text == "05.12.2026 10:15"
    assert table(section(report, "По видам уведомлений")) == [
        ["первичное", 8, 3, 0, 5],
        ["повторное", 2, 0, 0, 2],
        ["Итого", 10, 3, 0, 7],
    ]
    assert table(section(report, "По способам вручения")) == [
        ["лично в руки", 1, 1],
        ["в почтовый ящик", 1, 1],
        ["отказ от получения", 1, 1],
        ["никого нет дома", 0, 2],
        ["Итого", 3, 5],
    ]
    assert table(section(report, "По курьерам")) == [
        ["Анна", 4, 2, 3],
        ["Борис", 4, 1, 2],
        ["Итого", 8, 3, 5],
    ]
    undelivered = section(report, "Не вручены на конец периода")
    assert sorted(str(r[2]) for r in undelivered.rows) == [
        "100001",
        "100002",
        "100005",
        "100007",
        "100008",
        "100009",
        "100010",
    ]
    assert undelivered.totals[0][0] == "Итого: 7" and undelivered.totals[0][-1] == Decimal("139205.56")

    december = build(data, "notices", params(DECEMBER))
    # 100007 delivered on 2 December; 100001's secondary cancelled when the debt was paid off
    assert table(section(december, "По видам уведомлений"))[-1] == ["Итого", 0, 1, 1, 5]
    assert table(section(december, "По курьерам")) == [["Анна", 0, 1, 1], ["Итого", 0, 1, 1]]

    kirov = build(data, "notices", params(NOVEMBER, districts=("Кировский",)))
    assert table(section(kirov, "По видам уведомлений"))[-1] == ["Итого", 2, 1, 0, 1]
    assert table(section(kirov, "По курьерам")) == [["Борис", 2, 1, 1], ["Итого", 2, 1, 1]]
    assert kirov.filters == "районы: Кировский"


def test_plugs_report(data: Storage) -> None:
    november = build(data, "plugs", params(NOVEMBER))
    assert table(section(november, "По бригадам")) == [
        ["Бригада 1", 1, 0, 1],
        ["Бригада 2", 1, 0, 1],
        ["Итого", 2, 0, 2],
    ]
    installed = section(november, "Установлены заглушки")
    assert [(r[0], r[3], r[5], r[6]) for r in installed.rows] == [
        (date(2026, 11, 24), "100001", "Бригада 1", date(2026, 12, 3)),
        (date(2026, 11, 26), "100002", "Бригада 2", None),
    ]
    assert section(november, "Сняты заглушки").rows == []

    december = build(data, "plugs", params(DECEMBER))
    assert table(section(december, "По бригадам")) == [
        ["Бригада 1", 1, 1, 1],
        ["Бригада 2", 0, 0, 1],
        ["Итого", 1, 1, 2],
    ]
    removed = section(december, "Сняты заглушки")
    assert [(r[0], r[3], r[5], r[6], r[7]) for r in removed.rows] == [
        (date(2026, 12, 3), "100001", "Бригада 1", date(2026, 11, 24), 9)
    ]
    assert removed.totals[0][1] == "Итого: 1"

    kirov = build(data, "plugs", params((NOVEMBER[0], DECEMBER[1]), districts=("Кировский",)))
    assert table(section(kirov, "По бригадам")) == [["Бригада 1", 1, 0, 1], ["Итого", 1, 0, 1]]


def test_calls_report(data: Storage) -> None:
    report = build(data, "calls", params(NOVEMBER, price_per_attempt=Decimal("1.50")))
    days = section(report, "По дням")
    # Oct 31 23:59 and Dec 1 00:30 (local) fall outside; the call never dialled is not an attempt
    assert [r[:4] for r in days.rows] == [
        [date(2026, 11, 1), 1, 0, 0],
        [date(2026, 11, 10), 2, 2, 1],
        [date(2026, 11, 11), 2, 0, 0],
        [date(2026, 11, 20), 1, 1, 0],
    ]
    assert days.rows[1][4:] == [0.5, Decimal(20), Decimal("3.00")]
    assert days.totals == [["Итого", 6, 3, 1, 1 / 3, Decimal(20), Decimal("9.00")]]
    assert [r[:2] for r in section(report, "По кампаниям").rows] == [["Декабрь", 1], ["Ноябрь", 5]]
    outcomes = dict((str(r[0]), r[1]) for r in section(report, "По исходам").rows)
    assert outcomes == {
        "не ответил": 2,
        "занято": 1,
        "прослушал до конца": 1,
        "прослушал частично": 1,
        "автоответчик": 1,
    }
    assert "цена попытки: 1,50 руб." in report.filters

    one = build(data, "calls", params(NOVEMBER, campaign="Ноябрь"))
    assert section(one, "По дням").totals[0][:4] == ["Итого", 5, 2, 1]
    lenin = build(data, "calls", params(NOVEMBER, districts=("Ленинский",)))
    assert section(lenin, "По дням").totals[0][:4] == ["Итого", 3, 3, 1]
    with pytest.raises(ReportError, match="campaign 'Нет такой' does not exist"):
        build(data, "calls", params(NOVEMBER, campaign="Нет такой"))


def test_csv_outlet(data: Storage) -> None:
    report = build(data, "calls", params(NOVEMBER, price_per_attempt=Decimal("1.50")))
    raw = render(report, "csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Отчёт по обзвону"] and rows[2] == ["Период", "01.11.2026 – 30.11.2026"]
    header = rows.index(["Дата", *[c.title for c in section(report, "По дням").columns[1:]]])
    assert rows[header + 1] == ["01.11.2026", "1", "0", "0", "", "", "1,50"]
    assert rows[header + 2] == ["10.11.2026", "2", "2", "1", "50,0%", "20,0", "3,00"]
    assert ["Итого", "6", "3", "1", "33,3%", "20,0", "9,00"] in rows
    notices = render(build(data, "notices", params(NOVEMBER)), "csv").decode("utf-8-sig")
    assert "Итого: 7;;;;;;;139205,56" in notices


def test_xlsx_outlet(data: Storage) -> None:
    report = build(data, "calls", params(NOVEMBER, price_per_attempt=Decimal("1.50")))
    book = load_workbook(io.BytesIO(render(report, "xlsx")))
    assert book.sheetnames == ["По дням", "По кампаниям", "По исходам"]
    sheet = book["По дням"]
    assert sheet["A1"].value == "Отчёт по обзвону" and sheet["B2"].value == "УК «Пример»"
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "Дата")
    first = rows[header + 1]
    assert isinstance(first[0], date) and first[0].timetuple()[:3] == (2026, 11, 1)
    assert first[1:4] == [1, 0, 0] and all(isinstance(v, int) for v in first[1:4])
    totals = rows[header + 5]
    assert totals[:4] == ["Итого", 6, 3, 1]
    assert totals[4] == pytest.approx(1 / 3) and totals[5] == 20 and totals[6] == pytest.approx(9.0)
    assert sheet.cell(header + 2, 7).number_format == "#,##0.00"
    assert sheet.cell(header + 2, 5).number_format == "0.0%"
    assert sheet.cell(header + 6, 1).font.bold  # the totals row

    plugs = load_workbook(io.BytesIO(render(build(data, "plugs", params(NOVEMBER)), "xlsx")))
    crews = [list(r) for r in plugs["По бригадам"].iter_rows(values_only=True)]
    assert ["Итого", 2, 0, 2] in crews


def pdf_text(data: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages).replace("\u00a0", " "), len(reader.pages)


@pytest.mark.parametrize("name", ["notices", "plugs", "calls"])
def test_pdf_outlet(data: Storage, name: str) -> None:
    report = build(data, name, params(NOVEMBER, price_per_attempt=Decimal("1.50")))
    text, pages = pdf_text(render(report, "pdf"))
    for expected in ("УК «Пример»", report.title, "01.11.2026 – 30.11.2026", "05.12.2026 10:15", "Итого"):
        assert expected in text
    assert f"стр. 1 из {pages}" in text
    if name == "notices":
        assert "139 205,56" in text
    if name == "calls":
        assert "33,3 %" in text and "9,00" in text


def test_a_long_pdf_repeats_the_header_on_every_page(data: Storage) -> None:
    columns = section(build(data, "notices", params(NOVEMBER)), "Не вручены на конец периода").columns
    row = [
        "Ленинский",
        "ул. Ленина, д. 12, кв. 45",
        "100001",
        "Иванов Иван Иванович",
        "первичное",
        date(2026, 11, 2),
        "Анна",
        Decimal("12345.67"),
    ]
    long = Report(
        "notices",
        "Длинный отчёт",
        "УК «Пример»",
        *NOVEMBER,
        NOW,
        TZ,
        sections=(Section("Список", columns, [row] * 120),),
    )
    text, pages = pdf_text(render(long, "pdf"))
    assert pages >= 3 and f"стр. {pages} из {pages}" in text
    assert text.count("Лицевой счёт") == pages  # the table's header on each page


def test_report_names() -> None:
    assert report_names() == ["calls", "contact", "debt", "notices", "payments", "plugs"]


def test_report_command(
    data: Storage, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--database-url", settings.database.url, "--set", "log.level=ERROR"]
    assert main([*base, "report", "--list"]) == 0
    assert capsys.readouterr().out.split() == ["calls", "contact", "debt", "notices", "payments", "plugs"]
    out = tmp_path / "notices.xlsx"
    assert (
        main([*base, "report", "notices", "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out)])
        == 0
    )
    assert "По курьерам" in load_workbook(out).sheetnames
    pdf = tmp_path / "calls.bin"
    args = ["report", "calls", "--from", "2026-11-01", "--to", "2026-11-30", "--campaign", "Ноябрь"]
    assert main([*base, *args, "--price-per-attempt", "1,5", "--format", "pdf", "--out", str(pdf)]) == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    csv_file = tmp_path / "plugs.csv"
    assert (
        main(
            [
                *base,
                "report",
                "plugs",
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--district",
                "Ленинский",
                "--out",
                str(csv_file),
            ]
        )
        == 0
    )
    assert "районы: Ленинский" in csv_file.read_text(encoding="utf-8-sig")
    capsys.readouterr()

    period = ["--from", "2026-11-01", "--to", "2026-11-30"]
    cases = [
        (["report", "nonesuch", *period, "--out", str(out)], "unknown report 'nonesuch'"),
        (
            ["report", "calls", "--from", "2026-11-30", "--to", "2026-11-01", "--out", str(out)],
            "--to 2026-11-01 is before --from 2026-11-30",
        ),
        (
            ["report", "calls", "--from", "2026-13-01", "--to", "2026-11-30", "--out", str(out)],
            "--from '2026-13-01': expected a date",
        ),
        (["report", "calls", *period, "--out", str(tmp_path / "missing" / "r.pdf")], "does not exist"),
        (["report", "calls", *period, "--out", str(tmp_path / "r.txt")], "cannot tell the format"),
        (
            ["report", "calls", *period, "--campaign", "Нет такой", "--out", str(out)],
            "campaign 'Нет такой' does not exist",
        ),
        (
            ["report", "calls", *period, "--price-per-attempt", "дорого", "--out", str(out)],
            "--price-per-attempt",
        ),
    ]
    for argv, message in cases:
        assert main([*base, *argv]) == 1, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("upravdolg: error: ") and message in err, err
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "r.pdf").mkdir()  # a folder where the file should go: cannot be written
    assert main([*base, "report", "calls", *period, "--out", str(tmp_path / "locked" / "r.pdf")]) == 1
    assert "cannot write the report" in capsys.readouterr().err


# ------------------------------------------------------------------- debt, payments and contact effect

LIST_HEADERS = ["Л/С", "Ф.И.О.", "Район", "Улица", "Дом", "Корпус", "Квартира", "Сумма долга, руб."]
PAYMENT_HEADERS = ["Лицевой счёт", "Дата оплаты", "Сумма платежа", "Номер документа"]
ADDRESSES = {  # account: district, street, house, корпус
    "1": ("Ленинский", "ул. Ленина", "12", ""),
    "2": ("Ленинский", "ул. Ленина", "12", ""),
    "3": ("Ленинский", "ул. Ленина", "14", ""),
    "4": ("Кировский", "пр. Мира", "7", "2"),
    "5": ("Кировский", "пр. Мира", "7", "2"),
}
LISTS = {  # as of: account -> debt
    date(2026, 10, 1): {"1": "1000", "2": "2000", "3": "500", "4": "3000", "5": "0"},
    date(2026, 11, 1): {"1": "1500", "2": "2000", "3": "0", "4": "3000", "5": "400"},
    date(2026, 11, 20): {"1": "1500", "2": "1000", "3": "0", "4": "3500", "5": "400"},
}


def pay(storage: Storage, path: Path, lines: list[list[str]]) -> None:
    report = import_payments(
        storage.sessions, storage.organisation_id, write_csv(path, [PAYMENT_HEADERS, *lines]), now=NOW
    )
    assert report.imported == len(lines)


@pytest.fixture
def lists(storage: Storage, tmp_path: Path) -> Storage:
    """Three billing-centre lists of five accounts in two districts, then payments of October-December."""
    for as_of, debts in LISTS.items():
        rows = [
            [account, f"Жилец {account}", *ADDRESSES[account][:3], ADDRESSES[account][3], account, debt]
            for account, debt in debts.items()
        ]
        path = write_csv(tmp_path / f"list-{as_of}.csv", [LIST_HEADERS, *rows])
        report = import_debtors(storage.sessions, storage.organisation_id, path, now=T0, as_of=as_of)
        assert report.rejected == 0
    pay(
        storage,
        tmp_path / "payments.csv",
        [
            ["1", "30.10.2026", "100", "P-1"],
            ["2", "02.11.2026", "500", "P-2"],
            ["2", "05.11.2026", "500", "P-3"],
            ["4", "12.11.2026", "1000", "P-4"],
            ["1", "30.11.2026", "200", "P-5"],
            ["5", "03.12.2026", "400", "P-6"],
        ],
    )
    return storage


def test_debt_report(lists: Storage) -> None:
    report = build(lists, "debt", params(NOVEMBER))
    assert report.title == "Задолженность по домам и районам"
    districts = section(report, "По районам")
    assert districts.note == "Выгрузка на 20.11.2026; сравнение с выгрузкой на 01.11.2026."
    assert table(districts) == [
        ["Кировский", 2, Decimal("3900.00"), Decimal("500.00")],
        ["Ленинский", 2, Decimal("2500.00"), Decimal("-1000.00")],
        ["Итого", 4, Decimal("6400.00"), Decimal("-500.00")],
    ]
    assert table(section(report, "По домам")) == [
        ["Кировский", "пр. Мира, д. 7, корп. 2", 2, Decimal("3900.00"), Decimal("500.00")],
        ["Ленинский", "ул. Ленина, д. 12", 2, Decimal("2500.00"), Decimal("-1000.00")],
        ["Итого", None, 4, Decimal("6400.00"), Decimal("-500.00")],
    ]
    # as of 31 October: the first list, nothing to compare with; a building that owed then is listed
    october = build(lists, "debt", params((date(2026, 10, 1), date(2026, 10, 31))))
    assert section(october, "По районам").note == "Выгрузка на 01.10.2026; прошлой выгрузки нет."
    assert table(section(october, "По домам")) == [
        ["Кировский", "пр. Мира, д. 7, корп. 2", 1, Decimal("3000.00"), None],  # a tie: by address
        ["Ленинский", "ул. Ленина, д. 12", 2, Decimal("3000.00"), None],
        ["Ленинский", "ул. Ленина, д. 14", 1, Decimal("500.00"), None],
        ["Итого", None, 4, Decimal("6500.00"), None],
    ]
    # a one-day period on the last list compares with the list before it; a district filter
    lenin = build(lists, "debt", params((date(2026, 11, 25), date(2026, 11, 25)), districts=("Ленинский",)))
    assert table(section(lenin, "По районам")) == [
        ["Ленинский", 2, Decimal("2500.00"), Decimal("-1000.00")],
        ["Итого", 2, Decimal("2500.00"), Decimal("-1000.00")],
    ]
    empty = build(lists, "debt", params((date(2026, 9, 1), date(2026, 9, 30))))
    assert table(section(empty, "По районам")) == [["Итого", 0, Decimal("0.00"), None]]


def test_payments_report(lists: Storage) -> None:
    report = build(lists, "payments", params(NOVEMBER))
    assert report.title == "Динамика оплат"
    snapshots = section(report, "Долг по выгрузкам")
    assert snapshots.note == "Прошлая выгрузка до периода: 01.10.2026."
    assert table(snapshots) == [
        [date(2026, 11, 1), 4, Decimal("6900.00"), Decimal("400.00")],
        [date(2026, 11, 20), 4, Decimal("6400.00"), Decimal("-500.00")],
        ["Изменение за период", None, None, Decimal("-100.00")],
    ]
    zero = [0, 0, Decimal("0.00")]
    assert table(section(report, "Оплаты по неделям")) == [
        [date(2026, 10, 26), *zero],  # 30 October is outside the period
        [date(2026, 11, 2), 2, 1, Decimal("1000.00")],
        [date(2026, 11, 9), 1, 1, Decimal("1000.00")],
        [date(2026, 11, 16), *zero],
        [date(2026, 11, 23), *zero],
        [date(2026, 11, 30), 1, 1, Decimal("200.00")],
        ["Итого", 4, 3, Decimal("2200.00")],
    ]
    assert table(section(report, "Оплаты по месяцам")) == [
        ["ноябрь 2026", 4, 3, Decimal("2200.00")],
        ["Итого", 4, 3, Decimal("2200.00")],
    ]
    autumn = build(
        lists, "payments", params((date(2026, 10, 1), date(2026, 12, 31)), districts=("Кировский",))
    )
    assert table(section(autumn, "Долг по выгрузкам")) == [
        [date(2026, 10, 1), 1, Decimal("3000.00"), None],
        [date(2026, 11, 1), 2, Decimal("3400.00"), Decimal("400.00")],
        [date(2026, 11, 20), 2, Decimal("3900.00"), Decimal("500.00")],
        ["Изменение за период", None, None, Decimal("900.00")],
    ]
    assert table(section(autumn, "Оплаты по месяцам")) == [
        ["октябрь 2026", *zero],
        ["ноябрь 2026", 1, 1, Decimal("1000.00")],
        ["декабрь 2026", 1, 1, Decimal("400.00")],
        ["Итого", 2, 2, Decimal("1400.00")],
    ]
    book = load_workbook(io.BytesIO(render(report, "xlsx")))
    assert book.sheetnames == ["Долг по выгрузкам", "Оплаты по неделям", "Оплаты по месяцам"]


def test_contact_report(data: Storage, tmp_path: Path) -> None:
    # November's contacts (the data fixture): calls heard to the end — 100001 on 10.11 (100007's is on
    # 1 December, local time); notices delivered — 100001 on 3.11, 100002 on 5.11, 100004 on 10.11;
    # plugs — 100001 on 24.11, 100002 on 26.11. The other seven accounts had none.
    pay(
        data,
        tmp_path / "payments.csv",
        [
            ["100001", "20.11.2026", "1000", "C-1"],  # 10 days after the call; 17 after the notice
            ["100002", "19.11.2026", "500", "C-2"],  # the 14th day after the notice: inside
            ["100002", "01.12.2026", "700", "C-3"],  # 5 days after the plug
            ["100004", "25.11.2026", "300", "C-4"],  # 15 days after the notice: outside
            ["100005", "10.11.2026", "2000", "C-5"],  # no contact: within 14 days of 1 November
            ["100006", "16.11.2026", "100", "C-6"],  # no contact: the 15th day
        ],
    )
    report = build(data, "contact", params(NOVEMBER))
    assert report.title == "Эффект контакта" and report.filters == "все районы; срок оплаты: 14 дн."
    effect = section(report, "Оплаты после контакта")
    assert effect.columns[2].title == "Оплатили в течение 14 дн."
    assert table(effect) == [
        ["Звонок прослушан до конца", 1, 1, 1.0, Decimal("1000.00")],
        ["Уведомление вручено", 3, 1, pytest.approx(1 / 3), Decimal("500.00")],
        ["Установлена заглушка", 2, 1, 0.5, Decimal("700.00")],
        ["Любой контакт", 3, 1, pytest.approx(1 / 3), Decimal("500.00")],
        ["Без контакта в периоде", 7, 1, pytest.approx(1 / 7), Decimal("2000.00")],
        ["Итого", 10, 2, 0.2, Decimal("2500.00")],
    ]
    longer = section(build(data, "contact", params(NOVEMBER, within_days=30)), "Оплаты после контакта")
    assert table(longer)[1] == ["Уведомление вручено", 3, 3, 1.0, Decimal("2500.00")]
    assert table(longer)[4] == ["Без контакта в периоде", 7, 2, pytest.approx(2 / 7), Decimal("2100.00")]
    kirov = build(data, "contact", params(NOVEMBER, districts=("Кировский",)))
    assert table(section(kirov, "Оплаты после контакта"))[3:] == [
        ["Любой контакт", 1, 0, 0.0, Decimal("0.00")],
        ["Без контакта в периоде", 2, 0, 0.0, Decimal("0.00")],
        ["Итого", 3, 0, 0.0, Decimal("0.00")],
    ]
    text, _ = pdf_text(render(report, "pdf"))
    assert "Любой контакт" in text and "33,3 %" in text


def test_report_command_within_days(
    data: Storage, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--database-url", settings.database.url, "--set", "log.level=ERROR"]
    period = ["--from", "2026-11-01", "--to", "2026-11-30"]
    out = tmp_path / "contact.csv"
    assert main([*base, "report", "contact", *period, "--within-days", "30", "--out", str(out)]) == 0
    assert "Оплатили в течение 30 дн." in out.read_text(encoding="utf-8-sig")
    assert main([*base, "report", "contact", *period, "--out", str(out)]) == 0
    assert "Оплатили в течение 14 дн." in out.read_text(encoding="utf-8-sig")
    capsys.readouterr()
    assert main([*base, "report", "contact", *period, "--within-days", "-1", "--out", str(out)]) == 1
    assert "--within-days -1" in capsys.readouterr().err


def test_monthly_run_writes_every_report(data: Storage, settings: Settings, tmp_path: Path) -> None:
    assert previous_month(date(2026, 1, 15)) == (date(2025, 12, 1), date(2025, 12, 31))
    folder = tmp_path / "reports"
    # 1 December 00:30 in Moscow is still 30 November in UTC: the month before is November all the same
    written = run_monthly_reports(settings, data, folder, now=datetime(2026, 11, 30, 21, 30, tzinfo=UTC))
    month = folder / "2026-11"
    assert {p.parent for p in written} == {month}
    assert sorted(p.name for p in month.iterdir()) == sorted(p.name for p in written)
    for name in report_names():
        book = load_workbook(month / f"{name}.xlsx")
        assert book.worksheets[0]["A1"].value == REPORT_TITLES[name]
    calls = load_workbook(month / "calls.xlsx")["По дням"]
    assert calls["A3"].value == "Период" and calls["B3"].value == "01.11.2026 – 30.11.2026"
    pdfs = [p for p in written if p.suffix == ".pdf"]
    assert {p.name for p in pdfs} == {f"{n}.pdf" for n in report_names()}
    assert all(p.read_bytes().startswith(b"%PDF") for p in pdfs)
    debt = PdfReader(month / "debt.pdf")
    text = "".join(page.extract_text() for page in debt.pages)
    assert "По районам" in text and "По домам" in text and "стр. 1 из" in text

    scheduler = BackgroundScheduler()
    add_report_job(scheduler, settings, data, folder)
    job = scheduler.get_job(REPORTS_JOB)
    assert job is not None and job.args == (settings, data, folder)
    trigger = str(job.trigger)
    assert "day='1'" in trigger and "hour='7'" in trigger and "minute='0'" in trigger
    assert str(job.trigger.timezone) == "Europe/Moscow"
    other = BackgroundScheduler()
    add_report_job(other, settings, data, folder, day=2, at="06:45")
    assert "day='2'" in str(other.get_job(REPORTS_JOB).trigger)
    assert "hour='6'" in str(other.get_job(REPORTS_JOB).trigger)
