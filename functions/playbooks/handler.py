"""functions/playbooks: playbook authoring (versions, deactivation, stats) and the tenant packs.

Thin: parse, call one use case, shape the answer. The guard in ``api_handler`` answers 401/403/413
(and malformed JSON) before anything here runs. Bodies are taken as raw JSON and validated by the
use case, not by Powertools, so one 422 lists every problem (shape and meaning) at once; the
request-body schemas are still declared for the OpenAPI document.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from exception_playbooks.api.errors import error_body
from exception_playbooks.api.http import (
    api_handler,
    current_principal,
    json_body,
    json_response,
    new_resolver,
)
from exception_playbooks.api.schemas import JSON, error_responses, ok_response
from exception_playbooks.errors import NotFound
from exception_playbooks.models.common import ID_PATTERN
from exception_playbooks.repository import bundle
from exception_playbooks.usecases import packs, playbooks
from exception_playbooks.usecases.packs import DomainPackOut, PolicyPackOut
from exception_playbooks.usecases.playbooks import (
    PlaybookDetailOut,
    PlaybookListOut,
    PlaybookOut,
    PlaybookStatsOut,
)

TAGS = ["playbooks"]
PACK_TAGS = ["packs"]

app = new_resolver()

PlaybookId = Annotated[str, Path(pattern=ID_PATTERN, description="The playbook's id")]
Domain = Annotated[str, Path(pattern=ID_PATTERN, description="The domain (case-insensitive)")]
Version = Annotated[
    int | None, Query(ge=1, le=1_000_000, description="A version number; the latest when omitted")
]


def request_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """``openapi_extensions`` that document a body the route reads itself (see the module docstring)."""
    return {
        "requestBody": {"required": True, "description": description, "content": {JSON: {"schema": schema}}}
    }


@app.post(
    "/api/playbooks",
    operation_id="createPlaybook",
    summary="Create a playbook (version 1)",
    tags=TAGS,
    openapi_extensions=request_body(
        playbooks.playbook_input_schema(),
        "The playbook; conditions may use the legacy form (match keys at the root), stored normalised",
    ),
    responses={**ok_response(PlaybookOut, "Created", 201), **error_responses(401, 403, 409, 413, 422, 503)},
)
def create_playbook() -> Response[Any]:
    created = playbooks.create_playbook(bundle.default_repositories(), current_principal(app), json_body(app))
    return json_response(created, 201)


@app.get(
    "/api/playbooks",
    operation_id="listPlaybooks",
    summary="The latest version of every playbook, with active",
    tags=TAGS,
    responses={**ok_response(PlaybookListOut, "Every playbook"), **error_responses(401, 403, 503)},
)
def list_playbooks() -> Response[Any]:
    return json_response(playbooks.list_playbooks(bundle.default_repositories(), current_principal(app)))


@app.get(
    "/api/playbooks/<playbook_id>",
    operation_id="getPlaybook",
    summary="One version of a playbook (the latest by default) with its steps and version history",
    tags=TAGS,
    responses={**ok_response(PlaybookDetailOut, "The version"), **error_responses(401, 403, 404, 422, 503)},
)
def get_playbook(playbook_id: PlaybookId, version: Version = None) -> Response[Any]:
    answer = playbooks.get_playbook(
        bundle.default_repositories(), current_principal(app), playbook_id, version
    )
    return json_response(answer)


@app.put(
    "/api/playbooks/<playbook_id>",
    operation_id="updatePlaybook",
    summary="Publish a new version N+1 (reactivates a deactivated playbook)",
    tags=TAGS,
    openapi_extensions=request_body(playbooks.playbook_input_schema(), "The whole playbook, as for create"),
    responses={
        **ok_response(PlaybookOut, "The new version"),
        **error_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
def update_playbook(playbook_id: PlaybookId) -> Response[Any]:
    updated = playbooks.update_playbook(
        bundle.default_repositories(), current_principal(app), playbook_id, json_body(app)
    )
    return json_response(updated)


@app.delete(
    "/api/playbooks/<playbook_id>",
    operation_id="deactivatePlaybook",
    summary="Deactivate: never matched again; versions and runs in progress are kept",
    tags=TAGS,
    responses={
        **ok_response(PlaybookOut, "The latest version, now inactive"),
        **error_responses(401, 403, 404, 422, 503),
    },
)
def deactivate_playbook(playbook_id: PlaybookId) -> Response[Any]:
    answer = playbooks.deactivate_playbook(bundle.default_repositories(), current_principal(app), playbook_id)
    return json_response(answer)


@app.get(
    "/api/playbooks/<playbook_id>/stats",
    operation_id="getPlaybookStats",
    summary="Run statistics of a playbook (all versions)",
    tags=TAGS,
    responses={**ok_response(PlaybookStatsOut, "The statistics"), **error_responses(401, 403, 404, 422, 503)},
)
def playbook_stats(playbook_id: PlaybookId) -> Response[Any]:
    answer = playbooks.playbook_stats(bundle.default_repositories(), current_principal(app), playbook_id)
    return json_response(answer)


@app.get(
    "/api/packs/policy",
    operation_id="getPolicyPack",
    summary="The tenant policy pack (the defaults with version 0 before the first PUT)",
    tags=PACK_TAGS,
    responses={**ok_response(PolicyPackOut, "The policy pack"), **error_responses(401, 403, 503)},
)
def get_policy() -> Response[Any]:
    return json_response(packs.get_policy(bundle.default_repositories(), current_principal(app)))


@app.put(
    "/api/packs/policy",
    operation_id="putPolicyPack",
    summary="Replace the tenant policy pack (a new version)",
    tags=PACK_TAGS,
    openapi_extensions=request_body(packs.policy_input_schema(), "The whole policy pack"),
    responses={
        **ok_response(PolicyPackOut, "The new version"),
        **error_responses(401, 403, 409, 413, 422, 503),
    },
)
def put_policy() -> Response[Any]:
    answer = packs.put_policy(bundle.default_repositories(), current_principal(app), json_body(app))
    return json_response(answer)


@app.get(
    "/api/packs/domains/<domain>",
    operation_id="getDomainPack",
    summary="A domain pack (404 before its first PUT)",
    tags=PACK_TAGS,
    responses={**ok_response(DomainPackOut, "The domain pack"), **error_responses(401, 403, 404, 422, 503)},
)
def get_domain_pack(domain: Domain) -> Response[Any]:
    return json_response(packs.get_domain_pack(bundle.default_repositories(), current_principal(app), domain))


@app.put(
    "/api/packs/domains/<domain>",
    operation_id="putDomainPack",
    summary="Replace a domain pack (a new version; the first PUT creates it)",
    tags=PACK_TAGS,
    openapi_extensions=request_body(packs.domain_input_schema(), "The whole domain pack"),
    responses={
        **ok_response(DomainPackOut, "The new version"),
        **error_responses(401, 403, 409, 413, 422, 503),
    },
)
def put_domain_pack(domain: Domain) -> Response[Any]:
    answer = packs.put_domain_pack(
        bundle.default_repositories(), current_principal(app), domain, json_body(app)
    )
    return json_response(answer)


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    """A path this function does not serve (API Gateway never sends one; the local stack might)."""
    return json_response(error_body(NotFound("No such resource", code="ROUTE_NOT_FOUND")), 404)


lambda_handler = api_handler(app)
