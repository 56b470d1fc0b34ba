"""The timeline bus: events-table stream -> EventBridge Pipe -> bus -> one rule and Lambda per agent.

Pipe mapping (one committed timeline event = one bus event):

* source: only INSERT records of the events table stream (events are never updated or deleted);
* ``source``      = ``bus.TIMELINE_SOURCE``;
* ``detail-type`` = the new image's ``event_type`` (a dynamic path parameter);
* ``detail``      = the input template below: every event attribute of the new image plus
  ``tenant_id`` (stored as a plain attribute on each event item by the domain core).

Two fields cannot be reproduced exactly by an input template and are marked by
``"encoding": "dynamodb-stream"`` in ``detail``: ``seq`` arrives as a string (stream images carry
numbers as strings) and ``payload`` arrives in DynamoDB attribute-value JSON
(``{"k": {"S": "v"}}``). Consumers normalise with ``int(seq)`` and boto3's ``TypeDeserializer``.
The bus event's ``id`` and ``time`` are EventBridge's own; use ``detail.event_id`` for
idempotency and ``detail.created_at`` for the commit time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_pipes as pipes
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from exception_playbooks.bus import AGENTS, TIMELINE_SOURCE
from exception_playbooks.routes import AGENT_FUNCTION

from .access import agent_access
from .data import DataStores
from .functions import AsyncInvokeProps, ServiceFunction, SharedFunctionProps
from .nag import DEAD_LETTER_QUEUE_REASON, suppress
from .paths import FUNCTIONS_DIR
from .policies import role_policy

# Attributes of an event item the pipe forwards, all of DynamoDB type S.
PIPE_STRING_ATTRIBUTES = (
    "event_id",
    "event_type",
    "exception_id",
    "actor_type",
    "actor_id",
    "created_at",
    "tenant_id",
)
PIPE_DETAIL_ENCODING = "dynamodb-stream"
_NEW_IMAGE = "$.dynamodb.NewImage"
TAMPER_EVENT_NAMES = ("MODIFY", "REMOVE")

AGENT_MEMORY_MB = 512
AGENT_TIMEOUT = Duration.seconds(60)
# Rule -> Lambda delivery: EventBridge retries with back-off, then the agent's DLQ.
RULE_RETRY_ATTEMPTS = 8
RULE_MAX_EVENT_AGE = Duration.hours(6)
# Lambda's async retries of a failed agent run, then the same queue (as on-failure destination):
# one queue to inspect and alarm on per agent.
FUNCTION_RETRY_ATTEMPTS = 2
FUNCTION_MAX_EVENT_AGE = Duration.hours(6)
DLQ_RETENTION = Duration.days(14)

_EVENT_PATTERN_FIELDS = {
    "source": "source",
    "detail-type": "detail_type",
    "detail": "detail",
    "account": "account",
    "region": "region",
    "resources": "resources",
    "id": "id",
    "time": "time",
    "version": "version",
}


def pipe_input_template() -> str:
    """The ``detail`` of each bus event, built from the stream record's new image."""
    fields = [f'"{name}": "<{_NEW_IMAGE}.{name}.S>"' for name in PIPE_STRING_ATTRIBUTES]
    fields.append(f'"seq": "<{_NEW_IMAGE}.seq.N>"')
    fields.append(f'"chain_depth": "<{_NEW_IMAGE}.chain_depth.N>"')
    # The item's key: agents refuse an event whose tenant_id disagrees with it.
    fields.append('"pk": "<$.dynamodb.Keys.pk.S>"')
    fields.append(f'"payload": <{_NEW_IMAGE}.payload.M>')  # unquoted: a JSON object
    fields.append(f'"encoding": "{PIPE_DETAIL_ENCODING}"')
    return "{" + ", ".join(fields) + "}"


def event_pattern(pattern: Mapping[str, Any]) -> events.EventPattern:
    """``bus.AgentRule.pattern`` (EventBridge JSON) as the CDK type, refusing fields it cannot carry."""
    unknown = set(pattern) - set(_EVENT_PATTERN_FIELDS)
    if unknown:
        raise ValueError(f"unsupported event pattern fields {sorted(unknown)}")
    return events.EventPattern(**{_EVENT_PATTERN_FIELDS[name]: value for name, value in pattern.items()})


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=DLQ_RETENTION,  # the maximum: time to fix the cause before redriving
    )
    suppress(queue, ["AwsSolutions-SQS3", "Serverless-SQSRedrivePolicy"], DEAD_LETTER_QUEUE_REASON)
    return queue


