"""Everything about one debtor, for `upravdolg debtors show` and the dashboard's debtor card."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import (
    Agreement,
    CallAttempt,
    Courier,
    Crew,
    CrewJob,
    DebtSnapshot,
    DoNotCall,
    Instalment,
    LegalCase,
    Notice,
    Payment,
    Phone,
    Promise,
    StatusChange,
)
from debtors.crew_jobs import debtor_measures
from debtors.field_rules import (
    JOB_KIND_LABELS,
    JOB_STATUS_LABELS,
    METHOD_LABELS,
    NOTICE_KIND_LABELS,
    NOTICE_STATE_LABELS,
)
from debtors.legal_cases import case_measures
from debtors.measures import find_debtor
from debtors.notices import delivered_counts
from debtors.statuses import LABELS, Status
from dialer.core.listen_report import parse_segments

HEARD_FULL = "heard_full"


def _money(value: Any) -> str:
    return f"{value:.2f}"


def load_card(session: Session, organisation_id: int, account: str) -> dict[str, Any]:
    """The debtor with status, debt history, payments, phones, measures, calls and counts (JSON-ready)."""
    d = find_debtor(session, organisation_id, account)
    snapshots = session.execute(
        select(DebtSnapshot.as_of, DebtSnapshot.amount, DebtSnapshot.months_overdue, DebtSnapshot.import_id)
        .where(DebtSnapshot.debtor_id == d.id)
        .order_by(DebtSnapshot.as_of.desc())
    ).all()
    payments = session.execute(
        select(Payment.paid_on, Payment.amount, Payment.reference, Payment.import_id)
        .where(Payment.debtor_id == d.id)
        .order_by(Payment.paid_on.desc(), Payment.id.desc())
    ).all()
    phones = session.scalars(select(Phone).where(Phone.debtor_id == d.id).order_by(Phone.id)).all()
    agreements = session.scalars(
        select(Agreement).where(Agreement.debtor_id == d.id).order_by(Agreement.registered_on.desc())
    ).all()
    instalments = {
        a.id: session.execute(
            select(Instalment.due_on, Instalment.amount)
            .where(Instalment.agreement_id == a.id)
            .order_by(Instalment.due_on)
        ).all()
        for a in agreements
    }
    promises = session.scalars(
        select(Promise).where(Promise.debtor_id == d.id).order_by(Promise.id.desc())
    ).all()
    history = session.scalars(
        select(StatusChange)
        .where(StatusChange.debtor_id == d.id)
        .order_by(StatusChange.at.desc(), StatusChange.id.desc())
    ).all()
    attempts = session.scalars(
        select(CallAttempt).where(CallAttempt.debtor_id == d.id).order_by(CallAttempt.started_at.desc())
    ).all()
    calls_made = (
        session.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .where(CallAttempt.debtor_id == d.id, CallAttempt.outcome.is_not(None))
        )
        or 0
    )
    heard = (
        session.scalar(
            select(func.count())
            .select_from(CallAttempt)
            .where(CallAttempt.debtor_id == d.id, CallAttempt.outcome == HEARD_FULL)
        )
        or 0
    )
    marks = session.scalars(
        select(DoNotCall)
        .where(
            DoNotCall.organisation_id == organisation_id,
            (DoNotCall.debtor_id == d.id) | DoNotCall.e164.in_([p.e164 for p in phones if p.e164]),
        )
        .order_by(DoNotCall.id)
    ).all()
    notices = session.execute(
        select(Notice, Courier.name)
        .outerjoin(Courier, Courier.id == Notice.courier_id)
        .where(Notice.debtor_id == d.id)
        .order_by(Notice.created_at.desc(), Notice.id.desc())
    ).all()
    jobs = session.execute(
        select(CrewJob, Crew.name)
        .outerjoin(Crew, Crew.id == CrewJob.crew_id)
        .where(CrewJob.debtor_id == d.id)
        .order_by(CrewJob.id.desc())
    ).all()
    delivered = delivered_counts(session, [d.id]).get(d.id, {})
    status = Status(d.status)
    return {
        "account": d.account,
        "full_name": d.full_name,
        "address": d.address,
        "district": d.district,
        "street": d.street,
        "house": d.house,
        "building": d.building,
        "apartment": d.apartment,
        "timezone": d.timezone,
        "area_m2": _money(d.area_m2) if d.area_m2 is not None else None,
        "ownership": d.ownership,
        "months_overdue": d.months_overdue,
        "debt": _money(d.debt),
        "debt_as_of": d.debt_as_of.isoformat() if d.debt_as_of else None,
        "status": {
            "code": status.value,
            "label": LABELS[status],
            "reason": d.status_reason,
            "since": d.status_since.isoformat() if d.status_since else None,
        },
        "counts": {
            "calls_made": calls_made,
            "heard_to_end": heard,
            "notices_delivered": sum(delivered.values()),
            "notices_by_method": delivered,
            "measures": [f"{a.kind} №{a.number}: {a.status}" for a in agreements]
            + debtor_measures(session, [d.id]).get(d.id, [])
            + case_measures(session, [d.id]).get(d.id, []),
        },
        "notices": [
            {
                "id": n.id,
                "kind": n.kind,
                "state": n.state,
                "debt": _money(n.debt),
                "created_at": n.created_at.isoformat(),
                "courier": courier,
                "tries": n.tries,
                "method": n.method,
                "delivered_at": n.delivered_at.isoformat() if n.delivered_at else None,
                "cancel_reason": n.cancel_reason,
            }
            for n, courier in notices
        ],
        "legal_cases": [
            {
                "id": c.id,
                "stage": c.stage,
                "stage_on": c.stage_on.isoformat(),
                "opened_on": c.opened_on.isoformat(),
                "court": c.court,
                "case_number": c.case_number,
                "amount_claimed": _money(c.amount_claimed) if c.amount_claimed is not None else None,
            }
            for c in session.scalars(
                select(LegalCase).where(LegalCase.debtor_id == d.id).order_by(LegalCase.id.desc())
            )
        ],
        "crew_jobs": [
            {
                "id": j.id,
                "kind": j.kind,
                "status": j.status,
                "crew": crew,
                "planned_on": j.planned_on.isoformat(),
                "installed_on": j.installed_on.isoformat() if j.installed_on else None,
                "removed_on": j.removed_on.isoformat() if j.removed_on else None,
                "note": j.note,
            }
            for j, crew in jobs
        ],
        "debt_history": [
            {
                "as_of": s.as_of.isoformat(),
                "amount": _money(s.amount),
                "months_overdue": s.months_overdue,
                "import_id": s.import_id,
            }
            for s in snapshots
        ],
        "payments": [
            {
                "paid_on": p.paid_on.isoformat(),
                "amount": _money(p.amount),
                "reference": p.reference,
                "import_id": p.import_id,
            }
            for p in payments
        ],
        "phones": [
            {
                "e164": p.e164,
                "raw": p.raw,
                "callable": p.callable,
                "removed_at": p.removed_at.isoformat() if p.removed_at else None,
            }
            for p in phones
        ],
        "agreements": [
            {
                "kind": a.kind,
                "number": a.number,
                "registered_on": a.registered_on.isoformat(),
                "status": a.status,
                "status_reason": a.status_reason,
                "instalments": [
                    {"due_on": due.isoformat(), "amount": _money(amount)} for due, amount in instalments[a.id]
                ],
            }
            for a in agreements
        ],
        "promises": [
            {
                "made_on": p.made_on.isoformat(),
                "pay_by": p.pay_by.isoformat(),
                "source": p.source,
                "status": p.status,
                "amount": _money(p.amount) if p.amount is not None else None,
            }
            for p in promises
        ],
        "status_history": [
            {
                "at": h.at.isoformat(),
                "from": h.previous_status,
                "to": h.status,
                "reason": h.reason,
                "actor": h.actor,
            }
            for h in history
        ],
        "do_not_call": [
            {
                "phone": m.e164,
                "whole_debtor": m.debtor_id is not None,
                "reason": m.reason,
                "actor": m.actor,
                "at": m.created_at.isoformat(),
            }
            for m in marks
        ],
        "attempts": [
            {
                "id": a.id,
                "number": a.number,
                "outcome": a.outcome,
                "state": a.state,
                "started_at": a.started_at.isoformat(),
                "answered_at": a.answered_at.isoformat() if a.answered_at else None,
                "ended_at": a.ended_at.isoformat() if a.ended_at else None,
                "digits": a.digits,
                # the IVR's listen report (None: the call was not answered, or no report came)
                "heard_ms": a.heard_ms,
                "message_ms": a.message_ms,
                "completed": a.completed,
                "repeats": a.repeats,
                "ended_by": a.ended_by,
                "segments": _segments(a.segments),
            }
            for a in attempts
        ],
        "listens": {
            "count": sum(1 for a in attempts if (a.heard_ms or 0) > 0),
            "heard_ms": sum(a.heard_ms or 0 for a in attempts),
        },
    }


def _segments(text: str) -> list[dict[str, Any]]:
    """``greeting=2300/2300 account=…`` as a list of {segment, played_ms, length_ms}."""
    return [
        {"segment": s.name, "played_ms": s.played_ms, "length_ms": s.length_ms} for s in parse_segments(text)
    ]


_KIND: dict[str, str] = {k.value: v for k, v in NOTICE_KIND_LABELS.items()}
_STATE: dict[str, str] = {k.value: v for k, v in NOTICE_STATE_LABELS.items()}
_METHOD: dict[str, str] = {k.value: v for k, v in METHOD_LABELS.items()}
_JOB_KIND: dict[str, str] = {k.value: v for k, v in JOB_KIND_LABELS.items()}
_JOB_STATUS: dict[str, str] = {k.value: v for k, v in JOB_STATUS_LABELS.items()}
_ENDED = {"hung_up": "положил трубку", "finished": "до конца", "transferred": "соединён с оператором",
          "failed": "сбой IVR"}  # fmt: skip


def render_card(card: dict[str, Any]) -> str:
    """The card as text for a terminal (Russian labels: supervisors read it)."""
    status = card["status"]
    lines = [
        f"Лицевой счёт {card['account']}: {card['full_name']}",
        f"Адрес: {card['address']}" + (f" ({card['district']})" if card["district"] else ""),
        f"Площадь: {card['area_m2'] or '—'} м², собственность: {card['ownership'] or '—'}",
        f"Долг: {card['debt']} ₽ на {card['debt_as_of'] or '—'}, месяцев: {card['months_overdue']}",
        f"Статус: «{status['label']}» с {status['since'] or '—'} — {status['reason'] or '—'}",
        f"Звонков: {card['counts']['calls_made']}, прослушано до конца: {card['counts']['heard_to_end']}, "
        f"уведомлений вручено: {card['counts']['notices_delivered']}",
        "Телефоны: "
        + (
            ", ".join(
                f"{p['e164'] or p['raw']}"
                + ("" if p["callable"] else " (не для звонка)")
                + (" (удалён)" if p["removed_at"] else "")
                for p in card["phones"]
            )
            or "—"
        ),
        "История долга:",
        *(f"  {s['as_of']}: {s['amount']} ₽ ({s['months_overdue']} мес.)" for s in card["debt_history"]),
        "Платежи:" + ("" if card["payments"] else " —"),
        *(f"  {p['paid_on']}: {p['amount']} ₽ {p['reference']}".rstrip() for p in card["payments"]),
    ]
    lines.append(
        f"Прослушиваний: {card['listens']['count']}, всего {card['listens']['heard_ms'] / 1000:.1f} с"
    )
    lines.append("Звонки:" + ("" if card["attempts"] else " —"))
    for a in card["attempts"]:
        heard = (
            f", прослушано {a['heard_ms'] / 1000:.1f} из {a['message_ms'] / 1000:.1f} с"
            if a["heard_ms"] is not None and a["message_ms"]
            else ""
        )
        keys = f", нажато {a['digits']}" if a["digits"] else ""
        ended = f" ({_ENDED.get(a['ended_by'], a['ended_by'])})" if a["ended_by"] else ""
        lines.append(f"  {a['started_at']}: {a['number']} — {a['outcome'] or a['state']}{heard}{keys}{ended}")
    lines.append("Уведомления:" + ("" if card["notices"] else " —"))
    for n in card["notices"]:
        how = f", {_METHOD.get(n['method'], n['method'])}, попыток {n['tries']}" if n["method"] else ""
        lines.append(
            f"  №{n['id']} {_KIND.get(n['kind'], n['kind'])} от {n['created_at'][:10]} на {n['debt']} ₽: "
            f"{_STATE.get(n['state'], n['state'])}{how}" + (f" ({n['courier']})" if n["courier"] else "")
        )
    for j in card["crew_jobs"]:
        lines.append(
            f"Монтажные работы №{j['id']}: {_JOB_KIND.get(j['kind'], j['kind'])} на {j['planned_on']} — "
            f"{_JOB_STATUS.get(j['status'], j['status'])}" + (f" ({j['crew']})" if j["crew"] else "")
        )
    for agreement in card["agreements"]:
        lines.append(
            f"Соглашение {agreement['kind']} №{agreement['number']} от {agreement['registered_on']}: "
            f"{agreement['status']}"
        )
    for promise in card["promises"]:
        lines.append(f"Обещание оплатить до {promise['pay_by']} ({promise['source']}): {promise['status']}")
    for mark in card["do_not_call"]:
        target = "все номера" if mark["whole_debtor"] else mark["phone"]
        lines.append(f"НЕ ЗВОНИТЬ ({target}): {mark['reason']} [{mark['actor']}]")
    lines.append("История статусов:" + ("" if card["status_history"] else " —"))
    lines.extend(
        f"  {h['at']}: {h['from']} → {h['to']}: {h['reason']} [{h['actor']}]" for h in card["status_history"]
    )
    return "\n".join(lines)
