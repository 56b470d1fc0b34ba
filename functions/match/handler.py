"""functions/match: recalculate the playbook of an exception; simulate matching (writes nothing)."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from exception_playbooks.api.http import (
    api_handler,
    current_principal,
    json_response,
    new_resolver,
)
from exception_playbooks.api.schemas import MatchOut, error_responses, ok_response
from exception_playbooks.execution import operations
from exception_playbooks.models.common import ID_PATTERN
from exception_playbooks.repository import bundle
from exception_playbooks.usecases.simulate import SimulateRequest, simulate

app = new_resolver()


@app.post(
    "/api/exceptions/<exception_id>/playbook/recalculate",
    operation_id="recalculatePlaybook",
    summary="Re-run matching; switches the playbook when another one wins (not once completed)",
    tags=["playbook run"],
    responses={
        **ok_response(MatchOut, "Whether the assignment changed, and why"),
        **error_responses(401, 403, 404, 409, 422, 503),
    },
)
def recalculate(
    exception_id: Annotated[str, Path(pattern=ID_PATTERN, description="The exception's id")],
) -> Response[Any]:
    answer = operations.recalculate(bundle.default_repositories(), current_principal(app), exception_id)
    return json_response(answer)


@app.post(
    "/api/playbooks/simulate",
    operation_id="simulateMatching",
    summary="Which playbook an exception would get and why (nothing is written)",
    tags=["playbooks"],
    responses={
        **ok_response(MatchOut, "The recalculate answer shape with changed: false"),
        **error_responses(401, 403, 404, 413, 422, 503),
    },
)
def simulate_matching(body: Annotated[SimulateRequest, Body()]) -> Response[Any]:
    answer = simulate(bundle.default_repositories(), current_principal(app), body)
    return json_response(answer)


lambda_handler = api_handler(app)
