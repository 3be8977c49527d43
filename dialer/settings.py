"""The one typed settings object and how it is layered.

Precedence, lowest first: built-in defaults < ``upravdolg.toml`` < environment ``UPRAVDOLG_*`` < CLI
flags. Environment names are ``UPRAVDOLG_<SECTION>_<KEY>`` (``UPRAVDOLG_DATABASE_URL``,
``UPRAVDOLG_AMI_SECRET``, ``UPRAVDOLG_AMI_SECRET_FILE``); an empty variable counts as unset;
``UPRAVDOLG_CONFIG`` names the TOML file.
Secrets (the AMI secret) come only from the environment or a file outside the repository: a secret written
in the TOML file is refused. ``upravdolg.example.toml`` documents every key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from dialer.core.ivr_request import IvrOptions
from dialer.errors import ConfigError
from dialer.topology import DEFAULT_SERVER, AsteriskServer, Topology, TrunkConfig, build_topology

ENV_PREFIX = "UPRAVDOLG_"
DEFAULT_CONFIG_FILE = "upravdolg.toml"
DEFAULT_CACHE_DIR = "/var/cache/upravdolg"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field(
        default="sqlite:///upravdolg.db",
        description="SQLAlchemy URL. Default: the file upravdolg.db in the working directory.",
    )


class OrganisationSettings(_Section):
    name: str = "УК «Пример»"
    timezone: str = "Europe/Moscow"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r} (expected an IANA name like Europe/Moscow)"
            ) from exc
        return value


class AmiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = Field(default="upravdolg", pattern=r"^[A-Za-z0-9_.-]+$")
    secret: SecretStr | None = None
    secret_file: Path = Path(DEFAULT_CACHE_DIR) / "ami-secret"
    connect_timeout: float = Field(default=5.0, gt=0)
    action_timeout: float = Field(default=10.0, gt=0)
    ping_interval: float = Field(default=10.0, gt=0)
    ping_timeout: float = Field(default=5.0, gt=0)
    reconnect_min: float = Field(default=0.5, gt=0)
    reconnect_max: float = Field(default=30.0, gt=0)

    def read_secret(self) -> str:
        """The AMI secret: ``UPRAVDOLG_AMI_SECRET`` if set, else the content of ``secret_file``."""
        if self.secret is not None:
            return self.secret.get_secret_value()
        try:
            text = self.secret_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            raise ConfigError(
                f"no AMI secret: UPRAVDOLG_AMI_SECRET is not set and {self.secret_file} does not exist",
                hint="run `upravdolg asterisk up` (it creates one for the sandbox) "
                "or set UPRAVDOLG_AMI_SECRET",
            ) from None
        except OSError as exc:
            raise ConfigError(f"cannot read the AMI secret file {self.secret_file}: {exc.strerror}") from None
        if not text:
            raise ConfigError(f"the AMI secret file {self.secret_file} is empty")
        return text


class AgiSettings(_Section):
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=4573, ge=1, le=65535)


class SandboxSettings(_Section):
    cache_dir: Path = Path(DEFAULT_CACHE_DIR)
    suite: str = Field(default="forky", pattern=r"^[a-z]+$")
    fallback_suite: str = Field(default="sid", pattern=r"^[a-z]+$")
    mirror: str = "http://deb.debian.org/debian"
    boot_timeout: float = Field(default=60.0, gt=0)


class StatusSettings(_Section):
    tolerance: Decimal = Field(default=Decimal("0.00"), ge=0)
    instalment_grace_days: int = Field(default=5, ge=0)
    promise_grace_days: int = Field(default=3, ge=0)
    promise_days: int = Field(default=7, ge=1)


class SchedulerSettings(_Section):
    status_check_at: str = Field(default="06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    # The notices the rules call for are generated daily at this local time ("" = only on request).
    notices_at: str = Field(default="06:30", pattern=r"^(([01]\d|2[0-3]):[0-5]\d)?$")
    # Every report of the previous month is written here (PDF and XLSX, one folder per month) on the
    # 1st at 07:00 local time ("" = no monthly run).
    reports_folder: str = "reports"
    # The «Статистика» figures are recomputed this often (and after every import).
    statistics_every_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # The effect of contact: a payment within this many days after the contact counts.
    contact_effect_days: int = Field(default=14, ge=1, le=365)


class ContactSettings(_Section):
    """Contact caps per debtor across all campaigns (../shared/DOMAIN.md): answered calls."""

    per_day: int = Field(default=1, ge=0)
    per_week: int = Field(default=2, ge=0)
    per_month: int = Field(default=8, ge=0)
    mode: str = Field(default="calendar", pattern=r"^(calendar|rolling)$")


class EngineSettings(_Section):
    # This process's name in call_attempts.worker (default: host name and process id).
    worker: str = Field(default="", max_length=100)
    # How often running campaigns are re-read (a change of channels, rate or state applies within this).
    poll_interval: float = Field(default=0.5, gt=0, le=1.0)
    # How often a running campaign adds newly matching debtors from the registry, seconds.
    selection_interval: float = Field(default=300.0, gt=0)
    # How long an ended, answered call waits for the IVR's listen report, seconds.
    report_grace: float = Field(default=3.0, gt=0, le=30)
    # Extra time beyond dial timeout + message for a call to end before it is declared lost, seconds.
    call_margin: float = Field(default=900.0, gt=0)
    # Prometheus /metrics of `upravdolg run` (port 0: no endpoint).
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
    # Several workers (docs/scale-out.md): each renews its lease this often, seconds; a worker whose lease
    # is older than worker_lease is dead and its live calls are adopted by another worker.
    heartbeat_interval: float = Field(default=2.0, gt=0, le=60)
    worker_lease: float = Field(default=10.0, gt=0, le=600)
    # A trunk whose calls fail this many times in a row (Originate refused, no channel, congestion) is
    # skipped for trunk_cool_down seconds, then one call probes it.
    trunk_trip_after: int = Field(default=5, ge=1, le=1000)
    trunk_cool_down: float = Field(default=30.0, gt=0, le=3600)


class IvrSettings(_Section):
    """The personalised message (dialer.core.message_plan) and its menu (dialer.core.ivr_flow)."""

    # The segment whose end means "heard the whole message": greeting, account, amount, months, payment,
    # consequences or menu.
    completion: str = Field(
        default="payment", pattern=r"^(greeting|account|amount|months|payment|consequences|menu)$"
    )
    # «1» replays the message at most this many times.
    max_repeats: int = Field(default=2, ge=0, le=9)
    # How long the menu waits for a key, seconds.
    menu_timeout: float = Field(default=5.0, ge=1.0, le=60.0)
    # Where «0» connects the debtor: any Dial() target (e.g. PJSIP/operator, SIP/100@pbx); "" turns «0» off.
    operator: str = Field(default="Local/operator@upravdolg-sim", pattern=r"^[^,;\s]*$", max_length=200)
    # Which transport plays the message: "fastagi" (the dialer's own listener, the default) or "process"
    # (agi_scripts/notify.py, a pyst2 process AGI run by Asterisk itself).
    transport: str = Field(default="fastagi", pattern=r"^(fastagi|process)$")
    # The built prompts whose lengths the listener measures against ("" = sounds/build of this checkout).
    sounds_build: str = ""
    # The prompts' folder under sounds/<lang>/ (what `upravdolg asterisk up` installs as "upravdolg").
    sound_folder: str = Field(default="upravdolg", pattern=r"^[a-z0-9-]{1,40}$")

    def options(self) -> IvrOptions:
        """What every call hands the IVR (dialer.core.ivr_request)."""
        return IvrOptions(
            completion=self.completion,
            max_repeats=self.max_repeats,
            menu_timeout_ms=int(self.menu_timeout * 1000),
            operator=bool(self.operator),
            folder=self.sound_folder,
        )


class DashboardSettings(_Section):
    """The supervisor dashboard and its logins (access.rules, docs/access.md)."""

    # Where the Streamlit dashboard listens (`upravdolg dashboard`; 0.0.0.0 to serve the office network).
    address: str = "127.0.0.1"
    port: int = Field(default=8501, ge=1, le=65535)
    # A session ends after this many minutes without a request, and at the latest this many hours after login.
    session_idle_minutes: int = Field(default=60, ge=1)
    session_max_hours: int = Field(default=12, ge=1)
    # This many failed logins for one login within failed_login_window_minutes refuse that login for
    # lockout_minutes (whether or not such a user exists).
    max_failed_logins: int = Field(default=5, ge=1)
    failed_login_window_minutes: int = Field(default=15, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    # The shortest password `users add|passwd` accepts.
    min_password_length: int = Field(default=10, ge=8, le=128)
    # The «Должники» page exports at most this many rows of a filtered view (bigger views: the CLI).
    export_max_rows: int = Field(default=200_000, ge=1)
    # The calling panel's live figures refresh this often.
    refresh_seconds: float = Field(default=2.0, ge=0.5, le=60)


class NoticeSettings(_Section):
    """When paper notices are generated (../shared/DOMAIN.md, debtors/field_rules.py)."""

    # A primary notice: an active debtor at least this many months overdue and owing at least this much.
    primary_min_months: int = Field(default=2, ge=0)
    primary_min_debt: Decimal = Field(default=Decimal("1000.00"), ge=0)
    # A secondary notice: this many days after the primary was delivered, without a payment since.
    secondary_after_days: int = Field(default=14, ge=1)
    # Delivery methods that count as delivered (the others are a visit: nobody home).
    delivered_methods: tuple[str, ...] = ("personal", "mailbox", "refused")
    # The payment details printed on every notice.
    how_to_pay: str = Field(
        default="в кассах и личном кабинете управляющей компании, в отделениях банков и через "
        "приложения банков по номеру лицевого счёта",
        max_length=500,
    )

    @field_validator("delivered_methods", mode="before")
    @classmethod
    def _known_methods(cls, value: object) -> object:
        if isinstance(value, str):  # the environment or --set: "personal,mailbox"
            value = tuple(m.strip() for m in value.split(",") if m.strip())
        if not isinstance(value, list | tuple):
            return value
        known = ("personal", "mailbox", "refused", "nobody_home")
        unknown = [m for m in value if m not in known]
        if unknown or not value:
            raise ValueError(f"expected some of {', '.join(known)}; got {', '.join(value) or 'none'}")
        return value


class RestrictionSettings(_Section):
    """When a debtor may get a restriction plug (ПП РФ № 354, clauses 117-119; debtors/field_rules.py)."""

    min_debt: Decimal = Field(default=Decimal("5000.00"), ge=0)
    min_notices_delivered: int = Field(default=2, ge=1)
    days_after_delivery: int = Field(default=20, ge=20)  # clause 119: not earlier than 20 days


class ApiSettings(_Section):
    """The HTTP API and the couriers' page (`upravdolg api`, also inside `upravdolg run`)."""

    address: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: `upravdolg run` serves no API
    # The address couriers' phones reach the API at (their links); empty: http://ADDRESS:PORT. Phone
    # browsers give the page a position only over HTTPS: put the API behind a TLS proxy and name it here.
    public_url: str = Field(default="", pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")
    # How far in the future a phone's clock may be before a report is refused as from the future.
    clock_skew_seconds: int = Field(default=300, ge=0, le=3600)
    # How late an offline-queued report is still accepted.
    late_days: int = Field(default=30, ge=1, le=365)
    # How often the courier's page sends the phone's position.
    position_every_seconds: int = Field(default=60, ge=5, le=3600)


class LegalSettings(_Section):
    """The lawyer's module (debtors/legal_cases.py)."""

    # While a debtor's legal case is open (not «закрыто»), campaigns do not call them.
    pause_calls: bool = True


class LogSettings(_Section):
    level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")


class Settings(_Section):
    database: DatabaseSettings = DatabaseSettings()
    organisation: OrganisationSettings = OrganisationSettings()
    ami: AmiSettings = AmiSettings()
    agi: AgiSettings = AgiSettings()
    sandbox: SandboxSettings = SandboxSettings()
    statuses: StatusSettings = StatusSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    contacts: ContactSettings = ContactSettings()
    engine: EngineSettings = EngineSettings()
    ivr: IvrSettings = IvrSettings()
    dashboard: DashboardSettings = DashboardSettings()
    notices: NoticeSettings = NoticeSettings()
    restrictions: RestrictionSettings = RestrictionSettings()
    api: ApiSettings = ApiSettings()
    legal: LegalSettings = LegalSettings()
    log: LogSettings = LogSettings()
    # [[asterisk]] and [[trunks]] (dialer/topology.py, docs/scale-out.md): TOML only.
    asterisk: tuple[AsteriskServer, ...] = ()
    trunks: tuple[TrunkConfig, ...] = ()

    def topology(self) -> Topology:
        """The servers and trunks, checked against each other (raises ConfigError naming the entry)."""
        default = AsteriskServer(
            name=DEFAULT_SERVER, host=self.ami.host, port=self.ami.port, username=self.ami.username
        )
        return build_topology(self.asterisk, self.trunks, default)


LISTS = ("asterisk", "trunks")
SECTIONS: tuple[str, ...] = tuple(name for name in Settings.model_fields if name not in LISTS)
_SECRET_KEYS = {("ami", "secret")}


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, key in _SECRET_KEYS:
        if isinstance(data.get(section), dict) and key in data[section]:
            raise ConfigError(
                f"{path}: [{section}] {key} must not be written in the configuration file",
                hint=f"set UPRAVDOLG_{section.upper()}_{key.upper()} or [{section}] {key}_file instead",
            )
    return data


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, dict[str, str]] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG" or value == "":
            continue  # an empty variable counts as unset
        rest = name[len(ENV_PREFIX) :].lower()
        section, sep, key = rest.partition("_")
        if not sep or section not in SECTIONS:
            continue
        layer.setdefault(section, {})[key] = value
    return layer


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``section.key=value`` strings (the CLI's ``--set``) as a settings layer."""
    layer: dict[str, dict[str, str]] = {}
    for pair in pairs:
        dotted, sep, value = pair.partition("=")
        section, dot, key = dotted.strip().partition(".")
        if not sep or not dot or not section or not key:
            raise ConfigError(f"--set {pair!r}: expected section.key=value, e.g. ami.port=5038")
        layer.setdefault(section, {})[key] = value
    return layer


def _describe(error: ValidationError, sources: str) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}")
    return f"invalid settings ({sources}): " + "; ".join(parts)


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    cli_layer: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from every layer. Raises :class:`ConfigError` naming the key on bad input."""
    env = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    sources = ["defaults"]
    path = config_file
    if path is None and env.get(f"{ENV_PREFIX}CONFIG"):
        path = Path(env[f"{ENV_PREFIX}CONFIG"])
    if path is None and Path(DEFAULT_CONFIG_FILE).is_file():
        path = Path(DEFAULT_CONFIG_FILE)
    if path is not None:
        data = _deep_merge(data, _read_toml(path))
        sources.append(str(path))
    env_layer = _from_env(env)
    if env_layer:
        data = _deep_merge(data, env_layer)
        sources.append("environment")
    if cli_layer:
        data = _deep_merge(data, cli_layer)
        sources.append("command line")
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, " < ".join(sources))) from None
