"""Exception records: the create/patch inputs, the stored record and its step projection."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from .common import (
    MAX_SUMMARY,
    MAX_TAGS,
    BoundedObject,
    Identifier,
    InputModel,
    Name,
    Tag,
)
from .enums import ActorType, ExceptionStatus, Severity, StepStatus

MIN_YEAR, MAX_YEAR = 1970, 9999  # after conversion to UTC (docs/api.md, "Dates")


def _text_only(value: Any) -> Any:
    """A date is ISO-8601 text: a number would be read as epoch seconds, a bool as 0 or 1."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO-8601 date-time string with a timezone (e.g. 2026-11-25T18:00:00Z)")
    return value


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must carry a timezone (e.g. 2026-11-25T18:00:00Z)")
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError) as error:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR} in UTC") from error
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR} in UTC")
    return utc


AwareDatetime = Annotated[datetime, BeforeValidator(_text_only), AfterValidator(_aware)]
Summary = Annotated[str, StringConstraints(max_length=MAX_SUMMARY)]
DomainName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


def _unique_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:  # PATCH {"policy_tags": null}: refused by the use case, never a crash here
        return None
    seen: dict[str, None] = {}
    for tag in tags:
        seen.setdefault(tag, None)
    return list(seen)


class ExceptionCreate(InputModel):
    exception_id: Identifier | None = None
    domain: DomainName
    exception_type: Name
    severity: Severity | None = None
    source_system: Annotated[str, StringConstraints(max_length=128)] | None = None
    summary: Summary | None = None
    sla_deadline: AwareDatetime | None = None
    policy_tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = Field(default_factory=list)
    attributes: BoundedObject = Field(default_factory=dict)
    raw_payload: BoundedObject | None = None

    _dedupe_tags = field_validator("policy_tags")(_unique_tags)


class OwnerInput(InputModel):
    type: Literal["user", "queue"]
    id: Identifier


MAX_REASON = 1000


class ExceptionPatch(InputModel):
    severity: Severity | None = None
    sla_deadline: AwareDatetime | None = None
    policy_tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None
    summary: Summary | None = None
    owner: OwnerInput | None = Field(
        default=None, description="assign (a user or a queue) or, with null, unassign; writes OwnerAssigned"
    )
    status: ExceptionStatus | None = Field(
        default=None, description="a legal transition only (409 otherwise); writes StatusChanged"
    )
    reason: Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON)] | None = Field(
        default=None, description="why; required to resolve or close, recorded on the timeline"
    )

    _dedupe_tags = field_validator("policy_tags")(_unique_tags)


class CommentCreate(InputModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]


class Owner(BaseModel):
    type: Literal["user", "queue"]
    id: str


class StepState(BaseModel):
    """Projection of one step of the running playbook (folded from the timeline)."""

    model_config = ConfigDict(extra="forbid")

    step_order: int
    status: StepStatus = StepStatus.PENDING
    actor_type: ActorType | None = None
    actor_id: str | None = None
    at: str | None = None
    notes: str | None = None


class Approval(BaseModel):
    """One approval given on a pending request."""

    model_config = ConfigDict(extra="forbid")

    actor_id: str
    at: str


class ApprovalState(BaseModel):
    """The pending two-person request on the current step (only that step can be awaiting)."""

    model_config = ConfigDict(extra="forbid")

    step_order: int
    requested_by: str
    requested_at: str
    quorum: int
    roles: list[str]
    expires_at: str
    notes: str | None = None
    approvals: list[Approval] = Field(default_factory=list)

    def is_expired(self, now_iso: str) -> bool:
        return now_iso >= self.expires_at


class PlaybookProjection(BaseModel):
    """What the timeline says about the playbook run on one exception."""

    model_config = ConfigDict(extra="forbid")

    playbook_id: str | None = None
    playbook_version: int | None = None
    current_step: int | None = None
    completed: bool = False
    started_at: str | None = None
    steps: list[StepState] = Field(default_factory=list)
    approval: ApprovalState | None = None


class ExceptionRecord(BaseModel):
    """The stored exception (state table) as the API shows it, plus internal projection fields."""

    model_config = ConfigDict(extra="ignore")

    exception_id: str
    domain: str
    exception_type: str
    severity: Severity | None = None
    status: ExceptionStatus = ExceptionStatus.OPEN
    owner: Owner | None = None
    source_system: str | None = None
    summary: str | None = None
    sla_deadline: str | None = None
    policy_tags: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    raw_payload: dict[str, Any] | None = None
    current_playbook_id: str | None = None
    current_playbook_version: int | None = None
    current_step: int | None = None
    created_at: str
    updated_at: str
    version: int = 1
    # Internal (not part of the API record):
    given_severity: Severity | None = None
    severity_set_by_human: bool = False
    last_seq: int = 0
    request_hash: str | None = None
    projection: PlaybookProjection = Field(default_factory=PlaybookProjection)

    API_FIELDS: ClassVar[tuple[str, ...]] = (
        "exception_id",
        "domain",
        "exception_type",
        "severity",
        "status",
        "owner",
        "source_system",
        "summary",
        "sla_deadline",
        "policy_tags",
        "attributes",
        "raw_payload",
        "current_playbook_id",
        "current_playbook_version",
        "current_step",
        "created_at",
        "updated_at",
        "version",
    )

    def to_api(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", include=set(self.API_FIELDS))
        return {name: data.get(name) for name in self.API_FIELDS}
