"""The Scheduler port: one-time schedules that invoke the SLA function with a JSON payload.

Production: EventBridge Scheduler ``at()`` schedules in the stack's schedule group, invoking the
SLA function through a role that may do nothing else, with retries and a dead-letter queue. The
local stack has its own persistent timer (``local/sla_timer.py``) behind the same port.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any, Protocol

from ..config import settings

# Environment of the SLA function (set by infra/exception_playbooks_infra/sla.py).
ENV_GROUP = "SLA_SCHEDULE_GROUP"
ENV_ROLE_ARN = "SLA_SCHEDULER_ROLE_ARN"
ENV_DLQ_ARN = "SLA_SCHEDULE_DLQ_ARN"
ENV_TARGET_ARN = "SLA_TARGET_ARN"  # optional: defaults to the invoked function's own ARN

RETRY_ATTEMPTS = 10
MAX_EVENT_AGE_SECONDS = 6 * 3600


class Scheduler(Protocol):
    def put(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """Create or move the one-time schedule ``name`` to fire at ``at`` with ``payload``."""

    def delete(self, name: str) -> None:
        """Remove ``name``; removing one that does not exist is not an error."""


def at_expression(moment: datetime) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` in UTC (Scheduler's one-time form; seconds are kept)."""
    return f"at({moment.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"


class EventBridgeScheduler:
    """Production adapter (client made on first use, reused while warm)."""

    def __init__(
        self,
        *,
        group: str | None = None,
        target_arn: str | None = None,
        role_arn: str | None = None,
        dlq_arn: str | None = None,
        client: Any = None,
    ) -> None:
        self.group = group or os.environ.get(ENV_GROUP, "default")
        self.target_arn = target_arn or os.environ.get(ENV_TARGET_ARN, "")
        self.role_arn = role_arn or os.environ.get(ENV_ROLE_ARN, "")
        self.dlq_arn = dlq_arn or os.environ.get(ENV_DLQ_ARN, "")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # lazily: only when a schedule is touched

            self._client = boto3.client("scheduler", region_name=settings().aws_region)
        return self._client

    def _definition(self, name: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        target: dict[str, Any] = {
            "Arn": self.target_arn,
            "RoleArn": self.role_arn,
            "Input": json.dumps(payload, separators=(",", ":")),
            "RetryPolicy": {
                "MaximumRetryAttempts": RETRY_ATTEMPTS,
                "MaximumEventAgeInSeconds": MAX_EVENT_AGE_SECONDS,
            },
        }
        if self.dlq_arn:
            target["DeadLetterConfig"] = {"Arn": self.dlq_arn}
        return {
            "Name": name,
            "GroupName": self.group,
            "ScheduleExpression": at_expression(at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": target,
            "State": "ENABLED",
            "ActionAfterCompletion": "DELETE",
        }

    def put(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        definition = self._definition(name, at, payload)
        try:
            self.client.create_schedule(**definition)
        except self.client.exceptions.ConflictException:
            self.client.update_schedule(**definition)

    def delete(self, name: str) -> None:
        try:
            self.client.delete_schedule(Name=name, GroupName=self.group)
        except self.client.exceptions.ResourceNotFoundException:
            return
