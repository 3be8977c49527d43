"""Every prompt as a short tone: a prompt folder for test suites and load benchmarks, where the real
message (about a minute of speech) would make each call needlessly long. Never for debtors."""

from __future__ import annotations

import json
import math
import struct
import wave
from pathlib import Path

from sounds.manifest import prompt_texts

SAMPLE_RATE = 8000


def write_tone_prompts(build_root: Path, folder: str, ms: int, language: str = "ru") -> Path:
    """Write ``<build_root>/<language>/<folder>/<id>.wav`` (``ms`` of a 440 Hz tone, 8 kHz mono) for every
    prompt id of the manifest, with the index the IVR measures against. Returns the folder."""
    target = build_root / language / folder
    samples = ms * SAMPLE_RATE // 1000
    tone = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / SAMPLE_RATE))) for n in range(samples)
    )
    index = {}
    for prompt_id in prompt_texts("test"):
        path = target / f"{prompt_id}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(SAMPLE_RATE)
            out.writeframes(tone)
        index[prompt_id] = {"ms": ms, "source": "test tone"}
    (target / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
    return target
