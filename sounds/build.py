"""Build the prompts Asterisk plays: synthesise missing ones with espeak-ng (a clearly labelled placeholder
voice) and convert them with pydub/ffmpeg to 8 kHz mono wav, sln, ulaw, alaw and gsm.

Each built prompt is recorded in ``<build>/<lang>/upravdolg/index.json`` with its exact duration (from the
converted samples: the IVR's "heard the whole message" is measured against it), the digest of the text it
says and where it came from (``espeak-ng`` placeholder or an imported recording, see sounds/importer.py). A
placeholder whose text changed is rebuilt; a recording is never overwritten by synthesis: when the text it
stands for changes, ``check`` asks for it to be recorded again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dialer.errors import UpravDolgError
from sounds.manifest import FOLDER, FORMATS, LANGUAGE, text_digest

SAMPLE_RATE = 8000
INDEX = "index.json"
SYNTHESISED = "espeak-ng placeholder"
RECORDED = "recording: "  # followed by the imported file's name


class SoundsError(UpravDolgError):
    """A prompt could not be built (a tool is missing or failed)."""


@dataclass
class BuildReport:
    built: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # kept recordings that say an older text or lack a format: only recording them again fixes these
    to_record: list[str] = field(default_factory=list)


def prompt_folder(build_root: Path) -> Path:
    return build_root / LANGUAGE / FOLDER


def read_index(build_root: Path) -> dict[str, dict[str, Any]]:
    path = prompt_folder(build_root) / INDEX
    if not path.exists():
        return {}
    loaded: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def write_index(build_root: Path, index: dict[str, dict[str, Any]]) -> None:
    """Replace the index in one step (written beside it, then renamed): a reader sees the old or the new."""
    folder = prompt_folder(build_root)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(index, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - renamed into place, not deleted, once written
        "w", encoding="utf-8", dir=folder, prefix=".index-", suffix=".tmp", delete=False
    )
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, folder / INDEX)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def is_recording(known: dict[str, Any]) -> bool:
    """An index entry of an imported recording (never replaced by synthesis)."""
    return str(known.get("source", "")).startswith(RECORDED)


def load_audio_segment() -> Any:
    """pydub's ``AudioSegment`` class (imported on first use: pydub looks for ffmpeg when imported)."""
    with warnings.catch_warnings():  # pydub 0.25 imports the stdlib audioop, deprecated since 3.11
        warnings.filterwarnings("ignore", message="'audioop' is deprecated", category=DeprecationWarning)
        from pydub import AudioSegment  # noqa: PLC0415

    return AudioSegment


def require_tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise SoundsError(f"{name} is not installed", hint=f"install the Debian package {package}")
    return found


def synthesise(text: str, target: Path) -> None:
    """Speak ``text`` in Russian into a wav file with espeak-ng."""
    command = [require_tool("espeak-ng", "espeak-ng"), "-v", LANGUAGE, "-s", "150", "-w", str(target), text]
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0 or not target.exists():
        raise SoundsError(f"espeak-ng failed on {text[:40]!r}: {result.stderr.strip() or result.returncode}")


def convert(source: Path, base: Path) -> int:
    """Write ``base.<format>`` for every format Asterisk plays; return the duration in milliseconds."""
    require_tool("ffmpeg", "ffmpeg")
    with source.open("rb") as raw:
        audio = load_audio_segment().from_file(raw, format="wav")
    audio = audio.set_frame_rate(SAMPLE_RATE).set_channels(1).set_sample_width(2)
    base.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{base}.sln").write_bytes(audio.raw_data)
    for suffix, options in (
        ("wav", {"format": "wav"}),
        ("ulaw", {"format": "mulaw"}),
        ("alaw", {"format": "alaw"}),
        ("gsm", {"format": "gsm", "codec": "libgsm"}),
    ):
        audio.export(f"{base}.{suffix}", **options).close()  # export returns the open file
    return len(audio.raw_data) * 1000 // (SAMPLE_RATE * 2)


def build(texts: dict[str, str], build_root: Path, *, only: str = "") -> BuildReport:
    """Build every prompt (whose id starts with ``only``) that is missing or says an outdated text; keep
    every recording (and list those that need recording again)."""
    folder = prompt_folder(build_root)
    index = read_index(build_root)
    report = BuildReport()
    with tempfile.TemporaryDirectory(prefix="upravdolg-sounds-") as scratch:
        for prompt_id, text in texts.items():
            if not prompt_id.startswith(only):
                continue
            known = index.get(prompt_id)
            if known is not None and is_recording(known):
                report.kept.append(prompt_id)
                if _missing_formats(folder, prompt_id) or _outdated(known, text):
                    report.to_record.append(prompt_id)
                continue
            if known is not None and not _missing_formats(folder, prompt_id) and not _outdated(known, text):
                report.kept.append(prompt_id)
                continue
            raw = Path(scratch) / "prompt.wav"
            synthesise(text, raw)
            duration = convert(raw, folder / prompt_id)
            index[prompt_id] = {"ms": duration, "text": text_digest(text), "source": SYNTHESISED}
            report.built.append(prompt_id)
    write_index(build_root, index)
    return report


def check(texts: dict[str, str], build_root: Path) -> list[str]:
    """Problems, one line each: prompts missing, incomplete, or saying an outdated text (a recording of an
    older text must be recorded again: ``build`` never replaces it)."""
    folder = prompt_folder(build_root)
    index = read_index(build_root)
    problems = []
    for prompt_id, text in texts.items():
        known = index.get(prompt_id)
        missing = _missing_formats(folder, prompt_id)
        if known is None:
            problems.append(f"{LANGUAGE}/{prompt_id}: missing")
        elif missing:
            again = " — import the recording again" if is_recording(known) else ""
            problems.append(f"{LANGUAGE}/{prompt_id}: no {', '.join(missing)} file{again}")
        elif _outdated(known, text) and is_recording(known):
            problems.append(
                f"{LANGUAGE}/{prompt_id}: recorded for an older text — record it again and run "
                f"`upravdolg sounds import FILE --as {prompt_id}`"
            )
        elif _outdated(known, text):
            problems.append(f"{LANGUAGE}/{prompt_id}: built from an older text")
    return problems


def _missing_formats(folder: Path, prompt_id: str) -> list[str]:
    return [fmt for fmt in FORMATS if not (folder / f"{prompt_id}.{fmt}").exists()]


def _outdated(known: dict[str, Any], text: str) -> bool:
    """The prompt (synthesised or recorded) says another text than the manifest does now."""
    return known.get("text") != text_digest(text)
