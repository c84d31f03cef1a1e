"""A throwaway RabbitMQ node on 127.0.0.1: for scripts/test-all, and for the tests that
restart a broker mid-stream (they start their own node, so no other test sees the restart).

Everything the node writes lives in one directory owned by user ``rabbitmq``; its ports
(AMQP, Erlang distribution, epmd) are free ports picked here, so that nodes never collide
with each other or with a system RabbitMQ. The node's own epmd is started first, in the
foreground, so that its pid is known and it can be stopped by pid, never by name.

    python3 -m tests.bus.rabbitmq start DIR    # prints the amqp:// URL once the node is up
    python3 -m tests.bus.rabbitmq stop DIR
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

BIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT = 120
# Debian's wrappers in /usr/sbin would cd elsewhere and hide the output; as root the node
# runs as user rabbitmq (it refuses root), with this environment.
AS_RABBITMQ = ["runuser", "-u", "rabbitmq", "--"] if os.geteuid() == 0 else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RabbitNode:
    home: Path
    port: int
    dist_port: int
    epmd_port: int
    epmd_pid: int = 0

    @classmethod
    def create(cls, home: Path) -> RabbitNode:
        home.mkdir(parents=True, exist_ok=True)
        node = cls(home, free_port(), free_port(), free_port())
        (home / "enabled_plugins").write_text("[].\n")
        if os.geteuid() == 0:
            shutil.chown(home, "rabbitmq", "rabbitmq")
            shutil.chown(home / "enabled_plugins", "rabbitmq", "rabbitmq")
        return node

    @classmethod
    def load(cls, home: Path) -> RabbitNode:
        saved = json.loads((home / "node.json").read_text())
        return cls(home=home, **{k: v for k, v in saved.items() if k != "home"})

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    @property
    def name(self) -> str:
        return f"bewijslast-{self.port}@localhost"

    @property
    def pid_file(self) -> Path:
        return self.home / "node.pid"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_SERVER_START_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
            "RABBITMQ_MNESIA_BASE": str(self.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.home / "log"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
            # No configuration of the machine's own RabbitMQ leaks in.
            "RABBITMQ_CONFIG_FILE": str(self.home / "rabbitmq"),
            "RABBITMQ_CONF_ENV_FILE": str(self.home / "rabbitmq-env.conf"),
        }

    def start(self) -> None:
        if self.epmd_pid == 0 or not _alive(self.epmd_pid):
            epmd = subprocess.Popen(
                ["epmd", "-address", "127.0.0.1", "-port", str(self.epmd_port)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            self.epmd_pid = epmd.pid
        self.pid_file.unlink(missing_ok=True)
        with open(self.home / "server.out", "ab") as out:
            subprocess.Popen(
                [*AS_RABBITMQ, str(BIN / "rabbitmq-server")],
                cwd=self.home,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        (self.home / "node.json").write_text(json.dumps(asdict(self), default=str))
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while not self.pid_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"RabbitMQ wrote no pid file; see {self.home / 'server.out'}")
            time.sleep(0.1)
        # An absolute pid file path: a relative one makes rabbitmqctl wait forever.
        subprocess.run(
            [
                *AS_RABBITMQ,
                str(BIN / "rabbitmqctl"),
                "-n",
                self.name,
                "wait",
                "--timeout",
                str(START_TIMEOUT),
                str(self.pid_file),
            ],
            env=self.env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def ctl(self, *command: str) -> list[str]:
        return [*AS_RABBITMQ, str(BIN / "rabbitmqctl"), "-n", self.name, *command]

    def node_pid(self) -> int:
        return int(self.pid_file.read_text().strip())

    def kill(self) -> None:
        """SIGKILL the broker: no shutdown, whatever was not on disk is gone."""
        pid = self.node_pid()
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        while _alive(pid):
            time.sleep(0.05)

    def stop(self) -> None:
        if self.pid_file.exists() and _alive(self.node_pid()):
            subprocess.run(
                [
                    *AS_RABBITMQ,
                    str(BIN / "rabbitmqctl"),
                    "-n",
                    self.name,
                    "stop",
                    str(self.pid_file),
                ],
                env=self.env(),
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
        if self.epmd_pid and _alive(self.epmd_pid):
            os.kill(self.epmd_pid, signal.SIGTERM)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie child still answers signal 0; reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return Path(f"/proc/{pid}").exists() and "Z" not in _state(pid)
    return done == 0


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split(" ", 1)[0]
    except (OSError, IndexError):
        return "Z"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("start", "stop"):
        print("usage: python3 -m tests.bus.rabbitmq start|stop DIR", file=sys.stderr)
        return 2
    home = Path(argv[1]).resolve()
    if argv[0] == "start":
        node = RabbitNode.create(home)
        node.start()
        print(node.url)
    else:
        RabbitNode.load(home).stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
