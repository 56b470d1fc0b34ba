"""Alarms an on-call engineer acts on, and one dashboard of the service.

Synchronous path: API 5xx rate and p99 latency, function errors and throttles. Asynchronous path
(where failures are otherwise silent): the pipes' ExecutionFailed / TargetStageFailed, each
rule's FailedInvocations / InvocationsFailedToBeSentToDlq, the agents' AsyncEventsDropped,
DynamoDB ThrottledRequests / SystemErrors, anything in a dead-letter or tamper queue.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Aws, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

PERIOD = Duration.minutes(5)
# The API's p99 over 5 minutes, three periods in a row (API_TIMEOUT is 10 s).
API_P99_LATENCY_MS = 2000
API_5XX_RATE_PERCENT = 1
TABLE_OPERATIONS = (
    dynamodb.Operation.GET_ITEM,
    dynamodb.Operation.BATCH_GET_ITEM,
    dynamodb.Operation.PUT_ITEM,
    dynamodb.Operation.UPDATE_ITEM,
    dynamodb.Operation.QUERY,
    dynamodb.Operation.TRANSACT_WRITE_ITEMS,
    dynamodb.Operation.TRANSACT_GET_ITEMS,
)
PIPE_FAILURE_METRICS = ("ExecutionFailed", "TargetStageFailed")
RULE_FAILURE_METRICS = ("FailedInvocations", "InvocationsFailedToBeSentToDlq")


class Monitoring(Construct):
    """An encrypted SNS topic and one alarm per failure signal, all notifying the topic."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rest_api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        async_functions: Mapping[str, lambda_.IFunction] | None = None,
        pipe_names: Mapping[str, str] | None = None,
        rules: Mapping[str, events.IRule] | None = None,
        event_bus_name: str | None = None,
        tables: Mapping[str, dynamodb.ITable] | None = None,
        alarm_email: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        # Alarms publish through CloudWatch, which needs this key policy grant to encrypt; an
        # AWS-managed SNS key cannot grant it.
        topic_key = kms.Key(
            self, "AlarmTopicKey", enable_key_rotation=True, description="Exception Playbooks alarm topic"
        )
        topic_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],  # in a key policy "*" means this key
            )
        )
        self.topic = sns.Topic(
            self,
            "AlarmTopic",
            display_name="Exception Playbooks alarms",
            master_key=topic_key,
            enforce_ssl=True,
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self._action = cloudwatch_actions.SnsAction(self.topic)
        self.alarms: list[cloudwatch.Alarm] = []

        requests = rest_api.metric_count(period=PERIOD, statistic="Sum")
        self._alarm(
            "Api5xxRate",
            cloudwatch.MathExpression(
                expression="IF(requests > 0, 100 * errors / requests, 0)",
                using_metrics={
                    "errors": rest_api.metric_server_error(period=PERIOD, statistic="Sum"),
                    "requests": requests,
                },
                label="API 5xx (% of requests)",
                period=PERIOD,
            ),
            f"More than {API_5XX_RATE_PERCENT}% of API requests answered 5xx",
            threshold=API_5XX_RATE_PERCENT,
        )
        self._alarm(
            "ApiP99Latency",
            rest_api.metric_latency(period=PERIOD, statistic="p99"),
            f"API p99 latency above {API_P99_LATENCY_MS} ms for 15 minutes",
            threshold=API_P99_LATENCY_MS,
            evaluation_periods=3,
        )
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors", function.metric_errors(period=PERIOD, statistic="Sum"), f"{name} failed"
            )
            self._alarm(
                f"{name}Throttles",
                function.metric_throttles(period=PERIOD, statistic="Sum"),
                f"{name} was throttled",
            )
        for name, function in (async_functions or {}).items():
            self._alarm(
                f"{name}AsyncEventsDropped",
                function.metric("AsyncEventsDropped", period=PERIOD, statistic="Sum"),
                f"{name} dropped asynchronous events (no destination could take them)",
            )
        for name, pipe_name in (pipe_names or {}).items():
            for metric_name in PIPE_FAILURE_METRICS:
                self._alarm(
                    f"{name}{metric_name}",
                    cloudwatch.Metric(
                        namespace="AWS/EventBridge/Pipes",
                        metric_name=metric_name,
                        dimensions_map={"PipeName": pipe_name},
                        period=PERIOD,
                        statistic="Sum",
                    ),
                    f"Pipe {name}: {metric_name}",
                )
        for name, rule in (rules or {}).items():
            for metric_name in RULE_FAILURE_METRICS:
                dimensions = {"RuleName": rule.rule_name}
                if event_bus_name:
                    dimensions["EventBusName"] = event_bus_name
                self._alarm(
                    f"{name}Rule{metric_name}",
                    cloudwatch.Metric(
                        namespace="AWS/Events",
                        metric_name=metric_name,
                        dimensions_map=dimensions,
                        period=PERIOD,
                        statistic="Sum",
                    ),
                    f"Rule of {name}: {metric_name}",
                )
        for name, table in (tables or {}).items():
            operations = list(TABLE_OPERATIONS)
            self._alarm(
                f"{name}ThrottledRequests",
                table.metric_throttled_requests_for_operations(operations=operations, period=PERIOD),
                f"{name}: DynamoDB throttled requests",
            )
            self._alarm(
                f"{name}SystemErrors",
                table.metric_system_errors_for_operations(operations=operations, period=PERIOD),
                f"{name}: DynamoDB system errors",
            )
        for name, queue in dead_letter_queues.items():
            self._alarm(
                f"{name}DlqNotEmpty",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                f"{name} dead-letter queue holds messages: inspect, fix, redrive",
            )

        self.dashboard = self._dashboard(rest_api, functions, dead_letter_queues)

    def _dashboard(
        self,
        rest_api: apigw.RestApi,
        functions: Mapping[str, lambda_.IFunction],
        queues: Mapping[str, sqs.IQueue],
    ) -> cloudwatch.Dashboard:
        def graph(title: str, metrics: list[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
            return cloudwatch.GraphWidget(title=title, left=metrics, width=12, height=6)

        return cloudwatch.Dashboard(
            self,
            "Dashboard",
            widgets=[
                [cloudwatch.AlarmStatusWidget(title="Alarms", alarms=list(self.alarms), width=24, height=6)],
                [
                    graph("API requests and 5xx", [rest_api.metric_count(), rest_api.metric_server_error()]),
                    graph(
                        "API latency p50 / p99",
                        [rest_api.metric_latency(statistic=s) for s in ("p50", "p99")],
                    ),
                ],
                [
                    graph("Function errors", [f.metric_errors(label=n) for n, f in functions.items()]),
                    graph(
                        "Function p99 duration",
                        [f.metric_duration(statistic="p99", label=n) for n, f in functions.items()],
                    ),
                ],
                [
                    graph(
                        "Dead-letter and tamper queues",
                        [q.metric_approximate_number_of_messages_visible(label=n) for n, q in queues.items()],
                    )
                ],
            ],
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        description: str,
        *,
        threshold: float = 0,
        evaluation_periods: int = 1,
    ) -> None:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
