"""`upravdolg workers` and `upravdolg trunks`: who dials, and over what (docs/scale-out.md, operations.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from dialer.settings import Settings

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_worker_parsers(sub: SubParsers) -> None:
    sub.add_parser("workers", help="the dialer workers sharing this database: leases and live calls")
    sub.add_parser("trunks", help="the trunks the workers share: limits and live calls, all workers together")


def cmd_workers(_args: argparse.Namespace, settings: Settings) -> int:
    from dialer.bootstrap import open_storage, utc_now
    from dialer.worker_store import worker_rows

    now = utc_now()
    with open_storage(settings) as storage, storage.sessions() as session:
        rows = worker_rows(session, now, timedelta(seconds=settings.engine.worker_lease))
    if not rows:
        sys.stdout.write("no worker has run on this database yet\n")
        return 0
    for row in rows:
        age = (now - row.heartbeat_at).total_seconds()
        sys.stdout.write(
            f"{row.name}  {row.state}  host {row.host} pid {row.pid}  heartbeat {age:.1f} s ago  "
            f"live calls {row.live_calls}  servers {row.servers or '-'}\n"
        )
    return 0


def cmd_trunks(_args: argparse.Namespace, settings: Settings) -> int:
    from sqlalchemy import select

    from db.models import Trunk
    from dialer.bootstrap import open_storage
    from dialer.worker_store import live_calls_by

    topology = settings.topology()
    with open_storage(settings) as storage, storage.sessions() as session:
        stored = {row.name: row for row in session.scalars(select(Trunk))}
        live = live_calls_by(session, "trunk")
    if not topology.trunks and not stored:
        sys.stdout.write("no [[trunks]] configured: campaigns dial their endpoint on the one server\n")
        return 0
    for name in sorted(set(topology.trunks) | set(stored)):
        config, row = topology.trunks.get(name), stored.get(name)
        if config is not None:
            where, channels, rate = (
                f"{config.server}/{config.endpoint}",
                config.max_channels,
                config.calls_per_second,
            )
            priority, groups, note = config.priority, ",".join(config.groups), ""
        else:
            assert row is not None
            where, channels, rate = f"{row.server}/{row.endpoint}", row.max_channels, row.calls_per_second
            priority, groups, note = row.priority, row.groups, "  (not in this configuration)"
        sys.stdout.write(
            f"{name}  {where}  live {live.get(name, 0)}/{channels or '∞'}  {rate or '∞'} calls/s  "
            f"priority {priority}  groups {groups or '-'}{note}\n"
        )
    return 0


WORKER_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "workers": cmd_workers,
    "trunks": cmd_trunks,
}
