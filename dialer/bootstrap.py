"""The composition root: builds the long-lived collaborators from the settings, once, at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from access.accounts import AccessRules, Accounts
from access.rules import PasswordPolicy, SessionPolicy, ThrottlePolicy
from db.migrate import upgrade
from db.repositories import ensure_organisation
from db.session import make_engine, make_session_factory
from debtors.field_reports import ReportClock
from debtors.field_rules import DeliveryMethod, NoticeRules, RestrictionRules
from debtors.statuses import StatusRules
from dialer.ami import AmiClient
from dialer.campaign_store import CampaignStore
from dialer.core.contact_caps import CapRules
from dialer.engine import Engine as DialerEngine
from dialer.engine import default_worker_name
from dialer.settings import Settings
from dialer.topology import server_secret
from dialer.worker_store import WorkerStore


@dataclass(frozen=True, slots=True)
class Storage:
    engine: Engine
    sessions: sessionmaker[Session]
    organisation_id: int

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def utc_now() -> datetime:
    return datetime.now(UTC)


def open_storage(settings: Settings, *, migrate: bool = True) -> Storage:
    """The database, migrated to the current schema, with the default organisation present."""
    engine = make_engine(settings.database.url)
    try:
        if migrate:
            upgrade(engine)
        sessions = make_session_factory(engine)
        with sessions.begin() as session:
            organisation = ensure_organisation(
                session, settings.organisation.name, settings.organisation.timezone, utc_now()
            )
            organisation_id = organisation.id
    except BaseException:
        engine.dispose()
        raise
    return Storage(engine, sessions, organisation_id)


def status_rules(settings: Settings) -> StatusRules:
    s = settings.statuses
    return StatusRules(
        tolerance=s.tolerance,
        instalment_grace_days=s.instalment_grace_days,
        promise_grace_days=s.promise_grace_days,
    )


def access_rules(settings: Settings) -> AccessRules:
    d = settings.dashboard
    return AccessRules(
        throttle=ThrottlePolicy(
            max_failures=d.max_failed_logins,
            window=timedelta(minutes=d.failed_login_window_minutes),
            lockout=timedelta(minutes=d.lockout_minutes),
        ),
        sessions=SessionPolicy(
            idle=timedelta(minutes=d.session_idle_minutes), max_age=timedelta(hours=d.session_max_hours)
        ),
        passwords=PasswordPolicy(min_length=d.min_password_length),
    )


def make_accounts(settings: Settings, storage: Storage) -> Accounts:
    """Users, logins and sessions; argon2id with argon2-cffi's default parameters (RFC 9106, low memory)."""
    return Accounts(storage.sessions, storage.organisation_id, access_rules(settings), PasswordHasher())


def make_ami_client(settings: Settings) -> AmiClient:
    return AmiClient(settings.ami, settings.ami.read_secret())


def make_campaign_store(settings: Settings, storage: Storage) -> CampaignStore:
    contacts = settings.contacts
    return CampaignStore(
        storage.sessions,
        storage.organisation_id,
        ZoneInfo(settings.organisation.timezone),
        CapRules(contacts.per_day, contacts.per_week, contacts.per_month, contacts.mode),
        settings.engine.worker or default_worker_name(),
        status_rules=status_rules(settings),
        promise_days=settings.statuses.promise_days,
        pause_on_legal_case=settings.legal.pause_calls,
        topology=settings.topology(),
    )


def make_ami_clients(settings: Settings) -> dict[str, AmiClient]:
    """One AMI client per Asterisk server (``[[asterisk]]``, else ``[ami]``), each with its own secret."""
    configured = settings.topology().servers
    if not settings.asterisk:
        return {name: make_ami_client(settings) for name in configured}
    clients = {}
    for name, server in configured.items():
        ami = settings.ami.model_copy(
            update={"host": server.host, "port": server.port, "username": server.username}
        )
        secret = server_secret(server, settings.ami.secret, settings.ami.secret_file)
        clients[name] = AmiClient(ami, secret.get_secret_value())
    return clients


def make_engine_service(settings: Settings, storage: Storage) -> DialerEngine:
    """The campaign engine with its store, its AMI clients and its lease (``upravdolg run``)."""
    store = make_campaign_store(settings, storage)
    workers = WorkerStore(
        storage.sessions, store.worker, lease=timedelta(seconds=settings.engine.worker_lease)
    )
    addresses = {name: server.agi_address() for name, server in store.topology.servers.items()}
    return DialerEngine(
        store, make_ami_clients(settings), settings, clock=utc_now, workers=workers, agi_addresses=addresses
    )


def notice_rules(settings: Settings) -> NoticeRules:
    n = settings.notices
    return NoticeRules(
        primary_min_months=n.primary_min_months,
        primary_min_debt=n.primary_min_debt,
        secondary_after_days=n.secondary_after_days,
        delivered_methods=frozenset(DeliveryMethod(m) for m in n.delivered_methods),
    )


def restriction_rules(settings: Settings) -> RestrictionRules:
    r = settings.restrictions
    return RestrictionRules(
        min_debt=r.min_debt,
        min_notices_delivered=r.min_notices_delivered,
        days_after_delivery=r.days_after_delivery,
    )


def report_clock(settings: Settings, now: datetime) -> ReportClock:
    """How far a courier's phone clock may run ahead, and how late an offline report is accepted."""
    return ReportClock(
        now,
        skew=timedelta(seconds=settings.api.clock_skew_seconds),
        late=timedelta(days=settings.api.late_days),
    )


def api_base_url(settings: Settings) -> str:
    """Where couriers' phones reach the API (their links start with it)."""
    return settings.api.public_url or f"http://{settings.api.address}:{settings.api.port}"
