"""Debtor-list imports on SQLite and PostgreSQL: formats, encodings, headers, bad input, all-or-nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import event, func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from db.bulk import SORT_THREADS, bulk_load_mode
from db.models import Debtor, DebtSnapshot, Import, Phone
from debtors import registry_import
from debtors.readers import ImportFileError
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage
from dialer.cli import main
from tests.fixtures.registry_files import write_csv, write_dbf, write_xlsx

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 1)

HEADERS = [
    "Лицевой счёт",
    "ФИО",
    "Адрес",
    "Район",
    "Площадь, м2",
    "Тип собственности",
    "Кол-во месяцев",
    "Сумма задолженности",
    "Телефоны",
]
ROWS = [
    [
        "100001",
        "Иванов Иван Иванович",
        "ул. Ленина, д. 12, кв. 45",
        "Ленинский",
        "54,3",
        "частная",
        "3",
        "12 345,67",
        "8 (912) 345-67-89, 83432123456",
    ],
    [
        "100002",
        "Ёлкин Пётр",
        "ул. Мира, д. 1, кв. 2",
        "Кировский",
        "38",
        "муниципальная",
        "5",
        "8120.5",
        "+7 912 000 00 01",
    ],
    ["100003", "Сидорова Анна", "ул. Мира, д. 1, кв. 3", "Кировский", "", "частная", "", "0,00", "21-34-56"],
    [
        "100004",
        "Кузнецов Олег",
        "пр. Победы, д. 7",
        "Ленинский",
        "61,2",
        "частная",
        "2",
        "1\u00a0000,00",
        "9120000003; 8-800-555-35-35",
    ],
]


def xlsx_rows() -> list[list[object]]:
    return [
        HEADERS,
        [
            100001,
            "Иванов Иван Иванович",
            "ул. Ленина, д. 12, кв. 45",
            "Ленинский",
            54.3,
            "частная",
            3,
            12345.67,
            "8 (912) 345-67-89, 83432123456",
        ],
        [
            100002,
            "Ёлкин Пётр",
            "ул. Мира, д. 1, кв. 2",
            "Кировский",
            38,
            "муниципальная",
            5,
            8120.5,
            "+7 912 000 00 01",
        ],
        [100003, "Сидорова Анна", "ул. Мира, д. 1, кв. 3", "Кировский", None, "частная", None, 0, "21-34-56"],
        [
            100004,
            "Кузнецов Олег",
            "пр. Победы, д. 7",
            "Ленинский",
            61.2,
            "частная",
            2,
            1000,
            "9120000003; 8-800-555-35-35",
        ],
    ]


DBF_FIELDS = [
    ("LS", "C", 10, 0),
    ("FIO", "C", 60, 0),
    ("ADRES", "C", 80, 0),
    ("RAYON", "C", 30, 0),
    ("PL", "N", 8, 2),
    ("SOBSTV", "C", 20, 0),
    ("MES", "N", 4, 0),
    ("DOLG", "N", 12, 2),
    ("TEL", "C", 60, 0),
]


def dbf_records() -> list[list[object]]:
    return [
        [
            r[0],
            r[1],
            r[2],
            r[3],
            r[4].replace(",", ".") or None,
            r[5],
            r[6] or None,
            r[7].replace(" ", "").replace("\u00a0", "").replace(",", "."),
            r[8],
        ]
        for r in ROWS
    ]


WRITERS: dict[str, Callable[[Path], Path]] = {
    "csv-cp1251-semicolon": lambda p: write_csv(p / "l.csv", [HEADERS, *ROWS], encoding="cp1251"),
    "csv-utf8-bom-comma": lambda p: write_csv(p / "l.csv", [HEADERS, *ROWS], delimiter=",", bom=True),
    "csv-utf8-tab": lambda p: write_csv(p / "l.txt", [HEADERS, *ROWS], delimiter="\t"),
    "xlsx": lambda p: write_xlsx(p / "l.xlsx", xlsx_rows()),
    "dbf-cp866": lambda p: write_dbf(p / "l.dbf", DBF_FIELDS, dbf_records(), encoding="cp866"),
    "dbf-cp1251": lambda p: write_dbf(p / "l.dbf", DBF_FIELDS, dbf_records(), encoding="cp1251"),
    "dbf-cp866-no-language-byte": lambda p: write_dbf(
        p / "l.dbf", DBF_FIELDS, dbf_records(), encoding="cp866", language_driver=0
    ),
}


def debtor(storage: Storage, account: str) -> Debtor:
    with storage.sessions() as session:
        found = session.scalars(select(Debtor).where(Debtor.account == account)).one()
        _ = found.phones
        return found


def count(storage: Storage, model: type) -> int:
    with storage.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("shape", sorted(WRITERS))
def test_every_format_and_encoding(storage: Storage, tmp_path: Path, shape: str) -> None:
    path = WRITERS[shape](tmp_path)
    report = import_debtors(storage.sessions, storage.organisation_id, path, now=NOW, as_of=AS_OF)
    assert (report.rows, report.imported, report.rejected) == (4, 4, 0), report.errors
    assert report.file_format == shape.split("-", maxsplit=1)[0]
    first = debtor(storage, "100001")
    assert first.full_name == "Иванов Иван Иванович"
    assert first.district == "Ленинский"
    assert (first.debt, first.area_m2, first.months_overdue) == (Decimal("12345.67"), Decimal("54.30"), 3)
    assert [p.e164 for p in first.phones] == ["+79123456789", "+73432123456"]
    assert debtor(storage, "100002").full_name == "Ёлкин Пётр", "ё survives every encoding"
    assert debtor(storage, "100002").debt == Decimal("8120.50")
    paid = debtor(storage, "100003")
    assert paid.status == "paid" and paid.area_m2 is None
    assert [(p.raw, p.callable) for p in paid.phones] == [("21-34-56", False)]
    fourth = debtor(storage, "100004")
    assert fourth.debt == Decimal("1000.00")
    assert [(p.e164, p.callable) for p in fourth.phones] == [("+79120000003", True), ("+78005553535", False)]
    with storage.sessions() as session:
        snapshot = session.scalars(select(DebtSnapshot).where(DebtSnapshot.debtor_id == first.id)).one()
        assert (snapshot.as_of, snapshot.amount) == (AS_OF, Decimal("12345.67"))
        record = session.scalars(select(Import)).one()
        assert (record.kind, record.rows, record.imported, record.file_name) == ("debtors", 4, 4, path.name)
        assert len(record.file_sha256) == 64 and record.finished_at is not None


def test_split_address_and_header_variants(storage: Storage, tmp_path: Path) -> None:
    headers = [
        "Номер ЛС",
        "Ф.И.О.",
        "Район",
        "Улица",
        "Дом",
        "Корпус",
        "Квартира",
        "Общая площадь",
        "Форма собственности",
        "Мес. долга",
        "Задолженность, руб.",
        "Тел.",
    ]
    rows = [
        [
            "77",
            "Орлова Е. И.",
            "Кировский",
            "пр. Мира",
            "7",
            "2",
            "11",
            "44,8",
            "частная",
            "4",
            "21 003,10",
            "+7(912)0000002",
        ]
    ]
    path = write_csv(tmp_path / "v.csv", [headers, *rows])
    report = import_debtors(storage.sessions, storage.organisation_id, path, now=NOW)
    assert report.imported == 1, report.errors
    found = debtor(storage, "77")
    assert found.address == "пр. Мира, д. 7, корп. 2, кв. 11"
    assert (found.street, found.house, found.building, found.apartment) == ("пр. Мира", "7", "2", "11")
    assert found.debt_as_of == NOW.date(), "as-of defaults to today"


def test_an_explicit_mapping_for_unknown_headers(storage: Storage, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [["Абонент", "Остаток к оплате"], ["5", "100,00"]])
    with pytest.raises(ImportFileError, match=r"missing required column\(s\): account, debt"):
        import_debtors(storage.sessions, storage.organisation_id, path, now=NOW)
    report = import_debtors(
        storage.sessions,
        storage.organisation_id,
        path,
        now=NOW,
        mapping={"абонент": "account", "Остаток к оплате": "debt"},
    )
    assert report.imported == 1
    assert debtor(storage, "5").debt == Decimal("100.00")


def test_bad_rows_are_reported_and_good_rows_imported(
    storage: Storage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        HEADERS,
        ROWS[0],
        ["", "Без счёта", "", "", "", "", "", "10", ""],
        ["200", "Плохая сумма", "", "", "", "", "", "12,345,67", ""],
        ["201", "Плохие месяцы", "", "", "абв", "", "-3", "10", ""],
        ROWS[1],
        ["100001", "Дубль", "", "", "", "", "", "1", ""],
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    url = storage.engine.url.render_as_string(hide_password=False)
    assert (
        main(["--database-url", url, "--set", "log.level=ERROR", "import", "debtors", str(path), "--json"])
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert {k: result[k] for k in ("rows", "imported", "updated", "unchanged", "rejected")} == {
        "rows": 6,
        "imported": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 4,
    }
    assert isinstance(result["seconds"], float)
    errors = {(e["row"], e["field"]) for e in result["errors"]}
    assert errors == {(3, "account"), (4, "debt"), (5, "months_overdue"), (5, "area_m2"), (7, "account")}
    bad_debt = next(e for e in result["errors"] if e["field"] == "debt")
    assert bad_debt["value"] == "12,345,67" and "expected an amount" in bad_debt["message"]
    rejects = tmp_path / "bad.csv.rejects.csv"
    assert result["rejects_file"] == str(rejects)
    with rejects.open(encoding="utf-8-sig") as fh:
        saved = list(csv.reader(fh, delimiter=";"))
    assert saved[0] == ["row", "field", "value", "message"]
    assert {(int(r[0]), r[1]) for r in saved[1:]} == errors
    assert count(storage, Debtor) == 2


def test_reimporting_the_same_file_is_a_no_op_that_says_so(storage: Storage, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "l.csv", [HEADERS, *ROWS])
    first = import_debtors(storage.sessions, storage.organisation_id, path, now=NOW, as_of=AS_OF)
    again = import_debtors(storage.sessions, storage.organisation_id, path, now=NOW, as_of=AS_OF)
    assert again.already_imported == first.import_id
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 0)
    assert count(storage, Import) == 1


def test_same_month_unchanged_next_month_history_and_updates(storage: Storage, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [HEADERS, *ROWS])
    import_debtors(storage.sessions, storage.organisation_id, path, now=NOW, as_of=AS_OF)
    same = write_csv(tmp_path / "b.csv", [HEADERS, *ROWS], delimiter=",")  # other bytes, same content
    report = import_debtors(storage.sessions, storage.organisation_id, same, now=NOW, as_of=AS_OF)
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 4)
    assert count(storage, DebtSnapshot) == 4, "the same month adds no history"

    december = [row[:] for row in ROWS]
    december[0][7] = "13 000,00"
    december[1][8] = "+7 912 000 00 01, 89125550000"
    path = write_csv(tmp_path / "c.csv", [HEADERS, *december])
    report = import_debtors(storage.sessions, storage.organisation_id, path, now=NOW, as_of=date(2026, 12, 1))
    assert (report.imported, report.updated, report.unchanged) == (0, 2, 2)
    assert count(storage, DebtSnapshot) == 8, "a new month adds a snapshot per debtor"
    first = debtor(storage, "100001")
    assert (first.debt, first.debt_as_of) == (Decimal("13000.00"), date(2026, 12, 1))
    assert [p.e164 for p in debtor(storage, "100002").phones] == ["+79120000001", "+79125550000"]

    path = write_csv(tmp_path / "d.csv", [HEADERS, ROWS[0]])
    report = import_debtors(storage.sessions, storage.organisation_id, path, now=NOW, as_of=date(2026, 10, 1))
    assert debtor(storage, "100001").debt == Decimal("13000.00"), "an older list does not override newer debt"
    with storage.sessions() as session:
        history = session.scalars(
            select(DebtSnapshot.as_of).where(DebtSnapshot.debtor_id == first.id).order_by(DebtSnapshot.as_of)
        ).all()
    assert history == [date(2026, 10, 1), AS_OF, date(2026, 12, 1)]


def test_a_dropped_phone_is_kept_but_marked_removed(storage: Storage, tmp_path: Path) -> None:
    import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "a.csv", [HEADERS, *ROWS]),
        now=NOW,
        as_of=AS_OF,
    )
    changed = [row[:] for row in ROWS]
    changed[0][8] = "8 (912) 345-67-89"
    import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "b.csv", [HEADERS, *changed]),
        now=NOW,
        as_of=AS_OF,
    )
    with storage.sessions() as session:
        phones = session.execute(
            select(Phone.e164, Phone.removed_at)
            .join(Debtor)
            .where(Debtor.account == "100001")
            .order_by(Phone.id)
        ).all()
    assert [(e, r is not None) for e, r in phones] == [("+79123456789", False), ("+73432123456", True)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old binary Excel"),
        (b"\x00\x01\x02garbage" * 100, "unknown format"),
        ("просто текст без разделителей\nещё строка\n".encode(), "column separator"),
        (b"PK\x03\x04not really a zip", "not a readable XLSX"),
    ],
)
def test_unreadable_files_are_rejected_whole(
    storage: Storage, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "broken.dat"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        import_debtors(storage.sessions, storage.organisation_id, path, now=NOW)
    assert count(storage, Import) == 0


def test_a_file_that_changes_encoding_midway_writes_nothing(storage: Storage, tmp_path: Path) -> None:
    good = [
        [str(100000 + i), "Иванов Иван", "ул. Ленина", "", "", "", "1", "100,00", ""] for i in range(2000)
    ]
    path = write_csv(tmp_path / "mixed.csv", [HEADERS, *good])
    with path.open("ab") as fh:  # far beyond the 64 KiB sample: a cp1251 line in a UTF-8 file
        fh.write("999;Петров;;;;;;1,00;\r\n".encode("cp1251"))
    with pytest.raises(ImportFileError, match=r"line 2002 is not valid utf-8"):
        import_debtors(storage.sessions, storage.organisation_id, path, now=NOW)
    assert count(storage, Debtor) == 0 and count(storage, Import) == 0


def test_a_crash_mid_import_leaves_the_previous_state(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "a.csv", [HEADERS, *ROWS]),
        now=NOW,
        as_of=AS_OF,
    )
    before = [(d.account, d.debt, d.status) for d in (debtor(storage, r[0]) for r in ROWS)]
    monkeypatch.setattr(registry_import, "CHUNK_ROWS", 2)
    calls = {"n": 0}
    original = registry_import._ChunkWriter.write

    def crash_on_second_chunk(
        self: registry_import._ChunkWriter, rows: list[registry_import.DebtorRow]
    ) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        original(self, rows)

    monkeypatch.setattr(registry_import._ChunkWriter, "write", crash_on_second_chunk)
    december = [[*row[:7], "1,00", row[8]] for row in ROWS] + [["555", "Новый", "", "", "", "", "", "5", ""]]
    with pytest.raises(RuntimeError, match="power cut"):
        import_debtors(
            storage.sessions,
            storage.organisation_id,
            write_csv(tmp_path / "b.csv", [HEADERS, *december]),
            now=NOW,
            as_of=date(2026, 12, 1),
        )
    assert [(d.account, d.debt, d.status) for d in (debtor(storage, r[0]) for r in ROWS)] == before
    assert count(storage, Debtor) == 4 and count(storage, DebtSnapshot) == 4 and count(storage, Import) == 1


def schema_shape(storage: Storage) -> tuple[set[str], int]:
    inspector = inspect(storage.engine)
    indexes = {
        i["name"] or "" for t in ("debtors", "phones", "debt_snapshots") for i in inspector.get_indexes(t)
    }
    foreign_keys = sum(len(inspector.get_foreign_keys(t)) for t in ("debtors", "phones", "debt_snapshots"))
    return indexes, foreign_keys


def test_bulk_mode_sorts_on_helper_threads_and_restores_the_connection(storage: Storage) -> None:
    """SQLite rebuilds the indexes with its sorter on helper threads and a small page cache, then gives the
    pooled connection back with its own settings (db.session's 64 MB cache, no helper threads)."""
    if storage.engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection settings")
    seen: list[tuple[int, int]] = []
    with storage.engine.begin() as connection:
        before = (
            connection.execute(text("PRAGMA threads")).scalar_one(),
            connection.execute(text("PRAGMA cache_size")).scalar_one(),
        )
        assert before == (0, -65536)
        assert connection.execute(text("PRAGMA temp_store")).scalar_one() == 1  # sorts spill to a file

        @event.listens_for(connection, "before_cursor_execute")
        def watch(_c: object, _cursor: object, statement: str, *_args: object) -> None:
            if statement.startswith("CREATE INDEX"):
                seen.append(
                    (
                        connection.exec_driver_sql("PRAGMA threads").scalar_one(),
                        connection.exec_driver_sql("PRAGMA cache_size").scalar_one(),
                    )
                )

        with bulk_load_mode(connection, ("debtors",)):
            pass
        event.remove(connection, "before_cursor_execute", watch)
        assert seen and all(threads == SORT_THREADS and cache == -2000 for threads, cache in seen)
        after = (
            connection.execute(text("PRAGMA threads")).scalar_one(),
            connection.execute(text("PRAGMA cache_size")).scalar_one(),
        )
        assert after == before
    assert "ix_debtors_org_filter" in schema_shape(storage)[0]


def test_the_first_list_loads_in_bulk_mode_and_keeps_the_schema(
    storage: Storage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = schema_shape(storage)
    assert {"ix_debtors_org_status_debt", "ix_phones_debtor", "ix_debt_snapshots_org_as_of"} <= before[0]
    assert before[1] >= 6
    original = registry_import._ChunkWriter.write

    def crash(self: registry_import._ChunkWriter, rows: list[tuple[int, list[str]]]) -> None:
        original(self, rows)
        raise RuntimeError("disk full")

    monkeypatch.setattr(registry_import._ChunkWriter, "write", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        import_debtors(
            storage.sessions,
            storage.organisation_id,
            write_csv(tmp_path / "a.csv", [HEADERS, *ROWS]),
            now=NOW,
            as_of=AS_OF,
        )
    assert schema_shape(storage) == before, "a failed bulk load rolls its DDL back"
    assert count(storage, Debtor) == 0
    monkeypatch.setattr(registry_import._ChunkWriter, "write", original)
    import_debtors(
        storage.sessions,
        storage.organisation_id,
        write_csv(tmp_path / "b.csv", [HEADERS, *ROWS]),
        now=NOW,
        as_of=AS_OF,
    )
    assert schema_shape(storage) == before, "indexes and foreign keys are back after the load"
    assert count(storage, Debtor) == 4
    with storage.sessions() as session, pytest.raises(IntegrityError):
        session.add(
            Phone(
                organisation_id=storage.organisation_id,
                debtor_id=999_999,
                raw="x",
                callable=False,
                source="t",
            )
        )
        session.flush()


def test_cli_import_with_a_mapping_file_and_bad_mapping(
    storage: Storage, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "m.csv", [["Абонент", "Остаток к оплате"], ["5", "100,00"], ["6", "плохо"]])
    mapping = tmp_path / "map.toml"
    mapping.write_text('"Абонент" = "account"\n"Остаток к оплате" = "debt"\n', encoding="utf-8")
    url = storage.engine.url.render_as_string(hide_password=False)
    base = ["--database-url", url, "--set", "log.level=ERROR", "import", "debtors", str(path)]
    assert main([*base, "--mapping", str(mapping), "--as-of", "2026-11-01"]) == 0
    out = capsys.readouterr().out
    assert "1 new" in out and "1 rejected" in out and "row 3, debt = 'плохо'" in out
    assert debtor(storage, "5").debt_as_of == date(2026, 11, 1)
    broken = tmp_path / "broken.toml"
    broken.write_text("not = [toml", encoding="utf-8")
    assert main([*base, "--mapping", str(broken)]) == 10
    assert "mapping file" in capsys.readouterr().err
