"""What every builder restricts its rows by: the organisation and the districts asked for."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from db.models import Debtor, Organisation
from debtors.reports.model import ReportError, ReportParams


def organisation_name(session: Session, organisation_id: int) -> str:
    name = session.scalar(select(Organisation.name).where(Organisation.id == organisation_id))
    if name is None:
        raise ReportError(f"organisation #{organisation_id} does not exist")
    return name


def debtor_filter(params: ReportParams) -> list[ColumnElement[bool]]:
    """The districts filter, on the debtor the row belongs to (join :class:`Debtor` first)."""
    return [Debtor.district.in_(params.districts)] if params.districts else []


def totals_label(count: int) -> str:
    return f"Итого: {count}"
