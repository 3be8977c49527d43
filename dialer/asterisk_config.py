"""Renders ``asterisk_conf/`` (templates with ``@NAME@`` placeholders) into a real configuration folder."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from dialer.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONF_DIR = REPO_ROOT / "asterisk_conf"
SOUNDS_DIR = REPO_ROOT / "sounds"
AGI_SCRIPT = REPO_ROOT / "agi_scripts" / "notify.py"
AGI_NAME = "upravdolg-notify.py"
AGI_LIB = "upravdolg-lib"
_PLACEHOLDER = re.compile(r"@([A-Z][A-Z0-9_]*)@")


def render_text(text: str, values: Mapping[str, str], source: str) -> str:
    """Replace every ``@NAME@``; an unknown placeholder or a value with a line break is an error."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ConfigError(f"{source}: no value for placeholder @{name}@")
        value = values[name]
        if "\n" in value or "\r" in value or ";" in value:
            raise ConfigError(f"{source}: the value for @{name}@ must not contain a line break or ';'")
        return value

    return _PLACEHOLDER.sub(substitute, text)


def render_config(destination: Path, values: Mapping[str, str], source: Path = CONF_DIR) -> list[Path]:
    """Write every ``*.conf`` of ``source`` into ``destination`` with placeholders filled in.

    Files holding secrets are written with mode 0600. Returns the written paths.
    """
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source.glob("*.conf")):
        text = render_text(path.read_text(encoding="utf-8"), values, path.name)
        target = destination / path.name
        target.write_text(text, encoding="utf-8")
        target.chmod(0o600 if path.name == "manager.conf" else 0o644)
        written.append(target)
    return written


def install_sounds(
    sounds_root: Path, source: Path = SOUNDS_DIR, folder: str = "upravdolg", *, chroot: Path | None = None
) -> int:
    """Copy built prompts (``sounds/build/<lang>/<folder>/...``) into an Asterisk sounds folder as
    ``<sounds_root>/<lang>/<folder>/...`` — where ``STREAM FILE <folder>/<id>`` finds them on a channel of
    that language. Only our ``<folder>`` of each language is replaced (and a stale top-level
    ``<sounds_root>/<folder>`` of earlier versions removed); the stock sounds stay. Debian links
    ``sounds/ru`` absolutely (via /etc/alternatives): with ``chroot``, such links are followed inside it.
    Returns the number of files copied."""
    stale = sounds_root / folder
    if stale.is_dir() and not stale.is_symlink():
        shutil.rmtree(stale)
    built = source / "build"
    count = 0
    for language in sorted(built.iterdir()) if built.is_dir() else []:
        prompts = language / folder
        if not prompts.is_dir():
            continue
        destination = _followed(sounds_root / language.name, chroot) / folder
        if destination.exists():
            shutil.rmtree(destination)
        for path in prompts.rglob("*"):
            if path.is_file():
                target = destination / path.relative_to(prompts)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
                count += 1
    return count


def install_agi(agi_bin: Path) -> list[Path]:
    """Install the process-AGI IVR (agi_scripts/notify.py) as ``<agi_bin>/upravdolg-notify.py`` with the
    libraries it imports in ``<agi_bin>/upravdolg-lib/``: pyst2 (and six, which it needs) and our pure
    ``dialer.core`` (the same IVR flow and AGI codec the dialer's FastAGI listener runs). Pure Python only,
    so it runs on the Asterisk host's own python3. Returns the installed files."""
    lib = agi_bin / AGI_LIB
    if lib.exists():
        shutil.rmtree(lib)
    installed = []
    pyst2 = _module_file("asterisk.agi").parent
    core = Path(__file__).resolve().parent / "core"
    copies = [(p, lib / "asterisk" / p.name) for p in sorted(pyst2.glob("*.py"))]
    copies += [
        (_module_file("six"), lib / "six.py"),
        (core.parent / "__init__.py", lib / "dialer/__init__.py"),
    ]
    copies += [(p, lib / "dialer/core" / p.name) for p in sorted(core.glob("*.py"))]
    for source, target in copies:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        installed.append(target)
    script = agi_bin / AGI_NAME
    script.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(AGI_SCRIPT, script)
    script.chmod(0o755)
    return [script, *installed]


def _module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ConfigError(f"the Python module {name} is not installed (pip install pyst2)")
    return Path(spec.origin)


def _followed(path: Path, chroot: Path | None, hops: int = 40) -> Path:
    """``path`` with its symbolic links followed as a process inside ``chroot`` would see them."""
    for _ in range(hops):
        if not path.is_symlink():
            return path
        target = Path(os.readlink(path))
        if target.is_absolute():
            path = chroot / target.relative_to("/") if chroot is not None else target
        else:
            path = path.parent / target
    raise OSError(f"too many symbolic links under {path}")
