"""The sound pipeline with the real tools (espeak-ng, ffmpeg via pydub; `make test` installs them): every
format Asterisk plays, 8 kHz mono, exact durations, rebuilds only what changed, and a clear check."""

from __future__ import annotations

import wave
from pathlib import Path

import pytest

from sounds.build import SYNTHESISED, SoundsError, build, check, prompt_folder, read_index
from sounds.manifest import FORMATS, prompt_texts

SOME = ("num/2f", "noun/kopeck-5", "org/name")


def texts(name: str = "УК «Пример»") -> dict[str, str]:
    return {k: v for k, v in prompt_texts(name).items() if k in SOME}


def test_every_format_is_built_with_its_duration(tmp_path: Path) -> None:
    report = build(texts(), tmp_path)
    assert sorted(report.built) == sorted(SOME) and report.kept == []
    index = read_index(tmp_path)
    for prompt_id in SOME:
        base = prompt_folder(tmp_path) / prompt_id
        assert all(Path(f"{base}.{fmt}").stat().st_size > 0 for fmt in FORMATS), prompt_id
        with wave.open(f"{base}.wav") as wav:
            assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
            wav_ms = wav.getnframes() * 1000 // 8000
        sln_ms = Path(f"{base}.sln").stat().st_size * 1000 // 16000
        ulaw_ms = Path(f"{base}.ulaw").stat().st_size * 1000 // 8000
        assert index[prompt_id]["ms"] == wav_ms == sln_ms == ulaw_ms > 200, prompt_id
        assert index[prompt_id]["source"] == SYNTHESISED
    assert check(texts(), tmp_path) == []


def test_only_missing_or_changed_prompts_are_rebuilt(tmp_path: Path) -> None:
    build(texts(), tmp_path)
    again = build(texts(), tmp_path)
    assert again.built == [] and sorted(again.kept) == sorted(SOME)
    renamed = texts("ЕИРЦ «Другой»")
    assert check(renamed, tmp_path) == ["ru/org/name: built from an older text"]
    assert build(renamed, tmp_path).built == ["org/name"]
    (prompt_folder(tmp_path) / "num/2f.gsm").unlink()
    assert check(renamed, tmp_path) == ["ru/num/2f: no gsm file"]
    assert build(renamed, tmp_path, only="num/").built == ["num/2f"]
    assert check(renamed, tmp_path) == []


def test_check_lists_every_missing_prompt_of_the_manifest(tmp_path: Path) -> None:
    everything = prompt_texts("УК «Пример»")
    build(texts(), tmp_path)
    problems = check(everything, tmp_path)
    assert len(problems) == len(everything) - len(SOME)
    assert "ru/msg/greeting: missing" in problems


def test_a_missing_tool_is_named_with_its_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        SoundsError, match="espeak-ng is not installed — install the Debian package espeak-ng"
    ):
        build(texts(), tmp_path)


def test_an_empty_organisation_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"organisation\.name"):
        prompt_texts("  ")


def test_the_cli_builds_and_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dialer import asterisk_config
    from dialer.cli import main

    monkeypatch.setattr(asterisk_config, "SOUNDS_DIR", tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["sounds", "check"]) == 1
    assert "ru/num/1: missing" in capsys.readouterr().out
    assert main(["sounds", "build", "--only", "noun/month"]) == 0
    assert "built 3 prompt(s), 0 already up to date" in capsys.readouterr().out
    assert main(["sounds", "check"]) == 1
    out = capsys.readouterr().out
    assert "noun/month" not in out and out.rstrip().endswith(f"3 of {len(prompt_texts('x'))} prompts ready")
