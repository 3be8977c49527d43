"""A test network of hosts built with Linux network namespaces (docs/scale-out.md «Faults»).

Each Asterisk host is a network namespace ``ud-<name>`` joined to the test host by a veth pair
(``10.231.<n>.1`` on our side, ``10.231.<n>.2`` in the namespace) and runs its own Asterisk from the
sandbox's chroot (dialer/sandbox.py) with its own configuration folder ``/etc/asterisk-<name>``: the
sandbox's rendered configuration with the host's own run, log, spool and database folders, AMI and PJSIP
bound to every address of the namespace. Workers (``upravdolg run``) and PostgreSQL stay on the test host
and reach each Asterisk over its veth; cutting a host off is taking its veth down.

Needs root (namespaces, veth, chroot); a host left behind by a killed run is removed when built again.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dialer.ami import AmiClient
from dialer.sandbox import Sandbox
from dialer.settings import AmiSettings, Settings

SUBNET = "10.231"
FOLDERS = {  # asterisk.conf [directories] key -> the host's own folder (under the chroot)
    "astetcdir": "/etc/asterisk-{name}",
    "astcachedir": "/var/cache/asterisk-{name}",
    "astdbdir": "/var/lib/asterisk-{name}",
    "astspooldir": "/var/spool/asterisk-{name}",
    "astrundir": "/run/asterisk-{name}",
    "astlogdir": "/var/log/asterisk-{name}",
}


def _run(*command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
    return done


@dataclass
class AsteriskHost:
    """One Asterisk server on its own network namespace."""

    name: str
    index: int
    sandbox: Sandbox
    secret: str

    @property
    def netns(self) -> str:
        return f"ud-{self.name}"

    @property
    def host_ip(self) -> str:
        """Our side of the veth: where this Asterisk reaches the workers' FastAGI listeners."""
        return f"{SUBNET}.{self.index}.1"

    @property
    def ip(self) -> str:
        """The namespace's side: this Asterisk's AMI and PJSIP."""
        return f"{SUBNET}.{self.index}.2"

    @property
    def link(self) -> str:
        return f"udh{self.index}"

    def _folder(self, key: str) -> Path:
        return self.sandbox.root / FOLDERS[key].format(name=self.name).lstrip("/")

    @property
    def conf(self) -> str:
        return FOLDERS["astetcdir"].format(name=self.name) + "/asterisk.conf"

    # -- network -----------------------------------------------------------------------------------
    def _network_up(self) -> None:
        self._network_down()
        peer = f"udn{self.index}"
        _run("ip", "netns", "add", self.netns)
        _run("ip", "link", "add", self.link, "type", "veth", "peer", "name", peer)
        _run("ip", "link", "set", peer, "netns", self.netns)
        _run("ip", "addr", "add", f"{self.host_ip}/24", "dev", self.link)
        _run("ip", "link", "set", self.link, "up")
        _run("ip", "netns", "exec", self.netns, "ip", "addr", "add", f"{self.ip}/24", "dev", peer)
        _run("ip", "netns", "exec", self.netns, "ip", "link", "set", peer, "up")
        _run("ip", "netns", "exec", self.netns, "ip", "link", "set", "lo", "up")

    def _network_down(self) -> None:
        _run("ip", "link", "del", self.link, check=False)
        _run("ip", "netns", "del", self.netns, check=False)

    def cut(self) -> None:
        """Take the host off the network (its calls go on; nobody reaches it, it reaches nobody)."""
        _run("ip", "link", "set", self.link, "down")

    def restore(self) -> None:
        _run("ip", "link", "set", self.link, "up")

    # -- Asterisk ----------------------------------------------------------------------------------
    def _configure(self) -> None:
        """The sandbox's rendered configuration, made this host's own."""
        etc = self._folder("astetcdir")
        if etc.exists():
            shutil.rmtree(etc)
        shutil.copytree(self.sandbox.root / "etc/asterisk", etc)
        for key in FOLDERS:
            self._folder(key).mkdir(parents=True, exist_ok=True)
        conf = etc / "asterisk.conf"
        text = conf.read_text(encoding="utf-8")
        for key, folder in FOLDERS.items():
            text = re.sub(rf"^{key} => .*$", f"{key} => {folder.format(name=self.name)}", text, flags=re.M)
        text = text.replace("systemname = upravdolg", f"systemname = {self.name}")
        conf.write_text(text, encoding="utf-8")
        manager = etc / "manager.conf"
        manager.write_text(
            manager.read_text(encoding="utf-8")
            .replace("bindaddr = 127.0.0.1", "bindaddr = 0.0.0.0")
            .replace("permit = 127.0.0.1/255.255.255.255", f"permit = {SUBNET}.0.0/255.255.0.0"),
            encoding="utf-8",
        )
        pjsip = etc / "pjsip.conf"
        pjsip.write_text(
            pjsip.read_text(encoding="utf-8").replace("bind = 127.0.0.1:5060", "bind = 0.0.0.0:5060"),
            encoding="utf-8",
        )
        extensions = etc / "extensions.conf"
        extensions.write_text(
            re.sub(
                r"^UPRAVDOLG_AGI = .*$",
                f"UPRAVDOLG_AGI = {self.host_ip}:4573",
                extensions.read_text(encoding="utf-8"),
                flags=re.M,
            ),
            encoding="utf-8",
        )

    def pid(self) -> int | None:
        try:
            pid = int((self._folder("astrundir") / "asterisk.pid").read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def up(self, timeout: float = 60.0) -> None:
        self.down()
        self._network_up()
        self._configure()
        _run("ip", "netns", "exec", self.netns, "chroot", str(self.sandbox.root), "asterisk", "-C", self.conf)
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                asyncio.run(self._login())
                return
            except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
                last = exc
                time.sleep(0.3)
        raise RuntimeError(f"Asterisk {self.name} did not answer AMI at {self.ip}:5038: {last}")

    async def _login(self) -> None:
        client = AmiClient(AmiSettings(host=self.ip, connect_timeout=2.0), self.secret)
        await client.connect(wait_fully_booted=True)
        await client.close()

    def cli(self, command: str) -> str:
        done = _run(
            "ip", "netns", "exec", self.netns, "chroot", str(self.sandbox.root),
            "asterisk", "-C", self.conf, "-rx", command,
        )  # fmt: skip
        return done.stdout

    def channels(self) -> int:
        """Channels of ours live on this host right now (`core show channels concise`)."""
        return sum(1 for line in self.cli("core show channels concise").splitlines() if "!" in line)

    def down(self) -> None:
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.cli("core stop now")
            deadline = time.monotonic() + 10
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.1)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        (self._folder("astrundir") / "asterisk.pid").unlink(missing_ok=True)
        self._network_down()


