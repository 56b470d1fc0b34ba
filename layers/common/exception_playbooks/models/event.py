"""Timeline events: one immutable item per event, ``seq`` contiguous per exception."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .enums import ActorType, EventType


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor_type: ActorType
    actor_id: str


SYSTEM_ACTOR = Actor(actor_type=ActorType.SYSTEM, actor_id="system")


class NewEvent(BaseModel):
    """An event about to be appended; the repository assigns ``seq`` and ``created_at``."""

    model_config = ConfigDict(frozen=True)

    event_type: EventType
    actor: Actor
    payload: dict[str, Any] = Field(default_factory=dict)
    event_id: str | None = None  # derived ids make redelivered agent writes idempotent
    # How many agent hops led here: 0 for a person's or the API's event, trigger + 1 for an agent's
    # (agents.base.MAX_CHAIN_DEPTH stops a loop).
    chain_depth: int = Field(default=0, ge=0)


class TimelineEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event_id: str
    seq: int
    event_type: EventType
    exception_id: str
    actor_type: ActorType
    actor_id: str
    created_at: str
    payload: dict[str, Any] = Field(default_factory=dict)
    # Stored on the item and forwarded by the pipe; never part of an API answer.
    chain_depth: int = Field(default=0, ge=0, exclude=True)

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
