"""Cold-start imports: each handler module against boto3 + pydantic + the Powertools event handler.

Each import runs in a fresh interpreter (``python -c``), timed inside it in CPU time (other
processes on a shared machine disturb it less than wall time); the minimum of several
runs is kept (the least disturbed by other processes on the machine). Goal: every handler at most
1.3x the bare dependencies. The handlers import boto3 lazily (on the first DynamoDB call), so a
handler below 1x is possible.

The domain package is imported as the layer ships it: a copy compiled to bytecode
(``compileall --invalidation-mode unchecked-hash``, as layers/common/build.py does), so no run
pays for compiling its source, just as the dependencies' bytecode comes from site-packages.
The handler files themselves are compiled on each import (function code ships without bytecode).
Without this every run compiled ~70 modules from source (the machine sets
PYTHONDONTWRITEBYTECODE), about half of a handler's cost over the bare dependencies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GROUPS = ("status", "match", "execute", "exceptions", "playbooks", "agents")
BARE = "import boto3, pydantic, aws_lambda_powertools.event_handler"
GOAL = 1.3
RUNS = 9


PACKAGE = ROOT / "layers" / "common" / "exception_playbooks"


def _compiled_layer(target: Path) -> Path:
    """A copy of the domain package with its bytecode, as in the deployed layer."""
    shutil.copytree(PACKAGE, target / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(target)],
        check=True,
        capture_output=True,
    )
    return target


def _timed(code: str, layer: Path) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(layer), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    script = f"import time\nstarted = time.process_time()\n{code}\nprint(time.process_time() - started)"
    best = float("inf")
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True
        )
        best = min(best, float(done.stdout.strip().splitlines()[-1]))
    return best


def _handler_import(group: str) -> str:
    path = ROOT / "functions" / group / "handler.py"
    return (
        "import importlib.util as u\n"
        f"spec = u.spec_from_file_location('handler', {str(path)!r})\n"
        "module = u.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)"
    )


def bench_handler_imports() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-imports-") as tmp:
        return _bench(_compiled_layer(Path(tmp)))


def _bench(layer: Path) -> dict[str, Any]:
    bare = _timed(BARE, layer)
    print(f"bare dependencies {bare * 1000:.0f} ms", flush=True)
    handlers = {}
    for group in GROUPS:
        seconds = _timed(_handler_import(group), layer)
        handlers[group] = {"ms": round(seconds * 1000, 1), "ratio": round(seconds / bare, 2)}
        print(f"{group:11s} {seconds * 1000:6.0f} ms  {seconds / bare:.2f}x", flush=True)
    worst = max(h["ratio"] for h in handlers.values())
    return {
        "bare_ms": round(bare * 1000, 1),
        "handlers": handlers,
        "goal_ratio": GOAL,
        "worst_ratio": worst,
        "met": worst <= GOAL,
    }
