"""«Юрист» through streamlit.testing's AppTest, on both backends: who sees and may do what, a case opened,
moved and given its claim on the page, and a court registry's waiting rows decided — each checked in the
database through debtors/legal_cases.py and legal_import.py."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from access.accounts import Accounts
from dashboard.launch import APP, SETTINGS_ENV
from db.models import Debtor, LegalCase, LegalDocument, LegalMatchRow, LegalStageChange
from debtors.legal_cases import attach_document, open_case
from debtors.legal_import import import_uploaded_registry
from debtors.legal_matching import MatchRules
from debtors.legal_stages import Stage
from debtors.readers import ImportFileError
from dialer.bootstrap import Storage, make_accounts
from dialer.settings import Settings
from tests.integration.test_dashboard_app import PASSWORD, buttons, go, log_in
from tests.integration.test_dashboard_app import texts as page_texts
from tests.integration.test_legal_import import COURT_CSV, seed_registry

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TABLE_COLUMNS = {
    "legal_cases": "Долг сейчас",
    "legal_history": "Записано",
    "legal_pending": "Кандидаты",
    "legal_flagged": "ФИО в реестре",
}


@pytest.fixture
def lawyer(settings: Settings, storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Storage:
    """The sample debtors with two namesakes, a user of each role, and the app reading these settings."""
    seed_registry(storage)
    accounts: Accounts = make_accounts(settings, storage)
    for login, role in (("boss", "supervisor"), ("oper", "operator"), ("look", "viewer")):
        accounts.add_user(login, PASSWORD, role, NOW, full_name=f"Пользователь {login}")
    monkeypatch.setenv(SETTINGS_ENV, settings.model_dump_json())
    return storage


@pytest.fixture
def app(lawyer: Storage) -> Iterator[AppTest]:
    yield AppTest.from_file(str(APP), default_timeout=30).run()


def table(at: AppTest, name: str) -> list[dict[str, Any]]:
    """The rows of one of the page's tables, found by a column only it has."""
    column = TABLE_COLUMNS[name]
    frame = next(d.value for d in at.dataframe if column in d.value.columns)
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


def plain(value: Any) -> Any:
    """Money and counts as the tests write them: the page's no-break spaces as plain ones."""
    return value.replace("\xa0", " ") if isinstance(value, str) else value


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return str(plain(page_texts(at)))


def downloads(at: AppTest) -> list[str]:
    return [e.proto.label for e in at.get("download_button")]


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: plain(m.value) for m in at.metric}


def case_of(storage: Storage, account: str) -> LegalCase | None:
    with storage.sessions() as session:
        return session.scalar(
            select(LegalCase).join(Debtor, Debtor.id == LegalCase.debtor_id).where(Debtor.account == account)
        )


def upload_court_registry(storage: Storage) -> None:
    with storage.sessions.begin() as session:
        summary = import_uploaded_registry(
            session,
            storage.organisation_id,
            "реестр_суда.csv",
            COURT_CSV.encode("cp1251"),
            rules=MatchRules(),
            actor="boss",
            now=NOW,
            opened_on=date(2026, 12, 1),
        )
    assert (summary.source, summary.exact, summary.matched, summary.ambiguous, summary.unmatched) == (
        "реестр_суда.csv",
        2,
        1,
        1,
        1,
    )
    assert (summary.bad, summary.cases_opened) == (1, 3)


def test_a_viewer_sees_the_cases_and_changes_nothing(app: AppTest, lawyer: Storage) -> None:
    with lawyer.sessions.begin() as session:
        open_case(
            session, lawyer.organisation_id, "100005", opened_on=date(2026, 11, 20),
            amount_claimed=Decimal("30000.00"), court="Судебный участок № 3", actor="юрист", now=NOW,
        )  # fmt: skip
    log_in(app, "look")
    go(app, "legal")
    assert app.header[0].value == "Юрист"
    assert metrics(app)["Открытых дел"] == "1"
    (row,) = table(app, "legal_cases")
    assert (row["Лицевой счёт"], row["Стадия"], row["Суд"]) == (
        "100005",
        "подготовка",
        "Судебный участок № 3",
    )
    assert row["Расхождение"] == "долг больше на 5 600,00 ₽", "the debt 35 600,00 against 30 000,00 claimed"
    assert "Пока дело не закрыто, должнику не звонят" in texts(app)
    assert not buttons(app) & {"Открыть дело", "Перевести", "Приложить"}
    click(app, "Рассчитать и подготовить заявление")
    assert metrics(app)["Основной долг"] == "30 000,00 ₽", "the amount the case claims"
    assert downloads(app) == [] and "только с правом выгрузки" in texts(app)
    assert "Приложить заявление к делу" not in buttons(app)
    app.radio(key="legal_part").set_value("registries").run()
    assert "Все строки реестров сопоставлены." in texts(app)
    assert not buttons(app) & {"Загрузить реестр", "Решить"}


