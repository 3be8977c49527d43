"""The reports there are: a name (the CLI's, the dashboard's, the monthly run's) → its builder
``build(session, organisation_id, params) -> Report``. A new report is a module with ``NAME``, ``TITLE``
and ``build``, listed here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from debtors.reports import calls, contact, debt, notices, payments, plugs
from debtors.reports.model import Report, ReportError, ReportParams

Builder = Callable[[Session, int, ReportParams], Report]


@dataclass(frozen=True, slots=True)
class ReportDefinition:
    name: str
    title: str  # Russian
    build: Builder


REPORTS: dict[str, ReportDefinition] = {
    d.name: d
    for d in (
        ReportDefinition(notices.NAME, notices.TITLE, notices.build),
        ReportDefinition(plugs.NAME, plugs.TITLE, plugs.build),
        ReportDefinition(calls.NAME, calls.TITLE, calls.build),
        ReportDefinition(debt.NAME, debt.TITLE, debt.build),
        ReportDefinition(payments.NAME, payments.TITLE, payments.build),
        ReportDefinition(contact.NAME, contact.TITLE, contact.build),
    )
}


def report_names() -> list[str]:
    return sorted(REPORTS)


def definition(name: str) -> ReportDefinition:
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportError(f"unknown report {name!r}", hint=f"one of: {', '.join(report_names())}") from None


def build_report(session: Session, organisation_id: int, name: str, params: ReportParams) -> Report:
    return definition(name).build(session, organisation_id, params)
