"""Import of a payments registry (account, date, amount, optional reference).

The same payment line (account, date, amount, reference) imported twice — from the same file or from an
overlapping one — is stored once and counted as ``unchanged``. After the payments are stored, each affected
debtor's current debt is recomputed (newest snapshot minus the payments dated after it) and its status
re-decided: a debt at or below the tolerance becomes «ДОЛГ ПОГАШЕН».
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Table, bindparam, func, select, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from db.bulk import bulk_insert, value_form
from db.models import Debtor, DebtSnapshot, Payment
from debtors.amounts import AmountError, parse_amount
from debtors.dates import DateError, parse_date
from debtors.headers import PAYMENT_REQUIRED, PAYMENT_VARIANTS, HeaderError, map_headers
from debtors.import_runs import (
    ImportReport,
    RejectsWriter,
    RowError,
    file_sha256,
    finish_import,
    parsed_chunks,
    previous_import,
    reject_row,
    rejects_path,
    start_import,
)
from debtors.readers import ImportFileError, open_table
from debtors.status_service import refresh_statuses
from debtors.statuses import StatusRules, current_debt

CHUNK_ROWS = 5000
RECOMPUTE_BATCH = 2000
PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class PaymentRow:
    row: int
    account: str
    paid_on: date
    amount: Decimal
    reference: str


def parse_payment(
    values: Sequence[str], mapping: Mapping[str, int], row: int, today: date
) -> PaymentRow | list[RowError]:
    def cell(name: str) -> str:
        index = mapping.get(name)
        return values[index].strip() if index is not None and index < len(values) else ""

    errors = []
    account = cell("account")
    if not account:
        errors.append(RowError(row, "account", "", "the account number (лицевой счёт) is empty"))
    paid_on = today
    try:
        paid_on = parse_date(cell("paid_on"))
        if paid_on > today:
            errors.append(RowError(row, "paid_on", cell("paid_on"), "a payment date cannot be in the future"))
    except DateError as exc:
        errors.append(RowError(row, "paid_on", cell("paid_on"), str(exc)))
    amount = Decimal(0)
    try:
        amount = parse_amount(cell("amount"))
        if amount <= 0:
            errors.append(RowError(row, "amount", cell("amount"), "a payment must be more than 0"))
    except AmountError as exc:
        errors.append(RowError(row, "amount", cell("amount"), str(exc)))
    if errors:
        return errors
    return PaymentRow(row, account, paid_on, amount, cell("reference")[:100])


def recompute_debts(session: Session, debtor_ids: Sequence[int]) -> None:
    """debt = the newest snapshot − payments dated after it, for each of ``debtor_ids``."""
    for start in range(0, len(debtor_ids), RECOMPUTE_BATCH):
        ids = list(debtor_ids[start : start + RECOMPUTE_BATCH])
        latest = (
            select(DebtSnapshot.debtor_id, func.max(DebtSnapshot.as_of).label("as_of"))
            .where(DebtSnapshot.debtor_id.in_(ids))
            .group_by(DebtSnapshot.debtor_id)
            .subquery()
        )
        snapshots = session.execute(
            select(DebtSnapshot.debtor_id, DebtSnapshot.as_of, DebtSnapshot.amount).join(
                latest,
                (latest.c.debtor_id == DebtSnapshot.debtor_id) & (latest.c.as_of == DebtSnapshot.as_of),
            )
        ).all()
        payments: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
        for debtor_id, paid_on, amount in session.execute(
            select(Payment.debtor_id, Payment.paid_on, Payment.amount).where(Payment.debtor_id.in_(ids))
        ):
            payments[debtor_id].append((paid_on, amount))
        updates = [
            {"b_id": debtor_id, "b_debt": current_debt(amount, as_of, payments[debtor_id])}
            for debtor_id, as_of, amount in snapshots
        ]
        if updates:
            session.execute(
                update(DEBTORS).where(DEBTORS.c.id == bindparam("b_id")).values(debt=bindparam("b_debt")),
                updates,
            )


def import_payments(
    sessions: sessionmaker[Session],
    organisation_id: int,
    path: Path,
    *,
    now: datetime,
    encoding: str | None = None,
    mapping: dict[str, str] | None = None,
    rules: StatusRules | None = None,
    actor: str = "cli",
) -> ImportReport:
    started = time.perf_counter()
    rules = rules or StatusRules()
    sha256 = file_sha256(path) if path.is_file() else ""
    with sessions() as session:
        earlier = previous_import(session, organisation_id, "payments", sha256) if sha256 else None
    if earlier is not None:
        return ImportReport(
            already_imported=earlier.id,
            file_format=earlier.file_format,
            encoding=earlier.encoding,
            seconds=time.perf_counter() - started,
        )
    with open_table(path, encoding) as table:
        try:
            columns = map_headers(table.headers, mapping, PAYMENT_VARIANTS, PAYMENT_REQUIRED)
        except HeaderError as exc:
            raise ImportFileError(f"{path}: {exc}") from None
        report = ImportReport(file_format=table.file_format, encoding=table.encoding)
        rejects = RejectsWriter(rejects_path(path))

        def reject(errors: list[RowError]) -> None:
            reject_row(report, rejects, errors)

        try:
            with sessions.begin() as session:
                record = start_import(
                    session,
                    organisation_id,
                    kind="payments",
                    path=path,
                    sha256=sha256,
                    file_format=table.file_format,
                    encoding=table.encoding,
                    as_of=None,
                    actor=actor,
                    now=now,
                )
                touched: set[int] = set()
                chunks = parsed_chunks(
                    table.rows,
                    lambda values, number: parse_payment(values, columns, number, now.date()),
                    report=report,
                    rejects=rejects,
                    size=CHUNK_ROWS,
                )
                for chunk in chunks:
                    touched |= _write_chunk(
                        session,
                        organisation_id,
                        chunk,
                        import_id=record.id,
                        now=now,
                        report=report,
                        reject=reject,
                    )
                ids = sorted(touched)
                recompute_debts(session, ids)
                refresh_statuses(
                    session,
                    organisation_id,
                    ids,
                    today=now.date(),
                    now=now,
                    rules=rules,
                    actor=actor,
                    trigger=f"реестр платежей №{record.id} ({path.name})",
                )
                finish_import(record, report, now)
                report.import_id = record.id
        finally:
            report.rejects_file = rejects.close()
    report.sort_errors()
    report.seconds = time.perf_counter() - started
    return report


def _write_chunk(
    session: Session,
    organisation_id: int,
    rows: list[PaymentRow],
    *,
    import_id: int,
    now: datetime,
    report: ImportReport,
    reject: Callable[[list[RowError]], None],
) -> set[int]:
    if not rows:
        return set()
    accounts = sorted({r.account for r in rows})
    debtor_ids = dict(
        session.execute(
            select(Debtor.account, Debtor.id).where(
                Debtor.organisation_id == organisation_id, Debtor.account.in_(accounts)
            )
        ).all()
    )
    known = [(r, debtor_ids[r.account]) for r in rows if r.account in debtor_ids]
    for row in rows:
        if row.account not in debtor_ids:
            reject([RowError(row.row, "account", row.account, "no debtor with this account in the registry")])
    existing = set()
    if known:
        keys = [(debtor_id, r.paid_on, r.amount, r.reference) for r, debtor_id in known]
        existing = {
            (d, p, Decimal(a), ref)
            for d, p, a, ref in session.execute(
                select(Payment.debtor_id, Payment.paid_on, Payment.amount, Payment.reference).where(
                    Payment.organisation_id == organisation_id,
                    tuple_(Payment.debtor_id, Payment.paid_on, Payment.amount, Payment.reference).in_(keys),
                )
            )
        }
    new_rows = []
    touched = set()
    form = value_form(session.connection())
    created = form.timestamp(now)
    for row, debtor_id in known:
        key = (debtor_id, row.paid_on, row.amount, row.reference)
        if key in existing:
            report.unchanged += 1  # the same payment line again: not counted twice
            continue
        existing.add(key)
        new_rows.append(
            (
                organisation_id,
                debtor_id,
                import_id,
                form.day(row.paid_on),
                form.money(row.amount),
                row.reference,
                created,
            )
        )
        touched.add(debtor_id)
    bulk_insert(
        session.connection(),
        PAYMENTS,
        ("organisation_id", "debtor_id", "import_id", "paid_on", "amount", "reference", "created_at"),
        new_rows,
    )
    report.imported += len(new_rows)
    return touched
