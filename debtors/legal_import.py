"""Importing a court's or bailiff's registry: every row matched to a debtor and kept for the lawyer's review.

The matching rules are pure (debtors/legal_matching.py); this module reads the file (debtors/readers.py),
fetches the candidates from the database, stores a :class:`db.models.LegalMatchRow` per row, links the rows
matched for sure to their debtor and opens or completes the debtor's case. Rows that are ambiguous or not
found wait for a lawyer's decision (:func:`decide_row`). Everything happens in the caller's transaction: a
file is imported whole or not at all. docs/legal.md ("Importing a court or bailiff registry").

Candidates are fetched in one streamed pass over the organisation's debtors per file, not one query per
row: a surname's case and «ё» cannot be folded by SQL on both backends (SQLite's ``lower()`` knows ASCII
only) and a ``LIKE`` prefix cannot use PostgreSQL's index under a linguistic collation, so a query per row
would scan the table as many times as the file has rows. The pass reads five columns, computes the
surname key of each debtor and parses the address only of debtors whose address shares a word with a
street of the file.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import Debtor, LegalCase, LegalMatchRow
from debtors.amounts import AmountError, parse_amount
from debtors.field_reports import Conflict, NotFound
from debtors.headers import CANONICAL_VARIANTS, HeaderError, map_headers
from debtors.legal_cases import open_case
from debtors.legal_matching import (
    Candidate,
    CaseEntry,
    MatchResult,
    MatchRules,
    Outcome,
    ScoredCandidate,
    building_key,
    candidate_key,
    fold,
    match_one,
    normalise_account,
    parse_address,
)
from debtors.legal_stages import Stage
from debtors.readers import ImportFileError, open_table

# Headers of courts' and bailiffs' registries, folded like the billing headers (debtors/headers.py):
# case, «ё», punctuation and unit suffixes («Сумма, руб.») are ignored. «№ дела» folds to «дела».
REGISTRY_VARIANTS: Mapping[str, tuple[str, ...]] = {
    "account": CANONICAL_VARIANTS["account"],
    "full_name": ("фио", "ф и о", "должник", "фио должника", "ф и о должника", "наименование должника"),
    "address": ("адрес", "адрес должника", "адрес регистрации", "адрес помещения"),
    "amount_claimed": (
        "сумма",
        "сумма требований",
        "сумма взыскания",
        "сумма иска",
        "сумма долга",
        "сумма задолженности",
        "взыскано",
    ),
    "case_number": (
        "номер дела",
        "№ дела",
        "дело",
        "номер ип",
        "№ ип",
        "номер исполнительного производства",
    ),
    "court": ("суд", "судебный участок", "наименование суда", "осп", "отдел судебных приставов"),
}
_EXPECTED = "«ФИО» or «Должник», and/or «Лицевой счет»/«ЛС»; optional «Адрес», «Сумма», «Номер дела», «Суд»"
_PENDING = (Outcome.AMBIGUOUS.value, Outcome.UNMATCHED.value)
_WORD = re.compile(r"[а-яa-z0-9]+")


@dataclass(frozen=True, slots=True)
class RowError:
    """A row that could not be read; the other rows are imported."""

    row: int
    field: str
    value: str
    message: str


@dataclass(slots=True)
class ImportSummary:
    batch: str
    source: str
    rows: int = 0  # data rows read, the bad ones included
    exact: int = 0
    matched: int = 0
    ambiguous: int = 0
    unmatched: int = 0
    bad: int = 0
    cases_opened: int = 0
    cases_updated: int = 0
    errors: list[RowError] = field(default_factory=list)


# --------------------------------------------------------------------------------------------- reading


def _parse_rows(
    path: Path, encoding: str | None, summary: ImportSummary
) -> list[tuple[CaseEntry, dict[str, str]]]:
    """The file's entries with their raw cells (header → text); bad rows go to ``summary.errors``."""
    entries: list[tuple[CaseEntry, dict[str, str]]] = []
    with open_table(path, encoding) as table:
        try:
            columns = map_headers(table.headers, variants=REGISTRY_VARIANTS, required=())
        except HeaderError as exc:
            raise ImportFileError(f"{path.name}: {exc}", hint=f"expected {_EXPECTED}") from None
        if "full_name" not in columns and "account" not in columns:
            found = ", ".join(f"«{h}»" for h in table.headers if h.strip()) or "none"
            raise ImportFileError(
                f"{path.name}: not a court's or bailiff's registry: no debtor's name or account column "
                f"(headers found: {found})",
                hint=f"expected {_EXPECTED}",
            )
        for number, cells in table.rows:
            if not any(c.strip() for c in cells):
                continue
            summary.rows += 1

            def get(name: str, cells: list[str] = cells) -> str:
                index = columns.get(name)
                return cells[index].strip() if index is not None and index < len(cells) else ""

            raw = {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(table.headers)}
            name, account, amount_text = get("full_name"), get("account"), get("amount_claimed")
            if not name and not account:
                summary.errors.append(RowError(number, "full_name", "", "neither a name nor an account"))
                continue
            amount: Decimal | None = None
            if amount_text:
                try:
                    amount = parse_amount(amount_text)
                except AmountError as exc:
                    summary.errors.append(RowError(number, "amount_claimed", amount_text, str(exc)))
                    continue
                if amount < 0:
                    summary.errors.append(
                        RowError(number, "amount_claimed", amount_text, "a claim cannot be negative")
                    )
                    continue
            entry = CaseEntry(
                row=number,
                full_name=name,
                address=get("address"),
                account=account or None,
                amount_claimed=amount,
                case_number=get("case_number"),
                court=get("court"),
            )
            entries.append((entry, raw))
    summary.bad = len(summary.errors)
    return entries


