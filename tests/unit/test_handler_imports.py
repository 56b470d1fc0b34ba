"""Cold start: each Lambda handler imports only what its every-request paths use.

Each handler is imported by file path (as Lambda and the local stack do) in a fresh interpreter,
which then lists the modules it holds; a module a handler must not load at import time fails
here. Rare paths import their engines when they run (usecases/authoring.py: lint, impact and
diff; execution/operations.py: the matching engine). The import-time ratios themselves are
measured by tests/benchmarks/bench_imports.py (``make bench``), never asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "exception_playbooks"

# The matching engine (selection, index, ranking, the reasoning text): only matching uses it.
MATCHING_ENGINE = (
    f"{PACKAGE}.matching.engine",
    f"{PACKAGE}.matching.index",
    f"{PACKAGE}.matching.ranking",
    f"{PACKAGE}.matching.reasoning",
)
# Safe authoring: lint, impact preview, diffs (and the region analysis the lint uses).
AUTHORING_ENGINES = (
    f"{PACKAGE}.authoring.lint",
    f"{PACKAGE}.authoring.impact",
    f"{PACKAGE}.authoring.diff",
    f"{PACKAGE}.authoring.regions",
)
AUTHORING = (*AUTHORING_ENGINES, f"{PACKAGE}.usecases.authoring")
# boto3 is imported on the first DynamoDB call, never by importing a handler.
EVERYWHERE = ("boto3",)

MUST_NOT_IMPORT: dict[str, tuple[str, ...]] = {
    "status": (*EVERYWHERE, *MATCHING_ENGINE, *AUTHORING),
    "execute": (*EVERYWHERE, *MATCHING_ENGINE, *AUTHORING),
    "match": (*EVERYWHERE, *AUTHORING),
    "exceptions": (*EVERYWHERE, *AUTHORING),
    "playbooks": (*EVERYWHERE, *MATCHING_ENGINE, *AUTHORING_ENGINES),
    "agents": (*EVERYWHERE, *AUTHORING),
    "sla": (*EVERYWHERE, *AUTHORING),  # escalation re-matches: the engine is its every-run path
    "pretoken": (*EVERYWHERE, *MATCHING_ENGINE, *AUTHORING),
}

_LIST_MODULES = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("handler_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(json.dumps(sorted(sys.modules)))
"""


def modules_after_import(handler: Path) -> set[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", _LIST_MODULES, str(handler)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("group", sorted(MUST_NOT_IMPORT))
def test_handler_import_leaves_rare_paths_unloaded(group: str) -> None:
    modules = modules_after_import(ROOT / "functions" / group / "handler.py")
    assert PACKAGE in modules  # the handler really imported the domain package
    loaded = sorted(set(MUST_NOT_IMPORT[group]) & modules)
    assert not loaded, f"functions/{group}/handler.py imports {loaded} at import time"


def test_every_handler_is_covered() -> None:
    groups = {p.parent.name for p in (ROOT / "functions").glob("*/handler.py")}
    assert set(MUST_NOT_IMPORT) == groups
