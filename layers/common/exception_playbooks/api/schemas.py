"""Wire schemas of the API that are not domain inputs: step-action bodies, response documents
and the error shape. Handlers declare them so the OpenAPI document is generated from the code.

Response models are documentation (Powertools does not validate answers against them); the API
tests validate real answers against them (``extra="forbid"``), so they cannot drift silently.
Being documentation, each is built on first use (``defer_build``), never on a cold start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any, Literal, cast

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from ..models.common import MAX_NOTES, Identifier, InputModel
from ..models.enums import ActionType, ActorType, EventType, ExceptionStatus, Severity, StepStatus

JSON = "application/json"

# -- request bodies ---------------------------------------------------------------------------
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"


class StepActionBody(InputModel):
    """Body of ``.../steps/{step_order}/complete``: who acts (defaults to the token's user)."""

    actor_type: ActorType = ActorType.HUMAN
    actor_id: Identifier | None = None
    notes: Annotated[str, StringConstraints(max_length=MAX_NOTES)] | None = None


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is required to skip a step (say why)")
    return value


class StepSkipBody(StepActionBody):
    """Body of ``.../steps/{step_order}/skip``: notes are required (why it was skipped)."""

    notes: Annotated[str, StringConstraints(max_length=MAX_NOTES), AfterValidator(_not_blank)]
    override: bool = Field(
        default=False,
        description="admin only: skip a step whose playbook marks it skippable: false (notes say why); "
        "recorded as override: true on the PlaybookStepSkipped event",
    )


class ApproveBody(StepActionBody):
    """Body of ``.../steps/{step_order}/approve``: a person approving as themselves."""


def _reason(value: str) -> str:
    if not value.strip():
        raise ValueError("is required to reject an approval request (say why)")
    return value


class RejectBody(StepActionBody):
    """Body of ``.../steps/{step_order}/reject``: ``notes`` is the required reason."""

    notes: Annotated[str, StringConstraints(max_length=MAX_NOTES), AfterValidator(_reason)]


# -- errors -------------------------------------------------------------------------------------
class ProblemOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    path: str = Field(description="JSON path of the problem, 0-based indices (e.g. steps[0].params.channel)")
    message: str


class ErrorOut(BaseModel):
    """Every error answer. For 422, ``details`` is ``{"errors": [{"path", "message"}, ...]}``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    code: str = Field(description="UPPER_SNAKE error code", examples=["EXCEPTION_NOT_FOUND"])
    message: str = Field(description="a human sentence")
    details: dict[str, Any] | None = None


ERROR_DESCRIPTIONS: dict[int, str] = {
    401: "No or invalid bearer token",
    403: "The token's role may not do this; or the step needs a human; or the actor does not match",
    404: "Not found in the caller's tenant",
    409: "State conflict (see the error code)",
    413: "Request body over 256 KiB",
    422: "Invalid input; details.errors lists every problem with its field path",
    503: "A dependency is throttled or unavailable; nothing was written; safe to retry",
}


def error_responses(*statuses: int) -> dict[int, Any]:
    """OpenAPI ``responses`` entries in the API error shape for the given statuses."""
    return {
        status: {"description": ERROR_DESCRIPTIONS[status], "content": {JSON: {"model": ErrorOut}}}
        for status in statuses
    }


def ok_response(model: type[BaseModel], description: str, status: int = 200) -> dict[int, Any]:
    return {status: {"description": description, "content": {JSON: {"model": model}}}}


class _LazyRequestBody(Mapping[str, Any]):
    """A route's ``openapi_extensions`` with one ``requestBody``, its schema built on first read.

    Powertools reads the extensions only when it generates the OpenAPI document (it ``update``s
    the operation with them), so a JSON schema generated here costs nothing on a cold start."""

    def __init__(self, schema: Callable[[], dict[str, Any]], description: str, required: bool) -> None:
        self._schema = schema
        self._description = description
        self._required = required

    def __getitem__(self, key: str) -> dict[str, Any]:
        if key != "requestBody":
            raise KeyError(key)
        content = {JSON: {"schema": self._schema()}}
        return {"required": self._required, "description": self._description, "content": content}

    def __iter__(self) -> Iterator[str]:
        return iter(("requestBody",))

    def __len__(self) -> int:
        return 1


def request_body(
    schema: Callable[[], dict[str, Any]], description: str, required: bool = True
) -> dict[str, Any]:
    """``openapi_extensions`` documenting a body the route reads itself; ``schema`` is called only
    when the OpenAPI document is generated. (Typed as the dict Powertools declares; it only reads it.)"""
    return cast(dict[str, Any], _LazyRequestBody(schema, description, required))


# -- responses ----------------------------------------------------------------------------------
class OwnerOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    type: Literal["user", "queue"]
    id: str


class ExceptionOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    exception_id: str
    domain: str
    exception_type: str
    severity: Severity | None
    status: ExceptionStatus
    owner: OwnerOut | None
    source_system: str | None
    summary: str | None
    sla_deadline: str | None
    policy_tags: list[str]
    attributes: dict[str, Any]
    raw_payload: dict[str, Any] | None
    current_playbook_id: str | None
    current_playbook_version: int | None
    current_step: int | None
    created_at: str
    updated_at: str
    version: int


class QueueCountsOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    open: int = Field(description="exceptions not resolved or closed")
    mine: int = Field(description="open and owned by the caller")
    unassigned: int = Field(description="open without an owner")
    breaching_soon: int = Field(description="open with a deadline within breaching_soon_hours (or past)")
    breaching_soon_hours: int
    capped: bool = Field(description="true when more open exceptions exist than were counted")


class ExceptionPageOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    items: list[ExceptionOut]
    next_cursor: str | None = Field(
        description="opaque; pass as ?cursor= for the next page. A filtered page may be short "
        "(even empty) and still carry a cursor: filters read a bounded part of the list per request"
    )
    counts: QueueCountsOut | None = Field(default=None, description="with ?counts=true: the saved views")


class EventOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    event_id: str
    seq: int = Field(ge=1, description="1, 2, 3... per exception, no gaps")
    event_type: EventType
    exception_id: str
    actor_type: ActorType
    actor_id: str
    created_at: str
    payload: dict[str, Any]


class EventPageOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    items: list[EventOut]
    next_cursor: str | None


class ConditionsOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    match: dict[str, Any]
    priority: int


class PlaybookSummaryOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook_id: str
    name: str
    version: int
    description: str | None
    conditions: ConditionsOut


class StepPreviewOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    params: dict[str, Any] = Field(description="params with placeholders filled (a missing value: empty)")
    missing: list[str] = Field(description="placeholders without a value for this exception")


class ApprovalGivenOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    actor_id: str
    at: str


class PendingApprovalOut(BaseModel):
    """A two-person approval request waiting on this step (tenants with ``two_person_approval``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    requested_by: str
    requested_at: str
    approvals: list[ApprovalGivenOut] = Field(description="approvals given so far, oldest first")
    quorum: int = Field(description="approvals needed from people other than the requester")
    roles: list[str] = Field(description="an approver holds one of these roles")
    expires_at: str
    expired: bool = Field(description="the request ran out; completing the step again requests anew")
    notes: str | None = None


class StepStateOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    step_order: int
    name: str
    action_type: ActionType
    params: dict[str, Any]
    requires_approval: bool = Field(description="for this exception: step flag, action risk, tenant policy")
    skippable: bool
    status: StepStatus
    actor_type: ActorType | None = None
    actor_id: str | None = None
    at: str | None = None
    notes: str | None = None
    preview: StepPreviewOut | None = Field(
        default=None, description="the params with this exception's values filled in"
    )
    approval: PendingApprovalOut | None = Field(
        default=None, description="present only while the step is awaiting_approval"
    )


class PlaybookStatusOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    exception_id: str
    playbook: PlaybookSummaryOut | None
    current_step: int | None = Field(description="the next step to act on; null when none or all done")
    completed: bool
    steps: list[StepStateOut]


class ActionOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    action_type: ActionType
    outcome: str
    detail: dict[str, Any]


class StepActionOut(PlaybookStatusOut):
    action: ActionOut


class CheckOut(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    condition: str
    expected: Any = None
    actual: Any = None
    passed: bool


class CandidateOut(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    playbook_id: str
    name: str
    version: int
    priority: int
    matched: bool
    checks: list[CheckOut]


class ReasoningOut(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)

    summary: str = Field(description="one paragraph: why the winner won")
    candidates: list[CandidateOut]


class MatchOut(BaseModel):
    """The recalculate answer (simulate answers the same shape with ``changed: false``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    exception_id: str | None = Field(description="null for an ad-hoc simulated exception")
    changed: bool
    playbook: PlaybookSummaryOut | None
    current_step: int | None
    reasoning: ReasoningOut
