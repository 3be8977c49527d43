"""«Эффект контакта»: the share of debtors who paid within N days after a contact in the period, by kind of
contact, against the debtors with no contact in the period.

Definitions (the period is [start, end) in UTC from the organisation's local days; N is
``ReportParams.within_days``), kept consistent with the «Статистика» page (debtors/statistics.py):
- a contact is a call heard to the end (:class:`CallAttempt` outcome ``heard_full``, an answering machine
  never counts; at ``ended_at``, ``started_at`` when it has none), a delivered notice (:class:`Notice`
  state ``delivered``, at ``delivered_at``) or a plug installed (:class:`CrewJob` kind ``install``, on
  ``installed_on``), in the period;
- a debtor's reference date is the local date of their first contact of that kind in the period («любой
  контакт»: of any kind); they paid when a payment is dated within [reference, reference + N], both ends
  included, and the sum is those payments;
- no contact: accounts with none of the three contacts in the period that owe (debt above zero) or paid
  in the window; their reference date is the period's first day;
- a window that has not ended when the report is made counts the payments so far.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CallAttempt, CrewJob, Debtor, Notice, Payment
from debtors.reports.model import Cell, Column, ColumnKind, Report, ReportParams, Section
from debtors.reports.scope import debtor_filter, make_report

NAME = "contact"
TITLE = "Эффект контакта"
HEARD_FULL = "heard_full"  # dialer.core.retry_policy.AttemptOutcome.HEARD_FULL
DELIVERED = "delivered"  # debtors.field_rules: a notice handed over
INSTALL = "install"  # debtors.field_rules.JobKind.INSTALL
KINDS = ("Звонок прослушан до конца", "Уведомление вручено", "Установлена заглушка")
ANY = "Любой контакт"
NONE = "Без контакта в периоде"
_ZERO = Decimal("0.00")


def _first(found: dict[int, date], debtor_id: int, day: date) -> None:
    if debtor_id not in found or day < found[debtor_id]:
        found[debtor_id] = day


def build(session: Session, organisation_id: int, params: ReportParams) -> Report:
    start, end = params.bounds()
    days = params.within_days
    scope = [*debtor_filter(params)]
    calls: dict[int, date] = {}
    for debtor_id, ended_at, started_at in session.execute(
        select(CallAttempt.debtor_id, CallAttempt.ended_at, CallAttempt.started_at)
        .join(Debtor, Debtor.id == CallAttempt.debtor_id)
        .where(
            CallAttempt.organisation_id == organisation_id,
            CallAttempt.outcome == HEARD_FULL,
            # a call ends well within a day of its start: the exact test on the end is below
            CallAttempt.started_at >= start - timedelta(days=1),
            CallAttempt.started_at < end,
            *scope,
        )
    ):
        moment: datetime = ended_at or started_at  # a heard call has ended; started_at is a safeguard
        if start <= moment < end:
            _first(calls, debtor_id, params.local_day(moment))
    notices: dict[int, date] = {}
    for debtor_id, delivered_at in session.execute(
        select(Notice.debtor_id, Notice.delivered_at)
        .join(Debtor, Debtor.id == Notice.debtor_id)
        .where(
            Notice.organisation_id == organisation_id,
            Notice.state == DELIVERED,
            Notice.delivered_at >= start,
            Notice.delivered_at < end,
            *scope,
        )
    ):
        if delivered_at is not None:
            _first(notices, debtor_id, params.local_day(delivered_at))
    plugs: dict[int, date] = {}
    for debtor_id, installed_on in session.execute(
        select(CrewJob.debtor_id, CrewJob.installed_on)
        .join(Debtor, Debtor.id == CrewJob.debtor_id)
        .where(
            CrewJob.organisation_id == organisation_id,
            CrewJob.kind == INSTALL,
            CrewJob.installed_on >= params.date_from,
            CrewJob.installed_on <= params.date_to,
            *scope,
        )
    ):
        if installed_on is not None:
            _first(plugs, debtor_id, installed_on)
    anyone: dict[int, date] = {}
    for found in (calls, notices, plugs):
        for debtor_id, day in found.items():
            _first(anyone, debtor_id, day)

    # every payment that can fall in a window: from the period's first day to N days after its last
    paid: dict[int, list[tuple[date, Decimal]]] = {}
    for debtor_id, paid_on, amount in session.execute(
        select(Payment.debtor_id, Payment.paid_on, Payment.amount)
        .join(Debtor, Debtor.id == Payment.debtor_id)
        .where(
            Payment.organisation_id == organisation_id,
            Payment.paid_on >= params.date_from,
            Payment.paid_on <= params.date_to + timedelta(days=days),
            *scope,
        )
    ):
        paid.setdefault(debtor_id, []).append((paid_on, amount))

    def inside(debtor_id: int, reference: date) -> Decimal | None:
        last = reference + timedelta(days=days)
        amounts = [a for on, a in paid.get(debtor_id, ()) if reference <= on <= last]
        return sum(amounts, _ZERO) if amounts else None

    def row(label: str, group: dict[int, date]) -> list[Cell]:
        sums = [s for s in (inside(d, ref) for d, ref in group.items()) if s is not None]
        share = len(sums) / len(group) if group else None
        return [label, len(group), len(sums), share, sum(sums, _ZERO)]

    owing = set(
        session.scalars(
            select(Debtor.id).where(Debtor.organisation_id == organisation_id, Debtor.debt > 0, *scope)
        )
    )
    owing |= {d for d in paid if inside(d, params.date_from) is not None}
    silent = {d: params.date_from for d in owing if d not in anyone}
    silent_row = row(NONE, silent)
    any_row = row(ANY, anyone)
    rows: list[list[Cell]] = [
        row(label, group) for label, group in zip(KINDS, (calls, notices, plugs), strict=True)
    ]
    rows += [any_row, silent_row]
    both = {**silent, **anyone}
    totals = row("Итого", both)
    section = Section(
        "Оплаты после контакта",
        (
            Column("Вид контакта"),
            Column("Должников", ColumnKind.INTEGER),
            Column(f"Оплатили в течение {days} дн.", ColumnKind.INTEGER),
            Column("Доля оплативших", ColumnKind.PERCENT),
            Column("Сумма оплат, руб.", ColumnKind.MONEY),
        ),
        rows,
        [totals],
        note=(
            f"Оплата в течение {days} дн. со дня первого контакта (включительно); у должников без контакта — "
            "с первого дня периода. Должник с контактами разных видов учтён в каждой строке своего вида "
            "и один раз в строке «Любой контакт»."
        ),
    )
    return make_report(
        session,
        organisation_id,
        params,
        name=NAME,
        title=TITLE,
        sections=(section,),
        filters=(f"срок оплаты: {days} дн.",),
    )
