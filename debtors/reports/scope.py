"""What every builder restricts its rows by: the organisation and the districts asked for."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from db.models import Debtor, Organisation
from debtors.reports.model import Report, ReportError, ReportParams, Section


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


def make_report(
    session: Session,
    organisation_id: int,
    params: ReportParams,
    *,
    name: str,
    title: str,
    sections: tuple[Section, ...],
    filters: tuple[str, ...] = (),
) -> Report:
    """A builder's sections as a report with the common header: organisation, period, generation time."""
    return Report(
        name=name,
        title=title,
        organisation=organisation_name(session, organisation_id),
        period_from=params.date_from,
        period_to=params.date_to,
        generated_at=params.generated_at,
        timezone=params.timezone,
        filters=params.filters_text(*filters),
        sections=sections,
    )
