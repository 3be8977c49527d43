"""The registry's status column as one line of text: the label plus the counts supervisors read beside it
(../shared/DOMAIN.md: calls made / heard to the end, notices delivered, measures taken). The dashboard's
table and the export show exactly this text."""

from __future__ import annotations

from datetime import date

from db.debtor_list import StatusCounts
from debtors.field_rules import DeliveryMethod
from debtors.legal_stages import stage_label
from debtors.statuses import LABELS, Status

_METHODS: dict[str, str] = {
    DeliveryMethod.PERSONAL: "лично",
    DeliveryMethod.MAILBOX: "в ящик",
    DeliveryMethod.REFUSED: "отказ",
}


def status_text(status: str, counts: StatusCounts) -> str:
    try:
        label = LABELS[Status(status)]
    except ValueError:
        label = status
    parts = [label, f"звонков {counts.calls_made} / до конца {counts.heard_to_end}"]
    if counts.notices_delivered:
        how = ", ".join(f"{_METHODS.get(method, method)} {n}" for method, n in counts.notices_by_method)
        parts.append(f"уведомлений {counts.notices_delivered} ({how})")
    measures = [*counts.measures, *(_case(stage, number, since) for stage, number, since in counts.legal)]
    if measures:
        parts.append("меры: " + "; ".join(measures))
    return " · ".join(parts)


def _case(stage: str, number: str, since: date) -> str:
    return f"суд: {stage_label(stage)}" + (f" № {number}" if number else "") + f" с {since:%d.%m.%Y}"
