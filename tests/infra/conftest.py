"""Synthesizes the CDK app once per test session (about 15 s) and shares the result."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA_DIR = REPO_ROOT / "infra"


def _load_app_module() -> ModuleType:
    # Loaded by path under a unique name: "app" is too generic a module name to put in sys.modules.
    spec = importlib.util.spec_from_file_location("exception_playbooks_cdk_app", INFRA_DIR / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class Synthesized:
    stack: Any  # stack.ExceptionPlaybooksStack
    template: Any  # aws_cdk.assertions.Template
    resources: dict[str, dict[str, Any]]
    outdir: Path

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == resource_type}

    def logical_id(self, construct: Any) -> str:
        """Logical id of a construct's CloudFormation resource (its default child for L2s)."""
        element = construct if hasattr(construct, "logical_id") else construct.node.default_child
        resolved: str = self.stack.resolve(element.logical_id)
        return resolved


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    from aws_cdk.assertions import Template

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = _load_app_module().build_app(outdir=str(outdir))
    app.synth()
    template = Template.from_stack(stack)
    resources = json.loads(json.dumps(template.to_json()))["Resources"]
    return Synthesized(stack=stack, template=template, resources=resources, outdir=outdir)
