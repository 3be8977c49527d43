"""Every prompt id the IVR can play, with the Russian text it says (pure).

The fixed phrases come from the message plan (dialer.core.message_plan.PHRASES), the number and noun words
from the Russian number grammar (dialer.core.russian_numbers.WORDS); ``org/name`` says the organisation's
name from the configuration until a real recording replaces it.
"""

from __future__ import annotations

import hashlib

from dialer.core.message_plan import PHRASES
from dialer.core.russian_numbers import WORDS

LANGUAGE = "ru"
FOLDER = "upravdolg"  # under Asterisk's sounds/<lang>/: STREAM FILE upravdolg/<prompt id>
FORMATS = ("wav", "sln", "ulaw", "alaw", "gsm")


def prompt_texts(organisation_name: str) -> dict[str, str]:
    """Prompt id -> text, for every prompt (the organisation's name must not be empty)."""
    if not organisation_name.strip():
        raise ValueError("the organisation's name is empty: set organisation.name in the settings")
    texts = {**PHRASES, **WORDS}
    texts["org/name"] = organisation_name.strip()
    return dict(sorted(texts.items()))


def text_digest(text: str) -> str:
    """Identifies the text a built prompt says (a changed text makes the prompt stale)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
