"""The dashboard's debtor list, export and calling-panel queries on both backends."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db.campaign_figures import (
    campaign_figures,
    debtor_listens,
    default_hours_window,
    outcomes_by_hour,
    rebuild,
)
from db.debtor_list import (
    SORT_COLUMNS,
    Building,
    DebtorFilter,
    DebtorSort,
    buildings,
    debtor_page,
    filter_choices,
    iter_debtors,
    status_counts,
    view_totals,
)
from db.models import CallAttempt, Campaign, CampaignDebtor, Debtor
from debtors.export import ExportTooLarge, write_export
from debtors.measures import register_agreement
from debtors.registry_import import import_debtors
from debtors.status_column import status_text
from debtors.statuses import StatusRules
from dialer.bootstrap import Storage
from dialer.cli import main
from dialer.settings import Settings
from tests.fixtures.registry_files import write_csv

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
RULES = StatusRules()
HEADERS = ["ЛС", "ФИО", "Улица", "Дом", "Корпус", "Квартира", "Район", "Площадь", "Тип собственности",
           "Период задолженности", "Сумма долга", "Телефон"]  # fmt: skip
# fmt: off
ROWS = [
    ["001", "Абрамов Пётр", "Ленина", "1", "", "1", "Северный", "40,5", "частная", "3", "1 500,00", "89120000001"],  # noqa: E501
    ["002", "Борисова Анна", "Ленина", "1", "", "2", "Северный", "55", "частная", "12", "25 000,00", "89120000002"],  # noqa: E501
    ["003", "Волков Иван", "Ленина", "3", "2", "7", "Северный", "61", "муниципальная", "7", "9 000,00", ""],
    ["004", "Галкина Ольга", "Мира", "10", "", "4", "Южный", "33", "муниципальная", "24", "48 000,00", ""],
    ["005", "Дёмин Олег", "Мира", "10", "", "5", "Южный", "72,3", "частная", "1", "700,00", "89120000005"],
    ["006", "Ершова Мария", "Мира", "12", "", "9", "Южный", "45", "частная", "0", "0,00", ""],
]
# fmt: on


@pytest.fixture
def registry(storage: Storage, tmp_path: Path) -> Storage:
    report = import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "list.csv", [HEADERS, *ROWS]),
        now=NOW,
        as_of=date(2026, 11, 1),
        rules=RULES,
    )
    assert report.imported == len(ROWS)
    return storage


BY_DEBT = DebtorSort()


def accounts(storage: Storage, flt: DebtorFilter, sort: DebtorSort = BY_DEBT, size: int = 50) -> list[str]:
    with storage.sessions() as session:
        return [
            r.account
            for r in debtor_page(session, storage.organisation_id, flt, sort, page=1, page_size=size)
        ]


def test_filters_each_narrow_the_view_and_the_totals_agree(registry: Storage) -> None:
    org = registry.organisation_id
    cases = {
        DebtorFilter(): ["004", "002", "003", "001", "005", "006"],
        DebtorFilter(districts=("Южный",)): ["004", "005", "006"],
        DebtorFilter(debt_min=Decimal("1000"), debt_max=Decimal("10000")): ["003", "001"],
        DebtorFilter(months_min=7, months_max=12): ["002", "003"],
        DebtorFilter(area_min=Decimal("50"), area_max=Decimal("70")): ["002", "003"],
        DebtorFilter(ownership=("муниципальная",)): ["004", "003"],
        DebtorFilter(statuses=("paid",)): ["006"],
        DebtorFilter(buildings=(Building("Северный", "Ленина", "1"),)): ["002", "001"],
        DebtorFilter(text="00"): ["004", "002", "003", "001", "005", "006"],
        DebtorFilter(text="Гал"): ["004"],
        DebtorFilter(as_of_from=date(2026, 11, 2)): [],
        DebtorFilter(as_of_from=date(2026, 11, 1), as_of_to=date(2026, 11, 1), districts=("Северный",)): [
            "002",
            "003",
            "001",
        ],
    }
    for flt, expected in cases.items():
        assert accounts(registry, flt) == expected, flt
        with registry.sessions() as session:
            totals = view_totals(session, org, flt)
        debts = {r[0]: Decimal(r[10].replace(" ", "").replace(",", ".")) for r in ROWS}
        assert totals.debtors == len(expected)
        assert totals.debt == sum((debts[a] for a in expected), Decimal("0.00"))


def test_every_sort_in_both_directions_and_pages_partition_the_view(registry: Storage) -> None:
    names = {r[0]: r[1] for r in ROWS}
    assert accounts(registry, DebtorFilter(), DebtorSort("account", False)) == sorted(names)
    assert accounts(registry, DebtorFilter(), DebtorSort("full_name", True)) == sorted(
        names, key=names.__getitem__, reverse=True
    )
    assert accounts(registry, DebtorFilter(), DebtorSort("months_overdue", True))[:2] == ["004", "002"]
    for key in SORT_COLUMNS:
        for descending in (True, False):
            sort = DebtorSort(key, descending)
            whole = accounts(registry, DebtorFilter(), sort)
            with registry.sessions() as session:
                paged = [
                    r.account
                    for page in (1, 2, 3)
                    for r in debtor_page(
                        session, registry.organisation_id, DebtorFilter(), sort, page=page, page_size=2
                    )
                ]
            assert paged == whole and len(whole) == len(ROWS)
    with pytest.raises(ValueError, match="unknown sort"):
        DebtorSort("phone")
    with registry.sessions() as session, pytest.raises(ValueError, match="numbered from 1"):
        debtor_page(session, registry.organisation_id, DebtorFilter(), DebtorSort(), page=0, page_size=10)


def test_choices_and_buildings_come_from_the_registry(registry: Storage) -> None:
    with registry.sessions() as session:
        choices = filter_choices(session, registry.organisation_id)
        north = buildings(session, registry.organisation_id, ["Северный"])
    assert choices.districts == ("Северный", "Южный")
    assert choices.ownership == ("муниципальная", "частная")
    assert set(choices.statuses) == {"active", "paid"}
    assert north == [Building("Северный", "Ленина", "1", ""), Building("Северный", "Ленина", "3", "2")]
    assert north[1].label == "Ленина, д. 3, корп. 2"


def _attempt(
    storage: Storage,
    account: str,
    outcome: str | None,
    *,
    started: datetime,
    heard_ms: int | None = None,
    campaign_id: int | None = None,
    state: str = "ended",
) -> None:
    with storage.sessions.begin() as session:
        debtor = session.scalars(select(Debtor).where(Debtor.account == account)).one()
        entry = None
        if campaign_id is not None:  # the campaign's queue entry, as the engine keeps it
            entry = session.scalars(
                select(CampaignDebtor).where(
                    CampaignDebtor.campaign_id == campaign_id, CampaignDebtor.debtor_id == debtor.id
                )
            ).one_or_none()
            if entry is None:
                entry = CampaignDebtor(
                    organisation_id=storage.organisation_id,
                    campaign_id=campaign_id,
                    debtor_id=debtor.id,
                    state="due",
                    attempts=0,
                    added_at=NOW,
                )
                session.add(entry)
                session.flush()
            entry.attempts += 0 if state == "not_placed" else 1
        session.add(
            CallAttempt(
                campaign_debtor_id=entry.id if entry is not None else None,
                id=uuid.uuid4().hex,
                organisation_id=storage.organisation_id,
                debtor_id=debtor.id,
                number="+79120000001",
                dial_string="Local/x",
                state=state,
                outcome=outcome,
                started_at=started,
                answered_at=started + timedelta(seconds=5) if heard_ms is not None else None,
                heard_ms=heard_ms,
                message_ms=60_000 if heard_ms is not None else None,
                campaign_id=campaign_id,
                repeats=0,
                segments="",
            )
        )


def test_the_status_column_counts_calls_heard_and_measures(registry: Storage) -> None:
    for outcome in ("heard_full", "no_answer", "partial"):
        _attempt(registry, "002", outcome, started=NOW, heard_ms=60_000 if outcome == "heard_full" else None)
    _attempt(registry, "002", None, started=NOW, state="dialling")  # live: not a call made yet
    with registry.sessions.begin() as session:
        register_agreement(session, registry.organisation_id, "004", kind="instalment", number="7",
                           registered_on=date(2026, 11, 20), schedule=[(date(2026, 12, 20), Decimal("1000"))],
                           now=NOW, rules=RULES, actor="test")  # fmt: skip
    with registry.sessions() as session:
        rows = {r.account: r for r in debtor_page(session, registry.organisation_id, DebtorFilter(),
                                                  DebtorSort(), page=1, page_size=50)}  # fmt: skip
        assert status_counts(session, []) == {}
    assert (rows["002"].counts.calls_made, rows["002"].counts.heard_to_end) == (3, 1)
    assert status_text(rows["002"].status, rows["002"].counts) == "В работе · звонков 3 / до конца 1"
    assert rows["004"].status == "stopped"
    assert status_text(rows["004"].status, rows["004"].counts) == (
        "СТОП! · звонков 0 / до конца 0 · меры: рассрочка №7: active"
    )
    assert status_text(rows["006"].status, rows["006"].counts).startswith("ДОЛГ ПОГАШЕН")


def test_iteration_streams_the_whole_view_in_order_in_chunks(registry: Storage) -> None:
    sort = DebtorSort("debt", True)
    with registry.sessions() as session:
        chunks = list(iter_debtors(session, registry.organisation_id, DebtorFilter(), sort, chunk=4))
    assert [len(c) for c in chunks] == [4, 2]
    assert [r.account for c in chunks for r in c] == accounts(registry, DebtorFilter(), sort)


def test_export_csv_and_xlsx_hold_the_filtered_view(registry: Storage) -> None:
    flt = DebtorFilter(districts=("Южный",))
    with registry.sessions() as session:
        raw = io.BytesIO()
        assert write_export(session, registry.organisation_id, flt, DebtorSort(), out=raw, fmt="csv") == 3
        book = io.BytesIO()
        assert write_export(session, registry.organisation_id, flt, DebtorSort(), out=book, fmt="xlsx") == 3
        with pytest.raises(ExportTooLarge):
            write_export(
                session, registry.organisation_id, flt, DebtorSort(), out=io.BytesIO(), fmt="csv", limit=2
            )
        with pytest.raises(ValueError, match="unknown export format"):
            write_export(session, registry.organisation_id, flt, DebtorSort(), out=io.BytesIO(), fmt="pdf")
    data = raw.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Cyrillic
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][0] == "Лицевой счёт" and [line[0] for line in lines[1:]] == ["004", "005", "006"]
    assert lines[1][7] == "48000,00" and lines[1][8] == "01.11.2026" and lines[1][9].startswith("В работе")
    sheet = load_workbook(io.BytesIO(book.getvalue())).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][0] == "004" and values[1][7] == 48000.0  # a real number cell
    assert isinstance(values[1][8], datetime) and values[1][8].date() == date(2026, 11, 1)


def test_the_calling_panel_figures(registry: Storage) -> None:
    with registry.sessions.begin() as session:
        fields = {"spec": "{}", "state_reason": "", "revision": 1, "created_at": NOW, "updated_at": NOW}
        campaign = Campaign(
            organisation_id=registry.organisation_id, name="Ноябрь", state="running", **fields
        )
        other = Campaign(organisation_id=registry.organisation_id, name="Другая", state="stopped", **fields)
        session.add_all([campaign, other])
        session.flush()
        cid, other_id = campaign.id, other.id
    hour = NOW.replace(minute=0)
    _attempt(
        registry, "002", "heard_full", started=hour + timedelta(minutes=5), heard_ms=60_000, campaign_id=cid
    )
    _attempt(
        registry, "002", "partial", started=hour + timedelta(minutes=50), heard_ms=20_000, campaign_id=cid
    )
    _attempt(registry, "001", "busy", started=hour - timedelta(minutes=10), campaign_id=cid)
    _attempt(
        registry, "001", "no_answer", started=hour - timedelta(hours=30), campaign_id=cid
    )  # outside 24 h
    _attempt(registry, "003", None, started=hour + timedelta(minutes=55), campaign_id=cid, state="dialling")
    _attempt(registry, "004", "heard_full", started=hour, heard_ms=60_000, campaign_id=other_id)
    _attempt(registry, "005", None, started=hour, campaign_id=cid, state="not_placed")  # never dialled
    since, until = default_hours_window(NOW)
    assert (since, until) == (hour - timedelta(hours=23), hour + timedelta(hours=1))
    with registry.engine.begin() as connection:  # the rollups the engine keeps, rebuilt from the attempts
        assert rebuild(connection) == 5  # (cid: no_answer -30 h, busy -1 h, heard_full, partial), (other)
    with registry.sessions() as session:
        hours = outcomes_by_hour(session, cid, since=since, until=until)
        figures = campaign_figures(session, cid)
        more, listens = debtor_listens(session, cid, limit=10)
        more_after_two, first_two = debtor_listens(session, cid, limit=2)
        _, last_one = debtor_listens(session, cid, limit=2, offset=2)
    assert [(h.hour, h.outcomes) for h in hours] == [
        (hour - timedelta(hours=1), {"busy": 1}),
        (hour, {"heard_full": 1, "partial": 1}),
    ]
    assert figures.outcomes == {"heard_full": 1, "partial": 1, "busy": 1, "no_answer": 1}
    assert (figures.finished, figures.in_flight, figures.placed) == (4, 1, 5)
    assert (figures.answered, figures.reported, figures.listened, figures.heard_ms) == (2, 2, 2, 80_000)
    assert figures.average_heard_seconds == 40.0
    assert not more and more_after_two  # 005 never dialled: not listed
    assert [(r.account, r.calls, r.listens, r.heard_ms, r.heard_full) for r in listens] == [
        ("002", 2, 2, 80_000, 1),
        ("003", 1, 0, 0, 0),  # a call in progress counts as a call; ties: the newest queue entry first
        ("001", 2, 0, 0, 0),
    ]
    assert [r.account for r in first_two + last_one] == ["002", "003", "001"]


def test_the_cli_exports_a_filtered_view_and_refuses_bad_options(
    registry: Storage, settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ["--database-url", settings.database.url]
    out = tmp_path / "south.xlsx"
    command = ["debtors", "export", "--out", str(out), "--district", "Южный", "--debt-min", "500"]
    assert main([*url, *command]) == 0
    assert "2 debtor(s) written" in capsys.readouterr().out
    sheet = load_workbook(out).active
    assert sheet is not None
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["004", "005"]
    assert not (tmp_path / "south.xlsx.part").exists()
    for bad, expected in (
        (["--out", str(tmp_path / "x.txt")], "cannot tell the format"),
        (["--out", str(out), "--status", "gone"], "--status 'gone'"),
        (["--out", str(out), "--debt-min", "lots"], "--debt-min 'lots'"),
        (["--out", str(out), "--sort", "phone"], "--sort 'phone'"),
    ):
        assert main([*url, "debtors", "export", *bad]) != 0
        assert expected in capsys.readouterr().err
