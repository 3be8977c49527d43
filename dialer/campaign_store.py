"""The campaign engine's database side: selecting debtors, claiming due ones, recording attempts.

Every function here is synchronous and short; the engine runs them on its one database thread. Work is
claimed by the database (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never take
the same debtor; SQLite has one writer at a time), and eligibility is decided after the claim, at the
moment of dialling (dialer.core.eligibility).
"""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Engine,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from db.campaign_figures import hour_start
from db.models import (
    CallAttempt,
    Campaign,
    CampaignDebtor,
    CampaignHour,
    Debtor,
    DoNotCall,
    LegalCase,
    Phone,
    Trunk,
)
from db.precompiled import Precompiled, is_disconnect
from debtors.measures import record_promise
from debtors.statuses import StatusRules
from dialer.campaign_spec import CampaignSpec
from dialer.core.call_state import Call
from dialer.core.campaign_progress import Progress, after_attempt
from dialer.core.contact_caps import CapRules
from dialer.core.dialstring import dial_string
from dialer.core.eligibility import Candidate, Dial, DialRules, Later, Selection, decide
from dialer.core.listen_report import ListenReport, segments_text
from dialer.core.message_plan import DebtorFacts
from dialer.core.retry_policy import AttemptOutcome, RetryPolicy
from dialer.core.trunk_choice import Gate, Go, TrunkState, Wait, choose, interval_of
from dialer.topology import DEFAULT_SERVER, Topology, TrunkConfig, endpoint_of

LIVE_STATES = ("dialling", "up")
# every attempt id (= Asterisk ChannelId) starts with it: the shadow book follows those
ATTEMPT_PREFIX = "ud-"
DEBTOR_BUSY = "должник занят другим звонком"  # another worker holds the debtor's row (another campaign)
CALLING = "идёт обзвон"  # every channel of the campaign is busy: that is calling, not a reason
TrunksUp = dict[str, tuple[bool, str]]  # trunk name -> (up for this worker, why not)
CONTACT_LOOKBACK = timedelta(days=32)
CLAIM_BATCH = 5  # candidates examined per claim when some are not eligible now
SELECT_SLICE = 50_000  # debtor ids per transaction when a campaign takes in debtors
CAMPAIGN_DEBTORS: Table = CampaignDebtor.__table__  # type: ignore[assignment]
CALL_ATTEMPTS: Table = CallAttempt.__table__  # type: ignore[assignment]
DEBTORS: Table = Debtor.__table__  # type: ignore[assignment]
PHONES: Table = Phone.__table__  # type: ignore[assignment]
DO_NOT_CALL: Table = DoNotCall.__table__  # type: ignore[assignment]
LEGAL_CASES: Table = LegalCase.__table__  # type: ignore[assignment]
TRUNKS: Table = Trunk.__table__  # type: ignore[assignment]
CAMPAIGNS: Table = Campaign.__table__  # type: ignore[assignment]

