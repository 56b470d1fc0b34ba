"""cdk-nag (AwsSolutions + Serverless packs) and cfn-lint on the synthesized template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Synthesized

NAG_FINDING = r"^(AwsSolutions|Serverless)-"
# W3005: aws-cdk-lib's Function declares DependsOn on its role (to wait for the role's default
# policy as well); the role part is also implied by the GetAtt Role. Redundant, harmless, and
# not ours to change; every other finding fails the test.
CFN_LINT_IGNORED = {"W3005"}


@pytest.fixture(scope="module")
def nag_findings(synthesized: Synthesized) -> dict[str, list[str]]:
    """{"error": [...], "warning": [...]}: cdk-nag findings no suppression covers."""
    from aws_cdk.assertions import Annotations, Match

    annotations = Annotations.from_stack(synthesized.stack)  # a few seconds: read it once
    pattern = Match.string_like_regexp(NAG_FINDING)
    return {
        level: [f"{m.id}: {str(m.entry.data)[:200]}" for m in find("*", pattern)]
        for level, find in (("error", annotations.find_error), ("warning", annotations.find_warning))
    }


def test_no_unsuppressed_cdk_nag_errors(nag_findings: dict[str, list[str]]) -> None:
    assert nag_findings["error"] == []


def test_no_unsuppressed_cdk_nag_warnings(nag_findings: dict[str, list[str]]) -> None:
    assert nag_findings["warning"] == []


def test_every_suppression_gives_a_reason(synthesized: Synthesized) -> None:
    suppressions: list[dict[str, Any]] = []
    for resource in synthesized.resources.values():
        suppressions += resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    assert suppressions
    for suppression in suppressions:
        assert len(suppression["reason"]) >= 40, suppression


def test_the_cognito_and_authorizer_rules_are_met_not_suppressed(synthesized: Synthesized) -> None:
    """COG2 (MFA required), COG8 (Plus plan), APIG3 (WAF on the stage) hold: no suppression names them."""
    suppressed = {
        suppression["id"]
        for resource in synthesized.resources.values()
        for suppression in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    }
    assert suppressed  # the metadata is where it is looked for
    assert not suppressed & {"AwsSolutions-COG2", "AwsSolutions-COG8", "AwsSolutions-APIG3"}


@pytest.fixture(scope="module")
def template_file(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfn-lint") / "template.json"
    path.write_text(json.dumps(synthesized.template.to_json(), indent=1))
    return path


def test_cfn_lint_is_clean(template_file: Path) -> None:
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(template_file, config=ManualArgs(regions=["us-east-1"]))
    findings = [
        f"{m.rule.id} {m.path_string}: {m.message}" for m in matches if m.rule.id not in CFN_LINT_IGNORED
    ]
    assert findings == []
