"""functions/execute: complete or skip the current step of an exception's playbook, and approve
or reject a two-person approval request on it.

Warm cost: one read (GetItem, or one BatchGetItem with the Idempotency-Key record) and one
TransactWriteItems of the state, the timeline events and the idempotency record.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from exception_playbooks.api.http import (
    api_handler,
    canonical_path_int,
    current_principal,
    json_response,
    new_resolver,
)
from exception_playbooks.api.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    ApproveBody,
    RejectBody,
    StepActionBody,
    StepActionOut,
    StepSkipBody,
    error_responses,
    ok_response,
)
from exception_playbooks.execution.approvals import ApprovalCommand, decide
from exception_playbooks.execution.operations import StepCommand, act_on_step
from exception_playbooks.models.common import ID_PATTERN
from exception_playbooks.repository import bundle

TAGS = ["playbook run"]
RESPONSES = {
    **ok_response(StepActionOut, "The playbook status after the step, with what the step did"),
    **error_responses(401, 403, 404, 409, 413, 422, 503),
}

app = new_resolver()

ExceptionId = Annotated[str, Path(pattern=ID_PATTERN, description="The exception's id")]
StepOrder = Annotated[int, Path(ge=1, description="1-based position of the step in the playbook")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="A retry with the same key and body returns the first answer and writes nothing",
    ),
]


def _act(
    exception_id: str, step_order: int, body: StepActionBody | None, key: str | None, *, skip: bool
) -> Response[Any]:
    canonical_path_int(app, "step_order")
    body = body or StepActionBody()
    command = StepCommand(
        actor_type=body.actor_type,
        actor_id=body.actor_id,
        notes=body.notes,
        override=isinstance(body, StepSkipBody) and body.override,
    )
    answer = act_on_step(
        bundle.default_repositories(),
        current_principal(app),
        exception_id,
        step_order,
        command,
        skip=skip,
        idempotency_key=key,
    )
    return json_response(answer)


@app.post(
    "/api/exceptions/<exception_id>/playbook/steps/<step_order>/complete",
    operation_id="completeStep",
    summary="Complete the current step (performs its action)",
    tags=TAGS,
    responses=RESPONSES,
)
def complete_step(
    exception_id: ExceptionId,
    step_order: StepOrder,
    body: Annotated[StepActionBody | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[Any]:
    return _act(exception_id, step_order, body, idempotency_key, skip=False)


@app.post(
    "/api/exceptions/<exception_id>/playbook/steps/<step_order>/skip",
    operation_id="skipStep",
    summary="Skip the current step (notes required; performs nothing)",
    tags=TAGS,
    responses=RESPONSES,
)
def skip_step(
    exception_id: ExceptionId,
    step_order: StepOrder,
    body: Annotated[StepSkipBody, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[Any]:
    return _act(exception_id, step_order, body, idempotency_key, skip=True)


def _decide(
    exception_id: str, step_order: int, body: StepActionBody, key: str | None, *, approve: bool
) -> Response[Any]:
    command = ApprovalCommand(actor_type=body.actor_type, actor_id=body.actor_id, notes=body.notes)
    answer = decide(
        bundle.default_repositories(),
        current_principal(app),
        exception_id,
        step_order,
        command,
        approve=approve,
        idempotency_key=key,
    )
    return json_response(answer)


@app.post(
    "/api/exceptions/<exception_id>/playbook/steps/<step_order>/approve",
    operation_id="approveStep",
    summary="Approve the step's pending two-person request (performs it at the quorum)",
    tags=TAGS,
    responses=RESPONSES,
)
def approve_step(
    exception_id: ExceptionId,
    step_order: StepOrder,
    body: Annotated[ApproveBody | None, Body()] = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[Any]:
    return _decide(exception_id, step_order, body or ApproveBody(), idempotency_key, approve=True)


@app.post(
    "/api/exceptions/<exception_id>/playbook/steps/<step_order>/reject",
    operation_id="rejectStep",
    summary="Reject the step's pending two-person request (notes: the reason); the step is pending again",
    tags=TAGS,
    responses=RESPONSES,
)
def reject_step(
    exception_id: ExceptionId,
    step_order: StepOrder,
    body: Annotated[RejectBody, Body()],
    idempotency_key: IdempotencyKey = None,
) -> Response[Any]:
    return _decide(exception_id, step_order, body, idempotency_key, approve=False)


lambda_handler = api_handler(app)
