"""cdk-nag: the helper every construct uses to record an accepted finding, and the stack-level ones.

A suppression is a decision, so each one names its rules and says why the finding is acceptable
here; the constructs call ``suppress`` next to the resource it concerns.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct

RUNTIME_PINNED_REASON = (
    "Pinned to python3.12: the layer is built for it (cp312 arm64 wheels, 3.12 bytecode) and the domain "
    "core is tested on it; a runtime upgrade moves requirements, layer build and tests together."
)
DEAD_LETTER_QUEUE_REASON = (
    "This queue is itself a dead-letter queue; its depth is alarmed and operators inspect and redrive "
    "its messages, so it needs no dead-letter queue of its own."
)


def suppress(
    construct: IConstruct,
    rules: Sequence[str],
    reason: str,
    *,
    applies_to: Sequence[str | RegexAppliesTo] | None = None,
    apply_to_children: bool = False,
) -> None:
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=applies_to) for rule in rules],
        apply_to_children=apply_to_children,
    )


def suppress_accepted_findings(stack: Stack) -> None:
    """Findings on resources aws-cdk-lib adds at the stack root, outside any construct of ours."""
    for child in stack.node.children:
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            # The singleton Lambda behind BucketDeployment (its role is ours: web.py).
            suppress(
                child,
                ["AwsSolutions-L1", "Serverless-LambdaLatestVersion"],
                "Runtime of aws-cdk-lib's BucketDeployment handler, chosen and updated by aws-cdk-lib; it "
                "runs only while CloudFormation deploys the UI.",
            )
            suppress(
                child,
                ["Serverless-LambdaDLQ"],
                "Invoked synchronously by CloudFormation as a custom resource; a failure fails the "
                "deployment, there is no asynchronous event to dead-letter.",
            )
            suppress(
                child,
                ["Serverless-LambdaTracing"],
                "Deployment-time copy of static files; X-Ray traces would add cost without diagnostic value.",
            )