# --------------------------------------------------------------------------------------------- candidates


@dataclass(slots=True)
class _Candidates:
    by_account: dict[str, Candidate]
    by_surname: dict[str, list[Candidate]]
    by_building: dict[str, list[Candidate]]

    def for_entry(self, entry: CaseEntry) -> tuple[Candidate | None, list[Candidate]]:
        account = normalise_account(entry.account or "")
        found = self.by_account.get(account) if account else None
        surname, building = candidate_key(entry.full_name), building_key(entry.address)
        pool = [*self.by_surname.get(surname, ()), *self.by_building.get(building, ())]
        return found, pool  # match_one scores a debtor fetched by both keys once


def _fetch_candidates(session: Session, organisation_id: int, entries: Sequence[CaseEntry]) -> _Candidates:
    accounts = {normalise_account(e.account or "") for e in entries} - {""}
    surnames = {candidate_key(e.full_name) for e in entries} - {""}
    buildings = {building_key(e.address) for e in entries} - {""}
    street_words = {w for e in entries if building_key(e.address) for w in parse_address(e.address).street}
    found = _Candidates({}, {}, {})
    query = (
        select(Debtor.id, Debtor.account, Debtor.full_name, Debtor.address, Debtor.debt)
        .where(Debtor.organisation_id == organisation_id)
        .execution_options(yield_per=5000)
    )
    for debtor_id, account, full_name, address, debt in session.execute(query):
        candidate = Candidate(debtor_id, account, full_name, address, debt)
        normalised = normalise_account(account)
        if normalised in accounts:
            found.by_account[normalised] = candidate
        surname = candidate_key(full_name)
        if surname in surnames:
            found.by_surname.setdefault(surname, []).append(candidate)
        if street_words and not street_words.isdisjoint(_WORD.findall(fold(address))):
            building = building_key(address)
            if building in buildings:
                found.by_building.setdefault(building, []).append(candidate)
    return found


# --------------------------------------------------------------------------------------------- storing


def _candidates_json(candidates: Iterable[ScoredCandidate]) -> str:
    return json.dumps(
        [
            {
                "debtor_id": s.candidate.debtor_id,
                "account": s.candidate.account,
                "full_name": s.candidate.full_name,
                "address": s.candidate.address,
                "score": s.score,
                "notes": list(s.notes),
            }
            for s in candidates
        ],
        ensure_ascii=False,
    )


def _open_case_of(session: Session, debtor_id: int) -> LegalCase | None:
    return session.scalar(
        select(LegalCase)
        .where(LegalCase.debtor_id == debtor_id, LegalCase.stage != Stage.CLOSED.value)
        .order_by(LegalCase.id)
        .limit(1)
    )


