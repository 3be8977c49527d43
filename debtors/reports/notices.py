"""«Уведомления за период»: notices created, delivered (by kind, by method, by courier) and those still
undelivered at the period's end, from :class:`Notice` and :class:`NoticeDelivery`.

Definitions (the period is [start, end) in UTC from the organisation's local days):
- created: ``Notice.created_at`` in the period; delivered: ``Notice.delivered_at`` in the period (by the
  notice's last reported method); cancelled: ``Notice.cancelled_at`` in the period;
- courier reports (visits): :class:`NoticeDelivery` rows whose ``at`` is in the period, «никого нет
  дома» included; issued to a courier: ``Notice.assigned_at`` in the period, counted for the notice's
  current courier (a re-assigned notice counts for the last one);
- undelivered at the end: created before the end and neither delivered nor cancelled before it.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import QueryableAttribute, Session

from db.models import Courier, Debtor, Notice, NoticeDelivery
from debtors.field_rules import METHOD_LABELS, NOTICE_KIND_LABELS, DeliveryMethod, NoticeKind
from debtors.reports.model import Cell, Column, ColumnKind, Report, ReportParams, Section
from debtors.reports.scope import debtor_filter, make_report, totals_label

NAME = "notices"
TITLE = "Отчёт по уведомлениям"
_INT = ColumnKind.INTEGER


def _in(column: QueryableAttribute[Any], start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def build(session: Session, organisation_id: int, params: ReportParams) -> Report:
    start, end = params.bounds()
    scope = [Notice.organisation_id == organisation_id, *debtor_filter(params)]

    def counted(key: QueryableAttribute[Any], *where: ColumnElement[bool]) -> Counter[str]:
        query = (
            select(key, func.count())
            .select_from(Notice)
            .join(Debtor, Debtor.id == Notice.debtor_id)
            .where(*scope, *where)
            .group_by(key)
        )
        return Counter({k: n for k, n in session.execute(query) if k is not None})

    open_at_end = and_(
        Notice.created_at < end,
        or_(Notice.delivered_at.is_(None), Notice.delivered_at >= end),
        or_(Notice.cancelled_at.is_(None), Notice.cancelled_at >= end),
    )
    created = counted(Notice.kind, _in(Notice.created_at, start, end))
    delivered = counted(Notice.kind, _in(Notice.delivered_at, start, end))
    cancelled = counted(Notice.kind, _in(Notice.cancelled_at, start, end))
    undelivered = counted(Notice.kind, open_at_end)
    kinds: list[list[Cell]] = [
        [
            NOTICE_KIND_LABELS[k],
            created[k.value],
            delivered[k.value],
            cancelled[k.value],
            undelivered[k.value],
        ]
        for k in NoticeKind
    ]
    by_kind = Section(
        "По видам уведомлений",
        (
            Column("Вид уведомления"),
            Column("Создано", _INT),
            Column("Вручено", _INT),
            Column("Отменено", _INT),
            Column("Не вручено на конец периода", _INT),
        ),
        kinds,
        [["Итого", *(sum(c.values()) for c in (created, delivered, cancelled, undelivered))]],
    )

    by_method_delivered = counted(Notice.method, _in(Notice.delivered_at, start, end))
    reports: Counter[str] = Counter(
        {
            method: count
            for method, count in session.execute(
                select(NoticeDelivery.method, func.count())
                .join(Notice, Notice.id == NoticeDelivery.notice_id)
                .join(Debtor, Debtor.id == Notice.debtor_id)
                .where(*scope, _in(NoticeDelivery.at, start, end))
                .group_by(NoticeDelivery.method)
            )
        }
    )
    methods: list[list[Cell]] = [
        [METHOD_LABELS[m], by_method_delivered[m.value], reports[m.value]] for m in DeliveryMethod
    ]
    by_method = Section(
        "По способам вручения",
        (Column("Способ"), Column("Вручено уведомлений", _INT), Column("Отчётов курьеров", _INT)),
        methods,
        [["Итого", sum(by_method_delivered.values()), sum(reports.values())]],
        note="«Никого нет дома» — визит без вручения: он есть в отчётах курьеров, но не во вручённых.",
    )

    names = dict(
        session.execute(
            select(Courier.id, Courier.name).where(Courier.organisation_id == organisation_id)
        ).all()
    )

    def per_courier(column: QueryableAttribute[Any]) -> Counter[int]:
        query = (
            select(Notice.courier_id, func.count())
            .join(Debtor, Debtor.id == Notice.debtor_id)
            .where(*scope, Notice.courier_id.is_not(None), _in(column, start, end))
            .group_by(Notice.courier_id)
        )
        return Counter({cid: n for cid, n in session.execute(query) if cid is not None})

    issued, handed = per_courier(Notice.assigned_at), per_courier(Notice.delivered_at)
    visits: Counter[int] = Counter(
        {
            cid: n
            for cid, n in session.execute(
                select(NoticeDelivery.courier_id, func.count())
                .join(Notice, Notice.id == NoticeDelivery.notice_id)
                .join(Debtor, Debtor.id == Notice.debtor_id)
                .where(*scope, _in(NoticeDelivery.at, start, end))
                .group_by(NoticeDelivery.courier_id)
            )
        }
    )
    active = sorted(set(issued) | set(handed) | set(visits), key=lambda cid: names.get(cid, ""))
    couriers: list[list[Cell]] = [
        [names.get(cid, f"#{cid}"), issued[cid], handed[cid], visits[cid]] for cid in active
    ]
    by_courier = Section(
        "По курьерам",
        (
            Column("Курьер"),
            Column("Выдано курьеру", _INT),
            Column("Вручено", _INT),
            Column("Визитов (отчётов)", _INT),
        ),
        couriers,
        [["Итого", sum(issued.values()), sum(handed.values()), sum(visits.values())]],
    )

    open_rows = session.execute(
        select(
            Debtor.district,
            Debtor.address,
            Debtor.account,
            Debtor.full_name,
            Notice.kind,
            Notice.created_at,
            Courier.name,
            Notice.debt,
        )
        .join(Debtor, Debtor.id == Notice.debtor_id)
        .outerjoin(Courier, Courier.id == Notice.courier_id)
        .where(*scope, open_at_end)
        .order_by(Debtor.district, Debtor.address, Notice.id)
    ).all()
    listed: list[list[Cell]] = [
        [
            district,
            address,
            account,
            full_name,
            NOTICE_KIND_LABELS.get(NoticeKind(kind), kind),
            params.local_day(created_at),
            courier or "не выдано",
            debt,
        ]
        for district, address, account, full_name, kind, created_at, courier, debt in open_rows
    ]
    undelivered_list = Section(
        "Не вручены на конец периода",
        (
            Column("Район"),
            Column("Адрес"),
            Column("Лицевой счёт"),
            Column("ФИО"),
            Column("Вид"),
            Column("Создано", ColumnKind.DATE),
            Column("Курьер"),
            Column("Долг, руб.", ColumnKind.MONEY),
        ),
        listed,
        [
            [
                totals_label(len(listed)),
                None,
                None,
                None,
                None,
                None,
                None,
                sum((r[7] for r in open_rows), Decimal("0.00")),
            ]
        ],
    )
    return make_report(
        session,
        organisation_id,
        params,
        name=NAME,
        title=TITLE,
        sections=(by_kind, by_method, by_courier, undelivered_list),
    )