class TimelineBus(Construct):
    """The event bus, an archive of timeline events for replay, and the outbox pipe feeding it."""

    def __init__(self, scope: Construct, construct_id: str, *, data: DataStores) -> None:
        super().__init__(scope, construct_id)
        self.bus = events.EventBus(self, "Bus", description="Exception Playbooks timeline and notifications")
        # Lets operators replay committed events to agents after a fix (EventBridge replay).
        self.bus.archive(
            "TimelineArchive",
            description="Committed timeline events, for replay",
            event_pattern=events.EventPattern(source=[TIMELINE_SOURCE]),
            retention=Duration.days(30),
        )

        self.pipe_dlq = dead_letter_queue(self, "PipeDlq")
        self.pipe_log_group = logs.LogGroup(
            self, "PipeLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=RemovalPolicy.RETAIN
        )
        self.pipe_role = iam.Role(
            self,
            "PipeRole",
            assumed_by=iam.ServicePrincipal(
                "pipes.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="Exception Playbooks outbox pipe: read the events stream, put to the bus",
        )
        stream_arn = data.events_stream_arn
        for statement in (
            iam.PolicyStatement(
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                resources=[stream_arn],
            ),
            # ListStreams has no resource-level permissions.
            iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"]),
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[self.bus.event_bus_arn]),
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.pipe_dlq.queue_arn]),
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.pipe_log_group.log_group_arn],
            ),
        ):
            self.pipe_role.add_to_principal_policy(statement)

        self.pipe = pipes.CfnPipe(
            self,
            "OutboxPipe",
            description="Transactional outbox: committed timeline events -> event bus",
            role_arn=self.pipe_role.role_arn,
            source=stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="LATEST",
                    batch_size=10,  # PutEvents takes at most 10 entries
                    maximum_retry_attempts=10,
                    maximum_record_age_in_seconds=6 * 3600,
                    # A poison record is isolated by bisection instead of blocking its shard.
                    on_partial_batch_item_failure="AUTOMATIC_BISECT",
                    dead_letter_config=pipes.CfnPipe.DeadLetterConfigProperty(arn=self.pipe_dlq.queue_arn),
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[pipes.CfnPipe.FilterProperty(pattern=json.dumps({"eventName": ["INSERT"]}))]
                ),
            ),
            target=self.bus.event_bus_arn,
            target_parameters=pipes.CfnPipe.PipeTargetParametersProperty(
                input_template=pipe_input_template(),
                event_bridge_event_bus_parameters=pipes.CfnPipe.PipeTargetEventBridgeEventBusParametersProperty(
                    source=TIMELINE_SOURCE,
                    detail_type=f"{_NEW_IMAGE}.event_type.S",
                ),
            ),
            log_configuration=pipes.CfnPipe.PipeLogConfigurationProperty(
                level="ERROR",
                cloudwatch_logs_log_destination=pipes.CfnPipe.CloudwatchLogsLogDestinationProperty(
                    log_group_arn=self.pipe_log_group.log_group_arn
                ),
            ),
        )
        # The pipe validates its role's permissions on creation: create the policy first.
        self.pipe.node.add_dependency(role_policy(self.pipe_role))
        # Only the pipe may put timeline events on the bus: an explicit deny for everyone else
        # (a function role with PutEvents, or anyone in the account) forging the source.
        self.bus.add_to_resource_policy(
            iam.PolicyStatement(
                sid="TimelineSourceOnlyFromThePipe",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["events:PutEvents"],
                resources=[self.bus.event_bus_arn],
                conditions={
                    "StringEquals": {"events:source": TIMELINE_SOURCE},
                    "ArnNotEquals": {"aws:PrincipalArn": self.pipe_role.role_arn},
                },
            )
        )
        self._tamper_detection(stream_arn)
        suppress(
            self.pipe_role,
            ["AwsSolutions-IAM5"],
            "dynamodb:ListStreams supports no resource-level permissions; the stream reads themselves are "
            "scoped to the events table's stream ARN.",
            applies_to=["Resource::*"],
            apply_to_children=True,
        )

    def _tamper_detection(self, stream_arn: str) -> None:
        """A second pipe forwards any MODIFY or REMOVE of a timeline event to a queue (alarmed).

        The events table is insert-only; a change means the break-glass role was used, or the
        resource policy was changed. The queue keeps the evidence (the stream keeps 24 h only).
        """
        self.tamper_queue = dead_letter_queue(self, "TamperQueue")
        role = iam.Role(
            self,
            "TamperPipeRole",
            assumed_by=iam.ServicePrincipal(
                "pipes.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="Exception Playbooks tamper pipe: changed or removed timeline events -> queue",
        )
        for statement in (
            iam.PolicyStatement(
                actions=["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                resources=[stream_arn],
            ),
            iam.PolicyStatement(actions=["dynamodb:ListStreams"], resources=["*"]),
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.tamper_queue.queue_arn]),
        ):
            role.add_to_principal_policy(statement)
        self.tamper_pipe = pipes.CfnPipe(
            self,
            "TamperPipe",
            description="Timeline events are never changed or removed: forward any that are, to alarm",
            role_arn=role.role_arn,
            source=stream_arn,
            source_parameters=pipes.CfnPipe.PipeSourceParametersProperty(
                dynamo_db_stream_parameters=pipes.CfnPipe.PipeSourceDynamoDBStreamParametersProperty(
                    starting_position="LATEST", batch_size=10, maximum_retry_attempts=10
                ),
                filter_criteria=pipes.CfnPipe.FilterCriteriaProperty(
                    filters=[
                        pipes.CfnPipe.FilterProperty(
                            pattern=json.dumps({"eventName": list(TAMPER_EVENT_NAMES)})
                        )
                    ]
                ),
            ),
            target=self.tamper_queue.queue_arn,
        )
        self.tamper_pipe.node.add_dependency(role_policy(role))
        suppress(
            role,
            ["AwsSolutions-IAM5"],
            "dynamodb:ListStreams supports no resource-level permissions; the stream reads themselves are "
            "scoped to the events table's stream ARN.",
            applies_to=["Resource::*"],
            apply_to_children=True,
        )


