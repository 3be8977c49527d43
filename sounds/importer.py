"""Import a real recording as a prompt: decode it (wav, mp3, ogg) with ffmpeg to 8 kHz mono, trim the
silence before and after the speech, bring it to one loudness, and convert it to every format Asterisk plays
(``sounds.build.convert``). The index marks it ``"source": "recording: <file name>"``, so ``build`` never
replaces it with synthesis, and records the digest of the manifest text it stands for, so ``check`` asks for
a new recording when that text changes.

Levels are pydub's: dBFS relative to a full-scale square wave (a full-scale sine reads -3 dBFS), measured on
the 8 kHz mono samples the prompt is built from. The numbers are decided in docs/sounds.md:

- silence is what stays :data:`TRIM_BELOW_LEVEL_DB` under the recording's overall RMS level, and anything
  quieter than :data:`SILENCE_FLOOR_DBFS`, measured in :data:`CHUNK_MS` chunks; :data:`PAD_MS` of the
  recording is kept on either side of the sound so soft onsets and word endings are not clipped;
- the gain brings the RMS level of the sound (the chunks above the silence threshold: pauses between words
  do not count, so a long phrase and a single number word come out equally loud when the IVR plays them
  one after the other) to :data:`TARGET_LEVEL_DBFS`, but never lifts the peak above
  :data:`PEAK_CEILING_DBFS` (no clipping, and headroom for the μ-law/A-law/GSM encoders).
"""

from __future__ import annotations

import difflib
import math
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sounds.build import (
    RECORDED,
    SAMPLE_RATE,
    SoundsError,
    convert,
    load_audio_segment,
    prompt_folder,
    read_index,
    require_tool,
    write_index,
)
from sounds.manifest import FORMATS, LANGUAGE, text_digest

CHUNK_MS = 10
TRIM_BELOW_LEVEL_DB = 30.0
SILENCE_FLOOR_DBFS = -60.0
PAD_MS = 50
TARGET_LEVEL_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
# the gain is rounded per sample (about 0.0003 dB at -1 dBFS): aim this far under the ceiling
ROUNDING_DB = 0.01
EXPECTED = "expected a wav, mp3 or ogg recording"


@dataclass(frozen=True)
class Loudness:
    """The gain that brings a recording's sound to the target level without lifting its peak too high."""

    gain_db: float
    level_dbfs: float  # RMS level of the sound after the gain
    peak_dbfs: float  # after the gain
    peak_limited: bool  # the ceiling, not the target level, decided the gain


@dataclass(frozen=True)
class ImportReport:
    prompt_id: str
    source: Path
    recorded_ms: int  # the whole recording as decoded
    leading_ms: int  # silence cut before the sound (the pad kept)
    trailing_ms: int  # silence cut after it
    ms: int  # the built prompt, as the index records it
    loudness: Loudness

    def summary(self) -> list[str]:
        """What was done, for the command line."""
        seconds = f"{self.recorded_ms / 1000:.2f} s recorded, {self.ms / 1000:.2f} s after trimming"
        cut = f"{self.leading_ms / 1000:.2f} s of silence before and {self.trailing_ms / 1000:.2f} s after"
        gain = self.loudness
        level = f"{gain.level_dbfs:.1f} dBFS RMS, peak {gain.peak_dbfs:.1f} dBFS"
        if gain.peak_limited:
            level += f" (the peak ceiling, not the {TARGET_LEVEL_DBFS:.0f} dBFS target, decided the gain)"
        return [
            f"imported {self.source.name} as {LANGUAGE}/{self.prompt_id}",
            f"  duration: {seconds} {cut}",
            f"  loudness: gain {gain.gain_db:+.1f} dB to {level}",
        ]


def silence_threshold(overall_dbfs: float) -> float:
    """Chunks quieter than this are silence: :data:`TRIM_BELOW_LEVEL_DB` under the recording's overall level,
    never below :data:`SILENCE_FLOOR_DBFS` (so hiss alone never counts as sound)."""
    return max(overall_dbfs - TRIM_BELOW_LEVEL_DB, SILENCE_FLOOR_DBFS)


def sound_span(levels: list[float], threshold: float) -> tuple[int, int] | None:
    """Indexes of the first and the last chunk louder than ``threshold``; None when there is none."""
    loud = [i for i, level in enumerate(levels) if level > threshold]
    return (loud[0], loud[-1]) if loud else None


def sound_level(levels: list[float], lengths: list[int], threshold: float) -> float:
    """RMS level (dBFS) of the chunks louder than ``threshold``, each weighted by its length."""
    power = sum(10 ** (lv / 10) * n for lv, n in zip(levels, lengths, strict=True) if lv > threshold)
    duration = sum(n for lv, n in zip(levels, lengths, strict=True) if lv > threshold)
    return 10 * math.log10(power / duration)


