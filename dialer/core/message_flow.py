"""The call's message as an AGI conversation, sans-IO: a generator that yields commands and receives replies.

This is the campaign engine's basic flow: play the message's prompts in order, measure how far the debtor
listened (``STREAM FILE``'s ``endpos``, in samples of our 8 kHz prompts), hang up. ``heard_full`` means
every prompt up to the end mark played to its end. The personalised message, the menu and the pyst2
transport are built on the same pattern by the IVR issue.

Drive it with ``reply = None`` when the connection is gone: the flow then returns what it measured so far.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence

from dialer.core.agi_codec import AgiReply, command
from dialer.core.campaign_progress import ListenReport

SAMPLES_PER_SECOND = 8000
Flow = Generator[bytes, AgiReply | None, ListenReport]


def play_message(prompts: Sequence[str], *, full_after: int | None = None) -> Flow:
    """Play ``prompts``; heard in full once prompt number ``full_after`` (1-based; default: the last)
    played to its end."""
    if not prompts:
        raise ValueError("a message needs at least one prompt")
    mark = len(prompts) if full_after is None else full_after
    if not 1 <= mark <= len(prompts):
        raise ValueError(f"the end mark must be a prompt number from 1 to {len(prompts)}")
    heard = 0.0
    completed = 0
    for prompt in prompts:
        reply = yield command("STREAM FILE", prompt, "")
        if reply is None or not reply.ok:
            break
        heard += (reply.endpos or 0) / SAMPLES_PER_SECOND
        if reply.result != 0:  # -1: hung up (or the file is missing); a digit cannot come: none allowed
            break
        completed += 1
    report = ListenReport(heard_seconds=round(heard, 2), heard_full=completed >= mark)
    if completed == len(prompts):
        yield command("HANGUP")
    return report
