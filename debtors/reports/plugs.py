"""«Заглушки за период»: plugs installed and removed in the period, with addresses, dates and crews, and
per-crew totals, from :class:`CrewJob`.

Definitions (the period's dates are inclusive; crew jobs carry local dates already):
- installed: install jobs whose ``installed_on`` is in the period (whatever their status now);
- removed: removal jobs done (status removed) whose ``removed_on`` is in the period, with the plug's
  install date from the install job they remove (``install_job_id``);
- in place at the end: install jobs installed on or before the last day and not removed by then.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from db.models import Crew, CrewJob, Debtor
from debtors.field_rules import JobKind, JobStatus
from debtors.reports.model import Cell, Column, ColumnKind, Report, ReportParams, Section
from debtors.reports.scope import debtor_filter, organisation_name, totals_label

NAME = "plugs"
TITLE = "Отчёт по заглушкам"
NO_CREW = "без бригады"
_INT = ColumnKind.INTEGER
_DATE = ColumnKind.DATE


def build(session: Session, organisation_id: int, params: ReportParams) -> Report:
    first, last = params.date_from, params.date_to
    scope = [CrewJob.organisation_id == organisation_id, *debtor_filter(params)]
    debtor = (Debtor.district, Debtor.address, Debtor.account, Debtor.full_name)

    installed = session.execute(
        select(CrewJob.installed_on, *debtor, Crew.name, CrewJob.removed_on)
        .join(Debtor, Debtor.id == CrewJob.debtor_id)
        .outerjoin(Crew, Crew.id == CrewJob.crew_id)
        .where(
            *scope,
            CrewJob.kind == JobKind.INSTALL.value,
            CrewJob.installed_on >= first,
            CrewJob.installed_on <= last,
        )
        .order_by(CrewJob.installed_on, Debtor.district, Debtor.address, CrewJob.id)
    ).all()
    installed_rows: list[list[Cell]] = [
        [on, d, a, acc, name, crew or NO_CREW, removed] for on, d, a, acc, name, crew, removed in installed
    ]
    installed_section = Section(
        "Установлены заглушки",
        (
            Column("Дата установки", _DATE),
            Column("Район"),
            Column("Адрес"),
            Column("Лицевой счёт"),
            Column("ФИО"),
            Column("Бригада"),
            Column("Снята", _DATE),
        ),
        installed_rows,
        [[None, totals_label(len(installed_rows)), None, None, None, None, None]],
    )

    plug = aliased(CrewJob)
    removed = session.execute(
        select(CrewJob.removed_on, *debtor, Crew.name, plug.installed_on)
        .join(Debtor, Debtor.id == CrewJob.debtor_id)
        .outerjoin(Crew, Crew.id == CrewJob.crew_id)
        .outerjoin(plug, plug.id == CrewJob.install_job_id)
        .where(
            *scope,
            CrewJob.kind == JobKind.REMOVAL.value,
            CrewJob.status == JobStatus.REMOVED.value,
            CrewJob.removed_on >= first,
            CrewJob.removed_on <= last,
        )
        .order_by(CrewJob.removed_on, Debtor.district, Debtor.address, CrewJob.id)
    ).all()
    removed_rows: list[list[Cell]] = [
        [on, d, a, acc, name, crew or NO_CREW, since, (on - since).days if on and since else None]
        for on, d, a, acc, name, crew, since in removed
    ]
    removed_section = Section(
        "Сняты заглушки",
        (
            Column("Дата снятия", _DATE),
            Column("Район"),
            Column("Адрес"),
            Column("Лицевой счёт"),
            Column("ФИО"),
            Column("Бригада"),
            Column("Установлена", _DATE),
            Column("Дней с заглушкой", _INT),
        ),
        removed_rows,
        [[None, totals_label(len(removed_rows)), None, None, None, None, None, None]],
    )

    in_place: Counter[str] = Counter(
        {
            crew or NO_CREW: count
            for crew, count in session.execute(
                select(Crew.name, func.count())
                .select_from(CrewJob)
                .join(Debtor, Debtor.id == CrewJob.debtor_id)
                .outerjoin(Crew, Crew.id == CrewJob.crew_id)
                .where(
                    *scope,
                    CrewJob.kind == JobKind.INSTALL.value,
                    CrewJob.installed_on <= last,
                    or_(CrewJob.removed_on.is_(None), CrewJob.removed_on > last),
                )
                .group_by(Crew.name)
            )
        }
    )
    put = Counter(str(row[5]) for row in installed_rows)
    taken = Counter(str(row[5]) for row in removed_rows)
    crews = sorted(set(put) | set(taken) | set(in_place))
    crew_rows: list[list[Cell]] = [[crew, put[crew], taken[crew], in_place[crew]] for crew in crews]
    crew_section = Section(
        "По бригадам",
        (
            Column("Бригада"),
            Column("Установлено", _INT),
            Column("Снято", _INT),
            Column("Стоят на конец периода", _INT),
        ),
        crew_rows,
        [["Итого", sum(put.values()), sum(taken.values()), sum(in_place.values())]],
        note="«Стоят на конец периода» — по бригаде, установившей заглушку.",
    )
    return Report(
        name=NAME,
        title=TITLE,
        organisation=organisation_name(session, organisation_id),
        period_from=first,
        period_to=last,
        generated_at=params.generated_at,
        timezone=params.timezone,
        filters=params.filters_text(),
        sections=(crew_section, installed_section, removed_section),
    )
