"""Legal cases linked to debtors: opened, moved through their stages (debtors/legal_stages.py) with every
change kept, and their documents. The CLI and the dashboard call these functions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Debtor, LegalCase, LegalDocument, LegalStageChange
from debtors.field_reports import Conflict, NotFound
from debtors.legal_stages import NEXT_STAGES, STAGE_LABELS, Stage, may_follow

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


def _debtor(session: Session, organisation_id: int, account: str) -> Debtor:
    debtor = session.scalar(
        select(Debtor).where(Debtor.organisation_id == organisation_id, Debtor.account == account.strip())
    )
    if debtor is None:
        raise NotFound(f"no debtor with account {account!r}")
    return debtor


def case_of(session: Session, organisation_id: int, case_id: int) -> LegalCase:
    case = session.get(LegalCase, case_id)
    if case is None or case.organisation_id != organisation_id:
        raise NotFound(f"legal case #{case_id} does not exist")
    return case


def open_case(
    session: Session,
    organisation_id: int,
    account: str,
    *,
    opened_on: date,
    court: str = "",
    case_number: str = "",
    amount_claimed: Decimal | None = None,
    penalty_claimed: Decimal | None = None,
    note: str = "",
    actor: str,
    now: datetime,
) -> LegalCase:
    """A new case at «подготовка»; refused while the debtor has a case that is not closed."""
    debtor = _debtor(session, organisation_id, account)
    open_one = session.scalar(
        select(LegalCase.id).where(LegalCase.debtor_id == debtor.id, LegalCase.stage != Stage.CLOSED.value)
    )
    if open_one is not None:
        raise Conflict(f"account {debtor.account} already has an open legal case (#{open_one})")
    for name, amount in (("amount claimed", amount_claimed), ("penalty claimed", penalty_claimed)):
        if amount is not None and amount < 0:
            raise Conflict(f"the {name} cannot be negative: {amount}")
    case = LegalCase(
        organisation_id=organisation_id,
        debtor_id=debtor.id,
        stage=Stage.PREPARATION.value,
        stage_on=opened_on,
        court=court.strip(),
        case_number=case_number.strip(),
        amount_claimed=amount_claimed,
        penalty_claimed=penalty_claimed,
        opened_on=opened_on,
        note=note,
        actor=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()
    session.add(
        LegalStageChange(
            case_id=case.id, stage=case.stage, stage_on=opened_on, note=note, actor=actor, at=now
        )
    )
    return case


def move_case(
    session: Session,
    organisation_id: int,
    case_id: int,
    stage: Stage,
    *,
    on: date,
    note: str = "",
    court: str | None = None,
    case_number: str | None = None,
    actor: str,
    now: datetime,
) -> LegalCase:
    """Move a case to its next stage (only the stages that may follow, never back before the last date)."""
    case = case_of(session, organisation_id, case_id)
    current = Stage(case.stage)
    if not may_follow(current, stage):
        allowed = ", ".join(sorted(s.value for s in NEXT_STAGES[current])) or "none: the case is closed"
        raise Conflict(
            f"case #{case_id} is at «{STAGE_LABELS[current]}»: it cannot go to «{STAGE_LABELS[stage]}»",
            hint=f"next stages: {allowed}",
        )
    if on < case.stage_on:
        raise Conflict(f"case #{case_id}: {on:%d.%m.%Y} is before its last stage ({case.stage_on:%d.%m.%Y})")
    session.add(
        LegalStageChange(
            case_id=case.id,
            previous_stage=case.stage,
            stage=stage.value,
            stage_on=on,
            note=note,
            actor=actor,
            at=now,
        )
    )
    case.stage = stage.value
    case.stage_on = on
    if court is not None:
        case.court = court.strip()
    if case_number is not None:
        case.case_number = case_number.strip()
    case.actor = actor
    case.updated_at = now
    return case


def attach_document(
    session: Session,
    organisation_id: int,
    case_id: int,
    *,
    title: str,
    filename: str,
    content: bytes,
    media_type: str = "application/octet-stream",
    actor: str,
    now: datetime,
) -> LegalDocument:
    case = case_of(session, organisation_id, case_id)
    if not content:
        raise Conflict(f"{filename}: the file is empty")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise Conflict(f"{filename}: {len(content)} bytes, more than the {MAX_DOCUMENT_BYTES} allowed")
    document = LegalDocument(
        case_id=case.id,
        title=title.strip() or filename,
        filename=filename,
        media_type=media_type,
        content=content,
        actor=actor,
        created_at=now,
    )
    session.add(document)
    session.flush()
    return document


@dataclass(frozen=True, slots=True)
class CaseRow:
    id: int
    account: str
    full_name: str
    stage: str
    stage_on: date
    court: str
    case_number: str
    amount_claimed: Decimal | None
    debt: Decimal


def list_cases(
    session: Session, organisation_id: int, *, stages: Sequence[Stage] = (), limit: int = 1000
) -> list[CaseRow]:
    query = (
        select(LegalCase, Debtor.account, Debtor.full_name, Debtor.debt)
        .join(Debtor, Debtor.id == LegalCase.debtor_id)
        .where(LegalCase.organisation_id == organisation_id)
        .order_by(LegalCase.stage_on.desc(), LegalCase.id.desc())
        .limit(limit)
    )
    if stages:
        query = query.where(LegalCase.stage.in_([s.value for s in stages]))
    return [
        CaseRow(c.id, account, name, c.stage, c.stage_on, c.court, c.case_number, c.amount_claimed, debt)
        for c, account, name, debt in session.execute(query)
    ]


def case_measures(session: Session, debtor_ids: Sequence[int]) -> dict[int, list[str]]:
    """The status column's measure per case: «суд: судебный приказ № 2-123/2026 с 12.12.2026»."""
    found: dict[int, list[str]] = {}
    if not debtor_ids:
        return found
    for debtor_id, stage, stage_on, number in session.execute(
        select(LegalCase.debtor_id, LegalCase.stage, LegalCase.stage_on, LegalCase.case_number)
        .where(LegalCase.debtor_id.in_(list(debtor_ids)))
        .order_by(LegalCase.id)
    ):
        label = STAGE_LABELS.get(Stage(stage), stage)
        found.setdefault(debtor_id, []).append(
            f"суд: {label}" + (f" № {number}" if number else "") + f" с {stage_on:%d.%m.%Y}"
        )
    return found


