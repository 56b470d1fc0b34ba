"""Business metrics reach CloudWatch as EMF lines on stdout, flushed once per invocation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from .conftest import TENANT_A, ApiClient
from .scenario import COMPLETE, assigned, seed_standard


def _emitted(output: str) -> dict[str, float]:
    """{metric name: value} of every EMF document printed."""
    found: dict[str, float] = {}
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]  # a list when one invocation adds it several times
                found[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return found


def test_creating_recalculating_and_completing_emit_counts(
    api: ApiClient, repos: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    seed_standard(repos, TENANT_A)
    capsys.readouterr()
    assigned(api, "EX-1")
    created = _emitted(capsys.readouterr().out)
    assert created.get("ExceptionsCreated") == 1
    assert created.get("PlaybooksRecalculated") == 1

    response = api.call("POST", COMPLETE, {"exception_id": "EX-1", "step_order": 1}, body={})
    assert response.status == 200, response.body
    assert _emitted(capsys.readouterr().out).get("StepsCompleted") == 1
