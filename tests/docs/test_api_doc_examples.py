"""docs/api.md's ```sh examples run verbatim, in order, in one bash session, against a fresh local
stack (``python -m local.server`` with SEED_DEMO=0), and print what the document says they print.

The conventions the document follows, enforced here:

- every ```sh block is runnable as written; commands that are not (``make dev``, calls to a deployed
  stack) are marked ```console and never run;
- the blocks talk to http://127.0.0.1:3000 only; the test swaps in its own port and changes nothing else;
- a ```text block right after a ```sh block is that block's exact output (HTTP statuses, error bodies);
- a ```json block right after a ```sh block is a trimmed real answer: the output must be JSON and hold
  everything shown: every key; booleans, null and integers exactly; strings exactly unless they are
  generated (ids, timestamps, tokens, cursors); other numbers by type. A list shown may be shorter than
  the real one: each item shown must be found in it.

To refresh the answers shown after a change, run the examples against a stack started with
``SEED_DEMO=0`` and read each block's real output: ``write_outputs(base_url, Path("out.md"))``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.docs.markdown import fenced_blocks
from tests.ui.support import REPO_ROOT, LocalStack

pytestmark = pytest.mark.slow

DOC = REPO_ROOT / "docs" / "api.md"
DOC_BASE_URL = "http://127.0.0.1:3000"
RUN_TIMEOUT_S = 120.0
MARKER = "@@doc-example-{}@@"
# Strings the stack generates: shown in the document for illustration, compared by type only.
GENERATED = (
    re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"),  # timestamps
    re.compile(r"\bpb-[a-z0-9-]+"),  # playbook ids
    re.compile(r"^dr-[0-9a-f]+$"),  # draft ids
    re.compile(r"^[0-9a-f]{32}$"),  # event ids
    re.compile(r"^eyJ"),  # tokens and cursors (base64 of JSON)
)


@dataclass(frozen=True)
class Example:
    line: int  # 1-based line of the opening fence in the document
    code: str
    expected_kind: str | None = None  # "text" or "json" when an output block follows
    expected: str | None = None

    def label(self) -> str:
        first = self.code.strip().splitlines()[0] if self.code.strip() else ""
        return f"docs/api.md:{self.line}: {first[:90]}"


def examples(markdown: str) -> list[Example]:
    """The ```sh blocks in order, each with the ```text / ```json block right after it, if any."""
    lines = markdown.splitlines()
    blocks = fenced_blocks(markdown, "docs/api.md")
    found: list[Example] = []
    for position, block in enumerate(blocks):
        if block.info != "sh":
            continue
        kind = expected = None
        if position + 1 < len(blocks):
            following = blocks[position + 1]
            between = lines[block.closing : following.line - 1]
            if following.info in ("text", "json") and not any(text.strip() for text in between):
                kind, expected = following.info, following.content
        found.append(Example(block.line, block.content, kind, expected))
    return found


def script_for(blocks: list[Example], base_url: str) -> str:
    parts = ["set -euo pipefail"]
    for number, example in enumerate(blocks):
        parts.append(f"printf '\\n%s\\n' '{MARKER.format(number)}'")
        parts.append(example.code.replace(DOC_BASE_URL, base_url))
    parts.append(f"printf '\\n%s\\n' '{MARKER.format('end')}'")
    return "\n".join(parts) + "\n"


def split_outputs(stdout: str, count: int) -> tuple[list[str], bool]:
    """Each block's output, and whether the script reached its end."""
    outputs: list[str] = []
    for number in range(count):
        marker = "\n" + MARKER.format(number) + "\n"
        if marker not in stdout:
            break
        stdout = stdout.split(marker, 1)[1]
        end = stdout.find("\n" + MARKER.format(number + 1 if number + 1 < count else "end") + "\n")
        outputs.append(stdout if end < 0 else stdout[:end])
    finished = "\n" + MARKER.format("end") + "\n" in "\n" + stdout
    return outputs, finished


def generated(text: str) -> bool:
    return any(pattern.search(text) for pattern in GENERATED)


def shown_in(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``expected`` (a trimmed answer in the document) is not part of ``actual``."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {json.dumps(actual)[:80]}"]
        problems: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing from the real answer")
            else:
                problems.extend(shown_in(value, actual[key], f"{path}.{key}"))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: expected a list, got {json.dumps(actual)[:80]}"]
        problems = []
        for index, item in enumerate(expected):
            if not any(not shown_in(item, candidate) for candidate in actual):
                problems.append(f"{path}[{index}]: {json.dumps(item)[:100]} is in no item of the real list")
        return problems
    if isinstance(expected, bool) or expected is None or isinstance(expected, int):
        same = type(expected) is type(actual) and expected == actual
        return [] if same else [f"{path}: document shows {expected!r}, the stack answered {actual!r}"]
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return [f"{path}: expected a string, got {actual!r}"]
        if expected == actual or generated(expected):
            return []
        return [f"{path}: document shows {expected!r}, the stack answered {actual!r}"]
    if isinstance(expected, float):
        ok = isinstance(actual, int | float) and not isinstance(actual, bool)
        return [] if ok else [f"{path}: expected a number, got {actual!r}"]
    return [f"{path}: unexpected value {expected!r} in the document"]


# --- the document itself -------------------------------------------------------------------------


def test_the_examples_follow_the_conventions() -> None:
    markdown = DOC.read_text(encoding="utf-8")
    blocks = examples(markdown)
    assert len(blocks) >= 30, "docs/api.md should walk through every endpoint with curl"
    for example in blocks:
        others = set(re.findall(r"https?://[^\s/'\"]+", example.code)) - {DOC_BASE_URL}
        assert not others, f"{example.label()}: talks to {others}; use {DOC_BASE_URL} only"
        if example.expected_kind == "json":
            assert example.expected is not None
            json.loads(example.expected)  # a trimmed answer must still be valid JSON
    assert any("/local/token" in example.code for example in blocks)
    # Every route of the API appears in a runnable example.
    from exception_playbooks.routes import ROUTES

    # One logical command per line: continuation lines joined.
    commands = "\n".join(example.code for example in blocks).replace("\\\n", " ").splitlines()
    for route in ROUTES:
        path = re.sub(r"\\\{[a-z_]+\\\}", "[^ /?'\"]+", re.escape(route.path)) + r"(?=[?'\" ]|$)"
        method = r"-X GET\b|^(?!.*-X )" if route.method == "GET" else rf"-X {route.method}\b"
        used = any(re.search(path, line) and re.search(method, line) for line in commands)
        assert used, f"no example for {route.method} {route.path}"


def test_the_parser_pairs_outputs_with_their_commands() -> None:
    markdown = "text\n```sh\necho hi\n```\n\n```text\nhi\n```\n```console\nmake dev\n```\n```sh\ntrue\n```\n"
    found = examples(markdown)
    assert [(e.code, e.expected_kind, e.expected) for e in found] == [
        ("echo hi", "text", "hi"),
        ("true", None, None),
    ]
    assert (
        shown_in({"a": [{"b": 1}], "c": "pb-x-1"}, {"a": [{"b": 2}, {"b": 1, "z": 0}], "c": "pb-y-2", "d": 3})
        == []
    )
    assert shown_in({"a": True}, {"a": 1}) and shown_in({"a": "x"}, {}) and shown_in([{"b": 1}], [{"b": 2}])


# --- running them --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    local = LocalStack(seed_demo=False)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def test_the_curl_examples_run_verbatim(stack: LocalStack) -> None:
    missing = [tool for tool in ("bash", "curl", "python3") if shutil.which(tool) is None]
    assert not missing, f"the examples need {', '.join(missing)} on PATH"
    blocks = examples(DOC.read_text(encoding="utf-8"))
    script = script_for(blocks, stack.base_url)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="api-doc-") as workdir:
        env = {k: v for k, v in os.environ.items() if k not in ("ADMIN", "OPERATOR", "VIEWER", "BOT")}
        result = subprocess.run(
            ["bash", "--noprofile", "--norc"],
            input=script,
            capture_output=True,
            text=True,
            cwd=workdir,
            env=env,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    elapsed = time.monotonic() - started
    outputs, finished = split_outputs(result.stdout, len(blocks))
    if result.returncode != 0 or not finished:
        failing = blocks[min(len(outputs), len(blocks)) - 1] if outputs else blocks[0]
        pytest.fail(
            f"the examples stopped (exit {result.returncode}) in {failing.label()}\n"
            f"--- its output ---\n{outputs[-1] if outputs else ''}\n"
            f"--- stderr ---\n{result.stderr[-3000:]}\n--- server log ---\n{stack.log_tail()}"
        )
    problems: list[str] = []
    for example, output in zip(blocks, outputs, strict=True):
        if example.expected is None:
            continue
        if example.expected_kind == "text":
            if output.strip() != example.expected.strip():
                problems.append(
                    f"{example.label()}\n  document shows:\n{_indent(example.expected)}\n"
                    f"  the stack printed:\n{_indent(output)}"
                )
            continue
        try:
            actual = json.loads(output)
        except ValueError:
            problems.append(f"{example.label()}\n  not JSON:\n{_indent(output)}")
            continue
        mismatches = shown_in(json.loads(example.expected), actual)
        if mismatches:
            problems.append(
                f"{example.label()}\n"
                + "\n".join(f"  {m}" for m in mismatches)
                + f"\n{_indent(output[:3000])}"
            )
    assert not problems, "\n\n".join(problems)
    assert elapsed < 60, f"the examples took {elapsed:.1f} s; keep them quick"


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.strip().splitlines())


def write_outputs(base_url: str, target: Path) -> None:
    """Authoring aid: run the examples against a stack and write each block's real output."""
    blocks = examples(DOC.read_text(encoding="utf-8"))
    result = subprocess.run(
        ["bash", "--noprofile", "--norc"],
        input=script_for(blocks, base_url),
        capture_output=True,
        text=True,
        cwd=tempfile.mkdtemp(prefix="api-doc-"),
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    outputs, _ = split_outputs(result.stdout, len(blocks))
    report = [
        f"## {example.label()}\n{output.strip()}\n" for example, output in zip(blocks, outputs, strict=False)
    ]
    target.write_text("\n".join(report) + f"\n## stderr\n{result.stderr}\n", encoding="utf-8")
