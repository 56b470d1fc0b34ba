"""Domain pack and tenant policy pack: versioned JSON documents per tenant."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from .common import InputModel, Tag
from .enums import ActionType, Role, Severity, ToolRisk

NotifyChannelName = Literal["email", "slack", "sms", "log"]
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


ToolId = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TwoPersonApproval(InputModel):
    """Which steps need a second person before their action runs (off unless the policy names it).

    A step is covered when any selector holds: its action is high-risk (``high_risk``), its action
    type or tool is listed, or it carries its own ``requires_approval`` flag (``flagged_steps``);
    and, when ``severities`` is not empty, the exception's effective severity is one of them.
    """

    high_risk: bool = False
    action_types: list[ActionType] = Field(default_factory=list, max_length=10)
    tools: list[ToolId] = Field(default_factory=list, max_length=100)
    flagged_steps: bool = False
    severities: list[Severity] = Field(default_factory=list, max_length=4)
    quorum: Annotated[int, Field(ge=1, le=2)] = 1  # approvals by people other than the requester
    roles: Annotated[list[Role], Field(min_length=1, max_length=5)] = Field(
        default_factory=lambda: [Role.APPROVER]
    )
    ttl_minutes: Annotated[int, Field(ge=1, le=10_080)] = 240

    @field_validator("roles")
    @classmethod
    def _people_only(cls, roles: list[Role]) -> list[Role]:
        if Role.AUTOMATION in roles:
            raise ValueError("automation clients never approve; name roles of people")
        return list(dict.fromkeys(roles))


class SlaEscalation(InputModel):
    """Who hears about a warning or breach when the exception has no owner (or always, ``always``)."""

    channel: NotifyChannelName = "email"
    recipient: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    group: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = None
    always: bool = False

    @model_validator(mode="after")
    def _someone(self) -> SlaEscalation:
        if self.recipient is None and self.group is None:
            raise ValueError("name a recipient or a group")
        return self


class SlaClock(InputModel):
    """The SLA clock: warnings at these minutes before the deadline, and the breach at it."""

    warn_minutes: Annotated[list[Annotated[int, Field(ge=1, le=10_080)]], Field(max_length=5)] = Field(
        default_factory=lambda: [60, 15]
    )
    escalation: SlaEscalation | None = None

    @field_validator("warn_minutes")
    @classmethod
    def _descending(cls, minutes: list[int]) -> list[int]:
        return sorted(set(minutes), reverse=True)


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
    # Opt-in features (absent: the behaviour of BEHAVIOUR.md, unchanged).
    two_person_approval: TwoPersonApproval | None = None
    sla_clock: SlaClock | None = None


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