def test_an_operator_opens_a_case_moves_it_and_attaches_its_claim(app: AppTest, lawyer: Storage) -> None:
    log_in(app, "oper")
    go(app, "legal")
    assert "Дел нет." in texts(app)
    app.text_input(key="legal_open_account").input("100001")
    app.text_input(key="legal_open_court").input("Судебный участок № 3")
    app.number_input(key="legal_open_amount").set_value(12000.0)
    click(app, "Открыть дело")
    case = case_of(lawyer, "100001")
    assert case is not None, texts(app)
    assert (case.stage, case.court, case.amount_claimed) == (
        "preparation",
        "Судебный участок № 3",
        Decimal("12000.00"),
    )
    assert f"Открыто дело #{case.id}" in texts(app)
    assert app.selectbox(key="legal_case").value == case.id
    # the next stages only: the page cannot ask for a move the rules refuse
    assert app.selectbox(key="legal_move_stage").options == ["заявление подано", "иск", "закрыто"]
    app.selectbox(key="legal_move_stage").set_value(Stage.FILED)
    app.text_input(key=f"legal_move_number_{case.id}").input("2-7/2026")
    app.text_input(key="legal_move_note").input("подано через ГАС «Правосудие»")
    click(app, "Перевести")
    moved = case_of(lawyer, "100001")
    assert moved is not None and (moved.stage, moved.case_number) == ("filed", "2-7/2026")
    with lawyer.sessions() as session:
        history = session.scalars(
            select(LegalStageChange.stage)
            .where(LegalStageChange.case_id == case.id)
            .order_by(LegalStageChange.id)
        ).all()
    assert history == ["preparation", "filed"]
    assert [r["Стадия"] for r in table(app, "legal_history")] == ["подготовка", "заявление подано"]
    assert app.selectbox(key="legal_move_stage").options == ["судебный приказ", "иск", "закрыто"]

    click(app, "Рассчитать и подготовить заявление")
    assert metrics(app)["Основной долг"] == "12 000,00 ₽"
    assert downloads(app) == [], "an operator has no export right"
    click(app, "Приложить заявление к делу")
    with lawyer.sessions() as session:
        (document,) = session.scalars(select(LegalDocument).where(LegalDocument.case_id == case.id)).all()
    assert document.media_type == "application/pdf" and document.actor == "oper"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(document.content)).pages)
    assert "СУДЕБНОГО ПРИКАЗА" in text.upper() and "Иванов" in text
    assert "Документы дела** (1)" in texts(app)
    assert downloads(app) == []


def test_a_supervisor_decides_the_waiting_rows_and_takes_the_files(app: AppTest, lawyer: Storage) -> None:
    upload_court_registry(lawyer)
    log_in(app, "boss")
    go(app, "legal")
    assert metrics(app)["Строк реестров ждут решения"] == "2"
    app.radio(key="legal_part").set_value("registries").run()
    assert metrics(app)["Открытых дел"] == "3"
    pending = table(app, "legal_pending")
    assert [r["Результат"] for r in pending] == ["неоднозначно", "не найден"]
    assert "200001" in pending[0]["Кандидаты"] and "200002" in pending[0]["Кандидаты"]
    flagged = table(app, "legal_flagged")
    assert any("сумма иска 12 000,00 ₽ ≠ текущий долг 12 345,67 ₽" in r["Расхождения"] for r in flagged)

    with lawyer.sessions() as session:
        ambiguous, unmatched = (
            session.scalar(select(LegalMatchRow.id).where(LegalMatchRow.outcome == outcome))
            for outcome in ("ambiguous", "unmatched")
        )
    app.selectbox(key="legal_decide_row").set_value(ambiguous)
    app.radio(key=f"legal_decide_choice_{ambiguous}").set_value("200002")
    click(app, "Решить")
    chosen = case_of(lawyer, "200002")
    assert chosen is not None and chosen.case_number == "2-103/2026"
    assert f"должник 200002, дело #{chosen.id}" in texts(app)
    assert [r["Результат"] for r in table(app, "legal_pending")] == ["не найден"]
    app.selectbox(key="legal_decide_row").set_value(unmatched)
    click(app, "Решить")  # the radio's default is «нет в базе» for a row without candidates
    with lawyer.sessions() as session:
        row = session.get(LegalMatchRow, unmatched)
        assert row is not None and row.decided_by == "boss" and row.debtor_id is None
    assert "Все строки реестров сопоставлены." in texts(app)
    assert metrics(app)["Открытых дел"] == "4"
    app.radio(key="legal_part").set_value("cases").run()

    smirnov = case_of(lawyer, "100005")
    assert smirnov is not None
    with lawyer.sessions.begin() as session:
        attach_document(session, lawyer.organisation_id, smirnov.id, title="Судебный приказ",
                        filename="приказ.pdf", content=b"%PDF-1.4 test", media_type="application/pdf",
                        actor="boss", now=NOW)  # fmt: skip
    app.selectbox(key="legal_case").set_value(smirnov.id).run()
    assert "Судебный приказ — приказ.pdf, 13 байт" in texts(app)
    assert downloads(app) == ["Скачать"]
    app.selectbox(key="legal_claim_format").set_value("docx").run()
    click(app, "Рассчитать и подготовить заявление")
    assert downloads(app) == ["Скачать", "Скачать заявление (Word (DOCX))"]


def test_an_uploaded_registry_of_an_unknown_layout_writes_nothing(lawyer: Storage) -> None:
    with pytest.raises(ImportFileError, match="Фамилия"), lawyer.sessions.begin() as session:
        import_uploaded_registry(
            session, lawyer.organisation_id, "list.csv", "Фамилия;Долг\nИванов;100\n".encode(),
            rules=MatchRules(), actor="boss", now=NOW,
        )  # fmt: skip
    with lawyer.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LegalMatchRow)) == 0
