"""One local stack per state directory: an exclusive ``fcntl`` lock on ``<state dir>/lock``.

The kernel releases the lock when the holding process ends, however it ends (kill -9 included),
so a stale lock file never blocks a restart. The stack hands the locked descriptor to its
DynamoDB Local child too, so the directory stays locked until the database process is gone as
well (a JVM still dying after a crash must not share the files with the next one); a new stack
waits a few seconds for such a dying holder. The file names the holder's pid for the message.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

LOCK_FILE = "lock"
WAIT_SECONDS = 10.0  # for a holder that is on its way out (a killed stack's database process)


class StateDirInUse(RuntimeError):
    """Another running local stack holds the state directory."""


class StateDirLock:
    def __init__(self, state_dir: Path):
        self.path = state_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, wait: float = WAIT_SECONDS) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() < deadline:
                    time.sleep(0.1)
                    continue
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StateDirInUse(
                f"another local stack (pid {holder}) is using {self.path.parent}; stop it first, "
                "or give this one its own LOCAL_STATE_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        os.fsync(fd)
        self._fd = fd

    @property
    def fd(self) -> int | None:
        """The locked descriptor: pass it to child processes that must keep the directory locked."""
        return self._fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock
