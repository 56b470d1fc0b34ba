"""functions/status: the playbook run on one exception (steps, current step, approvals).

Warm cost: one GetItem (the exception item carries the step-state projection; playbook
versions are immutable and cached in memory).
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from exception_playbooks.api.http import (
    api_handler,
    current_principal,
    json_response,
    new_resolver,
)
from exception_playbooks.api.schemas import PlaybookStatusOut, error_responses, ok_response
from exception_playbooks.execution import operations
from exception_playbooks.models.common import ID_PATTERN
from exception_playbooks.repository import bundle

app = new_resolver()


@app.get(
    "/api/exceptions/<exception_id>/playbook",
    operation_id="getPlaybookStatus",
    summary="The playbook assigned to an exception and the state of each step",
    tags=["playbook run"],
    responses={
        **ok_response(PlaybookStatusOut, "The playbook status (playbook null and steps empty when none)"),
        **error_responses(401, 403, 404, 422, 503),
    },
)
def get_playbook_status(
    exception_id: Annotated[str, Path(pattern=ID_PATTERN, description="The exception's id")],
) -> Response[Any]:
    status = operations.playbook_status(bundle.default_repositories(), current_principal(app), exception_id)
    return json_response(status)


lambda_handler = api_handler(app)
