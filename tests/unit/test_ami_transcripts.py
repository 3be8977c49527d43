"""Replays AMI transcripts captured from our own sandbox (tests/fixtures/ami/) through codec + tracker."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from dialer.core.ami_codec import AmiDecoder, AmiMessage
from dialer.core.call_state import Call, CallState
from dialer.core.call_tracker import CallTracker
from dialer.core.outcomes import NetworkOutcome, network_outcome

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
INDEX = json.loads((FIXTURES / "index.json").read_text())


def replay(name: str, call_ids: list[str], chunk_sizes: list[int] | None = None) -> dict[str, Call]:
    data = (FIXTURES / name).read_bytes()
    decoder = AmiDecoder()
    tracker = CallTracker()
    for call_id in call_ids:
        tracker.track(call_id)
    settled: dict[str, Call] = {}
    messages: list[AmiMessage] = []
    position = 0
    sizes = iter(chunk_sizes or [len(data)])
    while position < len(data):
        size = next(sizes, 4096)
        messages.extend(decoder.feed(data[position : position + size]))
        position += size
    for number, message in enumerate(messages):
        update = tracker.feed(message, received_at=float(number))
        if update is not None and update.settled:
            assert update.call.call_id not in settled, "a call settled twice"
            settled[update.call.call_id] = update.call
    assert not tracker.live, f"calls never settled: {tracker.live}"
    return settled


def test_the_index_lists_every_transcript() -> None:
    files = {session["file"] for session in INDEX["sessions"]}
    assert files == {p.name for p in FIXTURES.glob("*.ami")}


# digit -> (outcome, talk seconds range or None, digits pressed)
SIM_EXPECTED = {
    0: (NetworkOutcome.ANSWERED, (9.5, 10.8), ""),
    1: (NetworkOutcome.ANSWERED, (9.5, 10.8), ""),
    2: (NetworkOutcome.ANSWERED, (9.5, 10.8), ""),
    3: (NetworkOutcome.ANSWERED, (9.5, 10.8), ""),
    4: (NetworkOutcome.ANSWERED, (2.9, 3.3), ""),
    5: (NetworkOutcome.ANSWERED, (7.9, 8.3), ""),
    6: (NetworkOutcome.BUSY, None, ""),
    7: (NetworkOutcome.NO_ANSWER, None, ""),
    8: (NetworkOutcome.CONGESTION, None, ""),
    9: (NetworkOutcome.ANSWERED, (9.5, 10.8), "2"),
}


@pytest.mark.parametrize("digit", sorted(SIM_EXPECTED))
def test_simulated_debtor_outcomes_from_the_captured_stream(digit: int) -> None:
    calls = replay("sim-all-digits.ami", [f"sim-{d}" for d in range(10)])
    call = calls[f"sim-{digit}"]
    outcome, talk, digits = SIM_EXPECTED[digit]
    assert network_outcome(call) is outcome
    assert call.state is CallState.ENDED
    assert call.digits == digits
    if talk is None:
        assert call.answered_at is None and call.talk_seconds is None
    else:
        assert call.talk_seconds is not None and talk[0] <= call.talk_seconds <= talk[1]


def test_random_chunking_of_the_stream_changes_nothing() -> None:
    whole = replay("sim-all-digits.ami", [f"sim-{d}" for d in range(10)])
    rng = random.Random(20261127)
    sizes = [rng.randint(1, 900) for _ in range(5000)]
    assert replay("sim-all-digits.ami", [f"sim-{d}" for d in range(10)], sizes) == whole


def test_only_tracked_calls_are_followed() -> None:
    calls = replay("sim-all-digits.ami", ["sim-6"])
    assert list(calls) == ["sim-6"]
    assert network_outcome(calls["sim-6"]) is NetworkOutcome.BUSY


def test_pjsip_answer_then_remote_bye() -> None:
    call = replay("sipp-answer-bye.ami", ["sipp-answer"])["sipp-answer"]
    assert network_outcome(call) is NetworkOutcome.ANSWERED
    assert call.originate_reason == 4
    # The remote BYE reports cause 0, not 16 (../shared/ASTERISK.md): answered is read from Newstate Up.
    assert call.hangup_cause == 0
    assert call.talk_seconds is not None and 2.8 <= call.talk_seconds <= 3.6


def test_pjsip_486_is_busy_although_originate_reason_is_zero() -> None:
    call = replay("sipp-busy-486.ami", ["sipp-busy"])["sipp-busy"]
    assert call.originate_reason == 0
    assert call.dial_status == "BUSY"
    assert call.hangup_cause == 17
    assert network_outcome(call) is NetworkOutcome.BUSY


def test_bad_login_transcript_is_an_error_response() -> None:
    decoder = AmiDecoder()
    (reply,) = decoder.feed((FIXTURES / "login-bad-secret.ami").read_bytes())
    assert decoder.banner is not None and decoder.banner.startswith("Asterisk Call Manager/")
    assert reply.name == "Error"
    assert reply.get("Message") == "Authentication failed"


def test_a_failure_that_overtakes_its_newchannel_still_ends_as_busy() -> None:
    """OriginateResponse is raised outside Stasis and can arrive before the channel's events (seen live)."""
    decoder = AmiDecoder()
    messages = decoder.feed((FIXTURES / "sim-all-digits.ami").read_bytes())
    failure = next(m for m in messages if m.name == "OriginateResponse" and m.get("Uniqueid") == "sim-6")
    reordered = [failure, *(m for m in messages if m is not failure)]
    tracker = CallTracker()
    tracker.track("sim-6")
    settled = []
    for number, message in enumerate(reordered):
        update = tracker.feed(message, float(number))
        if update is not None:
            if number == 0:
                assert update.call.failed_without_channel and not update.settled
            if update.settled:
                settled.append(update.call)
    (call,) = settled
    assert call.dial_status == "BUSY" and network_outcome(call) is NetworkOutcome.BUSY


