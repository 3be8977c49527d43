"""Calls through the real sandbox Asterisk: every simulated-debtor digit, and PJSIP to SIPp."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import pytest

from dialer.ami import AmiClient, OriginateRequest
from dialer.core.ami_codec import AmiDecoder, encode_action
from dialer.core.call_tracker import CallTracker
from dialer.core.outcomes import NetworkOutcome
from dialer.probe import probe_calls
from dialer.sandbox import Sandbox
from dialer.settings import Settings

HOLD = 10
# digit -> (outcome, talk seconds (low, high) or None, digits the callee pressed)
EXPECTED = {
    0: (NetworkOutcome.ANSWERED, (HOLD - 0.3, HOLD + 1.0), ""),
    1: (NetworkOutcome.ANSWERED, (HOLD - 0.3, HOLD + 1.0), ""),
    2: (NetworkOutcome.ANSWERED, (HOLD - 0.3, HOLD + 1.0), ""),
    3: (NetworkOutcome.ANSWERED, (HOLD - 0.3, HOLD + 1.0), ""),
    4: (NetworkOutcome.ANSWERED, (2.8, 3.5), ""),
    5: (NetworkOutcome.ANSWERED, (7.8, 8.5), ""),
    6: (NetworkOutcome.BUSY, None, ""),
    7: (NetworkOutcome.NO_ANSWER, None, ""),
    8: (NetworkOutcome.CONGESTION, None, ""),
    9: (NetworkOutcome.ANSWERED, (HOLD - 0.3, HOLD + 1.0), "2"),
}


async def connected(settings: Settings) -> AmiClient:
    client = AmiClient(settings.ami, settings.ami.read_secret())
    await client.connect()
    return client


async def test_every_simulated_debtor_digit(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    client = await connected(sandbox_settings)
    try:
        targets = [(f"t-{uuid.uuid4().hex[:10]}-{d}", f"+7912555000{d}") for d in range(10)]
        results = await probe_calls(client, targets, hold_seconds=HOLD, dial_timeout=6.0)
    finally:
        await client.close()
    for digit, result in enumerate(results):
        outcome, talk, digits = EXPECTED[digit]
        assert result.outcome is outcome, (digit, result)
        assert result.call.digits == digits, digit
        if talk is None:
            assert result.call.answered_at is None, digit
        else:
            assert result.call.talk_seconds is not None, digit
            assert talk[0] <= result.call.talk_seconds <= talk[1], (digit, result.call.talk_seconds)
    assert results[6].call.dial_status == "BUSY" and results[6].call.originate_reason == 5
    assert results[7].call.hangup_cause == 19 and results[7].call.originate_reason == 3
    assert results[8].call.dial_status == "CONGESTION"
    assert sandbox.cli("core show channels count").startswith("0 active channels")


async def test_pjsip_to_sipp_answer_then_bye(
    sandbox: Sandbox, sandbox_settings: Settings, sipp: Callable[..., object]
) -> None:
    sipp("uas_answer_wait_bye.xml", 3000)
    client = await connected(sandbox_settings)
    try:
        (result,) = await probe_calls(
            client, [("sipp-a-" + uuid.uuid4().hex[:8], "+79120000001")], trunk="sipp", hold_seconds=HOLD
        )
    finally:
        await client.close()
    assert result.outcome is NetworkOutcome.ANSWERED
    assert result.call.talk_seconds is not None and 2.8 <= result.call.talk_seconds <= 3.8


async def test_pjsip_to_sipp_486_is_busy(
    sandbox: Sandbox, sandbox_settings: Settings, sipp: Callable[..., object]
) -> None:
    sipp("uas_reject.xml", 500)
    client = await connected(sandbox_settings)
    try:
        (result,) = await probe_calls(
            client, [("sipp-b-" + uuid.uuid4().hex[:8], "+79120000002")], trunk="sipp", hold_seconds=HOLD
        )
    finally:
        await client.close()
    assert result.outcome is NetworkOutcome.BUSY
    assert (result.call.dial_status, result.call.hangup_cause, result.call.originate_reason) == (
        "BUSY",
        17,
        0,
    )


async def test_originate_to_a_missing_endpoint_fails_fast_and_never_hangs(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    client = await connected(sandbox_settings)
    try:
        started = asyncio.get_running_loop().time()
        (result,) = await probe_calls(
            client,
            [("nosuch-" + uuid.uuid4().hex[:8], "+79120000003")],
            trunk="no-such-endpoint",
            hold_seconds=1,
            dial_timeout=3,
        )
        assert asyncio.get_running_loop().time() - started < 10
    finally:
        await client.close()
    assert result.outcome is NetworkOutcome.FAILED
    assert result.call.channel_seen is False and result.call.originate_success is False


async def test_our_codec_reads_the_live_stream(sandbox: Sandbox, sandbox_settings: Settings) -> None:
    """The sans-IO codec on a raw socket, against Asterisk itself (not a replay)."""
    ami = sandbox_settings.ami
    reader, writer = await asyncio.open_connection(ami.host, ami.port)
    decoder, tracker = AmiDecoder(), CallTracker()
    ids = {f"raw-{uuid.uuid4().hex[:8]}-4": "79125550004", f"raw-{uuid.uuid4().hex[:8]}-6": "79125550006"}
    writer.write(encode_action("Login", "l1", {"Username": ami.username, "Secret": ami.read_secret()}))
    for call_id, number in ids.items():
        tracker.track(call_id)
        headers = OriginateRequest(
            call_id, f"Local/{number}@upravdolg-sim", 5000, application="Wait", data="6"
        ).headers()
        writer.write(encode_action("Originate", f"o-{call_id}", headers))
    await writer.drain()
    settled = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    try:
        while len(settled) < len(ids):
            chunk = await asyncio.wait_for(reader.read(65536), deadline - loop.time())
            assert chunk, "AMI closed the connection"
            for message in decoder.feed(chunk):
                update = tracker.feed(message, loop.time())
                if update is not None and update.settled:
                    settled[update.call.call_id] = update.call
    finally:
        writer.close()
    assert decoder.banner is not None and decoder.banner.startswith("Asterisk Call Manager/")
    by_digit = {call_id[-1]: call for call_id, call in settled.items()}
    assert by_digit["4"].talk_seconds is not None and 2.8 <= by_digit["4"].talk_seconds <= 3.5
    assert by_digit["6"].dial_status == "BUSY"


@pytest.mark.slow
async def test_client_reconnects_after_asterisk_restarts(
    sandbox: Sandbox, sandbox_settings: Settings
) -> None:
    settings = sandbox_settings.model_copy(
        update={
            "ami": sandbox_settings.ami.model_copy(
                update={"ping_interval": 0.5, "reconnect_min": 0.2, "reconnect_max": 1.0}
            )
        }
    )
    client = AmiClient(settings.ami, settings.ami.read_secret())
    stop = asyncio.Event()
    runner = asyncio.create_task(client.run(stop))
    try:
        await asyncio.wait_for(client.connected.wait(), 10)
        assert await client.ping() < 1.0
        await asyncio.to_thread(sandbox.down)
        await asyncio.sleep(1.0)
        assert not client.connected.is_set(), "the loss is noticed"
        await asyncio.to_thread(sandbox.up)
        await asyncio.wait_for(client.connected.wait(), 15)
        assert client.reconnects >= 1
        (result,) = await probe_calls(
            client, [("after-" + uuid.uuid4().hex[:8], "+79125550004")], hold_seconds=6
        )
        assert result.outcome is NetworkOutcome.ANSWERED
    finally:
        stop.set()
        await asyncio.wait_for(runner, 10)
