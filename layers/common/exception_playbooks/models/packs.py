"""Domain pack and tenant policy pack: versioned JSON documents per tenant."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .common import InputModel, Tag
from .enums import ActionType, Severity, ToolRisk

FieldValue = str | int | float | bool | None


class ExceptionTypeSpec(InputModel):
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    default_severity: Severity | None = None


class SeverityRule(InputModel):
    when: dict[str, Any]
    severity: Severity


class ToolSpec(InputModel):
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object"})
    risk: ToolRisk = ToolRisk.LOW


class DomainPackInput(InputModel):
    exception_types: dict[str, ExceptionTypeSpec] = Field(default_factory=dict)
    severity_rules: list[SeverityRule] = Field(default_factory=list)
    tools: dict[str, ToolSpec] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)


class HumanApproval(InputModel):
    action_types: list[ActionType] = Field(default_factory=list)
    severities: list[Severity] = Field(default_factory=list)


class TagRule(InputModel):
    when: dict[str, Any]
    tags: Annotated[list[Tag], Field(min_length=1, max_length=50)]


class PolicyPackInput(InputModel):
    approved_tools: list[Annotated[str, StringConstraints(min_length=1, max_length=128)]] = Field(
        default_factory=list
    )
    blocked_action_types: list[ActionType] = Field(default_factory=list)
    human_approval: HumanApproval = Field(default_factory=HumanApproval)
    severity_overrides: dict[str, Severity] = Field(default_factory=dict)
    tag_rules: list[TagRule] = Field(default_factory=list)
    auto_resolve_on_completion: bool = False
    fields: dict[str, Any] = Field(default_factory=dict)


class DomainPack(DomainPackInput):
    """A stored domain pack version."""

    model_config = ConfigDict(extra="ignore")

    domain: str
    version: int
    updated_at: str | None = None

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class PolicyPack(PolicyPackInput):
    """A stored policy pack version; version 0 is the defaults before any PUT."""

    model_config = ConfigDict(extra="ignore")

    version: int = 0
    updated_at: str | None = None

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class PackSet(BaseModel):
    """The packs matching and execution need for one exception."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    policy: PolicyPack
    domain: DomainPack | None = None
