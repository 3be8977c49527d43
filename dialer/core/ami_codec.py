"""Sans-IO codec for the Asterisk Manager Interface: bytes in, messages out; actions in, bytes out.

Wire format (main/manager.c, `astman_append` / `process_message`): after connecting, Asterisk sends one
banner line ``Asterisk Call Manager/<version>\\r\\n``. Every message after that is a block of
``Key: Value\\r\\n`` lines closed by an empty line. Responses carry ``Response:``, events ``Event:``.
Header names are case-insensitive for us (Asterisk itself compares action headers case-insensitively,
main/manager.c `astman_get_header` uses strcasecmp). A header may repeat (e.g. ``Variable`` in an action,
``Output`` in a Command response); we keep every occurrence in order.

No I/O, no clock: the adapter feeds received bytes to :class:`AmiDecoder` and writes what
:func:`encode_action` returns.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

BANNER_PREFIX = b"Asterisk Call Manager/"
_TERMINATOR = b"\r\n\r\n"
DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024


class AmiLocalError(Exception):
    """We tried to use the AMI codec in a way it does not allow (a bug on our side)."""


class AmiRemoteError(Exception):
    """The peer sent bytes that are not valid AMI."""


class MessageKind(Enum):
    """What an AMI message is, from its first meaningful header."""

    EVENT = "event"
    RESPONSE = "response"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One AMI message: its headers in wire order (names as Asterisk spelled them)."""

    headers: tuple[tuple[str, str], ...]
    _index: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for name, value in self.headers:
            index.setdefault(name.lower(), value)
        object.__setattr__(self, "_index", index)

    @classmethod
    def _indexed(cls, headers: tuple[tuple[str, str], ...], index: dict[str, str]) -> AmiMessage:
        """A message whose index the caller built (the decoder's hot path)."""
        message = object.__new__(cls)
        object.__setattr__(message, "headers", headers)
        object.__setattr__(message, "_index", index)
        return message

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] | Mapping[str, str]) -> AmiMessage:
        """Build a message from pairs or a mapping (convenient for adapters and tests)."""
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        return cls(tuple((str(k), str(v)) for k, v in items))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        return self._index.get(name.lower(), default)

    def __getitem__(self, name: str) -> str:
        value = self._index.get(name.lower())
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def get_all(self, name: str) -> list[str]:
        """Every value of a repeated header, in wire order."""
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    @property
    def kind(self) -> MessageKind:
        if "event" in self._index:
            return MessageKind.EVENT
        if "response" in self._index:
            return MessageKind.RESPONSE
        return MessageKind.OTHER

    @property
    def name(self) -> str:
        """The event name, or the response word (Success, Error, Goodbye, ...)."""
        return self._index.get("event") or self._index.get("response") or ""

    @property
    def action_id(self) -> str | None:
        return self._index.get("actionid")

    def as_dict(self) -> dict[str, str]:
        """First value of every header, keyed as Asterisk spelled it."""
        out: dict[str, str] = {}
        for name, value in self.headers:
            out.setdefault(name, value)
        return out


def parse_message(block: bytes) -> AmiMessage:
    """Parse one message block (without its terminating empty line).

    Lines without ``:`` are kept as a value of the pseudo-header ``Output`` (old ``Command`` responses
    print raw text that way); the block is decoded as UTF-8, with undecodable bytes replaced, because a
    channel variable or caller name can carry anything (a line break never falls inside a UTF-8 sequence,
    so decoding the block equals decoding each line). This runs for every event Asterisk sends: the
    header index is built in the same pass.
    """
    headers: list[tuple[str, str]] = []
    index: dict[str, str] = {}
    for line in block.decode("utf-8", errors="replace").split("\r\n"):
        if not line:
            continue
        name, sep, value = line.partition(":")
        if sep:
            name, value = name.strip(), value.strip()
        else:
            name, value = "Output", line
        headers.append((name, value))
        index.setdefault(name.lower(), value)
    if not headers:
        raise AmiRemoteError("empty AMI message")
    return AmiMessage._indexed(tuple(headers), index)


def parse_frames(buffer: bytes) -> tuple[list[AmiMessage], bytes]:
    """Split ``buffer`` into complete messages; return them and the unconsumed leftover bytes."""
    messages: list[AmiMessage] = []
    start = 0
    while True:
        end = buffer.find(_TERMINATOR, start)
        if end < 0:
            break
        block = buffer[start:end]
        start = end + len(_TERMINATOR)
        if block.strip():
            messages.append(parse_message(block))
    return messages, buffer[start:]


class AmiDecoder:
    """Incremental decoder for one AMI connection: handles the banner line and bounds the buffer."""

    def __init__(self, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> None:
        self._buffer = b""
        self._max = max_message_bytes
        self.banner: str | None = None

    def feed(self, data: bytes) -> list[AmiMessage]:
        """Add received bytes; return every message completed by them.

        Raises :class:`AmiRemoteError` when the peer is not an AMI server or sends a message larger than
        ``max_message_bytes`` (a runaway peer must not grow our memory without bound).
        """
        self._buffer += data
        if self.banner is None:
            newline = self._buffer.find(b"\r\n")
            if newline < 0:
                if len(self._buffer) > len(BANNER_PREFIX) + 64:
                    raise AmiRemoteError("the peer did not greet with an Asterisk Call Manager banner")
                return []
            line = self._buffer[:newline]
            if not line.startswith(BANNER_PREFIX):
                raise AmiRemoteError(
                    f"the peer is not an Asterisk Manager Interface (greeted with {line[:60]!r})"
                )
            self.banner = line.decode("ascii", errors="replace")
            self._buffer = self._buffer[newline + 2 :]
        messages, self._buffer = parse_frames(self._buffer)
        if len(self._buffer) > self._max:
            raise AmiRemoteError(
                f"AMI message larger than {self._max} bytes without a terminating blank line"
            )
        return messages


HeaderValue = str | int | float | bool | Sequence[str]


def _render_value(name: str, value: str | int | float | bool) -> str:
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if "\r" in text or "\n" in text:
        raise AmiLocalError(f"AMI header {name!r} must not contain a line break")
    return text


def encode_action(action: str, action_id: str, headers: Mapping[str, HeaderValue] | None = None) -> bytes:
    """Encode one action. A sequence value repeats the header (``Variable: a=1``, ``Variable: b=2``)."""
    if not action or any(c in action for c in ":\r\n"):
        raise AmiLocalError(f"invalid AMI action name {action!r}")
    lines = [f"Action: {action}", f"ActionID: {_render_value('ActionID', action_id)}"]
    for name, value in (headers or {}).items():
        if not name or any(c in name for c in ":\r\n "):
            raise AmiLocalError(f"invalid AMI header name {name!r}")
        if name.lower() in {"action", "actionid"}:
            raise AmiLocalError(f"header {name!r} is set by encode_action itself")
        values: Iterator[str | int | float | bool] = (
            iter((value,)) if isinstance(value, str | int | float | bool) else iter(value)
        )
        lines.extend(f"{name}: {_render_value(name, v)}" for v in values)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
