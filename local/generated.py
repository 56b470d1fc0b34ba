"""The command line every generated, committed file shares: print it, ``--write`` it, ``--check`` it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def generated_file_main(
    argv: list[str] | None, *, prog: str, description: str, path: Path, render: Callable[[], str], fix: str
) -> int:
    """Exit status 1 from ``--check`` when the committed ``path`` differs from ``render()``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {_shown(path)}")
    mode.add_argument("--check", action="store_true", help="exit 1 when the committed file is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.write:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {_shown(path)} ({len(text)} bytes)")
        return 0
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{_shown(path)} is stale: run `{fix}`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0