def _messages(name: str) -> list[AmiMessage]:
    return AmiDecoder().feed((FIXTURES / name).read_bytes())


def test_the_other_workers_calls_are_shadowed_with_the_same_facts() -> None:
    """Worker A placed the ten simulated calls; worker B, on the same stream, followed them silently.
    Taking them over, B knows how each ended as A's tracker did (except the originate result, which goes
    to A's session only in a real system: here the stream has it and B keeps it)."""
    ids = [f"sim-{d}" for d in range(10)]
    placed = replay("sim-all-digits.ami", ids)
    shadow = CallTracker(shadow_prefix="sim-", shadow_limit=100)
    for number, message in enumerate(_messages("sim-all-digits.ami")):
        assert shadow.feed(message, received_at=float(number)) is None, "shadows are never reported"
    assert shadow.shadow_counts == (0, 10)
    for call_id in ids:
        taken = shadow.take_over(call_id)
        assert taken is not None and taken.state is CallState.ENDED
        assert network_outcome(taken) is network_outcome(placed[call_id]), call_id
        assert (taken.answered_at, taken.ended_at) == (placed[call_id].answered_at, placed[call_id].ended_at)
    assert shadow.take_over("sim-0") is None, "taken over once"
    assert shadow.shadow_counts == (0, 0)


def test_a_live_shadow_taken_over_is_followed_to_its_end() -> None:
    messages = _messages("sim-all-digits.ami")
    half = len(messages) // 3
    shadow = CallTracker(shadow_prefix="sim-")
    for number, message in enumerate(messages[:half]):
        shadow.feed(message, received_at=float(number))
    live, _ended = shadow.shadow_counts
    assert live > 0
    taken = {d: shadow.take_over(f"sim-{d}") for d in range(10)}
    followed = {d for d, call in taken.items() if call is not None and call.state is not CallState.ENDED}
    assert followed, "some calls were still live a third of the way in"
    settled = {}
    for number, message in enumerate(messages[half:], start=half):
        update = shadow.feed(message, received_at=float(number))
        if update is not None and update.settled:
            settled[update.call.call_id] = update.call
    assert {f"sim-{d}" for d in followed} <= set(settled), "every adopted live call settles and is reported"


def test_the_shadow_book_is_bounded_and_ignores_foreign_ids() -> None:
    shadow = CallTracker(shadow_prefix="sim-", shadow_limit=3)
    for number, message in enumerate(_messages("sim-all-digits.ami")):
        shadow.feed(message, received_at=float(number))
    assert shadow.shadow_counts == (0, 3), "only the last three ended calls are remembered"
    foreign = CallTracker(shadow_prefix="ud-")
    for number, message in enumerate(_messages("sim-all-digits.ami")):
        foreign.feed(message, received_at=float(number))
    assert foreign.shadow_counts == (0, 0), "calls that are not ours are not followed"
