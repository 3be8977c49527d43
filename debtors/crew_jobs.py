"""Restriction crews («Монтажные работы»): candidates by the rules' clock (debtors/field_rules.py), crew
jobs that may never be planned before the rules allow, the crew's reports, and what paying off the debt
does (planned jobs cancelled, an installed plug gets a removal job)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased

from db.models import Crew, CrewJob, Debtor, Notice
from debtors.field_facts import load_field_facts
from debtors.field_reports import Conflict, NotFound
from debtors.field_rules import (
    JOB_OUTCOMES,
    JOB_STATUS_LABELS,
    JobFact,
    JobKind,
    JobStatus,
    NoticeState,
    RestrictionClock,
    RestrictionRules,
    paid_off_plan,
    restriction_clock,
)
from debtors.notices import cancel_open_notices
from debtors.statuses import Status

BATCH = 2000


def add_crew(session: Session, organisation_id: int, name: str, *, now: datetime) -> Crew:
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise Conflict("a crew needs a name of 1 to 200 characters")
    if session.scalar(select(Crew.id).where(Crew.organisation_id == organisation_id, Crew.name == name)):
        raise Conflict(f"crew {name!r} already exists")
    crew = Crew(organisation_id=organisation_id, name=name, created_at=now)
    session.add(crew)
    session.flush()
    return crew


def list_crews(session: Session, organisation_id: int) -> list[Crew]:
    return list(
        session.scalars(select(Crew).where(Crew.organisation_id == organisation_id).order_by(Crew.name))
    )


def find_crew(session: Session, organisation_id: int, name: str) -> Crew:
    crew = session.scalar(
        select(Crew).where(Crew.organisation_id == organisation_id, Crew.name == " ".join(name.split()))
    )
    if crew is None:
        raise NotFound(f"no crew named {name!r}", hint="add it with `upravdolg crews add NAME`")
    return crew


def debtor_by_account(session: Session, organisation_id: int, account: str) -> Debtor:
    debtor = session.scalar(
        select(Debtor).where(Debtor.organisation_id == organisation_id, Debtor.account == account.strip())
    )
    if debtor is None:
        raise NotFound(f"no debtor with account {account!r}")
    return debtor


@dataclass(frozen=True, slots=True)
class Candidate:
    debtor_id: int
    account: str
    full_name: str
    address: str
    debt: Decimal
    clock: RestrictionClock


def restriction_candidates(
    session: Session, organisation_id: int, *, timezone: str, rules: RestrictionRules, limit: int = 1000
) -> list[Candidate]:
    """Debtors the rules make restriction candidates (without a planned job), earliest allowed first; the
    clock tells from when a crew may be sent."""
    delivered = (
        select(Notice.debtor_id)
        .where(Notice.organisation_id == organisation_id, Notice.state == NoticeState.DELIVERED.value)
        .group_by(Notice.debtor_id)
        .having(func.count() >= rules.min_notices_delivered)
    )
    ids = list(
        session.scalars(
            select(Debtor.id).where(
                Debtor.organisation_id == organisation_id,
                Debtor.status == Status.ACTIVE.value,
                Debtor.debt >= rules.min_debt,
                Debtor.id.in_(delivered),
            )
        )
    )
    found: list[Candidate] = []
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        facts = load_field_facts(session, organisation_id, batch, timezone)
        rows = {
            r.id: r
            for r in session.execute(
                select(Debtor.id, Debtor.account, Debtor.full_name, Debtor.address, Debtor.debt).where(
                    Debtor.id.in_(batch)
                )
            )
        }
        for debtor_id in batch:
            fact = facts[debtor_id]
            clock = restriction_clock(fact, rules)
            if clock.allowed_from is None or fact.open_install_job:
                continue
            r = rows[debtor_id]
            found.append(Candidate(debtor_id, r.account, r.full_name, r.address, r.debt, clock))
    found.sort(key=lambda c: (c.clock.allowed_from or date.max, c.account))
    return found[:limit]


def clock_for(
    session: Session, organisation_id: int, debtor_id: int, *, timezone: str, rules: RestrictionRules
) -> RestrictionClock:
    return restriction_clock(
        load_field_facts(session, organisation_id, [debtor_id], timezone)[debtor_id], rules
    )


def plan_install(
    session: Session,
    organisation_id: int,
    account: str,
    *,
    crew: str | None,
    planned_on: date,
    note: str = "",
    timezone: str,
    rules: RestrictionRules,
    actor: str,
    now: datetime,
) -> CrewJob:
    """Plan a plug for a debtor; refused (with the clock's reason) before the rules allow it."""
    debtor = debtor_by_account(session, organisation_id, account)
    facts = load_field_facts(session, organisation_id, [debtor.id], timezone)[debtor.id]
    if facts.open_install_job:
        raise Conflict(f"account {debtor.account}: an install job is already planned")
    clock = restriction_clock(facts, rules)
    if not clock.allows(planned_on):
        raise Conflict(
            f"account {debtor.account}: a plug cannot be planned for {planned_on:%d.%m.%Y}: {clock.reason}",
            hint="plan it on or after the date the rules allow" if clock.allowed_from else None,
        )
    job = CrewJob(
        organisation_id=organisation_id,
        debtor_id=debtor.id,
        kind=JobKind.INSTALL.value,
        crew_id=find_crew(session, organisation_id, crew).id if crew else None,
        status=JobStatus.PLANNED.value,
        planned_on=planned_on,
        note=note,
        reason=clock.reason,
        actor=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def report_job(
    session: Session,
    organisation_id: int,
    job_id: int,
    status: JobStatus,
    *,
    on: date,
    note: str = "",
    crew: str | None = None,
    planned_on: date | None = None,
    timezone: str,
    rules: RestrictionRules,
    actor: str,
    now: datetime,
) -> CrewJob:
    """Record what happened to a job: installed / removed / no access / cancelled, or re-plan a job that
    found no access (status planned with a new date)."""
    job = session.get(CrewJob, job_id)
    if job is None or job.organisation_id != organisation_id:
        raise NotFound(f"crew job #{job_id} does not exist")
    if status is JobStatus.PLANNED:
        _replan(session, job, planned_on or on, timezone=timezone, rules=rules)
    else:
        _finish(session, job, status, on, timezone=timezone, rules=rules, now=now)
    job.status = status.value
    if crew:
        job.crew_id = find_crew(session, organisation_id, crew).id
    if note:
        job.note = f"{job.note}\n{note}".strip()
    job.actor = actor
    job.updated_at = now
    session.flush()
    return job


def _replan(session: Session, job: CrewJob, day: date, *, timezone: str, rules: RestrictionRules) -> None:
    current = JobStatus(job.status)
    if current not in (JobStatus.NO_ACCESS, JobStatus.PLANNED):
        raise Conflict(f"job #{job.id} is {JOB_STATUS_LABELS[current]}: it cannot be planned again")
    if job.kind == JobKind.INSTALL.value:
        clock = clock_for(session, job.organisation_id, job.debtor_id, timezone=timezone, rules=rules)
        if not clock.allows(day):
            raise Conflict(f"job #{job.id}: not on {day:%d.%m.%Y}: {clock.reason}")
    job.planned_on = day


def _finish(
    session: Session,
    job: CrewJob,
    status: JobStatus,
    on: date,
    *,
    timezone: str,
    rules: RestrictionRules,
    now: datetime,
) -> None:
    kind, current = JobKind(job.kind), JobStatus(job.status)
    if current is JobStatus.NO_ACCESS and status is JobStatus.CANCELLED:
        pass  # a visit that found no access may be given up
    elif current is not JobStatus.PLANNED:
        raise Conflict(f"job #{job.id} is {JOB_STATUS_LABELS[current]}, not planned")
    if status not in JOB_OUTCOMES[kind]:
        raise Conflict(f"a {kind.value} job ends as one of: {', '.join(s.value for s in JOB_OUTCOMES[kind])}")
    if status is JobStatus.INSTALLED:
        clock = clock_for(session, job.organisation_id, job.debtor_id, timezone=timezone, rules=rules)
        if not clock.allows(on):
            raise Conflict(f"job #{job.id}: a plug may not be installed on {on:%d.%m.%Y}: {clock.reason}")
        job.installed_on = on
    if status is JobStatus.REMOVED:
        job.removed_on = on
        plug = session.get(CrewJob, job.install_job_id) if job.install_job_id is not None else None
        if plug is not None and plug.status == JobStatus.INSTALLED.value:
            plug.status = JobStatus.REMOVED.value
            plug.removed_on = on
            plug.updated_at = now


def on_paid_off(
    session: Session,
    organisation_id: int,
    debtor_ids: Sequence[int],
    *,
    today: date,
    now: datetime,
    reason: str,
    actor: str,
) -> None:
    """The debt is paid off: open notices and planned installs are cancelled; installed plugs get a
    removal job (../shared/DOMAIN.md: «ДОЛГ ПОГАШЕН» cancels everything queued)."""
    ids = list(debtor_ids)
    if not ids:
        return
    cancel_open_notices(session, organisation_id, ids, now=now, reason=reason)
    for start in range(0, len(ids), BATCH):
        jobs = list(session.scalars(select(CrewJob).where(CrewJob.debtor_id.in_(ids[start : start + BATCH]))))
        by_debtor: dict[int, list[CrewJob]] = {}
        for job in jobs:
            by_debtor.setdefault(job.debtor_id, []).append(job)
        for debtor_id, own in by_debtor.items():
            plan = paid_off_plan([JobFact(j.id, JobKind(j.kind), JobStatus(j.status)) for j in own])
            cancel = set(plan.cancel_jobs)
            for job in own:
                if job.id in cancel:
                    job.status = JobStatus.CANCELLED.value
                    job.note = f"{job.note}\nотменено: {reason}".strip()
                    job.actor = actor
                    job.updated_at = now
            for install_id in plan.remove_plugs_of:
                plug = next(j for j in own if j.id == install_id)
                session.add(
                    CrewJob(
                        organisation_id=organisation_id,
                        debtor_id=debtor_id,
                        kind=JobKind.REMOVAL.value,
                        crew_id=plug.crew_id,
                        status=JobStatus.PLANNED.value,
                        planned_on=today,
                        reason=reason,
                        install_job_id=plug.id,
                        actor=actor,
                        created_at=now,
                        updated_at=now,
                    )
                )
    session.flush()


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    kind: str
    status: str
    planned_on: date
    installed_on: date | None
    removed_on: date | None
    crew: str
    account: str
    full_name: str
    address: str
    debt: Decimal
    note: str
    reason: str


def jobs_board(
    session: Session,
    organisation_id: int,
    *,
    statuses: Sequence[JobStatus] = (),
    kinds: Sequence[JobKind] = (),
    limit: int = 500,
) -> list[JobRow]:
    """Crew jobs, planned first by date, then the rest newest first."""
    crew = aliased(Crew)
    query = (
        select(CrewJob, crew.name, Debtor.account, Debtor.full_name, Debtor.address, Debtor.debt)
        .join(Debtor, Debtor.id == CrewJob.debtor_id)
        .outerjoin(crew, crew.id == CrewJob.crew_id)
        .where(CrewJob.organisation_id == organisation_id)
    )
    if statuses:
        query = query.where(CrewJob.status.in_([s.value for s in statuses]))
    if kinds:
        query = query.where(CrewJob.kind.in_([k.value for k in kinds]))
    query = query.order_by(
        (CrewJob.status != JobStatus.PLANNED.value), CrewJob.planned_on, CrewJob.id.desc()
    ).limit(limit)
    return [
        JobRow(
            job.id,
            job.kind,
            job.status,
            job.planned_on,
            job.installed_on,
            job.removed_on,
            crew_name or "",
            account,
            full_name,
            address,
            debt,
            job.note,
            job.reason,
        )
        for job, crew_name, account, full_name, address, debt in session.execute(query)
    ]


@dataclass(frozen=True, slots=True)
class PlugCounts:
    installed: int
    removed: int
    in_place: int  # installed and not removed, now
    planned: int


def plug_counts(session: Session, organisation_id: int, start: date, end: date) -> PlugCounts:
    """Plugs installed and removed between ``start`` and ``end`` (inclusive), and the current state."""

    def count(*where: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(CrewJob).where(CrewJob.organisation_id == organisation_id)
        return int(session.scalar(query.where(*where)) or 0)

    install = CrewJob.kind == JobKind.INSTALL.value
    return PlugCounts(
        installed=count(install, CrewJob.installed_on >= start, CrewJob.installed_on <= end),
        removed=count(install, CrewJob.removed_on >= start, CrewJob.removed_on <= end),
        in_place=count(install, CrewJob.status == JobStatus.INSTALLED.value),
        planned=count(CrewJob.status == JobStatus.PLANNED.value),
    )


def debtor_measures(session: Session, debtor_ids: Sequence[int]) -> dict[int, list[str]]:
    """The status column's measures from crew jobs: «заглушка установлена 12.12.2026» and the like."""
    found: dict[int, list[str]] = {}
    if not debtor_ids:
        return found
    for debtor_id, status, planned_on, installed_on, removed_on in session.execute(
        select(
            CrewJob.debtor_id, CrewJob.status, CrewJob.planned_on, CrewJob.installed_on, CrewJob.removed_on
        )
        .where(CrewJob.debtor_id.in_(list(debtor_ids)), CrewJob.kind == JobKind.INSTALL.value)
        .order_by(CrewJob.id)
    ):
        if status == JobStatus.INSTALLED.value and installed_on:
            text = f"заглушка установлена {installed_on:%d.%m.%Y}"
        elif status == JobStatus.REMOVED.value and removed_on:
            text = f"заглушка снята {removed_on:%d.%m.%Y}"
        elif status == JobStatus.PLANNED.value:
            text = f"заглушка запланирована на {planned_on:%d.%m.%Y}"
        else:
            continue
        found.setdefault(debtor_id, []).append(text)
    return found
