"""Run every benchmark and write the results to ``bench-results.json`` (``make bench``).

A benchmark is a function named ``bench_*`` in a module ``tests/benchmarks/bench_*.py``; it
prints what it measures and returns a JSON-ready dict. Add a module to add benchmarks.

    python -m tests.benchmarks.run [-k SUBSTRING] [--output PATH]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import platform
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PACKAGE = __package__ or "tests.benchmarks"
HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parents[1] / "bench-results.json"

Benchmark = Callable[[], dict[str, Any]]


def discover() -> Iterator[tuple[str, Benchmark]]:
    """Yield ``("module.function", function)`` for every benchmark, in a stable order."""
    for module_info in sorted(pkgutil.iter_modules([str(HERE)]), key=lambda info: info.name):
        if not module_info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"{PACKAGE}.{module_info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("bench_") and function.__module__ == module.__name__:
                yield f"{module_info.name}.{name}", function


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-k", dest="selector", default="", help="run only benchmarks whose name contains this"
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)

    results: dict[str, Any] = {}
    for name, benchmark in discover():
        if args.selector not in name:
            continue
        print(f"== {name}", flush=True)
        results[name] = benchmark()

    document = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "results": results,
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