def _link(
    session: Session,
    organisation_id: int,
    row: LegalMatchRow,
    debtor: Debtor,
    *,
    opened_on: date,
    actor: str,
    now: datetime,
) -> str:
    """Link the row to its debtor; with a case number, open the debtor's case or complete the open one.

    Returns "opened", "updated" or "". An open case gets the row's number, court and amount only where it
    has none: a different number already there (a court order's number when a bailiff's registry brings
    the enforcement number) is never overwritten, the row is flagged instead.
    """
    row.debtor_id = debtor.id
    if not row.case_number:
        return ""
    case = _open_case_of(session, debtor.id)
    if case is None:
        case = open_case(
            session,
            organisation_id,
            debtor.account,
            opened_on=opened_on,
            court=row.court,
            case_number=row.case_number,
            amount_claimed=row.amount_claimed,
            note=f"из реестра {row.source}, строка {row.row}",
            actor=actor,
            now=now,
        )
        row.case_id = case.id
        return "opened"
    row.case_id = case.id
    changed = False
    if not case.case_number:
        case.case_number, changed = row.case_number, True
    elif case.case_number != row.case_number:
        notes = json.loads(row.discrepancies)
        notes.append(f"у дела #{case.id} другой номер: {case.case_number} (в реестре {row.case_number})")
        row.discrepancies = json.dumps(notes, ensure_ascii=False)
    if row.court and not case.court:
        case.court, changed = row.court, True
    if row.amount_claimed is not None and case.amount_claimed is None:
        case.amount_claimed, changed = row.amount_claimed, True
    if changed:
        case.actor, case.updated_at = actor, now
    return "updated" if changed else ""


def _count(summary: ImportSummary, outcome: Outcome) -> None:
    if outcome is Outcome.EXACT_ACCOUNT:
        summary.exact += 1
    elif outcome is Outcome.MATCHED:
        summary.matched += 1
    elif outcome is Outcome.AMBIGUOUS:
        summary.ambiguous += 1
    else:
        summary.unmatched += 1


def _row_of(
    organisation_id: int, summary: ImportSummary, result: MatchResult, raw: dict[str, str], now: datetime
) -> LegalMatchRow:
    entry = result.entry
    best = result.chosen or (result.candidates[0] if result.candidates else None)
    return LegalMatchRow(
        organisation_id=organisation_id,
        batch=summary.batch,
        source=summary.source,
        row=entry.row,
        raw=json.dumps(raw, ensure_ascii=False),
        account=entry.account or "",
        full_name=entry.full_name,
        address=entry.address,
        amount_claimed=entry.amount_claimed,
        case_number=entry.case_number,
        court=entry.court,
        outcome=result.outcome.value,
        score=best.score if best is not None else None,
        candidates=_candidates_json(result.candidates),
        discrepancies=json.dumps(list(result.discrepancies), ensure_ascii=False),
        decided_by="",
        created_at=now,
    )


def import_court_registry(
    session: Session,
    organisation_id: int,
    path: Path,
    *,
    rules: MatchRules,
    actor: str,
    now: datetime,
    opened_on: date | None = None,
    encoding: str | None = None,
    batch: str | None = None,
) -> ImportSummary:
    """Read a court's or bailiff's registry (CSV or XLSX), match and store every row; see the module doc.

    ``opened_on`` is the date of the cases opened (default: ``now``'s date). An unknown layout raises
    :class:`ImportFileError` before anything is written; a bad row is listed in the summary and skipped.
    """
    summary = ImportSummary(batch=batch or uuid.uuid4().hex, source=path.name)
    entries = _parse_rows(path, encoding, summary)
    pool = _fetch_candidates(session, organisation_id, [e for e, _ in entries])
    day = opened_on or now.date()
    for entry, raw in entries:
        by_account, candidates = pool.for_entry(entry)
        result = match_one(entry, by_account, candidates, rules)
        _count(summary, result.outcome)
        row = _row_of(organisation_id, summary, result, raw, now)
        session.add(row)
        if result.chosen is not None:
            debtor = session.get(Debtor, result.chosen.candidate.debtor_id)
            assert debtor is not None  # fetched in this transaction
            done = _link(session, organisation_id, row, debtor, opened_on=day, actor=actor, now=now)
            summary.cases_opened += done == "opened"
            summary.cases_updated += done == "updated"
    session.flush()
    return summary


