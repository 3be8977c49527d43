"""`upravdolg demo`: the main job on the embedded default, end to end, with a printed summary.

Today: import the sample debtor list through the registry import, then place one probe call to every
callable phone through the sandbox Asterisk's simulated debtors, record each attempt, and print what
Asterisk reported. Later issues extend this into a full campaign with the IVR.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from db.models import CallAttempt
from db.repositories import DialTarget, callable_targets
from debtors.import_runs import print_import
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage, make_ami_client, open_storage, utc_now
from dialer.core.dialstring import SIM_TRUNK, dial_string
from dialer.probe import ProbeResult, describe, probe_calls
from dialer.settings import Settings

SAMPLE = Path(__file__).resolve().parent.parent / "debtors" / "samples" / "debtors_2026-11.csv"


def _epoch(value: float | None) -> datetime | None:
    # Asterisk's event Timestamp (manager.conf timestampevents = yes) is seconds since the epoch.
    return datetime.fromtimestamp(value, UTC) if value is not None and value > 1e9 else None


def record_results(storage: Storage, results: list[ProbeResult]) -> None:
    with storage.sessions.begin() as session:
        for result in results:
            attempt = session.get(CallAttempt, result.call_id)
            if attempt is None:
                continue
            call = result.call
            attempt.state = call.state.value if result.outcome else "lost"
            attempt.outcome = result.outcome.value if result.outcome else None
            attempt.answered_at = _epoch(call.answered_at)
            attempt.ended_at = _epoch(call.ended_at) or utc_now()
            attempt.originate_reason = call.originate_reason
            attempt.dial_status = call.dial_status
            attempt.hangup_cause = call.hangup_cause
            attempt.digits = call.digits
            attempt.detail = describe(result)


async def place_probe_calls(
    settings: Settings, storage: Storage, targets: list[DialTarget], hold_seconds: int
) -> list[ProbeResult]:
    ids = {t.phone_id: f"demo-{uuid.uuid4().hex[:16]}" for t in targets}
    now = utc_now()
    with storage.sessions.begin() as session:
        for target in targets:
            session.add(
                CallAttempt(
                    id=ids[target.phone_id],
                    organisation_id=storage.organisation_id,
                    debtor_id=target.debtor_id,
                    phone_id=target.phone_id,
                    number=target.e164,
                    dial_string=dial_string(SIM_TRUNK, target.e164),
                    state="dialling",
                    started_at=now,
                    digits="",
                    detail="",
                )
            )
    client = make_ami_client(settings)
    await client.connect()
    try:
        return await probe_calls(
            client, [(ids[t.phone_id], t.e164) for t in targets], trunk=SIM_TRUNK, hold_seconds=hold_seconds
        )
    finally:
        await client.close()


def run_demo(settings: Settings, out: TextIO, hold_seconds: int = 10) -> int:
    with open_storage(settings) as storage:
        return _run_demo(settings, storage, out, hold_seconds)


def _run_demo(settings: Settings, storage: Storage, out: TextIO, hold_seconds: int) -> int:
    out.write(f"Database: {storage.engine.url.render_as_string(hide_password=True)}\n")
    report = import_debtors(storage.sessions, storage.organisation_id, SAMPLE, now=utc_now())
    print_import(report, SAMPLE, out)
    with storage.sessions() as session:
        targets = callable_targets(session, storage.organisation_id)
    out.write(
        f"Calling {len(targets)} callable phones through the sandbox (simulated debtors, "
        f"our side holds an answered call {hold_seconds} s)...\n"
    )
    results = asyncio.run(place_probe_calls(settings, storage, targets, hold_seconds))
    record_results(storage, results)
    width = max((len(t.full_name) for t in targets), default=10)
    out.write(f"\n{'account':<10} {'debtor':<{width}} {'number':<13} {'outcome':<15} facts from Asterisk\n")
    for target, result in zip(targets, results, strict=True):
        outcome = result.outcome.value if result.outcome else "-"
        out.write(
            f"{target.account:<10} {target.full_name:<{width}} {target.e164:<13} {outcome:<15} "
            f"{describe(result)}\n"
        )
    counts: dict[str, int] = {}
    for result in results:
        key = result.outcome.value if result.outcome else "not placed"
        counts[key] = counts.get(key, 0) + 1
    out.write("\nSummary: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n")
    placed = sum(1 for r in results if r.outcome is not None)
    return 0 if placed == len(results) else 1