def build_hosts(sandbox: Sandbox, secret: str, names: list[str]) -> list[AsteriskHost]:
    """Asterisk hosts ``names`` (1-based subnets), started."""
    hosts = [AsteriskHost(name, index, sandbox, secret) for index, name in enumerate(names, start=1)]
    try:
        for host in hosts:
            host.up()
    except BaseException:
        for host in hosts:
            host.down()
        raise
    return hosts


# ---------------------------------------------------------------------------------------- workers


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    metrics_port: int

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self, limit: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(limit)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                raise AssertionError(f"worker {self.name} ignored SIGTERM:\n{log_tail(self.log)}") from None
        return self.process.returncode

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def worker_toml(
    name: str,
    hosts: Sequence[AsteriskHost],
    *,
    agi_port: int,
    metrics_port: int,
    trunk_channels: int,
    trunk_rate: float | None = None,
) -> str:
    lines = [
        "[engine]",
        f'worker = "{name}"',
        f"metrics_port = {metrics_port}",
        'metrics_host = "127.0.0.1"',
        "heartbeat_interval = 1.0",
        "worker_lease = 5.0",
        "call_margin = 120.0",
        "[agi]",
        'listen_host = "0.0.0.0"',
        f"listen_port = {agi_port}",
        "[ami]",
        "ping_interval = 1.0",
        "ping_timeout = 1.0",
        "connect_timeout = 2.0",
        "action_timeout = 3.0",
        "reconnect_max = 2.0",
        "[api]",
        "port = 0",
        "[log]",
        'level = "INFO"',
    ]
    for host in hosts:
        lines += [
            "[[asterisk]]",
            f'name = "{host.name}"',
            f'host = "{host.ip}"',
            f'agi_host = "{host.host_ip}"',
            f"agi_port = {agi_port}",
        ]
    for host in hosts:
        lines += [
            "[[trunks]]",
            f'name = "{host.name}-sim"',
            f'server = "{host.name}"',
            'endpoint = "sim"',
            f"max_channels = {trunk_channels}",
            'groups = ["sim"]',
        ]
        if trunk_rate is not None:
            lines.append(f"calls_per_second = {trunk_rate}")
    return "\n".join(lines) + "\n"


def launch_worker(
    name: str,
    hosts: Sequence[AsteriskHost],
    *,
    settings: Settings,
    secret: str,
    folder: Path,
    trunk_channels: int = 4,
    trunk_rate: float | None = None,
) -> WorkerProcess:
    """`upravdolg run` as worker ``name`` over ``hosts``, on ``settings``' database and test prompts,
    its log and configuration in ``folder``."""
    agi_port, metrics_port = free_port(), free_port()
    config = folder / f"{name}.toml"
    config.write_text(
        worker_toml(
            name,
            hosts,
            agi_port=agi_port,
            metrics_port=metrics_port,
            trunk_channels=trunk_channels,
            trunk_rate=trunk_rate,
        ),
        "utf-8",
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("UPRAVDOLG_")},
        "UPRAVDOLG_CONFIG": str(config),
        "UPRAVDOLG_DATABASE_URL": settings.database.url,
        "UPRAVDOLG_AMI_SECRET": secret,
        "UPRAVDOLG_IVR_SOUND_FOLDER": settings.ivr.sound_folder,
        "UPRAVDOLG_IVR_SOUNDS_BUILD": settings.ivr.sounds_build,
        "UPRAVDOLG_IVR_MENU_TIMEOUT": str(settings.ivr.menu_timeout),
    }
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "dialer", "run", "--no-api"],
            env=env,
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return WorkerProcess(name, process, log, metrics_port)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def log_tail(log: Path, lines: int = 40) -> str:
    text = log.read_text(errors="replace") if log.exists() else "(no log)"
    return "\n".join(text.splitlines()[-lines:])
