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
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from db.models import CallAttempt, Campaign, CrewJob, Debtor, Notice
from debtors.couriers import add_courier
from debtors.crew_jobs import add_crew, on_paid_off, plan_install, report_job
from debtors.field_reports import DeliveryReport
from debtors.field_rules import DeliveryMethod, JobKind, JobStatus, NoticeRules, RestrictionRules
from debtors.notices import assign_notices, generate_notices, record_delivery
from debtors.registry_import import import_debtors
from debtors.reports.model import Report, ReportError, ReportParams, Section
from debtors.reports.outlets import render
from debtors.reports.registry import build_report, report_names
from dialer.bootstrap import Storage
from dialer.cli import main
from dialer.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
TZ = "Europe/Moscow"
T0 = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 5, 7, 15, tzinfo=UTC)  # 10:15 in Moscow
NOTICES = NoticeRules(primary_min_months=3, primary_min_debt=Decimal("5000"), secondary_after_days=14)
ONE_WARNING = RestrictionRules(min_debt=Decimal("5000"), min_notices_delivered=1, days_after_delivery=20)
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
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
    assert report_names() == ["calls", "notices", "plugs"]


def test_report_command(
    data: Storage, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--database-url", settings.database.url, "--set", "log.level=ERROR"]
    assert main([*base, "report", "--list"]) == 0
    assert capsys.readouterr().out.split() == ["calls", "notices", "plugs"]
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
