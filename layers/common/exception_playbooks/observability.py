"""The one observability module: Powertools Logger and Metrics.

No Tracer: functions run with X-Ray tracing PassThrough (infra ``functions.py``), so a request
API Gateway sampled is traced through Lambda's own segments without the X-Ray SDK (~380 ms of
cold start) in the layer.

Tenant and correlation ids are appended to every log line by ``bind_request``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics

from .config import settings

logger = Logger(service=settings().service_name)
metrics = Metrics(namespace="ExceptionPlaybooks", service=settings().service_name)


def record(name: str, value: float = 1) -> None:
    """A business metric (EMF, flushed by ``metrics.log_metrics`` on the handler)."""
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def bind_request(tenant_id: str | None, correlation_id: str | None, **extra: Any) -> None:
    logger.append_keys(tenant_id=tenant_id, correlation_id=correlation_id, **extra)
    if correlation_id:
        logger.set_correlation_id(correlation_id)


def clear_request() -> None:
    logger.remove_keys(["tenant_id", "correlation_id", "exception_id", "agent"])