@dataclass(frozen=True, slots=True)
class StageEntry:
    previous_stage: str
    stage: str
    stage_on: date
    note: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    id: int
    title: str
    filename: str
    media_type: str
    size: int
    actor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CaseDetail:
    """One case as the lawyer's page shows it: the case, its debtor, every stage and its documents."""

    id: int
    account: str
    full_name: str
    address: str
    debt: Decimal
    stage: str
    stage_on: date
    opened_on: date
    court: str
    case_number: str
    amount_claimed: Decimal | None
    penalty_claimed: Decimal | None
    note: str
    history: list[StageEntry]
    documents: list[DocumentEntry]

    @property
    def is_open(self) -> bool:
        return self.stage != Stage.CLOSED.value


def case_detail(session: Session, organisation_id: int, case_id: int) -> CaseDetail:
    case = case_of(session, organisation_id, case_id)
    debtor = session.get(Debtor, case.debtor_id)
    assert debtor is not None  # the foreign key cascades
    history = [
        StageEntry(h.previous_stage, h.stage, h.stage_on, h.note, h.actor, h.at)
        for h in session.scalars(
            select(LegalStageChange)
            .where(LegalStageChange.case_id == case.id)
            .order_by(LegalStageChange.at, LegalStageChange.id)
        )
    ]
    documents = [
        DocumentEntry(doc_id, title, filename, media_type, size or 0, actor, created_at)
        for doc_id, title, filename, media_type, size, actor, created_at in session.execute(
            select(
                LegalDocument.id,
                LegalDocument.title,
                LegalDocument.filename,
                LegalDocument.media_type,
                func.length(LegalDocument.content),
                LegalDocument.actor,
                LegalDocument.created_at,
            )
            .where(LegalDocument.case_id == case.id)
            .order_by(LegalDocument.id)
        )
    ]
    return CaseDetail(
        case.id,
        debtor.account,
        debtor.full_name,
        debtor.address,
        debtor.debt,
        case.stage,
        case.stage_on,
        case.opened_on,
        case.court,
        case.case_number,
        case.amount_claimed,
        case.penalty_claimed,
        case.note,
        history,
        documents,
    )


def document_file(session: Session, organisation_id: int, document_id: int) -> tuple[str, str, bytes]:
    """A case document's file name, media type and content (refused for another organisation's case)."""
    document = session.get(LegalDocument, document_id)
    if document is None:
        raise NotFound(f"legal document #{document_id} does not exist")
    case_of(session, organisation_id, document.case_id)
    return document.filename, document.media_type, document.content
