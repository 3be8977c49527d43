"""May this debtor be dialled now, in this campaign? Decided at the moment of dialling (pure).

../shared/DOMAIN.md "Contact rules": re-check status, debt, caps, window and do-not-call when dialling, not
when queued. The answer is one of

* :class:`Dial` — call this number now;
* :class:`Later` — not now; look again at ``at`` (the window opens, a cap frees, a pause ends, …);
* :class:`Never` — this campaign is done with the debtor (do-not-call, no callable phone).

Reasons are shown to supervisors, so they are Russian.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dialer.core.call_window import CallWindow
from dialer.core.contact_caps import CapRules, blocked_until, next_allowed

# A debtor that does not qualify now (status, debt) may qualify later (a promise lapses, a new list comes).
RECHECK = timedelta(hours=6)
# Another campaign is on the phone with the debtor: look again shortly.
LIVE_CALL_RECHECK = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which debtors a campaign calls (its ``[select]``); empty = no restriction."""

    min_debt: Decimal | None = None
    min_months: int | None = None
    districts: frozenset[str] = frozenset()
    ownership: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class DialRules:
    window: CallWindow
    caps: CapRules
    heard_full_pause: timedelta
    selection: Selection = Selection()
    pause_on_legal_case: bool = True  # an open legal case pauses calls ([legal] pause_calls)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What is true of the debtor right now (read just before dialling)."""

    status: str
    debt: Decimal
    months_overdue: int
    district: str
    ownership: str
    zone: ZoneInfo
    do_not_call: bool  # the debtor as a whole
    numbers: tuple[str, ...]  # callable E.164 numbers, not on the do-not-call list, in the registry's order
    contacts: tuple[datetime, ...]  # answered calls (any campaign) in the last ~31 days
    last_heard_full_at: datetime | None  # any campaign
    live_call: bool  # a call to this debtor is up now (any campaign, any worker)
    attempts: int  # calls dialled to this debtor in this campaign (rotates the numbers)
    legal_case: bool = False  # the debtor has a legal case that is not closed


class Dial(NamedTuple):
    number: str


class Later(NamedTuple):
    at: datetime
    reason: str


class Never(NamedTuple):
    reason: str


Decision = Dial | Later | Never


def selection_mismatch(candidate: Candidate, selection: Selection) -> str | None:
    if selection.min_debt is not None and candidate.debt < selection.min_debt:
        return f"долг {candidate.debt} меньше порога кампании {selection.min_debt}"
    if selection.min_months is not None and candidate.months_overdue < selection.min_months:
        return f"просрочка {candidate.months_overdue} мес. меньше порога кампании {selection.min_months}"
    if selection.districts and candidate.district not in selection.districts:
        return f"район «{candidate.district}» не выбран в кампании"
    if selection.ownership and candidate.ownership not in selection.ownership:
        return f"тип собственности «{candidate.ownership}» не выбран в кампании"
    return None


def pick_number(numbers: Sequence[str], attempts: int) -> str:
    """Rotate through the debtor's numbers: the n-th call goes to number n mod count."""
    return numbers[attempts % len(numbers)]


def decide(candidate: Candidate, now: datetime, rules: DialRules) -> Decision:
    if now.tzinfo is None:
        raise ValueError("a naive datetime: pass an aware instant")
    if candidate.do_not_call:
        return Never("в списке «не звонить»")
    if not candidate.numbers:
        return Never("нет телефона, по которому можно звонить")
    if candidate.status != "active":
        return Later(now + RECHECK, f"статус «{candidate.status}»: звонки не нужны")
    if candidate.legal_case and rules.pause_on_legal_case:
        return Later(now + RECHECK, "открыто судебное дело: звонки приостановлены")
    mismatch = selection_mismatch(candidate, rules.selection)
    if mismatch is not None:
        return Later(now + RECHECK, mismatch)
    if candidate.live_call:
        return Later(now + LIVE_CALL_RECHECK, "с должником уже идёт разговор")
    if candidate.last_heard_full_at is not None:
        pause_ends = candidate.last_heard_full_at + rules.heard_full_pause
        if pause_ends > now:
            return Later(pause_ends, "прослушал сообщение полностью: пауза")
    if not rules.window.allows(now, candidate.zone):
        return Later(rules.window.next_opening(now, candidate.zone), "вне разрешённого времени звонков")
    if blocked_until(candidate.contacts, now, candidate.zone, rules.caps) is not None:
        return Later(
            next_allowed(candidate.contacts, now, candidate.zone, rules.caps), "исчерпан лимит контактов"
        )
    return Dial(pick_number(candidate.numbers, candidate.attempts))