class Agents(Construct):
    """One Lambda, one rule and one dead-letter queue per ``bus.AGENTS`` entry."""

    def __init__(
        self, scope: Construct, construct_id: str, *, bus: events.IEventBus, shared: SharedFunctionProps
    ) -> None:
        super().__init__(scope, construct_id)
        self.functions: dict[str, lambda_.Function] = {}
        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.rules: dict[str, events.Rule] = {}
        for agent in AGENTS:
            dlq = dead_letter_queue(self, f"{agent.name}Dlq")
            function = ServiceFunction(
                self,
                agent.name,
                shared=shared,
                code_dir=FUNCTIONS_DIR / AGENT_FUNCTION,
                handler=f"handler.{agent.handler}",
                description=f"Exception Playbooks agent {agent.name}",
                access=agent_access(agent),
                memory_size=AGENT_MEMORY_MB,
                timeout=AGENT_TIMEOUT,
                async_invoke=AsyncInvokeProps(
                    failure_queue=dlq,
                    retry_attempts=FUNCTION_RETRY_ATTEMPTS,
                    max_event_age=FUNCTION_MAX_EVENT_AGE,
                ),
            ).function
            self.rules[agent.name] = events.Rule(
                self,
                f"{agent.name}Rule",
                event_bus=bus,
                description=f"Timeline events for {agent.name}",
                event_pattern=event_pattern(agent.pattern),
                targets=[
                    targets.LambdaFunction(
                        function,
                        dead_letter_queue=dlq,
                        retry_attempts=RULE_RETRY_ATTEMPTS,
                        max_event_age=RULE_MAX_EVENT_AGE,
                    )
                ],
            )
            self.functions[agent.name] = function
            self.dead_letter_queues[agent.name] = dlq
