"""Playbooks: authoring input and immutable stored versions with ordered steps."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .common import MAX_DESCRIPTION, MAX_STEPS, InputModel, Name
from .enums import ActionType


class StepInput(InputModel):
    name: Name
    action_type: ActionType
    params: dict[str, Any] = Field(default_factory=dict)
    requires_approval: bool = False
    skippable: bool = True


class ConditionsInput(InputModel):
    match: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)


class PlaybookInput(InputModel):
    name: Name
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None
    conditions: ConditionsInput = Field(default_factory=ConditionsInput)
    steps: Annotated[list[StepInput], Field(min_length=1, max_length=MAX_STEPS)]


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    step_order: int
    name: str
    action_type: ActionType
    params: dict[str, Any] = Field(default_factory=dict)
    requires_approval: bool = False
    skippable: bool = True


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    match: dict[str, Any] = Field(default_factory=dict)
    priority: int = 0


class PlaybookVersion(BaseModel):
    """One immutable version of a playbook. Safe to cache forever by (tenant, id, version)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    playbook_id: str
    version: int
    name: str
    description: str | None = None
    conditions: Conditions
    steps: tuple[Step, ...]
    created_at: str
    created_by: str | None = None
    active: bool = True

    @property
    def domain(self) -> str | None:
        value = self.conditions.match.get("domain")
        return value if isinstance(value, str) else None

    def step(self, order: int) -> Step | None:
        if 1 <= order <= len(self.steps):
            return self.steps[order - 1]
        return None

    def summary_dict(self) -> dict[str, Any]:
        """The playbook header as the status and recalculate answers show it."""
        return {
            "playbook_id": self.playbook_id,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "conditions": self.conditions.model_dump(mode="json"),
        }

    def to_api(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["steps"] = [s.model_dump(mode="json") for s in self.steps]
        return data
