"""Asterisk servers and trunks: the ``[[asterisk]]`` and ``[[trunks]]`` tables of the settings, checked
together, and which trunks a campaign's ``trunk`` names (docs/scale-out.md).

```toml
[[asterisk]]
name = "ast1"
host = "10.0.1.2"          # its AMI
port = 5038
username = "upravdolg"
secret_file = "/etc/upravdolg/ami-ast1.secret"   # or UPRAVDOLG_ASTERISK_AST1_SECRET, else [ami]'s secret
agi_host = "10.0.1.1"      # where this Asterisk reaches THIS worker's FastAGI listener (agi.listen_*)
agi_port = 4573

[[trunks]]
name = "city-a"
server = "ast1"
endpoint = "operator-a"    # a PJSIP endpoint of that server, or "sim" (the simulated debtors)
max_channels = 30          # concurrent calls over this trunk, all workers together
calls_per_second = 5       # originate rate over this trunk, all workers together
priority = 10              # higher first; equal priorities share the load
groups = ["city"]          # a campaign with trunk = "city" may use it
```

With no ``[[asterisk]]`` table the one server is ``[ami]`` (named ``default``), and with no ``[[trunks]]``
a campaign's ``trunk`` is a PJSIP endpoint of it (or ``sim``) with no limit of its own — the single-box
setup of the earlier versions, unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from dialer.core.dialstring import SIM_TRUNK
from dialer.errors import ConfigError

DEFAULT_SERVER = "default"
_NAME = r"^[A-Za-z0-9_.-]{1,64}$"


class AsteriskServer(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    host: str = "127.0.0.1"
    port: int = Field(default=5038, ge=1, le=65535)
    username: str = Field(default="upravdolg", pattern=r"^[A-Za-z0-9_.-]+$")
    secret_file: Path | None = None
    # Where this Asterisk reaches this worker's FastAGI listener ("" = the dialplan's UPRAVDOLG_AGI).
    agi_host: str = ""
    agi_port: int = Field(default=4573, ge=1, le=65535)

    def secret_variable(self) -> str:
        return "UPRAVDOLG_ASTERISK_" + re.sub(r"[^A-Z0-9]", "_", self.name.upper()) + "_SECRET"

    def agi_address(self) -> str | None:
        return f"{self.agi_host}:{self.agi_port}" if self.agi_host else None


class TrunkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    server: str = Field(pattern=_NAME)
    endpoint: str = Field(pattern=_NAME)
    max_channels: int | None = Field(default=None, ge=1, le=10_000)
    calls_per_second: float | None = Field(default=None, gt=0, le=1000)
    priority: int = Field(default=0, ge=-1000, le=1000)
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerAccess:
    """How this worker logs in to one Asterisk server."""

    server: AsteriskServer
    secret: SecretStr


@dataclass(frozen=True, slots=True)
class Topology:
    servers: Mapping[str, AsteriskServer]
    trunks: Mapping[str, TrunkConfig]

    @property
    def has_trunks(self) -> bool:
        return bool(self.trunks)

    def trunks_for(self, name: str) -> list[TrunkConfig] | None:
        """The trunks a campaign's ``trunk`` names: a group, or one trunk. None: not configured. With no
        ``[[trunks]]`` at all, every name is an endpoint of the one server (an empty list: no choice)."""
        if not self.trunks:
            return []
        if name in self.trunks:
            return [self.trunks[name]]
        group = [t for t in self.trunks.values() if name in t.groups]
        return group or None

    def names(self) -> list[str]:
        """Every trunk and group name a campaign may use (for messages)."""
        groups = {g for t in self.trunks.values() for g in t.groups}
        return sorted(set(self.trunks) | groups)


def build_topology(
    servers: Sequence[AsteriskServer], trunks: Sequence[TrunkConfig], default: AsteriskServer
) -> Topology:
    """Check the tables against each other. Raises :class:`ConfigError` naming the entry at fault."""
    by_name: dict[str, AsteriskServer] = {}
    for server in servers or (default,):
        if server.name in by_name:
            raise ConfigError(f"[[asterisk]] name {server.name!r} is used twice")
        by_name[server.name] = server
    trunk_by_name: dict[str, TrunkConfig] = {}
    for trunk in trunks:
        if trunk.name in trunk_by_name:
            raise ConfigError(f"[[trunks]] name {trunk.name!r} is used twice")
        if trunk.server not in by_name:
            known = ", ".join(sorted(by_name))
            raise ConfigError(
                f"[[trunks]] {trunk.name!r}: server {trunk.server!r} is not an [[asterisk]] entry",
                hint=f"servers: {known}",
            )
        clash = set(trunk.groups) & ({t.name for t in trunks} - {trunk.name})
        if clash:
            raise ConfigError(f"[[trunks]] {trunk.name!r}: group {sorted(clash)[0]!r} is also a trunk's name")
        trunk_by_name[trunk.name] = trunk
    return Topology(by_name, trunk_by_name)


def server_secret(server: AsteriskServer, fallback: SecretStr | None, fallback_file: Path) -> SecretStr:
    """The AMI secret of ``server``: its environment variable, else its ``secret_file``, else [ami]'s."""
    value = os.environ.get(server.secret_variable(), "")
    if value:
        return SecretStr(value)
    path = server.secret_file
    if path is None:
        if fallback is not None:
            return fallback
        path = fallback_file
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"[[asterisk]] {server.name!r}: cannot read the AMI secret file {path} ({exc.strerror})",
            hint=f"set {server.secret_variable()} or secret_file",
        ) from None
    if not text:
        raise ConfigError(f"[[asterisk]] {server.name!r}: the AMI secret file {path} is empty")
    return SecretStr(text)


def endpoint_of(trunk: TrunkConfig | None, campaign_trunk: str) -> str:
    """The dial string's endpoint: the trunk's, or (no [[trunks]]) the campaign's own name."""
    return trunk.endpoint if trunk is not None else campaign_trunk


__all__ = [
    "DEFAULT_SERVER",
    "SIM_TRUNK",
    "AsteriskServer",
    "ServerAccess",
    "Topology",
    "TrunkConfig",
    "build_topology",
    "endpoint_of",
    "server_secret",
]
