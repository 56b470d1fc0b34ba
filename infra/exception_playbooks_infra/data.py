"""The two DynamoDB tables (key schema: exception_playbooks.keys)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from .access import BY_TENANT_INDEX, PLAYBOOKS_INDEX

# Everything that could change or remove a committed timeline event. PutItem stays (new events);
# that a Put never overwrites is enforced in code (attribute_not_exists; tenant_guard tests it).
EVENTS_TABLE_DENIED_ACTIONS = (
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLSelect",
)

# Idempotency records carry an epoch-seconds expiry; DynamoDB deletes them for free.
STATE_TTL_ATTRIBUTE = "expires_at"


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def _protected_table(
    scope: Construct,
    construct_id: str,
    *,
    partition_key: dynamodb.Attribute,
    sort_key: dynamodb.Attribute,
    time_to_live_attribute: str | None = None,
    stream: dynamodb.StreamViewType | None = None,
) -> dynamodb.Table:
    """On-demand (traffic is spiky and per tenant), AWS-managed key, PITR, never deleted with the stack."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=partition_key,
        sort_key=sort_key,
        time_to_live_attribute=time_to_live_attribute,
        stream=stream,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )


class DataStores(Construct):
    """State table (exceptions, playbooks, packs, idempotency) and the append-only events table."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)

        self.state_table = _protected_table(
            self,
            "StateTable",
            partition_key=_string_key("pk"),
            sort_key=_string_key("sk"),
            time_to_live_attribute=STATE_TTL_ATTRIBUTE,
        )
        self.state_table.add_global_secondary_index(
            index_name=BY_TENANT_INDEX,
            partition_key=_string_key("gsi1pk"),
            sort_key=_string_key("gsi1sk"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        self.state_table.add_global_secondary_index(
            index_name=PLAYBOOKS_INDEX,
            partition_key=_string_key("gsi2pk"),
            sort_key=_string_key("gsi2sk"),
            projection_type=dynamodb.ProjectionType.ALL,
        )

        # NEW_IMAGE is all the pipe needs: events are only ever inserted, never changed.
        self.events_table = _protected_table(
            self,
            "EventsTable",
            partition_key=_string_key("pk"),
            sort_key=dynamodb.Attribute(name="seq", type=dynamodb.AttributeType.NUMBER),
            stream=dynamodb.StreamViewType.NEW_IMAGE,
        )
        # The one principal the events table's resource policy exempts. It holds no permission:
        # an operator who must repair the timeline attaches one (with MFA), which CloudTrail records.
        self.break_glass_role = iam.Role(
            self,
            "TimelineBreakGlassRole",
            role_name=f"{Stack.of(self).stack_name}-timeline-break-glass",
            assumed_by=iam.AccountRootPrincipal().with_conditions(
                {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
            ),
            description="Break-glass only: the one principal the events table lets change or delete events",
        )
        self.events_table.add_to_resource_policy(
            iam.PolicyStatement(
                sid="TimelineIsAppendOnly",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(EVENTS_TABLE_DENIED_ACTIONS),
                resources=["*"],  # this table (a resource policy cannot name its own table's ARN)
                conditions={"ArnNotEquals": {"aws:PrincipalArn": self.break_glass_role.role_arn}},
            )
        )

    def state_index_arn(self, index_name: str) -> str:
        return f"{self.state_table.table_arn}/index/{index_name}"

    @property
    def events_stream_arn(self) -> str:
        stream_arn = self.events_table.table_stream_arn
        if stream_arn is None:  # impossible: the stream is configured above
            raise RuntimeError("the events table has no stream")
        return stream_arn
