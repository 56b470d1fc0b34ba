"""The EventBridge event an agent receives, parsed with the Powertools parser into a ``Trigger``.

The Pipe forwards each committed timeline event with ``source`` = ``bus.TIMELINE_SOURCE``,
``detail-type`` = the event type and ``detail`` = the event plus ``tenant_id``
(``bus.envelope`` builds the same shape locally). The envelope's own ``id`` is EventBridge's,
so the correlation id is the timeline ``event_id`` inside ``detail``.

An input template cannot turn a stream image into plain JSON, so in AWS the Pipe marks the
detail ``"encoding": "dynamodb-stream"``: ``seq`` is a string and ``payload`` is DynamoDB
attribute-value JSON. ``TimelineDetail`` accepts both shapes and yields the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .. import bus, keys
from ..models.common import ID_PATTERN
from ..models.enums import ActorType, EventType
from ..repository.dynamo import from_dynamo_value

# How the Pipe marks a detail built from a DynamoDB stream image (infra: PIPE_DETAIL_ENCODING).
STREAM_ENCODING = "dynamodb-stream"


class TimelineDetail(BaseModel):
    """``detail`` of a timeline event on the bus. Unknown fields (keys the Pipe adds) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: str = Field(pattern=ID_PATTERN)
    event_id: str = Field(min_length=1)
    seq: int = Field(ge=1)
    event_type: EventType
    exception_id: str = Field(min_length=1)
    actor_type: ActorType
    actor_id: str
    created_at: str
    payload: dict[str, Any] = Field(default_factory=dict)
    # The item's partition key (the Pipe forwards it): proves which tenant's key the event was
    # written under, which IAM (dynamodb:LeadingKeys) tied to the writer's tenant session.
    pk: str | None = None
    chain_depth: int = Field(default=0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _decode_stream_image(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("encoding") == STREAM_ENCODING:
            if not data.get("pk"):
                raise ValueError("a stream-encoded timeline event must carry its item's pk")
            return {
                **data,
                "seq": int(data["seq"]),
                "chain_depth": int(data.get("chain_depth") or 0),
                "payload": decode_attribute_map(data.get("payload") or {}),
            }
        return data

    @model_validator(mode="after")
    def _tenant_checks_out(self) -> TimelineDetail:
        # tenant_id is a plain attribute a writer chooses; the key is what IAM checked.
        if self.pk is not None and self.pk != keys.events_pk(self.tenant_id, self.exception_id):
            raise ValueError("detail.tenant_id does not match the key the event was written under")
        return self


def decode_attribute_map(attributes: dict[str, Any]) -> dict[str, Any]:
    """``{"k": {"S": "v"}, "n": {"N": "1"}}`` -> ``{"k": "v", "n": 1}`` (numbers as int/float)."""
    from boto3.dynamodb.types import TypeDeserializer  # lazily: only the Pipe's encoding needs it

    deserializer = TypeDeserializer()
    return {name: from_dynamo_value(deserializer.deserialize(value)) for name, value in attributes.items()}


class TimelineEnvelope(EventBridgeModel):
    """EventBridgeModel with a typed ``detail`` (Powertools' "extending built-in models")."""

    detail: TimelineDetail

    @model_validator(mode="after")
    def _consistent(self) -> TimelineEnvelope:
        # Rules route on source and detail-type; an event whose detail disagrees is not ours.
        if self.source != bus.TIMELINE_SOURCE:
            raise ValueError(f"source must be {bus.TIMELINE_SOURCE!r}, got {self.source!r}")
        if self.detail_type != self.detail.event_type.value:
            raise ValueError(
                f"detail-type {self.detail_type!r} does not match {self.detail.event_type.value!r}"
            )
        return self


@dataclass(frozen=True)
class Trigger:
    """The committed timeline event an agent reacts to."""

    tenant_id: str
    exception_id: str
    event_id: str
    event_type: EventType
    seq: int
    actor_type: ActorType
    actor_id: str
    created_at: str
    payload: dict[str, Any] = field(default_factory=dict)
    chain_depth: int = 0

    @classmethod
    def from_detail(cls, detail: TimelineDetail) -> Trigger:
        return cls(
            tenant_id=detail.tenant_id,
            exception_id=detail.exception_id,
            event_id=detail.event_id,
            event_type=detail.event_type,
            seq=detail.seq,
            actor_type=detail.actor_type,
            actor_id=detail.actor_id,
            created_at=detail.created_at,
            payload=dict(detail.payload),
            chain_depth=detail.chain_depth,
        )


class ForgedEvent(ValueError):
    """The event did not come from this deployment's timeline (account, region or shape)."""


def parse_trigger(
    event: dict[str, Any], *, invoked_function_arn: str | None = None, require_stream_encoding: bool = False
) -> Trigger:
    """Validate the whole envelope (raises ``ValidationError``: the event goes to the DLQ after retries).

    ``invoked_function_arn`` (the Lambda context's): the event must come from the function's own
    account and region. ``require_stream_encoding`` (deployed): only the Pipe's shape is accepted,
    so the item's ``pk`` is always there to check the tenant against.
    """
    envelope = parse(event=event, model=TimelineEnvelope)
    if invoked_function_arn and invoked_function_arn.startswith("arn:"):
        parts = invoked_function_arn.split(":")
        if len(parts) < 5 or (envelope.region, envelope.account) != (parts[3], parts[4]):
            raise ForgedEvent(
                f"event from {envelope.account}/{envelope.region}, not this function's {parts[4]}/{parts[3]}"
            )
    if require_stream_encoding and envelope.detail.pk is None:
        raise ForgedEvent("not the Pipe's encoding: the item's pk is missing")
    return Trigger.from_detail(envelope.detail)