# The hot-path statements, built once and compiled once per store (db.precompiled): constructing and
# executing statements through SQLAlchemy costs more than running them, and these run for every call.
_Q, _C = CAMPAIGN_DEBTORS, CALL_ATTEMPTS
_CLAIM = (
    select(_Q.c.id, _Q.c.debtor_id, _Q.c.attempts)
    .where(
        _Q.c.campaign_id == bindparam("campaign"),
        _Q.c.state == "due",
        _Q.c.next_attempt_at <= bindparam("now", type_=_Q.c.next_attempt_at.type),
    )
    .order_by(_Q.c.next_attempt_at, _Q.c.id)
    .limit(CLAIM_BATCH)
    .with_for_update(skip_locked=True)
)
_LIVE = or_(*(_C.c.state == state for state in LIVE_STATES))
# The shared limits (docs/scale-out.md): the campaign's row lock serialises its claims across workers, and
# the live calls are counted under it; the trunks' rows are locked in name order.
_LOCK_CAMPAIGN = select(CAMPAIGNS.c.pace_tat).where(CAMPAIGNS.c.id == bindparam("campaign")).with_for_update()
_LIVE_CAMPAIGN = select(func.count()).select_from(_C).where(_C.c.campaign_id == bindparam("campaign"), _LIVE)
_LOCK_TRUNK = select(TRUNKS.c.pace_tat).where(TRUNKS.c.name == bindparam("trunk")).with_for_update()
_LIVE_TRUNK = select(func.count()).select_from(_C).where(_C.c.trunk == bindparam("trunk"), _LIVE)
_CAMPAIGN_TAT = (
    update(CAMPAIGNS).where(CAMPAIGNS.c.id == bindparam("b_id")).values(pace_tat=bindparam("b_tat"))
)
_TRUNK_TAT = update(TRUNKS).where(TRUNKS.c.name == bindparam("b_name")).values(pace_tat=bindparam("b_tat"))
# A debtor in two campaigns is never claimed by two workers at once (the second skips it).
_LOCK_DEBTOR = (
    select(DEBTORS.c.id).where(DEBTORS.c.id == bindparam("debtor")).with_for_update(skip_locked=True)
)
_RUNNING = select(Campaign.id, Campaign.name, Campaign.state, Campaign.revision, Campaign.spec).where(
    Campaign.organisation_id == bindparam("organisation"),
    or_(Campaign.state == "running", Campaign.state == "paused"),
)
_HAS_DUE = (
    select(_Q.c.id)
    .where(
        _Q.c.campaign_id == bindparam("campaign"),
        _Q.c.state == "due",
        _Q.c.next_attempt_at <= bindparam("now", type_=_Q.c.next_attempt_at.type),
    )
    .limit(1)
)
_NEXT_DUE = select(func.min(_Q.c.next_attempt_at)).where(
    _Q.c.campaign_id == bindparam("campaign"), _Q.c.state == "due"
)
_DEBTOR_FACTS = select(
    DEBTORS.c.status,
    DEBTORS.c.debt,
    DEBTORS.c.months_overdue,
    DEBTORS.c.district,
    DEBTORS.c.ownership,
    DEBTORS.c.timezone,
    select(DO_NOT_CALL.c.id).where(DO_NOT_CALL.c.debtor_id == bindparam("debtor")).limit(1).scalar_subquery(),
    DEBTORS.c.account,
    select(LEGAL_CASES.c.id)
    .where(LEGAL_CASES.c.debtor_id == bindparam("debtor"), LEGAL_CASES.c.stage != "closed")
    .limit(1)
    .scalar_subquery(),
).where(DEBTORS.c.id == bindparam("debtor"))
_PHONES = (
    select(PHONES.c.id, PHONES.c.e164, DO_NOT_CALL.c.id)
    .outerjoin(
        DO_NOT_CALL,
        and_(DO_NOT_CALL.c.e164 == PHONES.c.e164, DO_NOT_CALL.c.organisation_id == bindparam("organisation")),
    )
    .where(
        PHONES.c.debtor_id == bindparam("debtor"),
        PHONES.c.callable.is_(True),
        PHONES.c.e164.is_not(None),
        PHONES.c.removed_at.is_(None),
    )
    .order_by(PHONES.c.id)
)
_RECENT_CALLS = select(
    _C.c.state, _C.c.outcome, _C.c.counts_as_contact, _C.c.answered_at, _C.c.started_at, _C.c.ended_at
).where(
    _C.c.debtor_id == bindparam("debtor"),
    or_(
        _C.c.started_at >= bindparam("since", type_=_C.c.started_at.type),
        *(_C.c.state == state for state in LIVE_STATES),
    ),
)
_INSERT_ATTEMPT = insert(_C).values(
    {
        name: bindparam(name)
        for name in ("id", "organisation_id", "debtor_id", "phone_id", "number", "dial_string", "state",
                     "started_at", "campaign_id", "campaign_debtor_id", "worker", "digits", "detail",
                     "counts_as_contact", "repeats", "segments", "server", "trunk")
    }
)  # fmt: skip
_MARK_CALLING = (
    update(_Q)
    .where(_Q.c.id == bindparam("b_id"))
    .values(state="calling", attempts=bindparam("b_attempts"), last_attempt_at=bindparam("b_now"), note="")
)
_RESCHEDULE = (
    update(_Q)
    .where(_Q.c.id == bindparam("b_id"))
    .values(state=bindparam("b_state"), next_attempt_at=bindparam("b_at"), note=bindparam("b_note"))
)
_ANSWERED = (
    update(_C)
    .where(_C.c.id == bindparam("b_id"), _C.c.state == "dialling")
    .values(state="up", answered_at=bindparam("b_at"))
)
_FINISH_FIND = (
    select(
        _C.c.state,
        _C.c.campaign_debtor_id,
        _Q.c.streak_outcome,
        _Q.c.streak,
        _C.c.campaign_id,
        _C.c.started_at,
        _C.c.answered_at,
        _C.c.worker,
    )
    .outerjoin(_Q, _Q.c.id == _C.c.campaign_debtor_id)
    .where(_C.c.id == bindparam("attempt"))
    .with_for_update(of=_C)
)
_FINISH_QUEUE = (
    update(_Q)
    .where(_Q.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        next_attempt_at=bindparam("b_at"),
        streak_outcome=bindparam("b_streak_outcome"),
        streak=bindparam("b_streak"),
        note=bindparam("b_note"),
        last_outcome=bindparam("b_outcome"),
        listens=_Q.c.listens + bindparam("b_listened"),
        heard_ms=_Q.c.heard_ms + bindparam("b_heard_add"),
        heard_full=_Q.c.heard_full + bindparam("b_full"),
    )
)
_FINISH_ATTEMPT = (
    update(_C)
    .where(_C.c.id == bindparam("b_id"))
    .values(
        state=bindparam("b_state"),
        outcome=bindparam("b_outcome"),
        ended_at=bindparam("b_ended"),
        answered_at=func.coalesce(bindparam("b_answered", type_=_C.c.answered_at.type), _C.c.answered_at),
        originate_reason=bindparam("b_reason"),
        dial_status=bindparam("b_dial_status"),
        hangup_cause=bindparam("b_cause"),
        digits=bindparam("b_digits"),
        heard_ms=bindparam("b_heard"),
        message_ms=bindparam("b_message"),
        completed=bindparam("b_completed"),
        repeats=bindparam("b_repeats"),
        ended_by=bindparam("b_ended_by"),
        segments=bindparam("b_segments"),
        counts_as_contact=bindparam("b_contact"),
    )
)


