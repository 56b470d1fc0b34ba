"""CDK app entry point: ``cd infra && ../.venv/bin/python app.py`` (``make synth``) writes ../cdk.out.

Context (``-c key=value`` with the CDK CLI, or ``CDK_CONTEXT_JSON``):
  stackName            stack name (default ExceptionPlaybooks)
  cognitoDomainPrefix  hosted-UI domain prefix, unique per region (default exception-playbooks-<account>)
  alarmEmail           subscribe this address to the alarm topic
  cloudfrontWebAclArn  a CLOUDFRONT-scope WAF web ACL (created in us-east-1) for the distribution
  reservedConcurrency  reserve this many concurrent executions per function (default: none; the
                       account's unreserved pool must keep 100, so only on accounts with quota)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

INFRA_DIR = Path(__file__).resolve().parent
REPO_ROOT = INFRA_DIR.parent
# The domain core is installed in the venv (pip -e .); the path entry covers a bare checkout.
for entry in (INFRA_DIR, REPO_ROOT / "layers" / "common"):
    if str(entry) not in sys.path:
        sys.path.append(str(entry))

import aws_cdk as cdk  # noqa: E402
from cdk_nag import AwsSolutionsChecks, ServerlessChecks  # noqa: E402
from stack import ExceptionPlaybooksStack  # noqa: E402

DEFAULT_STACK_NAME = "ExceptionPlaybooks"
# Safer defaults that new CDK projects get from `cdk init`; set in code so that `python app.py`,
# the CDK CLI and the tests synthesize the same template.
FEATURE_FLAGS: dict[str, Any] = {
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-cloudfront:defaultSecurityPolicyTLSv1.2_2021": True,
    "@aws-cdk/aws-lambda:recognizeLayerVersion": True,
}


def build_app(
    outdir: str | None = None, context: Mapping[str, Any] | None = None
) -> tuple[cdk.App, ExceptionPlaybooksStack]:
    """The app with its one stack and the cdk-nag packs applied (tests/infra asserts no open findings)."""
    # The CDK CLI passes its output directory in CDK_OUTDIR; run directly, write to <repo>/cdk.out.
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = str(REPO_ROOT / "cdk.out")
    app = cdk.App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    account = os.environ.get("CDK_DEFAULT_ACCOUNT")
    region = os.environ.get("CDK_DEFAULT_REGION")
    stack = ExceptionPlaybooksStack(
        app,
        app.node.try_get_context("stackName") or DEFAULT_STACK_NAME,
        description="Exception Playbooks: API, agents, timeline bus, web UI",
        env=cdk.Environment(account=account, region=region) if account and region else None,
        cognito_domain_prefix=app.node.try_get_context("cognitoDomainPrefix"),
        alarm_email=app.node.try_get_context("alarmEmail"),
        reserved_concurrency=_optional_int(app.node.try_get_context("reservedConcurrency")),
        cloudfront_web_acl_arn=app.node.try_get_context("cloudfrontWebAclArn"),
    )
    cdk.Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    cdk.Aspects.of(app).add(ServerlessChecks(verbose=True))
    return app, stack


def _optional_int(value: Any) -> int | None:
    """Context values arrive as strings from ``-c key=value``; empty or absent means off."""
    if value in (None, "", "none", "off"):
        return None
    number = int(value)
    if number < 1:
        raise ValueError(f"reservedConcurrency must be a positive integer, got {value!r}")
    return number


def main() -> None:
    app, _ = build_app()
    app.synth()


if __name__ == "__main__":
    main()
