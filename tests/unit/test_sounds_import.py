"""Importing real recordings with the real tools (ffmpeg makes the input files, pydub measures the output):
silence trimmed, loudness levelled, every format Asterisk plays, an index entry that `check` accepts and
`build` never overwrites, and clear errors that leave the build folder as it was."""

from __future__ import annotations

import functools
import math
import subprocess
import wave
from pathlib import Path
from typing import Any

import pytest

from sounds import importer
from sounds.build import SoundsError, build, check, load_audio_segment, prompt_folder, read_index
from sounds.importer import (
    PEAK_CEILING_DBFS,
    TARGET_LEVEL_DBFS,
    import_recording,
    loudness,
    silence_threshold,
    sound_span,
)
from sounds.manifest import prompt_texts, text_digest

TEXTS = prompt_texts("УК «Пример»")
SOME = {k: v for k, v in TEXTS.items() if k in ("num/2f", "noun/kopeck-5", "org/name")}
LEAD_MS, TONE_MS, TAIL_MS = 700, 1000, 500  # silence, 440 Hz tone, silence
PAD_MS = 50


@functools.cache
def _encoders() -> str:
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, check=True
    ).stdout


def make(path: Path, source: str, *options: str) -> Path:
    """Render an ffmpeg lavfi source into ``path`` (the extension picks the container)."""
    encoder = options[options.index("-c:a") + 1] if "-c:a" in options else ""
    if encoder and f" {encoder} " not in _encoders():
        pytest.skip(f"ffmpeg has no {encoder} encoder")
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", source, *options, str(path)]
    subprocess.run(command, check=True, timeout=60)
    return path


def tone(volume_db: float = 0.0, rate: int = 44100) -> str:
    """LEAD_MS of silence, TONE_MS of a 440 Hz sine, TAIL_MS of silence."""
    return (
        f"sine=frequency=440:duration={TONE_MS / 1000}:sample_rate={rate},volume={volume_db}dB,"
        f"adelay={LEAD_MS}:all=1,apad=pad_dur={TAIL_MS / 1000}"
    )


def audio(path: Path) -> Any:
    with path.open("rb") as raw:
        return load_audio_segment().from_file(raw, format=path.suffix.lstrip("."))


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and folder under ``root``."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))
    }


@pytest.mark.parametrize(
    ("name", "volume_db", "options"),
    [
        ("quiet stereo.wav", -25.0, ("-ac", "2", "-c:a", "pcm_s16le")),
        ("loud.mp3", 15.0, ("-c:a", "libmp3lame", "-b:a", "128k")),
        ("vorbis.ogg", 0.0, ("-c:a", "libvorbis")),
        ("opus.ogg", -10.0, ("-c:a", "libopus")),
    ],
)
def test_a_recording_is_trimmed_levelled_and_converted(
    tmp_path: Path, name: str, volume_db: float, options: tuple[str, ...]
) -> None:
    source = make(tmp_path / name, tone(volume_db, rate=48000 if "opus" in name else 44100), *options)
    before = audio(source)[LEAD_MS + 200 : LEAD_MS + TONE_MS - 200].set_channels(1).dBFS
    root = tmp_path / "build"

    report = import_recording(source, "num/2f", TEXTS, root)

    assert abs(report.recorded_ms - (LEAD_MS + TONE_MS + TAIL_MS)) <= 30
    assert abs(report.leading_ms - (LEAD_MS - PAD_MS)) <= 30
    assert abs(report.trailing_ms - (TAIL_MS - PAD_MS)) <= 30
    assert abs(report.ms - (TONE_MS + 2 * PAD_MS)) <= 30
    assert report.loudness.gain_db == pytest.approx(TARGET_LEVEL_DBFS - before, abs=0.5)
    assert not report.loudness.peak_limited

    base = prompt_folder(root) / "num/2f"
    with wave.open(f"{base}.wav") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
        wav_ms = wav.getnframes() * 1000 // 8000
    sln_ms = Path(f"{base}.sln").stat().st_size * 1000 // 16000
    ulaw_ms = Path(f"{base}.ulaw").stat().st_size * 1000 // 8000
    alaw_ms = Path(f"{base}.alaw").stat().st_size * 1000 // 8000
    assert report.ms == wav_ms == sln_ms == ulaw_ms == alaw_ms
    assert Path(f"{base}.gsm").stat().st_size > 0

    built = audio(Path(f"{base}.wav"))
    tone_part = built[PAD_MS + 100 : PAD_MS + TONE_MS - 100]  # the sine, away from its edges
    assert tone_part.dBFS == pytest.approx(TARGET_LEVEL_DBFS, abs=0.3)
    assert built.max_dBFS <= PEAK_CEILING_DBFS
    assert built[:20].dBFS < TARGET_LEVEL_DBFS - 30 and built[-20:].dBFS < TARGET_LEVEL_DBFS - 30  # pads

    assert read_index(root) == {
        "num/2f": {"ms": wav_ms, "text": text_digest(TEXTS["num/2f"]), "source": f"recording: {name}"}
    }
    assert check({"num/2f": TEXTS["num/2f"]}, root) == []


