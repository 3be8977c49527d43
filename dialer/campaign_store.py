"""The campaign engine's database side: selecting debtors, claiming due ones, recording attempts.

Every function here is synchronous and short; the engine runs them on its one database thread. Work is
claimed by the database (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take
the same debtor; SQLite has one writer at a time), and eligibility is decided after the claim, at the
moment of dialling (dialer.core.eligibility).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, insert, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from db.models import CallAttempt, Campaign, CampaignDebtor, Debtor, DoNotCall, Phone
from dialer.campaign_spec import CampaignSpec
from dialer.core.call_state import Call
from dialer.core.campaign_progress import ListenReport, Progress, after_attempt
from dialer.core.contact_caps import CapRules
from dialer.core.dialstring import dial_string
from dialer.core.eligibility import Candidate, Dial, DialRules, Later, Never, Selection, decide
from dialer.core.retry_policy import AttemptOutcome

LIVE_STATES = ("dialling", "up")
CONTACT_LOOKBACK = timedelta(days=32)
CLAIM_BATCH = 20  # candidates examined per claim when some are not eligible now


@dataclass(frozen=True, slots=True)
class RunningCampaign:
    id: int
    name: str
    state: str
    revision: int
    spec: CampaignSpec


@dataclass(frozen=True, slots=True)
class Ticket:
    """A claimed, eligible debtor with its attempt recorded: dial now."""

    attempt_id: str
    campaign_debtor_id: int
    debtor_id: int
    number: str
    dial_string: str


@dataclass(frozen=True, slots=True)
class Nothing:
    """No debtor to dial now, and why (Russian: shown to supervisors)."""

    reason: str
    next_due: datetime | None


def dial_rules(spec: CampaignSpec, caps: CapRules) -> DialRules:
    select_ = spec.select
    return DialRules(
        window=spec.call_window(),
        caps=caps,
        heard_full_pause=spec.heard_full_pause,
        selection=Selection(
            min_debt=select_.min_debt,
            min_months=select_.min_months,
            districts=frozenset(select_.districts),
            ownership=frozenset(select_.ownership),
        ),
    )


class CampaignStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        organisation_id: int,
        zone: ZoneInfo,
        caps: CapRules,
        worker: str,
    ) -> None:
        self.sessions = sessions
        self.organisation_id = organisation_id
        self.zone = zone
        self.caps = caps
        self.worker = worker

    # -- campaigns ---------------------------------------------------------------------------------
    def running(self) -> list[RunningCampaign]:
        """Campaigns the engine works on: running ones, and paused ones (whose live calls it finishes)."""
        with self.sessions() as session:
            rows = session.execute(
                select(Campaign.id, Campaign.name, Campaign.state, Campaign.revision, Campaign.spec).where(
                    Campaign.organisation_id == self.organisation_id,
                    Campaign.state.in_(("running", "paused")),
                )
            ).all()
        return [RunningCampaign(i, n, s, r, CampaignSpec.from_json(spec)) for i, n, s, r, spec in rows]

    def set_reason(self, campaign_id: int, reason: str, now: datetime) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(state_reason=reason[:500], heartbeat_at=now)
            )

    def select_debtors(self, campaign_id: int, spec: CampaignSpec, now: datetime) -> int:
        """Add every active debtor matching the campaign's ``[select]`` that it does not hold yet."""
        chosen = spec.select
        conditions: list[Any] = [
            Debtor.organisation_id == self.organisation_id,
            Debtor.status == "active",
            ~exists().where(CampaignDebtor.campaign_id == campaign_id, CampaignDebtor.debtor_id == Debtor.id),
        ]
        if chosen.min_debt is not None:
            conditions.append(Debtor.debt >= chosen.min_debt)
        if chosen.min_months is not None:
            conditions.append(Debtor.months_overdue >= chosen.min_months)
        if chosen.districts:
            conditions.append(Debtor.district.in_(chosen.districts))
        if chosen.ownership:
            conditions.append(Debtor.ownership.in_(chosen.ownership))
        rows = select(
            literal(self.organisation_id),
            literal(campaign_id),
            Debtor.id,
            literal("due"),
            literal(now, CampaignDebtor.next_attempt_at.type),
            literal(0),
            literal(0),
            literal(""),
            literal(now, CampaignDebtor.added_at.type),
        ).where(*conditions)
        with self.sessions.begin() as session:
            result = session.connection().execute(  # Core, not the ORM: its rowcount is the inserted rows
                insert(CampaignDebtor).from_select(
                    [
                        "organisation_id",
                        "campaign_id",
                        "debtor_id",
                        "state",
                        "next_attempt_at",
                        "attempts",
                        "streak",
                        "note",
                        "added_at",
                    ],
                    rows,
                )
            )
            session.execute(update(Campaign).where(Campaign.id == campaign_id).values(selected_at=now))
            return max(0, result.rowcount)

    def has_due_work(self, campaign_id: int, now: datetime) -> bool:
        with self.sessions() as session:
            found = session.execute(
                select(CampaignDebtor.id)
                .where(
                    CampaignDebtor.campaign_id == campaign_id,
                    CampaignDebtor.state == "due",
                    CampaignDebtor.next_attempt_at <= now,
                )
                .limit(1)
            ).first()
        return found is not None

    # -- claiming ----------------------------------------------------------------------------------
    def claim(self, campaign: RunningCampaign, now: datetime) -> Ticket | Nothing:
        """Claim the next due debtor that may be dialled now and record its attempt (state ``dialling``).

        Debtors that may not be dialled now are rescheduled (``Later``) or finished (``Never``) on the way.
        """
        rules = dial_rules(campaign.spec, self.caps)
        reasons: dict[str, int] = {}
        with self.sessions.begin() as session:
            claimed = session.scalars(
                select(CampaignDebtor)
                .where(
                    CampaignDebtor.campaign_id == campaign.id,
                    CampaignDebtor.state == "due",
                    CampaignDebtor.next_attempt_at <= now,
                )
                .order_by(CampaignDebtor.next_attempt_at, CampaignDebtor.id)
                .limit(CLAIM_BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for entry in claimed:
                candidate, phones = self._candidate(session, entry, now)
                decision = decide(candidate, now, rules)
                if isinstance(decision, Dial):
                    return self._start_attempt(session, campaign, entry, decision, phones=phones, now=now)
                if isinstance(decision, Later):
                    entry.next_attempt_at, entry.note = decision.at, decision.reason
                elif isinstance(decision, Never):
                    entry.state, entry.next_attempt_at, entry.note = "done", None, decision.reason
                reasons[decision.reason] = reasons.get(decision.reason, 0) + 1
            next_due = session.scalar(
                select(func.min(CampaignDebtor.next_attempt_at)).where(
                    CampaignDebtor.campaign_id == campaign.id, CampaignDebtor.state == "due"
                )
            )
        if reasons:
            reason = max(reasons, key=lambda r: reasons[r])
        elif next_due is None:
            reason = "нет должников для звонка"
        else:
            reason = "нет должников, которым пора звонить"
        return Nothing(reason, next_due)

    def _candidate(
        self, session: Session, entry: CampaignDebtor, now: datetime
    ) -> tuple[Candidate, dict[str, int]]:
        debtor = session.get_one(Debtor, entry.debtor_id)
        blocked_numbers = set(
            session.scalars(
                select(DoNotCall.e164)
                .where(DoNotCall.organisation_id == self.organisation_id, DoNotCall.e164.is_not(None))
                .where(
                    DoNotCall.e164.in_(
                        select(Phone.e164).where(Phone.debtor_id == debtor.id, Phone.e164.is_not(None))
                    )
                )
            )
        )
        phones: dict[str, int] = {}
        for phone_id, e164 in session.execute(
            select(Phone.id, Phone.e164)
            .where(
                Phone.debtor_id == debtor.id,
                Phone.callable.is_(True),
                Phone.e164.is_not(None),
                Phone.removed_at.is_(None),
            )
            .order_by(Phone.id)
        ):
            if e164 and e164 not in blocked_numbers:
                phones.setdefault(e164, phone_id)
        debtor_blocked = (
            session.execute(select(DoNotCall.id).where(DoNotCall.debtor_id == debtor.id).limit(1)).first()
            is not None
        )
        contacts = tuple(
            session.scalars(
                select(func.coalesce(CallAttempt.answered_at, CallAttempt.started_at)).where(
                    CallAttempt.debtor_id == debtor.id,
                    CallAttempt.counts_as_contact.is_(True),
                    CallAttempt.started_at >= now - CONTACT_LOOKBACK,
                )
            )
        )
        last_heard = session.scalar(
            select(func.max(CallAttempt.ended_at)).where(
                CallAttempt.debtor_id == debtor.id, CallAttempt.outcome == AttemptOutcome.HEARD_FULL.value
            )
        )
        live = (
            session.execute(
                select(CallAttempt.id)
                .where(CallAttempt.debtor_id == debtor.id, CallAttempt.state.in_(LIVE_STATES))
                .limit(1)
            ).first()
            is not None
        )
        candidate = Candidate(
            status=debtor.status,
            debt=debtor.debt,
            months_overdue=debtor.months_overdue,
            district=debtor.district,
            ownership=debtor.ownership,
            zone=ZoneInfo(debtor.timezone) if debtor.timezone else self.zone,
            do_not_call=debtor_blocked,
            numbers=tuple(phones),
            contacts=tuple(_aware(c) for c in contacts if c is not None),
            last_heard_full_at=_aware(last_heard) if last_heard is not None else None,
            live_call=live,
            attempts=entry.attempts,
        )
        return candidate, phones

    def _start_attempt(
        self,
        session: Session,
        campaign: RunningCampaign,
        entry: CampaignDebtor,
        decision: Dial,
        *,
        phones: dict[str, int],
        now: datetime,
    ) -> Ticket:
        attempt_id = f"ud-{uuid.uuid4().hex}"
        target = dial_string(campaign.spec.trunk, decision.number)
        session.add(
            CallAttempt(
                id=attempt_id,
                organisation_id=self.organisation_id,
                debtor_id=entry.debtor_id,
                phone_id=phones[decision.number],
                number=decision.number,
                dial_string=target,
                state="dialling",
                started_at=now,
                campaign_id=campaign.id,
                campaign_debtor_id=entry.id,
                worker=self.worker,
                digits="",
                detail="",
                counts_as_contact=False,
            )
        )
        entry.state, entry.attempts, entry.last_attempt_at, entry.note = (
            "calling",
            entry.attempts + 1,
            now,
            "",
        )
        return Ticket(attempt_id, entry.id, entry.debtor_id, decision.number, target)

    # -- outcomes ----------------------------------------------------------------------------------
    def answered(self, attempt_id: str, at: datetime) -> None:
        with self.sessions.begin() as session:
            session.execute(
                update(CallAttempt)
                .where(CallAttempt.id == attempt_id, CallAttempt.state == "dialling")
                .values(state="up", answered_at=at)
            )

    def not_placed(self, attempt_id: str, detail: str, now: datetime, retry_in: timedelta) -> None:
        """Asterisk never took the call (AMI down, Originate refused): not a dialled attempt."""
        with self.sessions.begin() as session:
            attempt = session.get_one(CallAttempt, attempt_id)
            attempt.state, attempt.outcome, attempt.ended_at, attempt.detail = "not_placed", None, now, detail
            if attempt.campaign_debtor_id is not None:
                entry = session.get_one(CampaignDebtor, attempt.campaign_debtor_id)
                entry.state, entry.attempts = "due", max(0, entry.attempts - 1)
                entry.next_attempt_at, entry.note = (
                    now + retry_in,
                    f"звонок не принят Asterisk: {detail}"[:500],
                )

    def finish(
        self,
        attempt_id: str,
        call: Call,
        outcome: AttemptOutcome,
        report: ListenReport | None,
        *,
        now: datetime,
        spec: CampaignSpec,
    ) -> Progress | None:
        """Record how an attempt ended and schedule the debtor's next one. Recorded once: a second call for
        the same attempt (e.g. a reconciliation racing the live event) changes nothing and returns None."""
        with self.sessions.begin() as session:
            attempt = session.get_one(CallAttempt, attempt_id, with_for_update=True)
            if attempt.state not in LIVE_STATES:
                return None
            ended = _from_epoch(call.ended_at) or now
            attempt.state = "lost" if outcome is AttemptOutcome.LOST else "ended"
            attempt.outcome = outcome.value
            attempt.ended_at = ended
            if call.answered_at is not None:
                attempt.answered_at = _from_epoch(call.answered_at)
            attempt.originate_reason = call.originate_reason
            attempt.dial_status = call.dial_status
            attempt.hangup_cause = call.hangup_cause
            attempt.digits = (report.digits if report else "") or call.digits
            if report is not None:
                attempt.heard_seconds = report.heard_seconds
                attempt.message_seconds = report.message_seconds
            progress: Progress | None = None
            if attempt.campaign_debtor_id is not None:
                entry = session.get_one(CampaignDebtor, attempt.campaign_debtor_id)
                progress = after_attempt(
                    spec.retry_policy(),
                    outcome,
                    ended,
                    streak_outcome=entry.streak_outcome,
                    streak=entry.streak,
                )
                entry.state, entry.next_attempt_at = progress.state, progress.next_attempt_at
                entry.streak_outcome, entry.streak, entry.note = (
                    progress.streak_outcome,
                    progress.streak,
                    progress.note,
                )
                entry.last_outcome = outcome.value
                attempt.counts_as_contact = progress.counts_as_contact
            return progress

    def live_attempts(self, *, any_worker: bool = False) -> list[tuple[str, int | None]]:
        """(attempt id, campaign id) of this worker's calls the database believes are live."""
        with self.sessions() as session:
            query = select(CallAttempt.id, CallAttempt.campaign_id).where(CallAttempt.state.in_(LIVE_STATES))
            if not any_worker:
                query = query.where(CallAttempt.worker == self.worker)
            return [(i, c) for i, c in session.execute(query)]

    def campaign_spec(self, campaign_id: int) -> CampaignSpec | None:
        with self.sessions() as session:
            text = session.scalar(select(Campaign.spec).where(Campaign.id == campaign_id))
        return CampaignSpec.from_json(text) if text else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


__all__ = ["CampaignStore", "Nothing", "RunningCampaign", "Ticket"]
