"""functions/exceptions: create, list, get and patch exceptions; comments; the timeline.

Thin: parse and validate (Powertools + pydantic), call one use case, shape the answer. The
guard in ``api_handler`` answers 401/403/413 before anything here runs.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from exception_playbooks.api.http import (
    api_handler,
    current_principal,
    json_response,
    new_resolver,
)
from exception_playbooks.api.schemas import (
    EventOut,
    EventPageOut,
    ExceptionOut,
    ExceptionPageOut,
    error_responses,
    ok_response,
)
from exception_playbooks.models.common import ID_PATTERN
from exception_playbooks.models.enums import EventType, ExceptionStatus, Severity
from exception_playbooks.models.exception import CommentCreate, ExceptionCreate, ExceptionPatch
from exception_playbooks.repository import bundle
from exception_playbooks.repository.exceptions import ExceptionOrder
from exception_playbooks.usecases import exceptions as usecases
from pydantic import AwareDatetime

TAGS = ["exceptions"]

app = new_resolver()

ExceptionId = Annotated[str, Path(pattern=ID_PATTERN, description="The exception's id")]
Limit = Annotated[int, Query(ge=1, le=usecases.MAX_LIMIT, description="Page size (1-200)")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="Opaque cursor from the previous page's next_cursor")
]


@app.post(
    "/api/exceptions",
    operation_id="createException",
    summary="Create an exception (idempotent with a client-chosen exception_id)",
    tags=TAGS,
    responses={
        **ok_response(ExceptionOut, "Created", 201),
        **ok_response(ExceptionOut, "Replay: the same body was posted before under this exception_id"),
        **error_responses(401, 403, 409, 413, 422, 503),
    },
)
def create_exception(body: Annotated[ExceptionCreate, Body()]) -> Response[Any]:
    result = usecases.create_exception(bundle.default_repositories(), current_principal(app), body)
    return json_response(result.exception, 201 if result.created else 200)


@app.get(
    "/api/exceptions",
    operation_id="listExceptions",
    summary="List exceptions, newest first",
    tags=TAGS,
    responses={
        **ok_response(ExceptionPageOut, "A page of exceptions"),
        **error_responses(401, 403, 422, 503),
    },
)
def list_exceptions(
    status: Annotated[
        list[ExceptionStatus] | None,
        Query(description="Only these statuses (repeat the parameter for several)"),
    ] = None,
    domain: Annotated[str | None, Query(pattern=ID_PATTERN, description="Only this domain")] = None,
    severity: Annotated[
        list[Severity] | None,
        Query(description="Only these severities (repeat the parameter for several)"),
    ] = None,
    limit: Limit = usecases.DEFAULT_LIMIT,
    cursor: Cursor = None,
    sort: Annotated[
        ExceptionOrder,
        Query(
            description="created_at: newest first (default); severity: most severe first; "
            "sla_deadline: soonest deadline first, open work only (no deadline last)"
        ),
    ] = ExceptionOrder.CREATED_AT,
    owner: Annotated[
        str | None, Query(pattern=ID_PATTERN, description="Only exceptions owned by this user")
    ] = None,
    unassigned: Annotated[bool, Query(description="Only exceptions without an owner")] = False,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Search: an exception id prefix, or words that all occur in the summary "
            "(case-insensitive, at most 5 words)",
        ),
    ] = None,
    sla_before: Annotated[
        AwareDatetime | None,
        Query(description="Only deadlines before this time (with sort=sla_deadline)"),
    ] = None,
    counts: Annotated[
        bool, Query(description="Add the saved views' counts (open, mine, unassigned, breaching_soon)")
    ] = False,
) -> Response[Any]:
    page = usecases.list_exceptions(
        bundle.default_repositories(),
        current_principal(app),
        status=status,
        domain=domain,
        severity=severity,
        limit=limit,
        cursor=cursor,
        sort=sort,
        owner=owner,
        unassigned=unassigned,
        search=q,
        sla_before=sla_before,
        counts=counts,
    )
    return json_response(page)


@app.get(
    "/api/exceptions/<exception_id>",
    operation_id="getException",
    summary="One exception",
    tags=TAGS,
    responses={**ok_response(ExceptionOut, "The exception"), **error_responses(401, 403, 404, 422, 503)},
)
def get_exception(exception_id: ExceptionId) -> Response[Any]:
    record = usecases.get_exception(bundle.default_repositories(), current_principal(app), exception_id)
    return json_response(record)


@app.patch(
    "/api/exceptions/<exception_id>",
    operation_id="patchException",
    summary="Change severity, SLA deadline, tags or summary (re-runs matching on severity/SLA/tags)",
    tags=TAGS,
    responses={
        **ok_response(ExceptionOut, "The exception after the change"),
        **error_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
def patch_exception(exception_id: ExceptionId, body: Annotated[ExceptionPatch, Body()]) -> Response[Any]:
    record = usecases.patch_exception(
        bundle.default_repositories(), current_principal(app), exception_id, body
    )
    return json_response(record)


@app.post(
    "/api/exceptions/<exception_id>/comments",
    operation_id="addComment",
    summary="Add a comment to the timeline",
    tags=TAGS,
    responses={
        **ok_response(EventOut, "The CommentAdded event", 201),
        **error_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
def add_comment(exception_id: ExceptionId, body: Annotated[CommentCreate, Body()]) -> Response[Any]:
    event = usecases.add_comment(bundle.default_repositories(), current_principal(app), exception_id, body)
    return json_response(event, 201)


@app.get(
    "/api/exceptions/<exception_id>/events",
    operation_id="listEvents",
    summary="The exception's timeline, oldest first",
    tags=TAGS,
    responses={**ok_response(EventPageOut, "A page of events"), **error_responses(401, 403, 404, 422, 503)},
)
def list_events(
    exception_id: ExceptionId,
    limit: Limit = usecases.DEFAULT_LIMIT,
    cursor: Cursor = None,
    event_type: Annotated[EventType | None, Query(description="Only events of this type")] = None,
) -> Response[Any]:
    page = usecases.list_events(
        bundle.default_repositories(),
        current_principal(app),
        exception_id,
        limit=limit,
        cursor=cursor,
        event_type=event_type,
    )
    return json_response(page)


lambda_handler = api_handler(app)
