"""Which Asterisk dial string reaches a number over a trunk (pure)."""

from __future__ import annotations

import re

SIM_TRUNK = "sim"
SIM_CONTEXT = "upravdolg-sim"
_TRUNK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def dial_string(trunk: str, e164: str) -> str:
    """``sim`` -> a Local channel into the simulated-debtor context; else ``PJSIP/<digits>@<endpoint>``."""
    digits = e164.removeprefix("+")
    if not digits.isdigit():
        raise ValueError(f"not an E.164 number: {e164!r}")
    if trunk == SIM_TRUNK:
        return f"Local/{digits}@{SIM_CONTEXT}"
    if not _TRUNK_NAME.match(trunk):
        raise ValueError(f"invalid trunk (PJSIP endpoint) name {trunk!r}")
    return f"PJSIP/{digits}@{trunk}"
