"""SQLAlchemy 2 typed models. Every business row carries ``organisation_id`` from day one."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from db.types import UtcDateTime

# Deterministic constraint names, so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Debtor(Base):
    """One лицевой счёт. Its premises address is part of the row (an account belongs to one premises);
    ``debt`` is the current debt: the latest snapshot minus the payments dated after it."""

    __tablename__ = "debtors"
    __table_args__ = (
        UniqueConstraint("organisation_id", "account", name="uq_debtors_org_account"),
        # The dashboard's debtor list (db/debtor_list.py). Few indexes on purpose: each one adds ~1.5-2 s
        # to a first import of a million debtors (docs/benchmarks.md). (organisation, status) and
        # (organisation, district) lead to the debt: those views' totals read the index alone, their pages
        # sorted by debt are index walks, the buildings of a district and the filter's choices are read
        # from the index alone.
        Index("ix_debtors_org_status_debt", "organisation_id", "status", "debt", "id"),
        Index(
            "ix_debtors_org_district_debt",
            "organisation_id",
            "district",
            "debt",
            "id",
            "street",
            "house",
            "building",
        ),
        Index("ix_debtors_org_ownership", "organisation_id", "ownership"),
        # sort by debt; the id breaks ties in the index itself (PostgreSQL needs no extra sort then)
        Index("ix_debtors_org_debt", "organisation_id", "debt", "id"),
        Index("ix_debtors_org_name", "organisation_id", "full_name"),  # sort and search by name
        # every filtered column: counting any filtered view never reads the table; it also serves the
        # sort by months overdue (its leading column)
        Index(
            "ix_debtors_org_filter",
            "organisation_id",
            "months_overdue",
            "debt",
            "status",
            "district",
            "ownership",
            "debt_as_of",
            "area_m2",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    account: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    district: Mapped[str] = mapped_column(String(100), default="")
    street: Mapped[str] = mapped_column(String(200), default="")
    house: Mapped[str] = mapped_column(String(20), default="")
    building: Mapped[str] = mapped_column(String(20), default="")
    apartment: Mapped[str] = mapped_column(String(20), default="")
    timezone: Mapped[str | None] = mapped_column(String(64))  # None: the organisation's
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    ownership: Mapped[str] = mapped_column(String(50), default="")
    debt: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0.00"))
    debt_as_of: Mapped[date | None] = mapped_column(Date)
    months_overdue: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="active")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    status_since: Mapped[datetime | None] = mapped_column(UtcDateTime())
    fingerprint: Mapped[str] = mapped_column(String(32), default="")
    last_import_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    phones: Mapped[list[Phone]] = relationship(back_populates="debtor", order_by="Phone.id")


class Phone(Base):
    __tablename__ = "phones"
    __table_args__ = (Index("ix_phones_debtor", "debtor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    e164: Mapped[str | None] = mapped_column(String(20))
    raw: Mapped[str] = mapped_column(String(100))
    callable: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(100), default="")
    # Set when a later list no longer has the number; kept because call attempts refer to it.
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    debtor: Mapped[Debtor] = relationship(back_populates="phones")


class CallAttempt(Base):
    """One dialled call. ``id`` is also the Asterisk ChannelId, so AMI events find their row."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        Index("ix_call_attempts_debtor", "debtor_id", "started_at"),
        Index("ix_call_attempts_campaign", "campaign_id", "started_at"),
        # the calling panel's calls in flight (the finished ones are counted in campaign_hours)
        Index("ix_call_attempts_campaign_state", "campaign_id", "state"),
        Index("ix_call_attempts_state", "state"),
        # live calls per trunk (the claim counts them) and per worker (adoption moves them)
        Index("ix_call_attempts_trunk_state", "trunk", "state"),
        Index("ix_call_attempts_worker_state", "worker", "state"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    phone_id: Mapped[int | None] = mapped_column(ForeignKey("phones.id"))
    number: Mapped[str] = mapped_column(String(20))
    dial_string: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str | None] = mapped_column(String(30))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    originate_reason: Mapped[int | None] = mapped_column(Integer)
    dial_status: Mapped[str | None] = mapped_column(String(20))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    digits: Mapped[str] = mapped_column(String(50), default="")
    detail: Mapped[str] = mapped_column(Text, default="")
    # Campaign calls (None for probes). ``worker`` is the engine process that placed and owns the call.
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    campaign_debtor_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_debtors.id", ondelete="SET NULL")
    )
    worker: Mapped[str] = mapped_column(String(100), default="")
    # The Asterisk server (docs/scale-out.md: [[asterisk]] name, "default" for [ami]) and the trunk (a
    # [[trunks]] name, or the campaign's endpoint) the call went out through.
    # (database defaults only: hot-path inserts name every column they set, db/precompiled.py)
    server: Mapped[str] = mapped_column(String(64), server_default="")
    trunk: Mapped[str] = mapped_column(String(64), server_default="")
    # The IVR's listen report (dialer.core.listen_report): the message's segments as played (over every
    # pass), one pass's length, whether the completion segment was reached, «1» repeats, how the call ended
    # (hung_up | finished | transferred | failed) and "name=played/length" per segment.
    heard_ms: Mapped[int | None] = mapped_column(Integer)
    message_ms: Mapped[int | None] = mapped_column(Integer)
    completed: Mapped[bool | None] = mapped_column(Boolean)
    repeats: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ended_by: Mapped[str | None] = mapped_column(String(20))
    segments: Mapped[str] = mapped_column(Text, default="", server_default="")
    counts_as_contact: Mapped[bool] = mapped_column(Boolean, default=False)  # for the contact caps


