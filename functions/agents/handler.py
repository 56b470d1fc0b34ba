"""Agent Lambdas: one handler per ``bus.AGENTS`` rule, each ``(event, context)``.

Thin by design: parse the EventBridge envelope (Powertools parser), bind tenant and correlation
id (the triggering timeline event id) to every log line, run one use case from
``exception_playbooks.agents``. Any failure raises, so EventBridge retries the event and finally
sends it to the rule's dead-letter queue; an agent writes with one transaction, so a failed
attempt leaves nothing half-written, and a retry after a success adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from exception_playbooks.agents import (
    FeedbackAgent,
    Outcome,
    PolicyAgent,
    ResolutionAgent,
    TriageAgent,
    Trigger,
    notification_relay,
    parse_trigger,
    stats,
)
from exception_playbooks.agents.base import Agent
from exception_playbooks.config import settings
from exception_playbooks.observability import bind_request, clear_request, logger, metrics, record
from exception_playbooks.repository.bundle import Repositories, default_repositories
from exception_playbooks.tenancy import tenant_scope

# Indirection so tests (and the local stack) can hand in repositories with another clock.
repositories: Callable[[], Repositories] = default_repositories


def _run(
    agent: str, event: dict[str, Any], use_case: Callable[[Trigger], Outcome], context: Any = None
) -> dict[str, Any]:
    try:
        # Source, account/region and tenant (detail.pk) checked before the tenant is trusted.
        trigger = parse_trigger(
            event,
            invoked_function_arn=getattr(context, "invoked_function_arn", None),
            require_stream_encoding=bool(settings().tenant_data_role_arn),
        )
    except Exception:
        logger.exception(
            "not a timeline event envelope", extra={"agent": agent, "envelope_id": event.get("id")}
        )
        raise
    bind_request(trigger.tenant_id, trigger.event_id, exception_id=trigger.exception_id, agent=agent)
    try:
        logger.info("handling", extra={"trigger_type": trigger.event_type.value, "trigger_seq": trigger.seq})
        with tenant_scope(trigger.tenant_id):  # every DynamoDB call: this tenant's session only
            outcome = use_case(trigger)
        logger.info("handled", extra=outcome.as_dict())
        metrics.add_dimension(name="agent", value=agent)
        record(f"Agent{outcome.status.title().replace('_', '')}")  # AgentWritten, AgentAlreadyHandled, ...
        return outcome.as_dict()
    except Exception:
        logger.exception("agent failed; nothing was written; EventBridge will retry")
        raise
    finally:
        clear_request()


def _agent(cls: type[Agent]) -> Callable[[Trigger], Outcome]:
    return lambda trigger: cls(repositories()).handle(trigger)


def _lambda(
    agent: str, use_case: Callable[[Trigger], Outcome]
) -> Callable[[dict[str, Any], LambdaContext], Any]:
    """One agent's Lambda entry point: the logging context and metrics flush every agent shares."""

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return _run(agent, event, use_case, context)

    return handler


# Entry points named by bus.AGENTS (and so by the CDK rules and the local dispatcher).
triage_handler = _lambda(TriageAgent.name, _agent(TriageAgent))
policy_handler = _lambda(PolicyAgent.name, _agent(PolicyAgent))
resolution_handler = _lambda(ResolutionAgent.name, _agent(ResolutionAgent))
feedback_handler = _lambda(FeedbackAgent.name, _agent(FeedbackAgent))
notification_relay_handler = _lambda(notification_relay.NAME, notification_relay.relay)
stats_counter_handler = _lambda(stats.NAME, lambda trigger: stats.count(repositories(), trigger))
