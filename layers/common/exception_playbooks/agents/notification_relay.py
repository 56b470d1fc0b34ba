"""NotificationRelay: a committed NotificationSent becomes a NotificationRequested on the bus.

Delivery systems (email, Slack, SMS gateways) subscribe to NotificationRequested; they never
read the timeline. The relay needs nothing but the event (no table access at all, see the
infra grants), so a redelivered NotificationSent is published again with the same
``dedupe_id`` (the NotificationSent event id) and subscribers drop the copy. A failed put
raises, so EventBridge retries the relay and finally dead-letters the event.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from .. import bus
from ..config import settings
from ..errors import Unavailable
from .base import MisroutedEvent, Outcome, agent_rule
from .envelope import Trigger

NAME = "NotificationRelay"
NOTIFICATION_FIELDS = ("channel", "recipient", "group", "subject", "message", "step_order")


class EventPublisher(Protocol):
    """Port: put one event on the service's EventBridge bus."""

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> None: ...


class PublishFailed(Unavailable):
    """EventBridge refused the entry; nothing was delivered; retry."""


class EventBridgePublisher:
    """Production publisher: ``events:PutEvents`` on the configured bus (client made on first use)."""

    def __init__(self, bus_name: str | None = None, client: Any = None):
        self._bus_name = bus_name
        self._client = client

    @property
    def bus_name(self) -> str:
        return self._bus_name or settings().event_bus_name

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # lazily: ~200 ms only when the relay first publishes

            self._client = boto3.client("events", region_name=settings().aws_region)
        return self._client

    def publish(self, *, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, separators=(",", ":")),
                    "EventBusName": self.bus_name,
                }
            ]
        )
        if response.get("FailedEntryCount", 0):
            entry = (response.get("Entries") or [{}])[0]
            raise PublishFailed(
                f"EventBridge refused {detail_type}: {entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )


_publisher: EventPublisher | None = None


def default_publisher() -> EventPublisher:
    """The process-wide publisher (EventBridge unless ``use_publisher`` installed another)."""
    global _publisher
    if _publisher is None:
        _publisher = EventBridgePublisher()
    return _publisher


def use_publisher(publisher: EventPublisher | None) -> None:
    """Install a publisher (tests, the local stack); ``None`` restores the EventBridge default."""
    global _publisher
    _publisher = publisher


def notification_detail(trigger: Trigger) -> dict[str, Any]:
    payload = trigger.payload
    return {
        **{name: payload.get(name) for name in NOTIFICATION_FIELDS},
        "tenant_id": trigger.tenant_id,
        "exception_id": trigger.exception_id,
        "dedupe_id": trigger.event_id,
    }


def relay(trigger: Trigger, publisher: EventPublisher | None = None) -> Outcome:
    rule = agent_rule(NAME)
    if trigger.event_type not in rule.event_types:
        raise MisroutedEvent(f"{NAME} does not handle {trigger.event_type.value}")
    (publisher or default_publisher()).publish(
        source=bus.NOTIFICATION_SOURCE,
        detail_type=bus.NOTIFICATION_REQUESTED,
        detail=notification_detail(trigger),
    )
    return Outcome(NAME, trigger.event_id, "published", (bus.NOTIFICATION_REQUESTED,))
