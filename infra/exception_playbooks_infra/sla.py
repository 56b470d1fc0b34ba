"""The SLA clock: a schedule group per stack, the SLA function, and the role Scheduler uses.

* EventBridge Scheduler one-time ``at()`` schedules (one per exception and threshold, created,
  moved and deleted by the SLA function itself) live in this stack's schedule group;
* Scheduler invokes the SLA function through ``SchedulerRole``, which may do nothing else
  (``lambda:InvokeFunction`` on that function, ``sqs:SendMessage`` to the schedules' DLQ);
  Scheduler retries (see ``sla/scheduler.py``), then dead-letters;
* a bus rule sends the timeline events that can move an exception's clock (``bus.SLA_SYNC_RULE``)
  to the same function, with retries and its own DLQ, as for the agents;
* the function may only manage schedules of its own group and pass only ``SchedulerRole``.
"""

from __future__ import annotations

from aws_cdk import Aws, Fn
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from cdk_nag import RegexAppliesTo
from constructs import Construct
from exception_playbooks.bus import SLA_SYNC_RULE
from exception_playbooks.sla.scheduler import ENV_DLQ_ARN, ENV_GROUP, ENV_ROLE_ARN

from .access import AGENT_ACCESS
from .agents import (
    AGENT_MEMORY_MB,
    AGENT_TIMEOUT,
    FUNCTION_MAX_EVENT_AGE,
    FUNCTION_RETRY_ATTEMPTS,
    RULE_MAX_EVENT_AGE,
    RULE_RETRY_ATTEMPTS,
    dead_letter_queue,
    event_pattern,
)
from .functions import AsyncInvokeProps, ServiceFunction, SharedFunctionProps
from .nag import suppress
from .paths import FUNCTIONS_DIR

SLA_FUNCTION = "sla"
SCHEDULE_ACTIONS = (
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
)


class SlaClock(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, bus: events.IEventBus, shared: SharedFunctionProps
    ) -> None:
        super().__init__(scope, construct_id)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=Fn.sub("${AWS::StackName}-sla"))
        self.group_name = self.group.ref  # Ref of a schedule group is its name
        self.schedule_dlq: sqs.Queue = dead_letter_queue(self, "ScheduleDlq")
        self.sync_dlq: sqs.Queue = dead_letter_queue(self, "SyncDlq")

        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description="Exception Playbooks SLA schedules: invoke the SLA function, nothing else",
        )
        self.function: lambda_.Function = ServiceFunction(
            self,
            "SlaClock",
            shared=shared,
            code_dir=FUNCTIONS_DIR / SLA_FUNCTION,
            handler="handler.lambda_handler",
            description="Exception Playbooks SLA clock: schedules, warnings, breaches",
            access=AGENT_ACCESS,
            memory_size=AGENT_MEMORY_MB,
            timeout=AGENT_TIMEOUT,
            extra_environment={
                ENV_GROUP: self.group_name,
                ENV_ROLE_ARN: self.scheduler_role.role_arn,
                ENV_DLQ_ARN: self.schedule_dlq.queue_arn,
            },
            async_invoke=AsyncInvokeProps(
                failure_queue=self.sync_dlq,
                retry_attempts=FUNCTION_RETRY_ATTEMPTS,
                max_event_age=FUNCTION_MAX_EVENT_AGE,
            ),
        ).function
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[self.function.function_arn])
        )
        self.scheduler_role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.schedule_dlq.queue_arn])
        )

        schedules_arn = Fn.sub(
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${Group}/*",
            {"Group": self.group_name},
        )
        role = self.function.role
        assert role is not None
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(SCHEDULE_ACTIONS), resources=[schedules_arn])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.scheduler_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        suppress(
            role,
            ["AwsSolutions-IAM5"],
            "Schedules are created at run time, one per exception and threshold: the grant is limited to "
            "this stack's schedule group (schedule/<group>/*).",
            applies_to=[RegexAppliesTo(regex="/^Resource::.*schedule/.*$/g")],
            apply_to_children=True,
        )

        self.rule = events.Rule(
            self,
            "SyncRule",
            event_bus=bus,
            description="Timeline events that can move an exception's SLA clock",
            event_pattern=event_pattern(SLA_SYNC_RULE.pattern),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    dead_letter_queue=self.sync_dlq,
                    retry_attempts=RULE_RETRY_ATTEMPTS,
                    max_event_age=RULE_MAX_EVENT_AGE,
                )
            ],
        )
