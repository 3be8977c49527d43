"""Probe calls: originate to numbers, follow each call through AMI until it settles, report the facts.

Used by the demo and the telephony tests before the campaign engine exists, and kept afterwards as the
admin's "does this trunk work" check. Our side holds an answered call for ``hold_seconds`` (Asterisk's
``Wait`` application), so a callee who hangs up earlier shows up in the talk time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from dialer.ami import AmiClient, OriginateRequest
from dialer.core.call_state import Call, CallState
from dialer.core.call_tracker import CallTracker
from dialer.core.dialstring import dial_string
from dialer.core.outcomes import NetworkOutcome, network_outcome
from dialer.errors import AmiConnectError, AmiTimeoutError

logger = logging.getLogger(__name__)
SETTLE_MARGIN_SECONDS = 15.0
# A failed originate with no channel yet: how long to wait for late channel events (see call_state).
NO_CHANNEL_GRACE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class ProbeResult:
    call_id: str
    e164: str
    dial_string: str
    call: Call
    outcome: NetworkOutcome | None  # None: the call never settled (lost) or was refused
    detail: str = ""


def mask_number(e164: str) -> str:
    """Phone numbers in logs: only the last four digits."""
    return "*" * max(0, len(e164) - 4) + e164[-4:]


async def probe_calls(
    client: AmiClient,
    targets: Sequence[tuple[str, str]],
    *,
    trunk: str = "sim",
    hold_seconds: int = 10,
    dial_timeout: float = 8.0,
    max_channels: int = 10,
) -> list[ProbeResult]:
    """Call every ``(call_id, e164)`` with at most ``max_channels`` at once; results in input order."""
    tracker = CallTracker()
    waiting: dict[str, asyncio.Future[Call]] = {}
    subscription = client.subscribe()
    semaphore = asyncio.Semaphore(max_channels)

    def resolve(call: Call) -> None:
        future = waiting.get(call.call_id)
        if future is not None and not future.done():
            future.set_result(call)

    def settle_if_still_without_channel(call_id: str) -> None:
        call = tracker.get(call_id)
        if call is not None and call.failed_without_channel:
            tracker.settle(call_id)
            resolve(call)

    async def pump() -> None:
        loop = asyncio.get_running_loop()
        while True:
            received_at, message = await subscription.get()
            update = tracker.feed(message, received_at)
            if update is None:
                continue
            if update.settled:
                resolve(update.call)
            elif update.call.failed_without_channel:
                loop.call_later(
                    NO_CHANNEL_GRACE_SECONDS, settle_if_still_without_channel, update.call.call_id
                )

    async def one(call_id: str, e164: str) -> ProbeResult:
        target = dial_string(trunk, e164)
        async with semaphore:
            waiting[call_id] = asyncio.get_running_loop().create_future()
            tracker.track(call_id)
            request = OriginateRequest(
                channel_id=call_id,
                channel=target,
                timeout_ms=int(dial_timeout * 1000),
                application="Wait",
                data=str(hold_seconds),
                variables={"UPRAVDOLG_ATTEMPT": call_id},
            )
            logger.info(
                "originate %s to %s",
                call_id,
                mask_number(e164),
                extra={"action": "originate", "attempt_id": call_id},
            )
            try:
                reply = await client.originate(request)
            except (AmiTimeoutError, AmiConnectError) as exc:
                call = tracker.forget(call_id) or Call(call_id)
                return ProbeResult(call_id, e164, target, call, None, str(exc))
            if (reply.get("Response") or "").lower() != "success":
                call = tracker.forget(call_id) or Call(call_id)
                return ProbeResult(
                    call_id,
                    e164,
                    target,
                    call,
                    None,
                    f"Originate refused: {reply.get('Message') or reply.name}",
                )
            try:
                call = await asyncio.wait_for(
                    waiting[call_id], dial_timeout + hold_seconds + SETTLE_MARGIN_SECONDS
                )
            except TimeoutError:
                call = tracker.forget(call_id) or Call(call_id)
                return ProbeResult(call_id, e164, target, call, None, "lost: the call never settled")
            return ProbeResult(call_id, e164, target, call, network_outcome(call))

    pumping = asyncio.create_task(pump())
    try:
        return list(await asyncio.gather(*(one(cid, number) for cid, number in targets)))
    finally:
        pumping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pumping
        subscription.close()


def describe(result: ProbeResult) -> str:
    """One line of Russian-free, admin-facing facts about a probe call."""
    call = result.call
    parts = [result.outcome.value if result.outcome else "not placed"]
    if call.talk_seconds is not None:
        parts.append(f"talk {call.talk_seconds:.1f}s")
    if call.state is CallState.ENDED:
        parts.append(f"hangup cause {call.hangup_cause}")
    if call.dial_status:
        parts.append(f"DialStatus {call.dial_status}")
    if call.originate_reason is not None:
        parts.append(f"OriginateResponse reason {call.originate_reason}")
    if call.digits:
        parts.append(f"DTMF {call.digits}")
    if result.detail:
        parts.append(result.detail)
    return ", ".join(parts)
