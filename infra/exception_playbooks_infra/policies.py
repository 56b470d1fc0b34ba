"""Small IAM helpers shared by the constructs."""

from __future__ import annotations

from aws_cdk import aws_iam as iam
from constructs import IConstruct


def role_policy(role: iam.Role) -> IConstruct:
    """The role's default inline policy, for resources that must wait until its permissions exist.

    Depending on the policy alone (not the whole role) avoids a DependsOn on the role that a GetAtt
    already implies (cfn-lint W3005).
    """
    policy = role.node.try_find_child("DefaultPolicy")
    if policy is None:
        raise ValueError(f"{role.node.path} has no policy statements yet")
    return policy