def test_the_peak_ceiling_wins_over_the_level_target(tmp_path: Path) -> None:
    quiet_tone_with_a_loud_click = (
        "aevalsrc=exprs='0.02*sin(2*PI*440*t) + between(t,0.5,0.52)*0.9*sin(2*PI*1000*t)'"
        ":sample_rate=44100:duration=1"
    )
    source = make(tmp_path / "click.wav", quiet_tone_with_a_loud_click)
    report = import_recording(source, "org/name", TEXTS, tmp_path)

    built = audio(prompt_folder(tmp_path) / "org/name.wav")
    assert report.loudness.peak_limited
    assert PEAK_CEILING_DBFS - 0.2 <= built.max_dBFS <= PEAK_CEILING_DBFS
    assert built[100:400].dBFS < TARGET_LEVEL_DBFS - 10  # the tone stays quiet: no clipping to get there
    assert report.loudness.level_dbfs < TARGET_LEVEL_DBFS


def test_build_keeps_a_recording_and_check_asks_again_when_its_text_changes(tmp_path: Path) -> None:
    assert sorted(build(SOME, tmp_path).built) == sorted(SOME)  # espeak-ng placeholders first
    import_recording(make(tmp_path / "two.wav", tone()), "num/2f", TEXTS, tmp_path)
    recorded = tree(prompt_folder(tmp_path) / "num")
    entry = read_index(tmp_path)["num/2f"]
    assert entry["source"] == "recording: two.wav"

    again = build(SOME, tmp_path)
    assert again.built == [] and "num/2f" in again.kept and again.to_record == []
    assert tree(prompt_folder(tmp_path) / "num") == recorded
    assert read_index(tmp_path)["num/2f"] == entry
    assert check(SOME, tmp_path) == []

    reworded = {**SOME, "num/2f": "две (новая редакция)"}
    stale = [
        "ru/num/2f: recorded for an older text — record it again and run "
        "`upravdolg sounds import FILE --as num/2f`"
    ]
    assert check(reworded, tmp_path) == stale
    after = build(reworded, tmp_path)
    assert after.built == [] and after.to_record == ["num/2f"]
    assert tree(prompt_folder(tmp_path) / "num") == recorded
    assert check(reworded, tmp_path) == stale

    (prompt_folder(tmp_path) / "num/2f.gsm").unlink()
    assert check(SOME, tmp_path) == ["ru/num/2f: no gsm file — import the recording again"]
    assert build(SOME, tmp_path).to_record == ["num/2f"]
    assert not (prompt_folder(tmp_path) / "num/2f.gsm").exists()  # no placeholder sneaks in

    import_recording(
        make(tmp_path / "two again.mp3", tone(), "-c:a", "libmp3lame"), "num/2f", reworded, tmp_path
    )
    assert check(reworded, tmp_path) == []
    assert read_index(tmp_path)["num/2f"]["source"] == "recording: two again.mp3"


def _not_audio(tmp_path: Path) -> Path:
    path = tmp_path / "notes.wav"
    path.write_text("this is not a recording\n")
    return path


def _picture(tmp_path: Path) -> Path:
    return make(tmp_path / "picture.png", "color=c=red:s=16x16", "-frames:v", "1")


def _silent(tmp_path: Path) -> Path:
    return make(tmp_path / "silent.wav", "anullsrc=r=44100:cl=mono", "-t", "2")


def _hiss(tmp_path: Path) -> Path:  # white noise far below any speech: still "silent"
    return make(
        tmp_path / "hiss.ogg", "anoisesrc=amplitude=0.001:sample_rate=44100:duration=2", "-c:a", "libvorbis"
    )


