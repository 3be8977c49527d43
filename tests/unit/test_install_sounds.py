"""Built prompts land where Asterisk's STREAM FILE looks for them on a Russian channel, and installing
again replaces only our folder, never the stock sounds."""

from __future__ import annotations

from pathlib import Path

from dialer.asterisk_config import install_sounds


def test_prompts_go_under_each_language_and_stock_sounds_stay(tmp_path: Path) -> None:
    source = tmp_path / "repo_sounds"
    for name in ("ru/upravdolg/num/1.wav", "ru/upravdolg/msg/menu.sln", "ru/upravdolg/index.json"):
        (source / "build" / name).parent.mkdir(parents=True, exist_ok=True)
        (source / "build" / name).write_bytes(b"x")
    root = tmp_path / "asterisk_sounds"
    (root / "ru/digits").mkdir(parents=True)
    (root / "ru/digits/1.gsm").write_bytes(b"stock")
    (root / "ru/upravdolg/old").mkdir(parents=True)
    (root / "ru/upravdolg/old/gone.wav").write_bytes(b"old")
    (root / "upravdolg/ru").mkdir(parents=True)  # where an earlier version put them

    assert install_sounds(root, source) == 3
    assert (root / "ru/upravdolg/num/1.wav").read_bytes() == b"x"
    assert (root / "ru/upravdolg/msg/menu.sln").exists()
    assert (root / "ru/digits/1.gsm").read_bytes() == b"stock"
    assert not (root / "ru/upravdolg/old").exists() and not (root / "upravdolg").exists()


def test_nothing_built_installs_nothing(tmp_path: Path) -> None:
    (tmp_path / "sounds").mkdir()
    assert install_sounds(tmp_path / "sounds", tmp_path / "nowhere") == 0


def test_an_absolute_language_link_is_followed_inside_the_chroot(tmp_path: Path) -> None:
    source = tmp_path / "repo_sounds"
    (source / "build/ru/upravdolg/num").mkdir(parents=True)
    (source / "build/ru/upravdolg/num/1.wav").write_bytes(b"x")
    chroot = tmp_path / "chroot"
    voice = chroot / "usr/share/asterisk/sounds/ru_RU_f_Voice"
    voice.mkdir(parents=True)
    (chroot / "etc/alternatives").mkdir(parents=True)
    (chroot / "etc/alternatives/prompt-ru").symlink_to("/usr/share/asterisk/sounds/ru_RU_f_Voice")
    (chroot / "usr/share/asterisk/sounds/ru").symlink_to("/etc/alternatives/prompt-ru")  # as Debian does

    assert install_sounds(chroot / "usr/share/asterisk/sounds", source, chroot=chroot) == 1
    assert (voice / "upravdolg/num/1.wav").read_bytes() == b"x"
