"""Importing a court's or bailiff's registry on SQLite and PostgreSQL: rows matched to the sample debtors
(by account, by name + address, ambiguous, not found, unreadable), the review queue, the lawyer's decision,
the cases opened or completed, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Debtor, LegalCase, LegalMatchRow
from debtors.field_reports import Conflict, NotFound
from debtors.legal_cases import open_case
from debtors.legal_import import decide_row, import_court_registry, pending_rows
from debtors.legal_matching import MatchRules
from debtors.readers import ImportFileError
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage
from dialer.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = date(2026, 12, 1)

COURT_CSV = """\
№ п/п;Номер дела;Судебный участок;Должник;Адрес должника;Л/С;Сумма требований, руб.
1;2-101/2026;Судебный участок № 3;СМИРНОВ АЛЕКСЕЙ ПЕТРОВИЧ;ул. Гагарина, д. 3, кв. 8;100005;35 600,00
2;2-102/2026;Судебный участок № 3;Иванов И.И.;г. Екатеринбург, ул. Ленина, 12-45;;12 000,00
3;2-103/2026;Судебный участок № 3;Кузнецов И.И.;ул. Ленина, д. 14;;5 000,00
4;2-104/2026;Судебный участок № 3;Сергеев Олег Павлович;ул. Садовая, 1-1;;1 000,00
5;2-105/2026;Судебный участок № 3;Попова Е.Н.;ул. Гагарина, 3-9;;сто рублей
6;2-106/2026;Судебный участок № 5;Новиков Сергей Андреевич;ул. Ленина, 14-5;100009;48 900,90
"""


@pytest.fixture
def registry(storage: Storage) -> Storage:
    return seed_registry(storage)


def seed_registry(storage: Storage) -> Storage:
    """The sample debtors plus two namesakes in one building («Кузнецов И.И., ул. Ленина, 14»)."""
    import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=NOW, as_of=date(2026, 11, 1))
    with storage.sessions.begin() as session:
        for account, name, flat in (
            ("200001", "Кузнецов Иван Ильич", "7"),
            ("200002", "Кузнецов Игорь Иванович", "8"),
        ):
            session.add(
                Debtor(
                    organisation_id=storage.organisation_id,
                    account=account,
                    full_name=name,
                    address=f"ул. Ленина, д. 14, кв. {flat}",
                    street="ул. Ленина",
                    house="14",
                    apartment=flat,
                    debt=Decimal("5000.00"),
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    return storage


def _court_file(tmp_path: Path) -> Path:
    path = tmp_path / "реестр_суда.csv"
    path.write_text(COURT_CSV, encoding="cp1251")
    return path


def _rows(session: Session) -> dict[int, LegalMatchRow]:
    return {r.row: r for r in session.scalars(select(LegalMatchRow).order_by(LegalMatchRow.row))}


def _case_of(session: Session, account: str) -> LegalCase | None:
    return session.scalar(
        select(LegalCase).join(Debtor, Debtor.id == LegalCase.debtor_id).where(Debtor.account == account)
    )


def test_a_court_registry_is_matched_and_stored(registry: Storage, tmp_path: Path) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        existing = open_case(session, org, "100009", opened_on=date(2026, 11, 20), actor="юрист", now=NOW)
        existing_id = existing.id
    with registry.sessions.begin() as session:
        summary = import_court_registry(
            session, org, _court_file(tmp_path), rules=MatchRules(), actor="юрист", now=NOW, opened_on=DAY
        )
    assert (summary.rows, summary.exact, summary.matched, summary.ambiguous, summary.unmatched) == (
        6,
        2,
        1,
        1,
        1,
    )
    assert (summary.bad, summary.cases_opened, summary.cases_updated) == (1, 2, 1)
    (error,) = summary.errors
    assert (error.row, error.field, error.value) == (6, "amount_claimed", "сто рублей")
    with registry.sessions.begin() as session:
        rows = _rows(session)
        assert sorted(rows) == [2, 3, 4, 5, 7], "one stored row per readable line; the bad one is not"
        exact, fuzzy, ambiguous, unmatched, updated = (rows[n] for n in (2, 3, 4, 5, 7))
        assert (exact.outcome, fuzzy.outcome, ambiguous.outcome, unmatched.outcome) == (
            "exact_account",
            "matched",
            "ambiguous",
            "unmatched",
        )
        by_account = {d.id: d.account for d in session.scalars(select(Debtor))}
        assert by_account[exact.debtor_id or 0] == "100005"
        assert by_account[fuzzy.debtor_id or 0] == "100001"
        assert ambiguous.debtor_id is None and unmatched.debtor_id is None
        assert fuzzy.score == pytest.approx(0.9604)
        assert "сумма иска 12 000,00 ₽ ≠ текущий долг 12 345,67 ₽" in json.loads(fuzzy.discrepancies)
        assert json.loads(exact.discrepancies) == [], "the same debtor, the same amount: nothing to flag"
        assert json.loads(exact.raw)["Должник"] == "СМИРНОВ АЛЕКСЕЙ ПЕТРОВИЧ"
        listed = json.loads(ambiguous.candidates)
        assert sorted(c["account"] for c in listed) == ["200001", "200002"]
        assert all("в реестре нет квартиры" in c["notes"] for c in listed)
        assert json.loads(unmatched.candidates) == []
        assert all(r.batch == summary.batch and r.source == "реестр_суда.csv" for r in rows.values())
        # Cases: opened for the matched rows with their number, the open one completed, none for the rest.
        smirnov = _case_of(session, "100005")
        assert smirnov is not None and exact.case_id == smirnov.id
        assert (smirnov.case_number, smirnov.court, smirnov.amount_claimed, smirnov.opened_on) == (
            "2-101/2026",
            "Судебный участок № 3",
            Decimal("35600.00"),
            DAY,
        )
        ivanov = _case_of(session, "100001")
        assert ivanov is not None and ivanov.case_number == "2-102/2026" and fuzzy.case_id == ivanov.id
        novikov = session.get(LegalCase, existing_id)
        assert novikov is not None and updated.case_id == existing_id
        assert (novikov.case_number, novikov.court) == ("2-106/2026", "Судебный участок № 5")
        assert session.scalar(select(func.count()).select_from(LegalCase)) == 3
        assert _case_of(session, "200001") is None and _case_of(session, "200002") is None
        pending = pending_rows(session, org)
        assert [(p.row, p.outcome) for p in pending] == [(4, "ambiguous"), (5, "unmatched")]
        assert [c["account"] for c in pending[0].candidates] == ["200001", "200002"]


def test_the_lawyer_decides_the_waiting_rows(registry: Storage, tmp_path: Path) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        import_court_registry(
            session, org, _court_file(tmp_path), rules=MatchRules(), actor="юрист", now=NOW, opened_on=DAY
        )
        rows = _rows(session)
        ambiguous_id, unmatched_id, matched_id = rows[4].id, rows[5].id, rows[3].id
    with registry.sessions.begin() as session:
        decided = decide_row(session, org, ambiguous_id, "200002", actor="юрист", now=NOW, opened_on=DAY)
        case = _case_of(session, "200002")
        assert case is not None and decided.case_id == case.id
        assert (case.case_number, case.amount_claimed, case.stage) == (
            "2-103/2026",
            Decimal("5000.00"),
            "preparation",
        )
        assert (decided.decided_by, decided.decided_at) == ("юрист", NOW)
        none = decide_row(session, org, unmatched_id, None, actor="юрист", now=NOW)
        assert none.debtor_id is None and none.case_id is None and none.decided_at == NOW
        assert pending_rows(session, org) == []
        with pytest.raises(Conflict, match="already decided"):
            decide_row(session, org, ambiguous_id, "200001", actor="юрист", now=NOW)
        with pytest.raises(Conflict, match="matched automatically"):
            decide_row(session, org, matched_id, "200001", actor="юрист", now=NOW)
        with pytest.raises(NotFound):
            decide_row(session, org, 999_999, None, actor="юрист", now=NOW)
    assert _case_of(registry.sessions(), "200001") is None


def test_a_different_case_number_is_flagged_not_overwritten(registry: Storage, tmp_path: Path) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        open_case(
            session, org, "100009", opened_on=date(2026, 11, 20), case_number="2-55/2026", actor="юрист",
            now=NOW,
        )  # fmt: skip
        summary = import_court_registry(
            session, org, _court_file(tmp_path), rules=MatchRules(), actor="юрист", now=NOW
        )
        assert summary.cases_updated == 1, "only the empty court was filled in"
        case = _case_of(session, "100009")
        assert case is not None and (case.case_number, case.court) == ("2-55/2026", "Судебный участок № 5")
        notes = json.loads(_rows(session)[7].discrepancies)
        assert f"у дела #{case.id} другой номер: 2-55/2026 (в реестре 2-106/2026)" in notes


def test_a_bailiffs_xlsx_registry(registry: Storage, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["ФИО должника", "Адрес", "Лицевой счет", "Сумма взыскания", "Номер ИП", "ОСП"])
    sheet.append(
        ["Петрова М.С.", "620000, г. Екатеринбург, ул. Ленина, д. 12, кв. 46", None, 8120, "77/26-ИП", "ОСП"]
    )
    sheet.append(["Васильев Дмитрий Олегович", None, "100007", "17 450,00", None, "ОСП"])
    path = tmp_path / "осп.xlsx"
    workbook.save(path)
    with registry.sessions.begin() as session:
        summary = import_court_registry(
            session, registry.organisation_id, path, rules=MatchRules(), actor="юрист", now=NOW
        )
        assert (summary.rows, summary.exact, summary.matched, summary.cases_opened) == (2, 1, 1, 1)
        petrova = _case_of(session, "100002")
        assert petrova is not None and (petrova.case_number, petrova.amount_claimed) == (
            "77/26-ИП",
            Decimal("8120.00"),
        )
        assert _case_of(session, "100007") is None, "a row without a case number only links the debtor"
        rows = _rows(session)
        assert rows[3].debtor_id is not None and rows[3].case_id is None


def test_an_unknown_layout_is_refused_naming_the_headers(registry: Storage, tmp_path: Path) -> None:
    path = tmp_path / "платежи.csv"
    path.write_text("Дата;Сумма;Примечание\n2026-11-01;100,00;оплата\n", encoding="utf-8")
    with registry.sessions.begin() as session:
        with pytest.raises(ImportFileError) as caught:
            import_court_registry(
                session, registry.organisation_id, path, rules=MatchRules(), actor="юрист", now=NOW
            )
        message = str(caught.value)
        assert "платежи.csv" in message and "«Дата», «Сумма», «Примечание»" in message
        assert "«ФИО»" in message and "«Лицевой счет»" in message, "the message says what is expected"
        assert session.scalar(select(func.count()).select_from(LegalMatchRow)) == 0


def test_the_cli(registry: Storage, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = registry.engine.url.render_as_string(hide_password=False)
    base = ["--database-url", url, "--set", "log.level=ERROR"]
    assert main([*base, "legal", "import", str(_court_file(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert (
        "реестр_суда.csv: 6 rows: 2 exact account, 1 matched, 1 ambiguous, 1 unmatched, 1 bad; "
        "cases opened 3, updated 0" in out
    )
    assert "row 6 amount_claimed 'сто рублей'" in out
    assert main([*base, "legal", "review"]) == 0
    out = capsys.readouterr().out
    assert "ambiguous  Кузнецов И.И.  ул. Ленина, д. 14" in out
    assert "200002  Кузнецов Игорь Иванович  ул. Ленина, д. 14, кв. 8" in out
    assert "- в реестре нет квартиры" in out
    assert "unmatched  Сергеев Олег Павлович" in out
    assert "2 rows wait for a decision" in out
    with registry.sessions() as session:
        rows = _rows(session)
        ambiguous_id, unmatched_id = rows[4].id, rows[5].id
    assert main([*base, "legal", "decide", str(ambiguous_id), "--account", "200001"]) == 0
    assert f"row #{ambiguous_id}: debtor 200001, case #4" in capsys.readouterr().out
    assert main([*base, "legal", "decide", str(unmatched_id), "--none"]) == 0
    assert f"row #{unmatched_id}: нет в базе" in capsys.readouterr().out
    assert main([*base, "legal", "decide", str(unmatched_id), "--none"]) == 1
    assert "already decided" in capsys.readouterr().err
    assert main([*base, "legal", "review"]) == 0
    assert "0 rows wait for a decision" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("Дата;Примечание\n1;2\n", encoding="utf-8")
    assert main([*base, "legal", "import", str(bad)]) == 10
    assert "no debtor's name or account column" in capsys.readouterr().err
