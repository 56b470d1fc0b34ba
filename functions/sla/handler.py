"""functions/sla: the SLA clock. Invoked by EventBridge Scheduler when a mark (a warning
threshold, the deadline, an approval request's expiry) is reached, and by the timeline bus when an
exception's clock may have moved (created, updated, status changed, approval requested).

Thin: supply the ports, bind the tenant to the logs, run ``exception_playbooks.sla.entry.handle``.
A failure raises: the scheduler (or the rule) retries, then dead-letters; nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from exception_playbooks.observability import bind_request, clear_request, logger
from exception_playbooks.repository.bundle import Repositories, default_repositories
from exception_playbooks.sla.entry import handle
from exception_playbooks.sla.scheduler import EventBridgeScheduler, Scheduler

# Indirections so tests and the local stack hand in their own repositories and scheduler.
repositories: Callable[[], Repositories] = default_repositories
_schedulers: dict[str, Scheduler] = {}  # one per function ARN (configuration, not request state)


def scheduler_for(function_arn: str) -> Scheduler:
    if function_arn not in _schedulers:
        _schedulers[function_arn] = EventBridgeScheduler(target_arn=function_arn or None)
    return _schedulers[function_arn]


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    inner = event.get("detail")
    detail: dict[str, Any] = inner if isinstance(inner, dict) else event
    bind_request(detail.get("tenant_id"), event.get("id"), exception_id=detail.get("exception_id"))
    try:
        outcome = handle(event, repositories(), scheduler_for(getattr(context, "invoked_function_arn", "")))
        logger.info("handled", extra=outcome)
        return outcome
    except Exception:
        logger.exception("SLA clock failed; nothing was written; the caller retries")
        raise
    finally:
        clear_request()
