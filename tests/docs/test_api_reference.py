"""docs/api-reference.md is what ``python -m local.api_reference`` makes of the committed openapi.json,
and it describes every operation and schema of that document."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from local import api_reference


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return api_reference.load_document()


def test_the_committed_reference_is_up_to_date(document: dict[str, Any]) -> None:
    committed = api_reference.REFERENCE_PATH.read_text(encoding="utf-8")
    assert committed == api_reference.render(document), (
        "docs/api-reference.md is stale: openapi.json changed. "
        "Run `.venv/bin/python -m local.api_reference --write` and commit docs/api-reference.md."
    )


def test_check_mode_agrees(capsys: pytest.CaptureFixture[str]) -> None:
    assert api_reference.main(["--check"]) == 0
    assert capsys.readouterr().err == ""


def test_a_changed_document_changes_the_reference(document: dict[str, Any]) -> None:
    changed = copy.deepcopy(document)
    changed["paths"]["/api/exceptions"]["post"]["summary"] = "Something else entirely"
    assert api_reference.render(changed) != api_reference.render(document)


def test_every_operation_and_schema_is_described(document: dict[str, Any]) -> None:
    text = api_reference.render(document)
    headings = set(re.findall(r"^### (.+)$", text, re.MULTILINE))
    for path, item in document["paths"].items():
        for method, operation in item.items():
            heading = f"{method.upper()} {path}"
            assert heading in headings, heading
            assert f"(#{api_reference.anchor(heading)})" in text  # listed in the index
            for status in operation["responses"]:
                assert re.search(rf"^\| {status} \|", text, re.MULTILINE)
    for name in document["components"]["schemas"]:
        assert name in headings, name
    # Every link to a schema lands on a heading of this document.
    anchors = {api_reference.anchor(heading) for heading in headings}
    for target in re.findall(r"\]\(#([^)]+)\)", text):
        assert target in anchors, target


def test_fields_are_flattened_with_their_limits(document: dict[str, Any]) -> None:
    text = api_reference.render(document)
    assert re.search(r"^\| `steps\[\]\.action_type` \| one of `notify`.* \| yes \|", text, re.MULTILINE)
    assert re.search(
        r"^\| `conditions\.priority` \| integer \|  \| ≥ -1000000; ≤ 1000000; default `0` \|", text, re.M
    )
    assert "| `Idempotency-Key` | header |" in text
    assert "public (no token)" in text


def test_table_cells_never_break_the_table() -> None:
    assert api_reference.cell("a | b\nc") == "a \\| b c"
    assert api_reference.type_text(
        {"anyOf": [{"$ref": "#/components/schemas/Severity"}, {"type": "null"}]}
    ) == ("[Severity](#severity) or null")
    assert json.loads(json.dumps(api_reference.constraints({"type": "string", "maxLength": 1}))) == [
        "at most 1 character"
    ]
