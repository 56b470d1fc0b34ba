"""One Lambda function the way every function here is built: own role, own log group, shared layer."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from exception_playbooks.bus import NOTIFICATION_SOURCE
from exception_playbooks.config import ENV_NAMES, Settings

from .access import FunctionAccess
from .data import DataStores
from .nag import RUNTIME_PINNED_REASON, suppress
from .paths import LAYER_BUILD_SCRIPT
from .tenant_access import TenantDataAccess

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
LOG_RETENTION = logs.RetentionDays.ONE_MONTH
METRICS_NAMESPACE = "ExceptionPlaybooks"
LOG_LEVEL = "INFO"
# Settings the deployed functions never receive: AWS_REGION is reserved (the runtime sets it)
# and LOCAL_STACK only means something on a developer machine.
SETTINGS_NOT_DEPLOYED = frozenset({"aws_region", "local_stack"})
_CODE_EXCLUDES = ["__pycache__", "*.pyc", "tests", ".pytest_cache", ".mypy_cache"]


def _env_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def function_environment(
    *, state_table_name: str, events_table_name: str, event_bus_name: str, tenant_data_role_arn: str
) -> dict[str, str]:
    """Every deployed setting of ``config.ENV_NAMES``: resource names from the stack, the rest defaults.

    A field added to ``Settings``/``ENV_NAMES`` reaches every function with its default value.
    """
    defaults = Settings()
    from_stack = {
        "state_table": state_table_name,
        "events_table": events_table_name,
        "event_bus_name": event_bus_name,
        "tenant_data_role_arn": tenant_data_role_arn,
    }
    environment = {
        env_name: from_stack.get(field, _env_value(getattr(defaults, field)))
        for field, env_name in ENV_NAMES.items()
        if field not in SETTINGS_NOT_DEPLOYED
    }
    environment["POWERTOOLS_METRICS_NAMESPACE"] = METRICS_NAMESPACE
    environment["LOG_LEVEL"] = LOG_LEVEL
    return environment


@cache
def _layer_build_module() -> ModuleType:
    # layers/common/build.py is a script beside the package, not part of it: load it by path.
    spec = importlib.util.spec_from_file_location("exception_playbooks_layer_build", LAYER_BUILD_SCRIPT)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {LAYER_BUILD_SCRIPT}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_common_layer() -> Path:
    """Build (or reuse the cached) layer directory; pip runs only when its inputs changed."""
    layer_dir: Path = _layer_build_module().build_layer()
    return layer_dir


class CommonLayer(Construct):
    """The domain core and its runtime dependencies as one layer (built without Docker)."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(str(build_common_layer())),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="exception_playbooks domain core + runtime dependencies",
        )


@dataclass(frozen=True)
class SharedFunctionProps:
    """What every function of the stack gets: the layer, the environment and its data grants' targets."""

    layer: lambda_.ILayerVersion
    environment: dict[str, str]
    data: DataStores
    event_bus: events.IEventBus
    tenant_data: TenantDataAccess
    # Per function; None (the default) leaves the account's unreserved pool alone.
    reserved_concurrency: int | None = None


@dataclass(frozen=True)
class AsyncInvokeProps:
    """Lambda's own retry policy for asynchronous invocations (EventBridge invokes asynchronously).

    Exhausted events go to an on-failure destination rather than a function DLQ: its records carry
    the error and the invocation context, not just the event.
    """

    failure_queue: sqs.IQueue
    retry_attempts: int
    max_event_age: Duration


class ServiceFunction(Construct):
    """A function with exactly the grants its ``FunctionAccess`` lists, logs in its own log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: SharedFunctionProps,
        code_dir: Path,
        handler: str,
        description: str,
        access: FunctionAccess,
        memory_size: int,
        timeout: Duration,
        extra_environment: dict[str, str] | None = None,
        async_invoke: AsyncInvokeProps | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.RETAIN
        )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Exception Playbooks {construct_id}: least-privilege execution role",
        )
        # Instead of AWSLambdaBasicExecutionRole (log writes to every group in the account): this one only.
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        _grant_access(self.role, access, shared)

        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(code_dir), exclude=_CODE_EXCLUDES),
            layers=[shared.layer],
            environment={**shared.environment, **(extra_environment or {})},
            role=self.role,
            log_group=self.log_group,
            # PassThrough: traced when API Gateway (tracing on) sampled the request, with no X-Ray SDK
            # in the layer (observability.py).
            tracing=lambda_.Tracing.PASS_THROUGH,
            memory_size=memory_size,
            timeout=timeout,
            description=description,
            reserved_concurrent_executions=shared.reserved_concurrency,
            on_failure=destinations.SqsDestination(async_invoke.failure_queue) if async_invoke else None,
            retry_attempts=async_invoke.retry_attempts if async_invoke else None,
            max_event_age=async_invoke.max_event_age if async_invoke else None,
        )

        suppress(
            self.role,
            ["AwsSolutions-IAM5"],
            "Lambda sends its own trace segments for sampled requests (PassThrough): "
            "xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, "
            "so their resource is '*'. "
            "The role holds no data permission at all (tenant data only through the tenant-data role).",
            applies_to=["Resource::*"],
            apply_to_children=True,
        )
        suppress(
            self.function,
            ["Serverless-LambdaTracing"],
            "Tracing is PassThrough by decision: requests API Gateway samples are traced through "
            "Lambda's own segments; active tracing would need the X-Ray SDK in every cold start "
            "(~380 ms) for no "
            "subsegments we use.",
        )
        suppress(self.function, ["AwsSolutions-L1", "Serverless-LambdaLatestVersion"], RUNTIME_PINNED_REASON)
        suppress(
            self.function,
            ["Serverless-LambdaDLQ"],
            "Asynchronous failures go to an SQS on-failure destination, the successor of function DLQs "
            "(its records also carry the error and invocation context); one failure queue per agent."
            if async_invoke
            else "Invoked synchronously by API Gateway: the caller receives the error, there is no "
            "asynchronous event to dead-letter.",
        )


def _grant_access(role: iam.IRole, access: FunctionAccess, shared: SharedFunctionProps) -> None:
    """No DynamoDB permission at all: table users may only assume the tenant-data role."""
    if access.state is not None or access.events is not None:
        shared.tenant_data.allow(role)
    if access.publish_notifications:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["events:PutEvents"],
                resources=[shared.event_bus.event_bus_arn],
                # Only notification requests: a function must never forge timeline events.
                conditions={"StringEquals": {"events:source": NOTIFICATION_SOURCE}},
            )
        )