def _hour_upsert(dialect: str) -> Any:
    """Add one finished call to its campaign hour (db/campaign_figures.py), in the call's own transaction:
    ``INSERT … ON CONFLICT DO UPDATE`` (PostgreSQL and SQLite ≥ 3.24 share the syntax)."""
    table = CampaignHour.__table__
    dialect_insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = dialect_insert(CampaignHour).values(
        campaign_id=bindparam("h_campaign"),
        hour=bindparam("h_hour", type_=table.c.hour.type),
        outcome=bindparam("h_outcome"),
        calls=1,
        answered=bindparam("h_answered"),
        reported=bindparam("h_reported"),
        listened=bindparam("h_listened"),
        heard_ms=bindparam("h_heard"),
    )
    added = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["campaign_id", "hour", "outcome"],
        set_={
            name: table.c[name] + added[name]
            for name in ("calls", "answered", "reported", "listened", "heard_ms")
        },
    )


_HOT = {
    "lock_campaign": _LOCK_CAMPAIGN,
    "live_campaign": _LIVE_CAMPAIGN,
    "lock_trunk": _LOCK_TRUNK,
    "live_trunk": _LIVE_TRUNK,
    "campaign_tat": _CAMPAIGN_TAT,
    "trunk_tat": _TRUNK_TAT,
    "lock_debtor": _LOCK_DEBTOR,
    "running": _RUNNING,
    "has_due": _HAS_DUE,
    "claim": _CLAIM,
    "next_due": _NEXT_DUE,
    "debtor_facts": _DEBTOR_FACTS,
    "phones": _PHONES,
    "recent_calls": _RECENT_CALLS,
    "insert_attempt": _INSERT_ATTEMPT,
    "mark_calling": _MARK_CALLING,
    "reschedule": _RESCHEDULE,
    "answered": _ANSWERED,
    "finish_find": _FINISH_FIND,
    "finish_queue": _FINISH_QUEUE,
    "finish_attempt": _FINISH_ATTEMPT,
}


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
    facts: DebtorFacts  # what the message says
    server: str = DEFAULT_SERVER  # the Asterisk server to originate on
    trunk: str = ""  # the trunk (a [[trunks]] name, or the campaign's endpoint)


