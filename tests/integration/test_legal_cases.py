"""Legal cases through the services and the CLI, on SQLite and PostgreSQL: stages in order with their
history, documents, and the case shown in the registry's status column and the debtor card."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from db.debtor_list import status_counts
from db.models import CampaignDebtor, LegalDocument, LegalStageChange
from debtors.debtor_card import load_card
from debtors.field_reports import Conflict, NotFound
from debtors.legal_cases import attach_document, list_cases, move_case, open_case
from debtors.legal_stages import Stage, may_follow
from debtors.registry_import import import_debtors
from debtors.status_column import status_text
from dialer.bootstrap import Storage, make_campaign_store
from dialer.campaign_spec import parse_spec
from dialer.campaign_store import Nothing, Ticket
from dialer.campaigns import apply_spec, set_state
from dialer.cli import main
from dialer.settings import LegalSettings, Settings

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def registry(storage: Storage) -> Storage:
    import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=NOW, as_of=date(2026, 11, 1))
    return storage


@pytest.mark.parametrize(
    ("current", "wanted", "allowed"),
    [
        (Stage.PREPARATION, Stage.FILED, True),
        (Stage.FILED, Stage.COURT_ORDER, True),
        (Stage.COURT_ORDER, Stage.CANCELLED, True),
        (Stage.CANCELLED, Stage.LAWSUIT, True),
        (Stage.LAWSUIT, Stage.JUDGEMENT, True),
        (Stage.JUDGEMENT, Stage.ENFORCEMENT, True),
        (Stage.ENFORCEMENT, Stage.CLOSED, True),
        (Stage.COURT_ORDER, Stage.FILED, False),  # never back
        (Stage.PREPARATION, Stage.ENFORCEMENT, False),  # nothing to enforce yet
        (Stage.CLOSED, Stage.FILED, False),  # a new claim is a new case
    ],
)
def test_which_stage_may_follow(current: Stage, wanted: Stage, allowed: bool) -> None:
    assert may_follow(current, wanted) is allowed


def test_a_case_through_its_stages(registry: Storage) -> None:
    org = registry.organisation_id
    with registry.sessions.begin() as session:
        case = open_case(
            session, org, "100009", opened_on=date(2026, 12, 1), amount_claimed=Decimal("48900.90"),
            court="Мировой судья судебного участка № 3", actor="юрист", now=NOW,
        )  # fmt: skip
        case_id = case.id
        with pytest.raises(Conflict, match="already has an open legal case"):
            open_case(session, org, "100009", opened_on=date(2026, 12, 2), actor="юрист", now=NOW)
        with pytest.raises(NotFound):
            open_case(session, org, "404", opened_on=date(2026, 12, 2), actor="юрист", now=NOW)
    with registry.sessions.begin() as session:
        move_case(session, org, case_id, Stage.FILED, on=date(2026, 12, 5), actor="юрист", now=NOW)
        with pytest.raises(Conflict, match="before its last stage"):
            move_case(session, org, case_id, Stage.COURT_ORDER, on=date(2026, 12, 4), actor="юрист", now=NOW)
        with pytest.raises(Conflict, match="cannot go to «исполнительное производство»"):
            move_case(session, org, case_id, Stage.ENFORCEMENT, on=date(2026, 12, 20), actor="юрист", now=NOW)
        move_case(
            session, org, case_id, Stage.COURT_ORDER, on=date(2026, 12, 20), case_number="2-123/2026",
            actor="юрист", now=NOW,
        )  # fmt: skip
        debtor_id = case.debtor_id
        column = status_text("active", status_counts(session, [debtor_id])[debtor_id])
        assert "меры: суд: судебный приказ № 2-123/2026 с 20.12.2026" in column
        card = load_card(session, org, "100009")
        assert card["legal_cases"][0]["stage"] == "court_order"
        assert "суд: судебный приказ № 2-123/2026 с 20.12.2026" in card["counts"]["measures"]
        history = session.scalars(
            select(LegalStageChange.stage)
            .where(LegalStageChange.case_id == case_id)
            .order_by(LegalStageChange.id)
        ).all()
        assert history == ["preparation", "filed", "court_order"]
        rows = list_cases(session, org, stages=[Stage.COURT_ORDER])
        assert [(r.account, r.case_number, r.amount_claimed) for r in rows] == [
            ("100009", "2-123/2026", Decimal("48900.90"))
        ]
        move_case(session, org, case_id, Stage.CLOSED, on=date(2027, 1, 10), actor="юрист", now=NOW)
        again = open_case(session, org, "100009", opened_on=date(2027, 2, 1), actor="юрист", now=NOW)
        assert again.id != case_id, "after the case is closed, a new claim is a new case"


def test_documents_and_the_cli(registry: Storage, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = registry.engine.url.render_as_string(hide_password=False)
    base = ["--database-url", url, "--set", "log.level=ERROR"]
    assert main([*base, "legal", "open", "100005", "--amount", "35 600,00", "--date", "2026-12-01"]) == 0
    assert "case #1 opened for account 100005: подготовка" in capsys.readouterr().out
    assert main([*base, "legal", "stage", "1", "filed", "--date", "2026-12-03"]) == 0
    assert "case #1: заявление подано since 2026-12-03" in capsys.readouterr().out
    assert main([*base, "legal", "stage", "1", "judgement"]) == 1
    assert "cannot go to «решение»" in capsys.readouterr().err
    claim = tmp_path / "заявление.pdf"
    claim.write_bytes(b"%PDF-1.4 test")
    assert main([*base, "legal", "attach", "1", str(claim), "--title", "Заявление о выдаче приказа"]) == 0
    assert "kept with case #1" in capsys.readouterr().out
    assert main([*base, "legal", "attach", "1", str(tmp_path / "нет.pdf")]) == 1
    assert "cannot read it" in capsys.readouterr().err
    assert main([*base, "legal", "list"]) == 0
    assert "100005  заявление подано 2026-12-03" in capsys.readouterr().out
    with registry.sessions.begin() as session:
        (document,) = session.scalars(select(LegalDocument)).all()
        assert (document.title, document.media_type, document.content) == (
            "Заявление о выдаче приказа",
            "application/pdf",
            b"%PDF-1.4 test",
        )
        with pytest.raises(Conflict, match="empty"):
            attach_document(
                session,
                registry.organisation_id,
                1,
                title="",
                filename="x.pdf",
                content=b"",
                actor="t",
                now=NOW,
            )


@pytest.mark.parametrize("pause", [True, False])
def test_an_open_case_pauses_calls_when_configured(
    registry: Storage, settings: Settings, pause: bool
) -> None:
    """The campaign store claims the due debtors at the moment of dialling: a debtor with an open case is
    put off with the reason ([legal] pause_calls), and called again once the case is closed."""
    org = registry.organisation_id
    spec = parse_spec(
        {
            "name": "Суд",
            "trunk": "sim",
            "window": {"weekdays": "00:00-24:00", "weekends": "00:00-24:00"},
            "select": {"districts": ["Ленинский"]},
        },
        source="the test",
    )
    apply_spec(registry.sessions, org, spec, NOW)
    set_state(registry.sessions, org, spec.name, "running", NOW)
    with registry.sessions.begin() as session:
        for account in ("100001", "100002", "100007", "100009"):
            open_case(session, org, account, opened_on=NOW.date(), actor="юрист", now=NOW)
    configured = settings.model_copy(update={"legal": LegalSettings(pause_calls=pause)})
    store = make_campaign_store(configured, registry)
    (campaign,) = store.running()
    store.select_debtors(campaign.id, campaign.spec, NOW)
    claimed = store.claim(campaign, NOW)
    if pause:
        assert isinstance(claimed, Nothing), claimed
        with registry.sessions() as session:
            notes = set(session.scalars(select(CampaignDebtor.note)))
        assert notes == {"открыто судебное дело: звонки приостановлены"}
    else:
        assert isinstance(claimed, Ticket) and claimed.facts.account in {
            "100001",
            "100002",
            "100007",
            "100009",
        }
    store.release()
