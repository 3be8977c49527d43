"""The Asterisk 22 sandbox: a Debian-testing chroot built with debootstrap, running our asterisk_conf/.

Layout under ``sandbox.cache_dir`` (default /var/cache/upravdolg, outside the repository):

    chroot/        the Debian root with asterisk + Russian/English prompts (built once, ~500 MB)
    ami-secret     the AMI secret the sandbox's manager.conf is rendered with (mode 0600)

Facts this relies on are in ../shared/ASTERISK.md: bookworm's debootstrap has no ``forky`` script, so the
``sid`` script is passed explicitly; Asterisk must run as root without ``-U root``; ``/run/asterisk`` must
exist; the chroot shares the host network, so AMI is at 127.0.0.1:5038 and PJSIP at 127.0.0.1:5060.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from dialer.ami import AmiClient
from dialer.asterisk_config import install_agi, install_sounds, render_config
from dialer.errors import NotRootError, SandboxError, UpravDolgError
from dialer.processes import pid_alive
from dialer.settings import Settings

logger = logging.getLogger(__name__)

# python3: for the process-AGI transport of the IVR (agi_scripts/notify.py), tested like the FastAGI one.
PACKAGES = ("asterisk", "asterisk-core-sounds-ru", "asterisk-core-sounds-en", "python3")
COMPLETE_MARK = ".upravdolg-complete"  # the suite, then the packages the chroot was built with
DEBOOTSTRAP_SID_SCRIPT = Path("/usr/share/debootstrap/scripts/sid")
PID_FILE = "run/asterisk/asterisk.pid"
MESSAGES_LOG = "var/log/asterisk/messages.log"
FULL_LOG = "var/log/asterisk/full.log"


@dataclass(frozen=True, slots=True)
class SandboxStatus:
    running: bool
    pid: int | None
    built: bool
    ami_ok: bool | None
    detail: str


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise NotRootError(
            f"`{what}` needs root: it builds a chroot with debootstrap and runs Asterisk inside it",
            hint="run it as root (e.g. sudo), or point ami.* at an Asterisk you run yourself",
        )


class Sandbox:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.cache_dir = settings.sandbox.cache_dir
        self.root = self.cache_dir / "chroot"
        self.secret_file = settings.ami.secret_file

    # -- build ------------------------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Built completely, with the packages this version needs (else it is rebuilt)."""
        mark = self.root / COMPLETE_MARK
        if not (self.root / "usr/sbin/asterisk").is_file() or not mark.is_file():
            return False
        lines = mark.read_text().splitlines()
        return len(lines) >= 2 and set(lines[1].split(",")) >= set(PACKAGES)

    def build(self) -> None:
        """debootstrap the chroot once (atomic: built in a temporary folder, renamed when complete)."""
        if self.built:
            return
        if shutil.which("debootstrap") is None:
            raise SandboxError(
                "debootstrap is not installed, so the Asterisk chroot cannot be built",
                hint="apt-get install debootstrap (make test and make demo install it)",
            )
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = self.cache_dir / "chroot.partial"
        sb = self._settings.sandbox
        failures = []
        for suite in (sb.suite, sb.fallback_suite):
            if partial.exists():
                shutil.rmtree(partial)
            command = [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                suite,
                str(partial),
                sb.mirror,
            ]
            script = Path(f"/usr/share/debootstrap/scripts/{suite}")
            if not script.exists() and DEBOOTSTRAP_SID_SCRIPT.exists():
                command.append(str(DEBOOTSTRAP_SID_SCRIPT))
            logger.info("building the Asterisk chroot: %s", " ".join(command))
            log_path = self.cache_dir / f"debootstrap-{suite}.log"
            with log_path.open("wb") as log:
                result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
            if result.returncode == 0 and (partial / "usr/sbin/asterisk").is_file():
                (partial / COMPLETE_MARK).write_text(f"{suite}\n{','.join(PACKAGES)}\n")
                if self.root.exists():
                    shutil.rmtree(self.root)
                partial.rename(self.root)
                return
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            failures.append(f"{suite}: exit {result.returncode}: {' | '.join(tail)}")
        raise SandboxError(
            "debootstrap failed: " + "; ".join(failures), hint=f"see {self.cache_dir}/debootstrap-*.log"
        )

    # -- configuration ----------------------------------------------------------------------------
    def ensure_secret(self) -> str:
        """The AMI secret: the environment's if set, else the secret file, created on first use."""
        ami = self._settings.ami
        if ami.secret is not None:
            return ami.secret.get_secret_value()
        if self.secret_file.is_file() and self.secret_file.read_text().strip():
            return self.secret_file.read_text().strip()
        self.secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(24)
        fd = os.open(self.secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secret + "\n")
        return secret

    def install_config(self) -> None:
        etc = self.root / "etc/asterisk"
        stock = self.root / "etc/asterisk.dist"
        if etc.exists() and not stock.exists():
            etc.rename(stock)  # keep Debian's stock files for reference, never load them
        if etc.exists():
            shutil.rmtree(etc)
        values = {"AMI_USERNAME": self._settings.ami.username, "AMI_SECRET": self.ensure_secret()}
        render_config(etc, values)
        install_sounds(self.root / "usr/share/asterisk/sounds", chroot=self.root)
        install_agi(self.root / "usr/share/asterisk/agi-bin")
        for folder in ("run/asterisk", "var/log/asterisk", "var/spool/asterisk", "var/lib/asterisk"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    # -- process ----------------------------------------------------------------------------------
    def pid(self) -> int | None:
        try:
            pid = int((self.root / PID_FILE).read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def chroot_pids(self) -> list[int]:
        """Every process whose root directory is our chroot (so `down` can leave none behind)."""
        found = []
        root = str(self.root.resolve())
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.readlink(entry / "root") == root:
                    found.append(int(entry.name))
        return found

    def cli(self, command: str, timeout: float = 10.0) -> str:
        """Run an Asterisk CLI command through the running daemon's control socket."""
        result = subprocess.run(
            ["chroot", str(self.root), "asterisk", "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise SandboxError(f"asterisk -rx {command!r} failed: {result.stderr.strip() or result.stdout}")
        return result.stdout

    def last_log_lines(self, count: int = 20, full: bool = False) -> list[str]:
        path = self.root / (FULL_LOG if full else MESSAGES_LOG)
        try:
            return path.read_text(errors="replace").splitlines()[-count:]
        except OSError:
            return []

    def _rotate_logs(self) -> None:
        for name in (MESSAGES_LOG, FULL_LOG):
            path = self.root / name
            if path.exists():
                path.replace(path.with_name(path.name + ".1"))

    async def _wait_ami(self, deadline: float) -> None:
        """Until AMI answers a login and FullyBooted is seen, or the deadline passes."""
        secret = self.ensure_secret()
        last: UpravDolgError | None = None
        while time.monotonic() < deadline:
            client = AmiClient(self._settings.ami, secret)
            try:
                await client.connect(wait_fully_booted=True)
            except UpravDolgError as exc:
                last = exc
                if not self.chroot_pids():
                    break
                await asyncio.sleep(0.3)
                continue
            await client.close()
            return
        lines = "\n    ".join(self.last_log_lines())
        raise SandboxError(
            f"Asterisk did not come up: {last or 'the process exited'}\n  last log lines:\n    {lines}",
            hint="see `upravdolg asterisk logs`",
        )

    def up(self) -> str:
        """Build if needed, install our config, start Asterisk, and wait for AMI. Idempotent."""
        require_root("upravdolg asterisk up")
        started = time.monotonic()
        if not self.built and self.pid() is not None:
            self.down()  # an outdated chroot is rebuilt: stop the Asterisk running in it first
        self.build()
        self.install_config()
        deadline = time.monotonic() + self._settings.sandbox.boot_timeout
        pid = self.pid()
        if pid is not None:
            self.cli("core reload")
            asyncio.run(self._wait_ami(deadline))
            return f"Asterisk was already running (pid {pid}); configuration reloaded"
        for stale in self.chroot_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(stale, signal.SIGKILL)
        (self.root / PID_FILE).unlink(missing_ok=True)
        self._rotate_logs()
        result = subprocess.run(
            ["chroot", str(self.root), "asterisk"], capture_output=True, text=True, check=False, timeout=30
        )
        if result.returncode != 0:
            raise SandboxError(f"asterisk failed to start: {result.stderr.strip() or result.stdout.strip()}")
        asyncio.run(self._wait_ami(deadline))
        version = self.cli("core show version").strip()
        return f"{version} is up (pid {self.pid()}) in {time.monotonic() - started:.1f} s"

    def down(self, timeout: float = 15.0) -> str:
        require_root("upravdolg asterisk down")
        pid = self.pid()
        leftovers = self.chroot_pids() if self.root.exists() else []
        if pid is None and not leftovers:
            return "Asterisk sandbox is already stopped"
        if pid is not None:
            with contextlib.suppress(SandboxError, subprocess.TimeoutExpired):
                self.cli("core stop now", timeout=5)
            deadline = time.monotonic() + timeout
            while pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
        for sig in (signal.SIGTERM, signal.SIGKILL):
            remaining = self.chroot_pids()
            for other in remaining:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(other, sig)
            deadline = time.monotonic() + 3
            while remaining and time.monotonic() < deadline:
                remaining = [p for p in remaining if pid_alive(p)]
                time.sleep(0.05)
        (self.root / PID_FILE).unlink(missing_ok=True)
        return "Asterisk sandbox stopped"

    def status(self) -> SandboxStatus:
        if not self.built:
            return SandboxStatus(
                False,
                None,
                False,
                None,
                f"not built (no chroot in {self.root}) — `upravdolg asterisk up` builds it (about a minute)",
            )
        pid = self.pid()
        if pid is None:
            return SandboxStatus(False, None, True, None, "stopped")
        try:
            uptime = self.cli("core show uptime seconds", timeout=5).strip().splitlines()
        except (SandboxError, subprocess.TimeoutExpired):
            uptime = []
        up_for = next((ln.split(":", 1)[1].strip() for ln in uptime if ln.startswith("System uptime")), "?")
        try:
            asyncio.run(self._wait_ami(time.monotonic() + 5))
            ami_ok = True
        except SandboxError:
            ami_ok = False
        where = f"{self._settings.ami.host}:{self._settings.ami.port}"
        detail = (
            f"running (pid {pid}, up {up_for} s), AMI at {where} {'answers' if ami_ok else 'does NOT answer'}"
        )
        return SandboxStatus(True, pid, True, ami_ok, detail)
