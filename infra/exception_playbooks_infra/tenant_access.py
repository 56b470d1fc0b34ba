"""Tenant isolation enforced by IAM: the tenant-data role, and who may assume it with which tag.

IAM model (docs/architecture.md, "Tenant isolation"):

* Function roles (API functions, table-using agents) hold **no** DynamoDB permission. They may
  ``sts:AssumeRole`` + ``sts:TagSession`` on the tenant-data role only, and only with exactly
  one session tag, ``tenant_id`` (non-empty).
* The tenant-data role trusts exactly those function roles (``aws:PrincipalArn``), with the same
  tag conditions. Its policy allows ``tenant_guard.TENANT_DATA_ACTIONS`` on the two tables and
  Query on the state table's indexes, each only where every ``dynamodb:LeadingKeys`` value is like
  ``T#${aws:PrincipalTag/tenant_id}#*`` and leading keys are present at all (a Scan has none,
  and is not granted either).
* The events table's resource policy denies UpdateItem, DeleteItem, BatchWriteItem and PartiQL
  to every principal but the break-glass role (``data.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import jsii
from aws_cdk import IStableListProducer, Lazy
from aws_cdk import aws_iam as iam
from cdk_nag import RegexAppliesTo
from constructs import Construct
from exception_playbooks.tenancy import TENANT_TAG
from exception_playbooks.tenant_guard import EVENTS, INDEX_ACTIONS, STATE, TENANT_DATA_ACTIONS

from .data import DataStores
from .nag import suppress

LEADING_KEYS_PATTERN = f"T#${{aws:PrincipalTag/{TENANT_TAG}}}#*"
# What a function must ask for when it assumes the role: one tag, tenant_id, non-empty.
SESSION_TAG_CONDITIONS = {
    "StringLike": {f"aws:RequestTag/{TENANT_TAG}": "?*"},
    "ForAllValues:StringEquals": {"aws:TagKeys": [TENANT_TAG]},
}
TENANT_KEY_CONDITIONS = {
    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": [LEADING_KEYS_PATTERN]},
    # ForAllValues holds vacuously when the key is absent: require leading keys to be present.
    "Null": {"dynamodb:LeadingKeys": "false"},
}


@jsii.implements(IStableListProducer)
class _RoleArns:
    """The ARNs of the function roles allowed to assume, known only once every function exists."""

    def __init__(self, roles: list[iam.IRole]):
        self._roles = roles

    def produce(self) -> list[str] | None:
        return [role.role_arn for role in self._roles] or None


class TenantDataAccess(Construct):
    """The tenant-data role; ``allow`` lets one function role assume it with a tenant tag."""

    def __init__(self, scope: Construct, construct_id: str, *, data: DataStores) -> None:
        super().__init__(scope, construct_id)
        self._assumers: list[iam.IRole] = []
        assumers = Lazy.list(_RoleArns(self._assumers))
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.SessionTagsPrincipal(
                iam.AccountRootPrincipal().with_conditions(
                    {**SESSION_TAG_CONDITIONS, "ArnEquals": {"aws:PrincipalArn": assumers}}
                )
            ),
            description="Exception Playbooks tenant data: one tenant's items (the tenant_id session tag)",
        )
        for statement in tenant_data_statements(data):
            self.role.add_to_principal_policy(statement)
        suppress(
            self.role,
            ["AwsSolutions-IAM5"],
            "Query on every index of the state table (indexes are added over time); each is bound by "
            "the same dynamodb:LeadingKeys condition to the session's tenant prefix; Query only.",
            applies_to=[RegexAppliesTo(regex=r"/^Resource::<DataStateTable[A-Za-z0-9]+\.Arn>\/index\/\*$/")],
            apply_to_children=True,
        )

    def allow(self, role: iam.IRole) -> None:
        self._assumers.append(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[self.role.role_arn],
                conditions=SESSION_TAG_CONDITIONS,
            )
        )


def tenant_data_statements(data: DataStores) -> Sequence[iam.PolicyStatement]:
    return [
        iam.PolicyStatement(
            actions=sorted(TENANT_DATA_ACTIONS[STATE]),
            resources=[data.state_table.table_arn],
            conditions=TENANT_KEY_CONDITIONS,
        ),
        iam.PolicyStatement(
            actions=sorted(INDEX_ACTIONS),
            resources=[data.state_index_arn("*")],
            conditions=TENANT_KEY_CONDITIONS,
        ),
        iam.PolicyStatement(
            actions=sorted(TENANT_DATA_ACTIONS[EVENTS]),
            resources=[data.events_table.table_arn],
            conditions=TENANT_KEY_CONDITIONS,
        ),
    ]