class Import(Base):
    """One imported file: what, when, by whom, with which result. A file is identified by its SHA-256."""

    __tablename__ = "imports"
    __table_args__ = (Index("ix_imports_org_kind_sha", "organisation_id", "kind", "file_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(20))  # debtors | payments
    file_name: Mapped[str] = mapped_column(String(500))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_format: Mapped[str] = mapped_column(String(10))
    encoding: Mapped[str] = mapped_column(String(20), default="")
    as_of: Mapped[date | None] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    actor: Mapped[str] = mapped_column(String(100), default="")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DebtSnapshot(Base):
    """The debt as a billing-centre list stated it on a date: the history payment dynamics come from."""

    __tablename__ = "debt_snapshots"
    __table_args__ = (
        UniqueConstraint("debtor_id", "as_of", name="uq_debt_snapshots_debtor_as_of"),
        Index("ix_debt_snapshots_org_as_of", "organisation_id", "as_of"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    as_of: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    months_overdue: Mapped[int] = mapped_column(Integer, default=0)


class Payment(Base):
    """A payment from a payments registry. The same line imported twice is one payment."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint(
            "organisation_id", "debtor_id", "paid_on", "amount", "reference", name="uq_payments_line"
        ),
        Index("ix_payments_debtor_paid_on", "debtor_id", "paid_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("imports.id"))
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    reference: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Agreement(Base):
    """A restructuring or instalment agreement («СТОП!» while it is kept)."""

    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_debtor", "debtor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # restructuring | instalment
    number: Mapped[str] = mapped_column(String(50), default="")
    registered_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | broken | completed
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    instalments: Mapped[list[Instalment]] = relationship(order_by="Instalment.due_on")


class Instalment(Base):
    __tablename__ = "agreement_instalments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class Promise(Base):
    """A promise to pay (from the IVR or an operator): contact pauses until ``pay_by`` plus grace."""

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_debtor", "debtor_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    made_on: Mapped[date] = mapped_column(Date)
    pay_by: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    source: Mapped[str] = mapped_column(String(20))  # ivr | operator
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | kept | broken
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DoNotCall(Base):
    """Never call this debtor (``debtor_id``) or this number (``e164``)."""

    __tablename__ = "do_not_call"
    __table_args__ = (Index("ix_do_not_call_debtor", "debtor_id"), Index("ix_do_not_call_e164", "e164"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    e164: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class StatusChange(Base):
    """Every change of a debtor's status, with its reason, actor and time."""

    __tablename__ = "status_history"
    __table_args__ = (Index("ix_status_history_debtor_at", "debtor_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    previous_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Campaign(Base):
    """A calling campaign. ``spec`` is its validated definition (dialer.campaign_spec) as JSON; ``revision``
    grows with every change so a running engine picks changes up; ``state_reason`` is the engine's word on
    why nothing is being dialled (outside the window, caps, paused, Asterisk down, nothing due)."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_campaigns_org_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), default="stopped")
    state_reason: Mapped[str] = mapped_column(Text, default="")
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    selected_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # debtors last selected
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime())  # an engine last worked on it
    # The earliest moment the campaign's next call may originate, shared by every worker (GCRA:
    # dialer.core.trunk_choice); written in the claim's transaction under the campaign's row lock.
    pace_tat: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CampaignDebtor(Base):
    """A debtor in a campaign: the work queue the engine claims from, and the debtor's progress in it.

    ``state``: ``due`` (call at or after ``next_attempt_at``), ``calling`` (an attempt is live), ``done``
    (no more attempts: tries exhausted, invalid number, no callable phone). ``streak`` counts the last
    outcome in a row (the retry policy's ``in_a_row``); ``attempts`` counts dialled calls only.
    """

    __tablename__ = "campaign_debtors"
    __table_args__ = (
        UniqueConstraint("campaign_id", "debtor_id", name="uq_campaign_debtors_campaign_debtor"),
        Index("ix_campaign_debtors_due", "campaign_id", "state", "next_attempt_at"),
        Index("ix_campaign_debtors_debtor", "debtor_id"),
        Index("ix_campaign_debtors_listens", "campaign_id", "heard_ms", "listens"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(20), default="due")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    streak_outcome: Mapped[str | None] = mapped_column(String(30))
    streak: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(30))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(Text, default="")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # the debtor's listens in this campaign, kept by the engine as each call finishes (the calling panel)
    listens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # calls with heard_ms > 0
    heard_ms: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    heard_full: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class User(Base):
    """Someone who logs in to the dashboard. ``login`` is stored case-folded; ``password_hash`` is an
    argon2id hash in PHC form (access.accounts), never the password; ``role`` is access.rules.Role."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("organisation_id", "login", name="uq_users_org_login"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    login: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(20))  # supervisor | operator | viewer
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoginAttempt(Base):
    """Every login attempt, successful or not, by the login as typed (case-folded), whether or not such a
    user exists. ``outcome`` tells an unknown login from a wrong password (the caller is never told);
    ``source`` is where it came from: "cli", "dashboard" or the client's address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_login_at", "organisation_id", "login", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    login: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)
    # ok | unknown_user | wrong_password | disabled | locked_out (access.rules.LoginOutcome)
    outcome: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200), default="")


class UserSession(Base):
    """A logged-in session. ``id`` is the SHA-256 (hex) of the random token the client holds: the token
    itself is never stored. ``expires_at`` is the absolute end; the idle timeout runs from
    ``last_seen_at``."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user", "user_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CampaignHour(Base):
    """A campaign's finished calls (ended or lost) per UTC hour of their start and outcome, with their
    listen figures. The engine adds each call in the transaction that records its outcome, so the calling
    panel's counters cost the same whatever the campaign's size (db/campaign_figures.py)."""

    __tablename__ = "campaign_hours"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UtcDateTime(), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(30), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    reported: Mapped[int] = mapped_column(Integer, default=0)  # answered with a listen report from the IVR
    listened: Mapped[int] = mapped_column(Integer, default=0)  # heard some of the message (heard_ms > 0)
    heard_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class StatisticsSnapshot(Base):
    """The «Статистика» page's figures, computed in one pass (debtors/statistics.py) after every import
    and on a schedule, so the page reads one row however many debtors there are. ``payload`` is JSON."""

    __tablename__ = "statistics_snapshots"
    __table_args__ = (Index("ix_statistics_snapshots_org_at", "organisation_id", "computed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[str] = mapped_column(Text)


class Courier(Base):
    """A courier who hands out paper notices. ``token_hash`` is the SHA-256 (hex) of the secret in their
    link (the token itself is never stored); a new link replaces it."""

    __tablename__ = "couriers"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name", name="uq_couriers_org_name"),
        UniqueConstraint("token_hash", name="uq_couriers_token_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(30), default="")
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Notice(Base):
    """A paper notice (уведомление) to a debtor: ``kind`` primary | secondary; ``state`` pending (generated,
    not assigned) | assigned (to ``courier_id``) | delivered | cancelled. ``debt`` and ``months_overdue`` are
    the figures printed on it. ``tries`` counts the courier's visits; ``method`` is the last reported one
    (personal | mailbox | refused | nobody_home); every report is a :class:`NoticeDelivery`."""

    __tablename__ = "notices"
    __table_args__ = (
        Index("ix_notices_debtor", "debtor_id", "created_at"),
        Index("ix_notices_org_state", "organisation_id", "state"),
        Index("ix_notices_courier_state", "courier_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    debt: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    months_overdue: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("couriers.id"))
    assigned_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    printed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    tries: Mapped[int] = mapped_column(Integer, default=0)
    method: Mapped[str | None] = mapped_column(String(20))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class NoticeDelivery(Base):
    """One report from a courier's phone about a notice: how (``method``), after how many visits
    (``tries``), when on the phone (``at``) and where. ``client_id`` is the phone's id of the report, so a
    retried or offline-queued post is stored once."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        UniqueConstraint("courier_id", "client_id", name="uq_notice_deliveries_courier_client"),
        Index("ix_notice_deliveries_notice", "notice_id"),
        Index("ix_notice_deliveries_courier_at", "courier_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(20))
    tries: Mapped[int] = mapped_column(Integer, default=1)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")


class CourierPosition(Base):
    """A position the courier's phone reported (browser geolocation); one per courier and moment."""

    __tablename__ = "courier_positions"
    __table_args__ = (UniqueConstraint("courier_id", "at", name="uq_courier_positions_courier_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    courier_id: Mapped[int] = mapped_column(ForeignKey("couriers.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)


class Crew(Base):
    """A restriction crew (монтажная бригада)."""

    __tablename__ = "crews"
    __table_args__ = (UniqueConstraint("organisation_id", "name", name="uq_crews_org_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CrewJob(Base):
    """A crew visit: ``kind`` install (a plug restricting the service) | removal. ``status`` planned |
    installed | no_access | cancelled | removed. An install job goes planned → installed → removed (its
    removal job done); a removal job goes planned → removed."""

    __tablename__ = "crew_jobs"
    __table_args__ = (
        Index("ix_crew_jobs_debtor", "debtor_id"),
        Index("ix_crew_jobs_org_status_planned", "organisation_id", "status", "planned_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"))
    status: Mapped[str] = mapped_column(String(20), default="planned")
    planned_on: Mapped[date] = mapped_column(Date)
    installed_on: Mapped[date | None] = mapped_column(Date)
    removed_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    install_job_id: Mapped[int | None] = mapped_column(ForeignKey("crew_jobs.id"))  # a removal's plug
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LegalCase(Base):
    """A lawyer's case against a debtor (debtors/legal_cases.py): ``stage`` preparation | filed |
    court_order | cancelled | lawsuit | judgement | enforcement | closed, since ``stage_on``; every change
    is a :class:`LegalStageChange`."""

    __tablename__ = "legal_cases"
    __table_args__ = (
        Index("ix_legal_cases_debtor", "debtor_id"),
        Index("ix_legal_cases_org_stage", "organisation_id", "stage"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(20), default="preparation")
    stage_on: Mapped[date] = mapped_column(Date)
    court: Mapped[str] = mapped_column(String(300), default="")
    case_number: Mapped[str] = mapped_column(String(100), default="")
    amount_claimed: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    penalty_claimed: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    opened_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LegalStageChange(Base):
    """Every stage a case went through, with its date, note and who recorded it."""

    __tablename__ = "legal_stage_history"
    __table_args__ = (Index("ix_legal_stage_history_case", "case_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("legal_cases.id", ondelete="CASCADE"))
    previous_stage: Mapped[str] = mapped_column(String(20), default="")
    stage: Mapped[str] = mapped_column(String(20))
    stage_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class LegalDocument(Base):
    """A document of a case (a claim, a court order, a writ...): the file itself, kept in the database."""

    __tablename__ = "legal_documents"
    __table_args__ = (Index("ix_legal_documents_case", "case_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("legal_cases.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LegalMatchRow(Base):
    """One row of an imported court's or bailiff's registry and how it was matched to a debtor
    (debtors/legal_import.py): the review queue. ``outcome`` is a :class:`debtors.legal_matching.Outcome`
    value; ``candidates`` and ``discrepancies`` are JSON (the discrepancies in Russian, for the lawyer);
    ``debtor_id`` is the debtor matched or decided, ``decided_at`` is set once a lawyer decided the row
    (to a debtor, or «нет в базе» with ``debtor_id`` left empty); ``case_id`` is the case it opened or
    completed."""

    __tablename__ = "legal_match_rows"
    __table_args__ = (
        Index("ix_legal_match_rows_org_batch", "organisation_id", "batch", "row"),
        Index("ix_legal_match_rows_org_outcome", "organisation_id", "outcome", "decided_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    batch: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300), default="")
    row: Mapped[int] = mapped_column(Integer)
    raw: Mapped[str] = mapped_column(Text, default="{}")
    account: Mapped[str] = mapped_column(String(64), default="")
    full_name: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(500), default="")
    amount_claimed: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    case_number: Mapped[str] = mapped_column(String(100), default="")
    court: Mapped[str] = mapped_column(String(300), default="")
    outcome: Mapped[str] = mapped_column(String(20))
    score: Mapped[float | None] = mapped_column(Float)
    candidates: Mapped[str] = mapped_column(Text, default="[]")
    discrepancies: Mapped[str] = mapped_column(Text, default="[]")
    debtor_id: Mapped[int | None] = mapped_column(ForeignKey("debtors.id", ondelete="SET NULL"))
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    case_id: Mapped[int | None] = mapped_column(ForeignKey("legal_cases.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Trunk(Base):
    """A trunk of the ``[[trunks]]`` settings as the workers share it (docs/scale-out.md): its limits,
    written by every worker at start, and ``pace_tat``, the earliest moment its next call may originate."""

    __tablename__ = "trunks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    server: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(64))
    max_channels: Mapped[int | None] = mapped_column(Integer)
    calls_per_second: Mapped[float | None] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    groups: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    pace_tat: Mapped[datetime | None] = mapped_column(UtcDateTime())
    configured_by: Mapped[str] = mapped_column(String(100), default="")
    configured_at: Mapped[datetime] = mapped_column(UtcDateTime())


class Worker(Base):
    """A dialer worker (``upravdolg run``) and its lease: alive while ``heartbeat_at`` is recent.
    ``token`` tells this run of the worker from an earlier one of the same name; ``adopted_by`` names the
    worker that took over its live calls when its lease ran out."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(200), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    servers: Mapped[str] = mapped_column(Text, default="")  # comma-separated
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UtcDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    adopted_by: Mapped[str] = mapped_column(String(100), default="")