# --------------------------------------------------------------------------------------------- review


def decide_row(
    session: Session,
    organisation_id: int,
    row_id: int,
    debtor_account: str | None,
    *,
    actor: str,
    now: datetime,
    opened_on: date | None = None,
) -> LegalMatchRow:
    """The lawyer's decision on an ambiguous or unmatched row: a debtor (by account), or None for «нет в
    базе». A debtor is linked and the case opened or completed the same way as an automatic match."""
    row = session.get(LegalMatchRow, row_id)
    if row is None or row.organisation_id != organisation_id:
        raise NotFound(f"registry row #{row_id} does not exist")
    if row.decided_at is not None:
        raise Conflict(f"registry row #{row_id} was already decided by {row.decided_by or '?'}")
    if row.outcome not in _PENDING:
        raise Conflict(f"registry row #{row_id} was matched automatically ({row.outcome})")
    if debtor_account is not None:
        debtor = session.scalar(
            select(Debtor).where(
                Debtor.organisation_id == organisation_id, Debtor.account == debtor_account.strip()
            )
        )
        if debtor is None:
            raise NotFound(f"no debtor with account {debtor_account!r}")
        _link(session, organisation_id, row, debtor, opened_on=opened_on or now.date(), actor=actor, now=now)
    row.decided_by, row.decided_at = actor, now
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class PendingRow:
    id: int
    source: str
    row: int
    outcome: str
    account: str
    full_name: str
    address: str
    amount_claimed: Decimal | None
    case_number: str
    court: str
    candidates: list[dict[str, Any]]
    discrepancies: list[str]


def _listed(r: LegalMatchRow) -> PendingRow:
    return PendingRow(
        r.id,
        r.source,
        r.row,
        r.outcome,
        r.account,
        r.full_name,
        r.address,
        r.amount_claimed,
        r.case_number,
        r.court,
        json.loads(r.candidates),
        json.loads(r.discrepancies),
    )


def pending_rows(session: Session, organisation_id: int, *, limit: int = 1000) -> list[PendingRow]:
    """The ambiguous and unmatched rows no lawyer decided yet, oldest first, with their candidates."""
    rows = session.scalars(
        select(LegalMatchRow)
        .where(
            LegalMatchRow.organisation_id == organisation_id,
            LegalMatchRow.outcome.in_(_PENDING),
            LegalMatchRow.decided_at.is_(None),
        )
        .order_by(LegalMatchRow.id)
        .limit(limit)
    )
    return [_listed(r) for r in rows]


def flagged_rows(session: Session, organisation_id: int, *, limit: int = 500) -> list[PendingRow]:
    """Rows linked to a debtor (matched or decided) whose discrepancies the lawyer should look at — the
    amount claimed against the current debt, a name spelt otherwise, another case number — newest first."""
    rows = session.scalars(
        select(LegalMatchRow)
        .where(
            LegalMatchRow.organisation_id == organisation_id,
            LegalMatchRow.debtor_id.is_not(None),
            LegalMatchRow.discrepancies != "[]",
        )
        .order_by(LegalMatchRow.id.desc())
        .limit(limit)
    )
    return [_listed(r) for r in rows]


def import_uploaded_registry(
    session: Session,
    organisation_id: int,
    filename: str,
    content: bytes,
    *,
    rules: MatchRules,
    actor: str,
    now: datetime,
    opened_on: date | None = None,
) -> ImportSummary:
    """:func:`import_court_registry` for a file uploaded in the dashboard: written to a private temporary
    folder under its own name, which becomes the rows' source (the reader tells CSV from XLSX by content)."""
    name = Path(filename).name or "registry.csv"
    with tempfile.TemporaryDirectory(prefix="upravdolg-legal-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        return import_court_registry(session, organisation_id, path, rules=rules, actor=actor, now=now,
                                     opened_on=opened_on)  # fmt: skip
