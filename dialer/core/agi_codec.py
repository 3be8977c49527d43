"""The AGI protocol, sans-IO: bytes in, typed events out; commands out as bytes.

What a FastAGI server receives (res/res_agi.c in Asterisk 22, and ../shared/ASTERISK.md):

* a request: ``agi_<name>: <value>`` lines ended by an empty line (``agi_network_script`` and
  ``agi_arg_1..N`` come from ``AGI(agi://host/script,arg1,arg2)``);
* one reply per command: ``200 result=<n> [(<data>)] [key=value ...]`` — ``STREAM FILE`` adds
  ``endpos=<samples>``, the position the playback reached (8000 samples a second for our 8 kHz prompts);
* ``510 Invalid or unknown command``, ``511 Command Not Permitted on a dead channel or intercept routine``,
  and the multi-line ``520-Invalid command syntax.  Proper usage follows:`` … ``520 End of proper usage.``;
* a bare ``HANGUP`` line when the channel hangs up — possibly twice, possibly between a command and its
  reply (res_agi.c ``agi_handle_command``/``run_agi``). It is an event of its own, never a reply.

panoramisk's ``fast_agi`` and pyst2 both get some of these wrong (they shift replies after ``HANGUP`` and
drop ``endpos``), hence this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_LINE = 64 * 1024
MAX_REQUEST_LINES = 200
_REPLY = re.compile(r"^(\d{3})([ -])(.*)$")
_RESULT = re.compile(r"^result=(-?\d+)(?:\s+\((.*?)\))?(.*)$")
_PAIR = re.compile(r"(\w+)=(\S+)")


class AgiProtocolError(ValueError):
    """The peer sent something that is not AGI."""


@dataclass(frozen=True, slots=True)
class AgiRequest:
    headers: dict[str, str]

    @property
    def script(self) -> str:
        """``notify`` for ``agi://host:port/notify,...`` (without a leading slash)."""
        return self.headers.get("agi_network_script", "").strip("/")

    @property
    def args(self) -> tuple[str, ...]:
        found = []
        for n in range(1, 100):
            value = self.headers.get(f"agi_arg_{n}")
            if value is None:
                break
            found.append(value)
        return tuple(found)

    @property
    def channel(self) -> str:
        return self.headers.get("agi_channel", "")

    @property
    def uniqueid(self) -> str:
        return self.headers.get("agi_uniqueid", "")


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: int | None = None  # the ``result=`` number of a 200 reply
    data: str = ""  # the parenthesised part, e.g. ``timeout``
    extras: dict[str, str] = field(default_factory=dict)  # e.g. {"endpos": "24160"}
    text: str = ""  # the raw text after the code (all lines of a 520)

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def endpos(self) -> int | None:
        value = self.extras.get("endpos")
        return int(value) if value is not None and value.lstrip("-").isdigit() else None

    @property
    def dead_channel(self) -> bool:
        return self.code == 511


@dataclass(frozen=True, slots=True)
class Hangup:
    """The channel hung up (a bare ``HANGUP`` line)."""


AgiEvent = AgiRequest | AgiReply | Hangup


def parse_reply(line: str) -> AgiReply:
    match = _REPLY.match(line)
    if match is None:
        raise AgiProtocolError(f"not an AGI reply: {line[:80]!r}")
    code, rest = int(match.group(1)), match.group(3)
    if code != 200:
        return AgiReply(code, text=rest)
    result = _RESULT.match(rest.strip())
    if result is None:
        return AgiReply(code, text=rest)
    extras = dict(_PAIR.findall(result.group(3)))
    return AgiReply(code, int(result.group(1)), result.group(2) or "", extras, rest)


def quote(argument: str) -> str:
    """An AGI command argument: quoted when it is empty or has spaces or quotes (res_agi.c parse_args)."""
    if argument and not re.search(r'[\s"\\]', argument):
        return argument
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'


def command(*words: str) -> bytes:
    """One command line; the first word is the verb: ``command("STREAM FILE", "hello", "")``."""
    if not words or not words[0] or "\n" in "".join(words):
        raise ValueError("an AGI command needs a verb and no newlines")
    return (" ".join([words[0], *(quote(w) for w in words[1:])]) + "\n").encode()


class AgiConnection:
    """One FastAGI session's incoming side: feed bytes, get the request once, then replies and hang-ups."""

    def __init__(self, *, expect_request: bool = True) -> None:
        """``expect_request=False``: replies only (a process AGI whose environment another library read)."""
        self._buffer = b""
        self._headers: dict[str, str] | None = {} if expect_request else None
        self._usage: list[str] | None = None  # lines of a multi-line 520 being collected
        self.request: AgiRequest | None = None

    def receive(self, data: bytes) -> list[AgiEvent]:
        self._buffer += data
        events: list[AgiEvent] = []
        while True:
            newline = self._buffer.find(b"\n")
            if newline < 0:
                if len(self._buffer) > MAX_LINE:
                    raise AgiProtocolError(f"a line longer than {MAX_LINE} bytes")
                return events
            raw, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
            line = raw.decode("utf-8", errors="replace").rstrip("\r")
            event = self._line(line)
            if event is not None:
                events.append(event)

    def _line(self, line: str) -> AgiEvent | None:
        if self._headers is not None:
            if line == "":
                if not self._headers:
                    return None  # blank lines before the request
                self.request = AgiRequest(self._headers)
                self._headers = None
                return self.request
            name, sep, value = line.partition(":")
            if not sep or not name.startswith("agi_"):
                raise AgiProtocolError(f"not an AGI request line: {line[:80]!r}")
            if len(self._headers) >= MAX_REQUEST_LINES:
                raise AgiProtocolError("an AGI request with too many lines")
            self._headers[name.strip()] = value.strip()
            return None
        if line == "HANGUP":
            return Hangup()
        if self._usage is not None:
            self._usage.append(line)
            if line.startswith("520 "):
                text, self._usage = "\n".join(self._usage), None
                return AgiReply(520, text=text)
            return None
        if line.startswith("520-"):
            self._usage = [line[4:]]
            return None
        if line == "":
            return None
        return parse_reply(line)