@pytest.mark.parametrize(
    ("given", "prompt_id", "message"),
    [
        (lambda tmp: tmp / "tone.wav", "num/2ff", r"^unknown prompt id 'num/2ff' — did you mean num/2f"),
        (lambda tmp: tmp / "tone.wav", "greeting", r"^unknown prompt id 'greeting' — .*msg/greeting"),
        (lambda tmp: tmp / "tone.wav", "zzz", r"^unknown prompt id 'zzz' — prompt ids start with msg/, "),
        (
            lambda tmp: tmp / "nowhere.mp3",
            "num/2f",
            r"nowhere\.mp3 is not a file — expected a wav, mp3 or ogg",
        ),
        (
            _not_audio,
            "num/2f",
            r"notes\.wav is not a recording ffmpeg can read "
            r"\(ffmpeg: Invalid data found when processing input\) — expected a wav, mp3 or ogg recording$",
        ),
        (
            _picture,
            "num/2f",
            r"picture\.png is not a recording ffmpeg can read \(ffmpeg: it has no audio stream\) — expected",
        ),
        (
            _silent,
            "num/2f",
            r"silent\.wav is silent: nothing in it is louder than -60 dBFS — check the micro",
        ),
        (_hiss, "num/2f", r"hiss\.ogg is silent: nothing in it is louder than -60 dBFS"),
    ],
)
def test_a_bad_import_says_why_and_changes_nothing(
    tmp_path: Path, given: Any, prompt_id: str, message: str
) -> None:
    root = tmp_path / "build"
    import_recording(make(tmp_path / "tone.wav", tone()), "num/2f", TEXTS, root)
    before = tree(root)
    source = given(tmp_path)
    with pytest.raises(SoundsError, match=message):
        import_recording(source, prompt_id, TEXTS, root)
    assert tree(root) == before


def test_a_conversion_failing_halfway_leaves_the_old_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "build"
    import_recording(make(tmp_path / "tone.wav", tone()), "num/2f", TEXTS, root)
    before = tree(root)

    def convert_until_gsm(source: Path, base: Path) -> int:
        for fmt in ("wav", "sln", "ulaw"):
            Path(f"{base}.{fmt}").write_bytes(b"partial")
        raise SoundsError("gsm encoder failed")

    monkeypatch.setattr(importer, "convert", convert_until_gsm)
    with pytest.raises(SoundsError, match="gsm encoder failed"):
        import_recording(make(tmp_path / "other.wav", tone(-6)), "num/2f", TEXTS, root)
    assert tree(root) == before


@pytest.mark.parametrize(
    ("level", "peak", "gain", "limited"),
    [
        (-30.0, -12.0, 10.0, False),  # quiet: raised to the target
        (-8.0, -2.0, -12.0, False),  # loud: lowered to the target
        (-20.0, -5.0, 0.0, False),
        (-30.0, -6.0, 5.0, True),  # a peaky recording: the ceiling stops the gain at +5 dB
        (-24.0, 0.0, -1.0, True),  # clipped already: lowered to the ceiling even though quiet
    ],
)
def test_the_gain_reaches_the_target_under_the_peak_ceiling(
    level: float, peak: float, gain: float, limited: bool
) -> None:
    result = loudness(level, peak)
    assert (result.gain_db, result.peak_limited) == (pytest.approx(gain, abs=0.02), limited)
    assert result.peak_dbfs <= PEAK_CEILING_DBFS
    assert result.level_dbfs == pytest.approx(level + result.gain_db)


def test_silence_is_relative_to_the_recording_with_a_floor() -> None:
    assert silence_threshold(-22.0) == -52.0
    assert silence_threshold(-45.0) == -60.0
    assert silence_threshold(-math.inf) == -60.0
    assert sound_span([-math.inf, -70.0, -30.0, -80.0, -20.0, -65.0], -60.0) == (2, 4)
    assert sound_span([-math.inf, -61.0], -60.0) is None


def test_the_cli_imports_and_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dialer import asterisk_config
    from dialer.cli import main

    monkeypatch.setattr(asterisk_config, "SOUNDS_DIR", tmp_path / "sounds")
    monkeypatch.chdir(tmp_path)
    source = make(tmp_path / "name.wav", tone(-10))

    assert main(["sounds", "import", str(source), "--as", "org/name"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "imported name.wav as ru/org/name"
    assert out[1].startswith("  duration: 2.20 s recorded, 1.1") and "after trimming 0.6" in out[1]
    assert out[2].startswith("  loudness: gain +11.") and "to -20.0 dBFS RMS" in out[2]
    assert (tmp_path / "sounds/build/ru/upravdolg/org/name.gsm").exists()

    renamed = ["--set", "organisation.name=ЕИРЦ «Другой»", "sounds"]
    assert main([*renamed, "build", "--only", "org/"]) == 0
    out = capsys.readouterr().out
    assert "built 0 prompt(s), 1 already up to date" in out
    assert "kept 1 recording(s) that must be recorded again: see `sounds check`" in out
    assert main([*renamed, "check"]) == 1
    assert "ru/org/name: recorded for an older text" in capsys.readouterr().out

    assert main(["sounds", "import", str(source), "--as", "org/nam"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("upravdolg: error: unknown prompt id 'org/nam' — did you mean org/name?")
