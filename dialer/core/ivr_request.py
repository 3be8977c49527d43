"""What a call hands the IVR: the attempt, the debtor's facts and the IVR's options, as AGI arguments (pure).

The engine sets them as channel variables when it originates; the dialplan passes them on unchanged:

    AGI(agi://${UPRAVDOLG_AGI}/notify,${UPRAVDOLG_ATTEMPT},${UPRAVDOLG_FACTS},${UPRAVDOLG_IVR})
    AGI(upravdolg-notify.py,${UPRAVDOLG_ATTEMPT},${UPRAVDOLG_FACTS},${UPRAVDOLG_IVR})

so both transports get everything in the request itself (no lookup, no shared state), and any dialer
connected to that Asterisk could serve the call. Facts: ``<account digits>:<debt>:<months>``
(``1002345:12345.67:3``); options: ``completion=payment&repeats=2&menu=5000&operator=1&folder=upravdolg``.
Neither may hold a comma (the dialplan's argument separator), which these forms never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from dialer.core.message_plan import DEFAULT_COMPLETION, SEGMENTS, DebtorFacts

_FACTS = re.compile(r"^(\d{1,40}):(\d{1,12}(?:\.\d{1,2})?):(\d{1,4})$")
_ATTEMPT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_FOLDER = re.compile(r"^[a-z0-9-]{1,40}$")


def valid_attempt_id(text: str) -> bool:
    """An attempt id (our ChannelId) that travels safely in AGI arguments and UserEvent headers."""
    return _ATTEMPT.match(text) is not None


class IvrRequestError(ValueError):
    """The AGI request does not carry what the IVR needs (named, with what was expected)."""


@dataclass(frozen=True, slots=True)
class IvrOptions:
    completion: str = DEFAULT_COMPLETION  # the segment whose end means "heard the whole message"
    max_repeats: int = 2  # «1» replays the message at most this many times
    menu_timeout_ms: int = 5000  # how long the menu waits for a key
    operator: bool = True  # «0» connects to an operator
    folder: str = "upravdolg"  # the prompts: sounds/<lang>/<folder>/<prompt id>

    def __post_init__(self) -> None:
        if not _FOLDER.match(self.folder):
            raise IvrRequestError(f"the sound folder must be 1-40 of a-z, 0-9, '-', not {self.folder!r}")
        if self.completion not in SEGMENTS:
            raise IvrRequestError(f"completion must be one of {', '.join(SEGMENTS)}, not {self.completion!r}")
        if not 0 <= self.max_repeats <= 9:
            raise IvrRequestError(f"repeats must be 0..9, not {self.max_repeats}")
        if not 1000 <= self.menu_timeout_ms <= 60000:
            raise IvrRequestError(f"the menu timeout must be 1000..60000 ms, not {self.menu_timeout_ms}")

    def encode(self) -> str:
        return (
            f"completion={self.completion}&repeats={self.max_repeats}"
            f"&menu={self.menu_timeout_ms}&operator={int(self.operator)}&folder={self.folder}"
        )

    @classmethod
    def decode(cls, text: str) -> IvrOptions:
        values: dict[str, str] = {}
        for item in filter(None, text.strip().split("&")):
            key, sep, value = item.partition("=")
            if not sep or key not in {"completion", "repeats", "menu", "operator", "folder"}:
                raise IvrRequestError(
                    f"IVR option {item!r}: expected completion=…, repeats=N, menu=MS, operator=0|1 "
                    "or folder=…"
                )
            values[key] = value
        for key in ("repeats", "menu"):
            if key in values and not values[key].isdigit():
                raise IvrRequestError(f"IVR option {key} must be a whole number, got {values[key]!r}")
        if values.get("operator", "1") not in {"0", "1"}:
            raise IvrRequestError(f"IVR option operator must be 0 or 1, got {values['operator']!r}")
        defaults = cls()
        return cls(
            completion=values.get("completion", defaults.completion),
            max_repeats=int(values.get("repeats", defaults.max_repeats)),
            menu_timeout_ms=int(values.get("menu", defaults.menu_timeout_ms)),
            operator=values.get("operator", "1") == "1",
            folder=values.get("folder", defaults.folder),
        )


def encode_facts(facts: DebtorFacts) -> str:
    """The debtor's facts as one AGI argument (the account's digits only: those are what is said)."""
    digits = "".join(c for c in facts.account if c.isdigit() and c.isascii())
    if not digits:
        raise IvrRequestError(f"account {facts.account!r} has no digits to say")
    if facts.debt < 0:
        raise IvrRequestError(f"debt {facts.debt} is negative")
    return f"{digits}:{facts.debt.quantize(Decimal('0.01'))}:{facts.months_overdue}"


def decode_facts(text: str) -> DebtorFacts:
    match = _FACTS.match(text.strip())
    if match is None:
        raise IvrRequestError(
            f"debtor facts {text!r}: expected <account digits>:<debt>:<months>, e.g. 1002345:12345.67:3"
        )
    try:
        debt = Decimal(match.group(2))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        raise IvrRequestError(f"debtor facts {text!r}: the debt is not a number") from None
    return DebtorFacts(match.group(1), debt, int(match.group(3)))


@dataclass(frozen=True, slots=True)
class IvrRequest:
    attempt_id: str
    facts: DebtorFacts
    options: IvrOptions

    def arguments(self) -> tuple[str, str, str]:
        return self.attempt_id, encode_facts(self.facts), self.options.encode()

    @classmethod
    def from_arguments(cls, args: tuple[str, ...] | list[str]) -> IvrRequest:
        if len(args) < 2:
            raise IvrRequestError(
                f"the IVR needs the arguments attempt, facts[, options]; got {len(args)} argument(s)"
            )
        attempt_id = args[0].strip()
        if not valid_attempt_id(attempt_id):
            raise IvrRequestError(
                f"attempt id {attempt_id!r}: expected 1-64 letters, digits, '.', '_' or '-'"
            )
        options = IvrOptions.decode(args[2]) if len(args) > 2 else IvrOptions()
        return cls(attempt_id, decode_facts(args[1]), options)