@dataclass(frozen=True, slots=True)
class Nothing:
    """No debtor to dial now, and why (Russian: shown to supervisors)."""

    reason: str
    next_due: datetime | None


def dial_rules(spec: CampaignSpec, caps: CapRules, *, pause_on_legal_case: bool = True) -> DialRules:
    select_ = spec.select
    return DialRules(
        window=spec.call_window(),
        caps=caps,
        heard_full_pause=spec.heard_full_pause,
        pause_on_legal_case=pause_on_legal_case,
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
        *,
        status_rules: StatusRules | None = None,
        promise_days: int = 7,
        pause_on_legal_case: bool = True,
        topology: Topology | None = None,
    ) -> None:
        self.sessions = sessions
        self.topology = topology or Topology({}, {})
        self.default_server = next(iter(self.topology.servers), DEFAULT_SERVER)
        self.pause_on_legal_case = pause_on_legal_case
        self.status_rules = status_rules or StatusRules()
        self.promise_days = promise_days
        # The hot paths (once per call, or twice a second) use Core connections: an ORM Session costs
        # more than the statements themselves here.
        self.engine: Engine = sessions.kw["bind"]
        # what a lost or failing database raises, through the ORM and through the raw cursor
        self.db_errors: tuple[type[BaseException], ...] = (
            SQLAlchemyError,
            self.engine.dialect.loaded_dbapi.Error,
        )
        self.organisation_id = organisation_id
        self.zone = zone
        self.caps = caps
        self.worker = worker
        self._specs: dict[str, CampaignSpec] = {}
        self._held = threading.local()
        self._sql = {name: Precompiled(statement, self.engine.dialect) for name, statement in _HOT.items()}
        self._sql["hour_add"] = Precompiled(_hour_upsert(self.engine.dialect.name), self.engine.dialect)
        self._derived_by_spec: dict[CampaignSpec, tuple[DialRules, RetryPolicy]] = {}

    # -- the held connection ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction on this thread's held connection (committed at the end, rolled back on error).

        The hot paths run several times per call on the engine's database thread; checking a pooled
        connection out and back in (with its reset) for each cost more than their statements. A
        connection the database dropped (a restart) is replaced on the next use.
        """
        connection: Connection | None = getattr(self._held, "connection", None)
        if connection is None or connection.closed or connection.invalidated:
            if connection is not None:
                with contextlib.suppress(Exception):
                    connection.close()
            connection = self._held.connection = self.engine.connect()
        try:
            with connection.begin():
                yield connection
        except Exception as exc:
            if not connection.invalidated and is_disconnect(connection, exc):
                connection.invalidate()  # the statements run on the DB-API cursor: tell SQLAlchemy
            raise

    def release(self) -> None:
        """Give this thread's held connection back to the pool (the engine calls it on its database
        thread when it stops)."""
        connection: Connection | None = getattr(self._held, "connection", None)
        self._held.connection = None
        if connection is not None:
            connection.close()

    # -- campaigns ---------------------------------------------------------------------------------
    def running(self) -> list[RunningCampaign]:
        """Campaigns the engine works on: running ones, and paused ones (whose live calls it finishes)."""
        with self._transaction() as session:
            rows = self._sql["running"].rows(session, {"organisation": self.organisation_id})
        return [RunningCampaign(i, n, s, r, self._spec(spec)) for i, n, s, r, spec in rows]

    def _spec(self, text: str) -> CampaignSpec:
        """Parsed once per distinct definition (the engine reads its campaigns twice a second)."""
        spec = self._specs.get(text)
        if spec is None:
            if len(self._specs) > 100:
                self._specs.clear()
            spec = self._specs[text] = CampaignSpec.from_json(text)
        return spec

    def set_reason(self, campaign_id: int, reason: str, now: datetime) -> None:
        with self._transaction() as session:
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
        columns = ["organisation_id", "campaign_id", "debtor_id", "state", "next_attempt_at", "attempts",
                   "streak", "note", "added_at"]  # fmt: skip
        with self.engine.connect() as connection:
            top = connection.scalar(
                select(func.max(Debtor.id)).where(Debtor.organisation_id == self.organisation_id)
            )
        added = 0
        # In slices of debtor ids, each its own short transaction: a million debtors never sit in one
        # statement journal (memory) or hold the write lock for long.
        for start in range(0, int(top or 0), SELECT_SLICE):
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
            ).where(*conditions, Debtor.id > start, Debtor.id <= start + SELECT_SLICE)
            with self.engine.begin() as connection:
                result = connection.execute(insert(CampaignDebtor).from_select(columns, rows))
                added += max(0, result.rowcount)
        with self.engine.begin() as connection:
            connection.execute(update(Campaign).where(Campaign.id == campaign_id).values(selected_at=now))
        return added

    def has_due_work(self, campaign_id: int, now: datetime) -> bool:
        with self._transaction() as session:
            return self._sql["has_due"].first(session, {"campaign": campaign_id, "now": now}) is not None

    # -- claiming ----------------------------------------------------------------------------------
    def claim(
        self, campaign: RunningCampaign, now: datetime, trunks_up: TrunksUp | None = None
    ) -> Ticket | Nothing:
        """Claim the next due debtor that may be dialled now and record its attempt (state ``dialling``).

        First the shared limits, under row locks (docs/scale-out.md): the campaign's live calls and rate,
        then the trunk (``trunks_up``: this worker's view of which trunks are up; a trunk not named is up).
        Debtors that may not be dialled now are rescheduled (``Later``) or finished (``Never``) on the way.
        Core statements, not ORM objects: this runs once per call and its cost is the engine's CPU per call.
        """
        rules = self._rules(campaign.spec)
        reasons: dict[str, int] = {}
        with self._transaction() as session:
            gate = self._gate(session, campaign, now, trunks_up or {})
            if isinstance(gate, Wait):
                return Nothing(gate.reason, gate.until)
            claimed = self._sql["claim"].rows(session, {"campaign": campaign.id, "now": now})
            for entry_id, debtor_id, attempts in claimed:
                if self._sql["lock_debtor"].first(session, {"debtor": debtor_id}) is None:
                    reasons[DEBTOR_BUSY] = reasons.get(DEBTOR_BUSY, 0) + 1
                    continue  # another worker is claiming this debtor in another campaign right now
                candidate, phones, said = self._candidate(
                    session, debtor_id, attempts, now, rules.heard_full_pause
                )
                decision = decide(candidate, now, rules)
                if isinstance(decision, Dial):
                    ticket = self._start_attempt(
                        session,
                        campaign,
                        (entry_id, debtor_id, attempts),
                        decision.number,
                        phones=phones,
                        facts=said,
                        now=now,
                        go=gate,
                    )
                    self._write_pace(session, campaign, gate)
                    return ticket
                later = isinstance(decision, Later)
                self._sql["reschedule"].run(
                    session,
                    {
                        "b_id": entry_id,
                        "b_state": "due" if later else "done",
                        "b_at": decision.at if isinstance(decision, Later) else None,
                        "b_note": decision.reason,
                    },
                )
                reasons[decision.reason] = reasons.get(decision.reason, 0) + 1
            next_due = self._sql["next_due"].scalar(session, {"campaign": campaign.id})
        if reasons:
            reason = max(reasons, key=lambda r: reasons[r])
        elif next_due is None:
            reason = "нет должников для звонка"
        else:
            reason = "нет должников, которым пора звонить"
        return Nothing(reason, next_due)

    def _gate(self, session: Connection, campaign: RunningCampaign, now: datetime, up: TrunksUp) -> Go | Wait:
        """The campaign's and its trunks' limits, read under their row locks, and the choice of trunk."""
        spec = campaign.spec
        configs = self.topology.trunks_for(spec.trunk)
        if configs is None:
            known = ", ".join(self.topology.names()) or "нет"
            return Wait(f"линия или группа линий «{spec.trunk}» не настроена (есть: {known})", None)
        tat = self._sql["lock_campaign"].scalar(session, {"campaign": campaign.id})
        live = self._sql["live_campaign"].scalar(session, {"campaign": campaign.id})
        own = Gate(int(live or 0), spec.max_channels, tat, interval_of(spec.calls_per_second))
        states = [self._trunk_state(session, config, up) for config in sorted(configs, key=lambda c: c.name)]
        chosen = choose(own, states, now)
        if isinstance(chosen, Wait) and own.full():
            return Wait(CALLING, None)
        return chosen

    def _trunk_state(self, session: Connection, config: TrunkConfig, up: TrunksUp) -> TrunkState:
        found = self._sql["lock_trunk"].first(session, {"trunk": config.name})
        live = self._sql["live_trunk"].scalar(session, {"trunk": config.name})
        is_up, why = up.get(config.name, (True, ""))
        gate = Gate(
            int(live or 0),
            config.max_channels,
            found[0] if found else None,
            interval_of(config.calls_per_second),
        )
        return TrunkState(config.name, config.server, config.priority, gate, is_up, why)

    def _write_pace(self, session: Connection, campaign: RunningCampaign, go: Go) -> None:
        if campaign.spec.calls_per_second is not None and go.campaign_tat is not None:
            self._sql["campaign_tat"].run(session, {"b_id": campaign.id, "b_tat": go.campaign_tat})
        if go.trunk is not None and go.trunk.gate.interval is not None and go.trunk_tat is not None:
            self._sql["trunk_tat"].run(session, {"b_name": go.trunk.name, "b_tat": go.trunk_tat})

    def sync_trunks(self, now: datetime) -> list[str]:
        """Write this worker's ``[[trunks]]`` into the shared ``trunks`` table (each worker enforces its own
        file's limits; the rows carry the shared rate timestamps and show the trunks). Returns a warning
        per trunk another worker had configured differently."""
        warnings: list[str] = []
        with self.sessions.begin() as session:
            dialect_insert = postgresql_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
            for config in self.topology.trunks.values():
                # workers starting together: the row is created once, then each updates it under its lock
                session.execute(
                    dialect_insert(Trunk)
                    .values(
                        name=config.name,
                        server="",
                        endpoint="",
                        priority=0,
                        groups="",
                        configured_by="",
                        configured_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                row = session.get_one(Trunk, config.name, with_for_update=True)
                groups = ",".join(config.groups)
                wanted = (config.server, config.endpoint, config.max_channels, config.calls_per_second,
                          config.priority, groups)  # fmt: skip
                if row.configured_by:
                    stored = (row.server, row.endpoint, row.max_channels, row.calls_per_second, row.priority,
                              row.groups)  # fmt: skip
                    if stored != wanted and row.configured_by != self.worker:
                        warnings.append(
                            f"trunk {config.name}: configured differently by worker {row.configured_by} "
                            f"({_trunk_text(stored)}); now {_trunk_text(wanted)}"
                        )
                (row.server, row.endpoint, row.max_channels, row.calls_per_second, row.priority,
                 row.groups) = wanted  # fmt: skip
                row.configured_by, row.configured_at = self.worker, now
        return warnings

    def _candidate(
        self, session: Connection, debtor_id: int, attempts: int, now: datetime, pause: timedelta
    ) -> tuple[Candidate, dict[str, int], DebtorFacts]:
        """Everything eligibility needs, in three queries (and what the message will say)."""
        facts = self._sql["debtor_facts"].first(session, {"debtor": debtor_id})
        if facts is None:
            raise LookupError(f"debtor {debtor_id} of a campaign queue entry is gone")
        status, debt, months, district, ownership, zone, debtor_blocked, account, legal_case = facts
        phones: dict[str, int] = {}
        for phone_id, e164, dnc_id in self._sql["phones"].rows(
            session, {"debtor": debtor_id, "organisation": self.organisation_id}
        ):
            if e164 and dnc_id is None:
                phones.setdefault(e164, phone_id)
        contacts: list[datetime] = []
        last_heard: datetime | None = None
        live = False
        lookback = now - max(CONTACT_LOOKBACK, pause + timedelta(days=1))
        for state, outcome, counts, answered_at, started_at, ended_at in self._sql["recent_calls"].rows(
            session, {"debtor": debtor_id, "since": lookback}
        ):
            live = live or state in LIVE_STATES
            if counts:
                contacts.append(answered_at or started_at)  # UtcDateTime: aware UTC
            if outcome == AttemptOutcome.HEARD_FULL.value and ended_at is not None:
                last_heard = ended_at if last_heard is None or ended_at > last_heard else last_heard
        candidate = Candidate(
            status=status,
            debt=Decimal(debt),
            months_overdue=months,
            district=district,
            ownership=ownership,
            zone=ZoneInfo(zone) if zone else self.zone,
            do_not_call=debtor_blocked is not None,
            numbers=tuple(phones),
            contacts=tuple(contacts),
            last_heard_full_at=last_heard,
            live_call=live,
            attempts=attempts,
            legal_case=legal_case is not None,
        )
        return candidate, phones, DebtorFacts(account, candidate.debt, months)

    def _start_attempt(
        self,
        session: Connection,
        campaign: RunningCampaign,
        entry: tuple[int, int, int],
        number: str,
        *,
        phones: dict[str, int],
        facts: DebtorFacts,
        now: datetime,
        go: Go,
    ) -> Ticket:
        entry_id, debtor_id, attempts = entry
        attempt_id = f"{ATTEMPT_PREFIX}{uuid.uuid4().hex}"
        trunk = go.trunk.name if go.trunk is not None else campaign.spec.trunk
        server = go.trunk.server if go.trunk is not None else self.default_server
        config = self.topology.trunks.get(trunk)
        target = dial_string(endpoint_of(config, campaign.spec.trunk), number)
        self._sql["insert_attempt"].run(
            session,
            {
                "id": attempt_id,
                "organisation_id": self.organisation_id,
                "debtor_id": debtor_id,
                "phone_id": phones[number],
                "number": number,
                "dial_string": target,
                "state": "dialling",
                "started_at": now,
                "campaign_id": campaign.id,
                "campaign_debtor_id": entry_id,
                "worker": self.worker,
                "digits": "",
                "detail": "",
                "counts_as_contact": False,
                "repeats": 0,
                "segments": "",
                "server": server,
                "trunk": trunk,
            },
        )
        self._sql["mark_calling"].run(session, {"b_id": entry_id, "b_attempts": attempts + 1, "b_now": now})
        return Ticket(attempt_id, entry_id, debtor_id, number, target, facts, server, trunk)

    # -- outcomes ----------------------------------------------------------------------------------
    def answered(self, marks: dict[str, datetime]) -> None:
        """Mark live attempts answered (``up``), attempt id -> when; an ended attempt is left alone."""
        with self._transaction() as session:
            self._sql["answered"].run_many(
                session, [{"b_id": attempt_id, "b_at": at} for attempt_id, at in marks.items()]
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
        with self._transaction() as session:
            found = self._sql["finish_find"].first(session, {"attempt": attempt_id})
            if found is None or found[0] not in LIVE_STATES or found[7] != self.worker:
                return None  # recorded already, or adopted by another worker (which records it)
            _state, queue_entry, streak_outcome, streak, campaign_id, started_at, answered_before, _ = found
            ended = _from_epoch(call.ended_at) or now
            answered_at = _from_epoch(call.answered_at) or answered_before
            heard = report.heard_ms if report else None
            progress: Progress | None = None
            if queue_entry is not None:
                progress = after_attempt(
                    self._policy(spec),
                    outcome,
                    ended,
                    streak_outcome=streak_outcome,
                    streak=streak or 0,
                )
                self._sql["finish_queue"].run(
                    session,
                    {
                        "b_id": queue_entry,
                        "b_state": progress.state,
                        "b_at": progress.next_attempt_at,
                        "b_streak_outcome": progress.streak_outcome,
                        "b_streak": progress.streak,
                        "b_note": progress.note,
                        "b_outcome": outcome.value,
                        "b_listened": 1 if (heard or 0) > 0 else 0,
                        "b_heard_add": heard or 0,
                        "b_full": 1 if outcome is AttemptOutcome.HEARD_FULL else 0,
                    },
                )
            self._sql["finish_attempt"].run(
                session,
                {
                    "b_id": attempt_id,
                    "b_state": "lost" if outcome is AttemptOutcome.LOST else "ended",
                    "b_outcome": outcome.value,
                    "b_ended": ended,
                    "b_answered": _from_epoch(call.answered_at),
                    "b_reason": call.originate_reason,
                    "b_dial_status": call.dial_status,
                    "b_cause": call.hangup_cause,
                    "b_digits": ((report.digits if report else "") or call.digits)[:50],
                    "b_heard": heard,
                    "b_message": report.message_ms if report else None,
                    "b_completed": report.completed if report else None,
                    "b_repeats": report.repeats if report else 0,
                    "b_ended_by": report.ended.value if report else None,
                    "b_segments": segments_text(report.segments) if report else "",
                    "b_contact": progress.counts_as_contact if progress else False,
                },
            )
            if campaign_id is not None:
                self._sql["hour_add"].run(
                    session,
                    {
                        "h_campaign": campaign_id,
                        "h_hour": hour_start(started_at),
                        "h_outcome": outcome.value,
                        "h_answered": 1 if answered_at is not None else 0,
                        "h_reported": 1 if heard is not None else 0,
                        "h_listened": 1 if (heard or 0) > 0 else 0,
                        "h_heard": heard or 0,
                    },
                )
            if report is not None and report.promised:
                self._record_promise(session, attempt_id, now)
            return progress

    def _record_promise(self, connection: Connection, attempt_id: str, now: datetime) -> None:
        """«2» in the IVR: a promise to pay within ``promise_days``, in the outcome's transaction (the
        debtor's status becomes «promise», which pauses calls until the date plus grace)."""
        with Session(bind=connection) as session:  # joins the connection's transaction
            account = session.scalar(
                select(Debtor.account)
                .join(CallAttempt, CallAttempt.debtor_id == Debtor.id)
                .where(CallAttempt.id == attempt_id)
            )
            if account is None:
                return
            record_promise(
                session,
                self.organisation_id,
                account,
                pay_by=None,
                amount=None,
                source="ivr",
                now=now,
                rules=self.status_rules,
                promise_days=self.promise_days,
                actor=f"ivr {attempt_id}",
            )
            session.flush()

    def _policy(self, spec: CampaignSpec) -> RetryPolicy:
        return self._derived(spec)[1]

    def _rules(self, spec: CampaignSpec) -> DialRules:
        return self._derived(spec)[0]

    def _derived(self, spec: CampaignSpec) -> tuple[DialRules, RetryPolicy]:
        """A campaign's dialling rules and retry policy, built once per definition (not per call)."""
        derived = self._derived_by_spec.get(spec)
        if derived is None:
            if len(self._derived_by_spec) > 100:  # definitions change only when a campaign is applied
                self._derived_by_spec.clear()
            derived = self._derived_by_spec[spec] = (
                dial_rules(spec, self.caps, pause_on_legal_case=self.pause_on_legal_case),
                spec.retry_policy(),
            )
        return derived

    def live_attempts(
        self, *, any_worker: bool = False, server: str | None = None
    ) -> list[tuple[str, int | None]]:
        """(attempt id, campaign id) of this worker's calls the database believes are live (on ``server``)."""
        with self.sessions() as session:
            query = select(CallAttempt.id, CallAttempt.campaign_id).where(CallAttempt.state.in_(LIVE_STATES))
            if not any_worker:
                query = query.where(CallAttempt.worker == self.worker)
            if server is not None:
                query = query.where(CallAttempt.server == server)
            return [(i, c) for i, c in session.execute(query)]

    def campaign_spec(self, campaign_id: int) -> CampaignSpec | None:
        with self.sessions() as session:
            text = session.scalar(select(Campaign.spec).where(Campaign.id == campaign_id))
        return CampaignSpec.from_json(text) if text else None


def _trunk_text(values: tuple[Any, ...]) -> str:
    server, endpoint, channels, rate, priority, groups = values
    return (
        f"server {server}, endpoint {endpoint}, max_channels {channels}, calls_per_second {rate}, "
        f"priority {priority}, groups [{groups}]"
    )


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


__all__ = ["CampaignStore", "Nothing", "RunningCampaign", "Ticket"]
