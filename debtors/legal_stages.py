"""The stages of a legal case and which may follow which (pure).

A claim for utility debt usually goes: preparation → an application for a court order (заявление подано)
→ the court order (судебный приказ) → enforcement by bailiffs (исполнительное производство). The debtor may
have the order cancelled (отменён, within 10 days: ГПК РФ ст. 129), after which the creditor sues (иск)
and gets a judgement (решение) that is enforced. A case may be closed at any stage (paid, withdrawn,
written off); a closed case stays closed — a new claim is a new case.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    PREPARATION = "preparation"
    FILED = "filed"
    COURT_ORDER = "court_order"
    CANCELLED = "cancelled"
    LAWSUIT = "lawsuit"
    JUDGEMENT = "judgement"
    ENFORCEMENT = "enforcement"
    CLOSED = "closed"


STAGE_LABELS = {
    Stage.PREPARATION: "подготовка",
    Stage.FILED: "заявление подано",
    Stage.COURT_ORDER: "судебный приказ",
    Stage.CANCELLED: "приказ отменён",
    Stage.LAWSUIT: "иск",
    Stage.JUDGEMENT: "решение",
    Stage.ENFORCEMENT: "исполнительное производство",
    Stage.CLOSED: "закрыто",
}

NEXT_STAGES: dict[Stage, frozenset[Stage]] = {
    Stage.PREPARATION: frozenset({Stage.FILED, Stage.LAWSUIT, Stage.CLOSED}),
    Stage.FILED: frozenset({Stage.COURT_ORDER, Stage.LAWSUIT, Stage.CLOSED}),
    Stage.COURT_ORDER: frozenset({Stage.CANCELLED, Stage.ENFORCEMENT, Stage.CLOSED}),
    Stage.CANCELLED: frozenset({Stage.LAWSUIT, Stage.CLOSED}),
    Stage.LAWSUIT: frozenset({Stage.JUDGEMENT, Stage.CLOSED}),
    Stage.JUDGEMENT: frozenset({Stage.ENFORCEMENT, Stage.CLOSED}),
    Stage.ENFORCEMENT: frozenset({Stage.CLOSED}),
    Stage.CLOSED: frozenset(),
}


def may_follow(current: Stage, wanted: Stage) -> bool:
    return wanted in NEXT_STAGES[current]


def stage_label(code: str) -> str:
    try:
        return STAGE_LABELS[Stage(code)]
    except ValueError:
        return code
