#!/usr/bin/env python3
"""UpravDolg's IVR as a process AGI (pyst2), for admins who run AGI scripts on the Asterisk host.

The conversation is the same one the dialer's FastAGI listener runs (dialer.core.ivr_flow: the debtor's
personalised message, measured from ``STREAM FILE``'s ``endpos``, the menu «1» repeat / «2» promise /
«0» operator, the report as a ``UserEvent`` over AMI). Asterisk runs it from the dialplan
(asterisk_conf/extensions.conf, context ``upravdolg-outbound-process``):

    AGI(upravdolg-notify.py,${UPRAVDOLG_ATTEMPT},${UPRAVDOLG_FACTS},${UPRAVDOLG_IVR})

pyst2 reads the AGI environment and writes the commands. Its reply reading is not used, because pyst2 0.5.1
drops ``endpos`` (the very measurement this is for), raises on ``result=-1`` and chokes on a ``HANGUP``
line: replies are read with our AGI codec (dialer.core.agi_codec), which handles all three. pyst2's
SIGHUP handler only sets a flag, so a hang-up does not kill the script: the flow still sends its report
(``EXEC`` works on a dead channel) and ends.

Installed by ``upravdolg asterisk up`` (or ``dialer.asterisk_config.install_agi``) as
``agi-bin/upravdolg-notify.py`` with its libraries (pyst2 and our pure ``dialer.core``) in
``agi-bin/upravdolg-lib/``; the prompts' lengths come from the installed ``sounds/ru/<folder>/index.json``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(os.path.realpath(__file__)).parent
sys.path.insert(0, str(HERE / "upravdolg-lib"))

from asterisk.agi import AGI  # noqa: E402 - after the library path

from dialer.core.agi_codec import AgiConnection, AgiProtocolError, AgiReply  # noqa: E402
from dialer.core.ivr_flow import Flow, failed_flow, ivr_flow, prepare, prompt_lengths  # noqa: E402
from dialer.core.ivr_request import IvrRequest, IvrRequestError, valid_attempt_id  # noqa: E402

SOUNDS = Path(os.environ.get("UPRAVDOLG_SOUNDS", "/usr/share/asterisk/sounds"))
MAX_COMMANDS = 1000


def installed_lengths(language: str, folder: str) -> dict[str, int]:
    path = SOUNDS / language / folder / "index.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IvrRequestError(f"{path} does not exist (install the prompts: upravdolg asterisk up)") from None
    except OSError as exc:
        raise IvrRequestError(f"{path} cannot be read: {exc}") from None
    return prompt_lengths(text, str(path))


class Replies:
    """The replies Asterisk writes to our stdin, through our codec (``HANGUP`` lines skipped)."""

    def __init__(self, stream: object) -> None:
        self.stream = stream
        self.connection = AgiConnection(expect_request=False)
        self.pending: list[AgiReply] = []

    def next(self) -> AgiReply | None:
        """The next reply, or None when Asterisk closed the pipe."""
        while not self.pending:
            line = self.stream.readline()  # type: ignore[attr-defined]
            if not line:
                return None
            data = line.encode() if isinstance(line, str) else line
            try:
                events = self.connection.receive(data)
            except AgiProtocolError:
                return None
            self.pending.extend(e for e in events if isinstance(e, AgiReply))
        return self.pending.pop(0)


def drive(flow: Flow, agi: AGI, replies: Replies) -> None:
    command = next(flow)
    for _ in range(MAX_COMMANDS):
        try:
            agi.send_command(command.decode().rstrip("\n"))
        except OSError:
            reply = None  # the pipe is gone
        else:
            reply = replies.next()
        try:
            command = flow.send(reply)
        except StopIteration:
            return


def main() -> int:
    with open(os.devnull, "w") as quiet:  # pyst2 narrates every command on stderr
        agi = AGI(stderr=quiet)
        args = [agi.env[f"agi_arg_{n}"] for n in range(1, 10) if f"agi_arg_{n}" in agi.env]
        attempt = args[0] if args and valid_attempt_id(args[0]) else ""
        replies = Replies(agi.stdin)
        if not attempt:
            agi.send_command("HANGUP")
            return 0
        try:
            request = IvrRequest.from_arguments(args)
            lengths = installed_lengths(agi.env.get("agi_language") or "ru", request.options.folder)
            flow = ivr_flow(attempt, prepare(request, lengths), lengths, request.options)
        except IvrRequestError as exc:
            problem = str(exc).replace('"', "'").replace("\n", " ")
            agi.send_command(f'VERBOSE "UpravDolg: the message cannot be played: {problem}" 1')
            replies.next()
            flow = failed_flow(attempt, str(exc))
        drive(flow, agi, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
