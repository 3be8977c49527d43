"""«Обзвон за период»: call attempts by day, by campaign and by outcome, from :class:`CallAttempt`.

Definitions (the period is [start, end) in UTC from the organisation's local days; a day is the local
day the call started):
- an attempt is a dialled call: ``started_at`` in the period, state other than ``not_placed`` (an
  Originate Asterisk refused was never dialled and costs nothing);
- answered: ``answered_at`` is set; heard to the end: outcome ``heard_full`` (an answering machine is its
  own outcome and never counts); the heard-to-the-end rate is heard to the end / answered;
- the average heard time is over the calls that heard some of the message (``heard_ms`` > 0), as on the
  calling panel (db/campaign_figures.py);
- the cost is attempts × the price per attempt given with the report (0 unless given).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CallAttempt, Campaign, Debtor
from debtors.reports.model import Cell, Column, ColumnKind, Report, ReportError, ReportParams, Section
from debtors.reports.scope import debtor_filter, make_report

NAME = "calls"
TITLE = "Отчёт по обзвону"
HEARD_FULL = "heard_full"  # dialer.core.retry_policy.AttemptOutcome.HEARD_FULL
NOT_PLACED = "not_placed"  # dialer.campaign_store: an Originate that was refused
OUTCOME_LABELS = {
    "heard_full": "прослушал до конца",
    "partial": "прослушал частично",
    "busy": "занято",
    "no_answer": "не ответил",
    "congestion": "перегрузка сети",
    "failed": "ошибка",
    "machine": "автоответчик",
    "invalid_number": "неверный номер",
    "lost": "потерян (сбой)",
}
IN_PROGRESS = "без исхода (звонок идёт)"
NO_CAMPAIGN = "вне кампаний (проверочные)"


@dataclass(slots=True)
class _Tally:
    attempts: int = 0
    answered: int = 0
    heard_full: int = 0
    listened: int = 0
    heard_ms: int = 0

    def add(self, answered: bool, outcome: str | None, heard_ms: int | None) -> None:
        self.attempts += 1
        self.answered += answered
        self.heard_full += outcome == HEARD_FULL
        if heard_ms:
            self.listened += 1
            self.heard_ms += heard_ms

    def cells(self, price: Decimal) -> list[Cell]:
        rate = self.heard_full / self.answered if self.answered else None
        average = Decimal(self.heard_ms) / self.listened / 1000 if self.listened else None
        return [self.attempts, self.answered, self.heard_full, rate, average, price * self.attempts]


_FIGURES = (
    Column("Попыток", ColumnKind.INTEGER),
    Column("Отвечено", ColumnKind.INTEGER),
    Column("Прослушали до конца", ColumnKind.INTEGER),
    Column("Доля до конца от отвеченных", ColumnKind.PERCENT),
    Column("Среднее прослушивание, с", ColumnKind.DECIMAL, places=1),
    Column("Стоимость, руб.", ColumnKind.MONEY),
)


def build(session: Session, organisation_id: int, params: ReportParams) -> Report:
    start, end = params.bounds()
    where = [
        CallAttempt.organisation_id == organisation_id,
        CallAttempt.started_at >= start,
        CallAttempt.started_at < end,
        CallAttempt.state != NOT_PLACED,
        *debtor_filter(params),
    ]
    campaigns = dict(
        session.execute(
            select(Campaign.id, Campaign.name).where(Campaign.organisation_id == organisation_id)
        ).all()
    )
    if params.campaign is not None:
        chosen = [cid for cid, name in campaigns.items() if name == params.campaign]
        if not chosen:
            raise ReportError(f"campaign {params.campaign!r} does not exist")
        where.append(CallAttempt.campaign_id == chosen[0])
    price = params.price_per_attempt

    total = _Tally()
    by_day: dict[date, _Tally] = {}
    by_campaign: dict[str, _Tally] = {}
    by_outcome: dict[str, int] = {}
    query = (
        select(
            CallAttempt.started_at,
            CallAttempt.answered_at,
            CallAttempt.outcome,
            CallAttempt.heard_ms,
            CallAttempt.campaign_id,
        )
        .join(Debtor, Debtor.id == CallAttempt.debtor_id)
        .where(*where)
    )
    for started_at, answered_at, outcome, heard_ms, campaign_id in session.execute(query):
        answered = answered_at is not None
        for tally in (
            total,
            by_day.setdefault(params.local_day(started_at), _Tally()),
            by_campaign.setdefault(
                campaigns.get(campaign_id, NO_CAMPAIGN) if campaign_id else NO_CAMPAIGN, _Tally()
            ),
        ):
            tally.add(answered, outcome, heard_ms)
        label = OUTCOME_LABELS.get(outcome, outcome) if outcome else IN_PROGRESS
        by_outcome[label] = by_outcome.get(label, 0) + 1

    def figures(caption: str, key: Column, items: Sequence[tuple[Cell, _Tally]]) -> Section:
        rows: list[list[Cell]] = [[k, *t.cells(price)] for k, t in items]
        return Section(caption, (key, *_FIGURES), rows, [["Итого", *total.cells(price)]])

    days = figures("По дням", Column("Дата", ColumnKind.DATE), sorted(by_day.items()))
    per_campaign = figures("По кампаниям", Column("Кампания"), sorted(by_campaign.items()))
    ranked = sorted(by_outcome.items(), key=lambda item: (-item[1], item[0]))
    outcomes = Section(
        "По исходам",
        (
            Column("Исход"),
            Column("Попыток", ColumnKind.INTEGER),
            Column("Доля от всех попыток", ColumnKind.PERCENT),
        ),
        [[label, count, count / total.attempts] for label, count in ranked],
        [["Итого", total.attempts, 1.0 if total.attempts else None]],
    )
    extra = [f"кампания: {params.campaign}" if params.campaign else "все кампании"]
    extra.append(f"цена попытки: {price:.2f}".replace(".", ",") + " руб.")
    return make_report(
        session,
        organisation_id,
        params,
        name=NAME,
        title=TITLE,
        sections=(days, per_campaign, outcomes),
        filters=tuple(extra),
    )