def loudness(level_dbfs: float, peak_dbfs: float) -> Loudness:
    """The gain to :data:`TARGET_LEVEL_DBFS`, lowered if it would lift the peak above the ceiling."""
    wanted = TARGET_LEVEL_DBFS - level_dbfs
    allowed = PEAK_CEILING_DBFS - ROUNDING_DB - peak_dbfs
    gain = min(wanted, allowed)
    return Loudness(gain, level_dbfs + gain, peak_dbfs + gain, peak_limited=allowed < wanted)


def import_recording(source: Path, prompt_id: str, texts: dict[str, str], build_root: Path) -> ImportReport:
    """Trim, level and convert ``source`` into the prompt ``prompt_id`` under ``build_root``.

    Nothing under ``build_root`` changes unless every format was written: the files are converted into a
    staging folder beside the prompts, moved into place, and the index is replaced last, in one step."""
    text = _text_of(prompt_id, texts)
    with tempfile.TemporaryDirectory(prefix="upravdolg-import-") as scratch:
        audio = _decode(source, Path(scratch) / "decoded.wav")
        chunks = [audio[start : start + CHUNK_MS] for start in range(0, len(audio), CHUNK_MS)]
        levels = [chunk.dBFS for chunk in chunks]
        threshold = silence_threshold(audio.dBFS)
        span = sound_span(levels, threshold)
        if span is None:
            raise SoundsError(
                f"{source} is silent: nothing in it is louder than {threshold:.0f} dBFS",
                hint="check the microphone and record it again",
            )
        start = max(0, span[0] * CHUNK_MS - PAD_MS)
        end = min(len(audio), (span[1] + 1) * CHUNK_MS + PAD_MS)
        level = sound_level(levels, [len(chunk) for chunk in chunks], threshold)
        trimmed = audio[start:end]
        gain = loudness(level, trimmed.max_dBFS)
        prepared = Path(scratch) / "prepared.wav"
        trimmed.apply_gain(gain.gain_db).export(prepared, format="wav").close()
        ms = _install(prepared, prompt_id, build_root)
    index = read_index(build_root)
    index[prompt_id] = {"ms": ms, "text": text_digest(text), "source": f"{RECORDED}{source.name}"}
    write_index(build_root, index)
    return ImportReport(prompt_id, source, len(audio), start, len(audio) - end, ms, gain)


def _text_of(prompt_id: str, texts: dict[str, str]) -> str:
    if prompt_id in texts:
        return texts[prompt_id]
    close = difflib.get_close_matches(prompt_id, list(texts), n=3, cutoff=0.6)
    groups = sorted({known.split("/", 1)[0] + "/" for known in texts})
    hint = f"did you mean {' or '.join(close)}?" if close else f"prompt ids start with {', '.join(groups)}"
    raise SoundsError(
        f"unknown prompt id {prompt_id!r}",
        hint=f"{hint} (`upravdolg sounds check` names every prompt not built yet)",
    )


def _decode(source: Path, target: Path) -> Any:
    """The first audio stream of ``source`` as 8 kHz mono 16-bit samples (ffmpeg resamples with a proper
    low-pass filter; pydub's own resampling does not filter)."""
    if not source.is_file():
        raise SoundsError(f"{source} is not a file", hint=EXPECTED)
    command = [
        require_tool("ffmpeg", "ffmpeg"),
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-i",
        f"file:{source.resolve()}",  # a name like "x:y.wav" must not be read as an ffmpeg protocol
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        str(SAMPLE_RATE),
        "-c:a",
        "pcm_s16le",
        "-f",
        "wav",
        "-y",
        f"file:{target}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        said = result.stderr.replace(f"file:{source.resolve()}: ", "").strip().splitlines()
        if "matches no streams" in result.stderr:
            said = ["it has no audio stream"]
        detail = f" (ffmpeg: {said[0].strip()})" if said else ""
        raise SoundsError(f"{source} is not a recording ffmpeg can read{detail}", hint=EXPECTED)
    with target.open("rb") as raw:
        return load_audio_segment().from_file(raw, format="wav")


def _install(prepared: Path, prompt_id: str, build_root: Path) -> int:
    """Convert ``prepared`` to every format in a staging folder under ``build_root`` (same file system, so
    each file is renamed into place whole), then move them over the prompt's files; return the duration."""
    folder = prompt_folder(build_root)
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=build_root))
    try:
        ms = convert(prepared, staging / "prompt")
        for fmt in FORMATS:
            target = folder / f"{prompt_id}.{fmt}"
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / f"prompt.{fmt}", target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ms
