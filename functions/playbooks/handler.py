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
from exception_playbooks.api.schemas import error_responses, ok_response, request_body
from exception_playbooks.errors import NotFound
from exception_playbooks.models.common import ID_PATTERN
from exception_playbooks.repository import bundle
from exception_playbooks.usecases import authoring, packs, playbooks
from exception_playbooks.usecases.authoring import (
    DiffOut,
    DiscardOut,
    DraftCreate,
    DraftListOut,
    DraftOut,
    DraftSimulateOut,
    DraftUpdate,
    ImpactBudget,
    ImpactOut,
    LintOut,
    LintRequest,
    PublishOut,
    PublishRequest,
)
from exception_playbooks.usecases.packs import DomainPackOut, PolicyPackOut
from exception_playbooks.usecases.playbooks import (
    PlaybookDetailOut,
    PlaybookListOut,
    PlaybookOut,
    PlaybookStatsOut,
    inline_schema,
)
from exception_playbooks.usecases.simulate import SimulateRequest

TAGS = ["playbooks"]
PACK_TAGS = ["packs"]

app = new_resolver()

PlaybookId = Annotated[str, Path(pattern=ID_PATTERN, description="The playbook's id")]
DraftId = Annotated[str, Path(pattern=ID_PATTERN, description="The draft's id")]
DRAFT_TAGS = ["drafts"]
Domain = Annotated[str, Path(pattern=ID_PATTERN, description="The domain (case-insensitive)")]
Version = Annotated[
    int | None, Query(ge=1, le=1_000_000, description="A version number; the latest when omitted")
]


@app.post(
    "/api/playbooks",
    operation_id="createPlaybook",
    summary="Create a playbook (version 1)",
    tags=TAGS,
    openapi_extensions=request_body(
        playbooks.playbook_input_schema,
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
    openapi_extensions=request_body(playbooks.playbook_input_schema, "The whole playbook, as for create"),
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
    openapi_extensions=request_body(packs.policy_input_schema, "The whole policy pack"),
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
    openapi_extensions=request_body(packs.domain_input_schema, "The whole domain pack"),
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


# --- safe authoring: lint, drafts, impact preview, diffs (usecases/authoring.py) --------------------


def model_body(model: Any, description: str, required: bool = True) -> dict[str, Any]:
    return request_body(lambda: inline_schema(model.model_json_schema(by_alias=True)), description, required)


@app.post(
    "/api/playbooks/lint",
    operation_id="lintPlaybook",
    summary="Lint any playbook document (invalid ones answer their problems as error findings)",
    tags=TAGS,
    openapi_extensions=model_body(LintRequest, "The document, and the playbook it would update"),
    responses={**ok_response(LintOut, "The findings"), **error_responses(401, 403, 404, 413, 422, 503)},
)
def lint_playbook() -> Response[Any]:
    return json_response(
        authoring.lint_playbook(bundle.default_repositories(), current_principal(app), json_body(app))
    )


@app.get(
    "/api/playbooks/<playbook_id>/diff",
    operation_id="diffPlaybookVersions",
    summary="Compare two versions field by field (default: the latest against the one before)",
    tags=TAGS,
    responses={**ok_response(DiffOut, "The differences"), **error_responses(401, 403, 404, 422, 503)},
)
def diff_versions(
    playbook_id: PlaybookId,
    from_version: Annotated[int | None, Query(ge=1, le=1_000_000, description="The older version")] = None,
    to_version: Annotated[int | None, Query(ge=1, le=1_000_000, description="The newer version")] = None,
) -> Response[Any]:
    answer = authoring.diff_versions(
        bundle.default_repositories(), current_principal(app), playbook_id, from_version, to_version
    )
    return json_response(answer)


@app.get(
    "/api/playbook-drafts",
    operation_id="listDrafts",
    summary="Every playbook draft of the tenant (never matched)",
    tags=DRAFT_TAGS,
    responses={**ok_response(DraftListOut, "The drafts"), **error_responses(401, 403, 503)},
)
def list_drafts() -> Response[Any]:
    return json_response(authoring.list_drafts(bundle.default_repositories(), current_principal(app)))


@app.post(
    "/api/playbook-drafts",
    operation_id="createDraft",
    summary="Save a draft of a new playbook, or of the next version of one (with its lint)",
    tags=DRAFT_TAGS,
    openapi_extensions=model_body(DraftCreate, "The document, the playbook it updates, or both"),
    responses={**ok_response(DraftOut, "Saved", 201), **error_responses(401, 403, 404, 409, 413, 422, 503)},
)
def create_draft() -> Response[Any]:
    answer = authoring.create_draft(bundle.default_repositories(), current_principal(app), json_body(app))
    return json_response(answer, 201)


@app.get(
    "/api/playbook-drafts/<draft_id>",
    operation_id="getDraft",
    summary="One draft with its lint as of now",
    tags=DRAFT_TAGS,
    responses={**ok_response(DraftOut, "The draft"), **error_responses(401, 403, 404, 422, 503)},
)
def get_draft(draft_id: DraftId) -> Response[Any]:
    return json_response(authoring.get_draft(bundle.default_repositories(), current_principal(app), draft_id))


@app.put(
    "/api/playbook-drafts/<draft_id>",
    operation_id="updateDraft",
    summary="Replace a draft's document (optionally rebase it on a newer version)",
    tags=DRAFT_TAGS,
    openapi_extensions=model_body(DraftUpdate, "The whole document, the revision read, a new base"),
    responses={**ok_response(DraftOut, "Saved"), **error_responses(401, 403, 404, 409, 413, 422, 503)},
)
def update_draft(draft_id: DraftId) -> Response[Any]:
    answer = authoring.update_draft(
        bundle.default_repositories(), current_principal(app), draft_id, json_body(app)
    )
    return json_response(answer)


@app.delete(
    "/api/playbook-drafts/<draft_id>",
    operation_id="discardDraft",
    summary="Discard a draft (nothing live changes)",
    tags=DRAFT_TAGS,
    responses={**ok_response(DiscardOut, "Discarded"), **error_responses(401, 403, 404, 409, 422, 503)},
)
def discard_draft(draft_id: DraftId) -> Response[Any]:
    answer = authoring.discard_draft(bundle.default_repositories(), current_principal(app), draft_id)
    return json_response(answer)


@app.post(
    "/api/playbook-drafts/<draft_id>/publish",
    operation_id="publishDraft",
    summary="Lint, then make the draft the latest active version and delete it (one transaction)",
    tags=DRAFT_TAGS,
    openapi_extensions=model_body(PublishRequest, "Optionally the revision you reviewed", required=False),
    responses={
        **ok_response(PublishOut, "Published"),
        **error_responses(401, 403, 404, 409, 413, 422, 503),
    },
)
def publish_draft(draft_id: DraftId) -> Response[Any]:
    answer = authoring.publish_draft(
        bundle.default_repositories(), current_principal(app), draft_id, json_body(app)
    )
    return json_response(answer)


@app.get(
    "/api/playbook-drafts/<draft_id>/impact",
    operation_id="previewDraftImpact",
    summary="Which open and recent exceptions publishing would capture or release (bounded)",
    tags=DRAFT_TAGS,
    responses={
        **ok_response(ImpactOut, "The impact and its cost"),
        **error_responses(401, 403, 404, 422, 503),
    },
)
def preview_impact(
    draft_id: DraftId,
    days: Annotated[int, Query(ge=0, le=90, description="Recent = created within this many days")] = 7,
    limit: Annotated[int, Query(ge=1, le=10_000, description="Exceptions examined at most")] = 2000,
) -> Response[Any]:
    budget = ImpactBudget(days=days, max_exceptions=limit)
    answer = authoring.preview_impact(bundle.default_repositories(), current_principal(app), draft_id, budget)
    return json_response(answer)


@app.get(
    "/api/playbook-drafts/<draft_id>/diff",
    operation_id="diffDraft",
    summary="A draft against the version it is based on",
    tags=DRAFT_TAGS,
    responses={**ok_response(DiffOut, "The differences"), **error_responses(401, 403, 404, 422, 503)},
)
def diff_draft(draft_id: DraftId) -> Response[Any]:
    return json_response(
        authoring.diff_draft(bundle.default_repositories(), current_principal(app), draft_id)
    )


@app.post(
    "/api/playbook-drafts/<draft_id>/simulate",
    operation_id="simulateDraft",
    summary="Simulate as if the draft were published (same body and answer as simulate)",
    tags=DRAFT_TAGS,
    openapi_extensions=model_body(SimulateRequest, "An ad-hoc exception or a stored one's id"),
    responses={**ok_response(DraftSimulateOut, "The match"), **error_responses(401, 403, 404, 413, 422, 503)},
)
def simulate_draft(draft_id: DraftId) -> Response[Any]:
    answer = authoring.simulate_draft(
        bundle.default_repositories(), current_principal(app), draft_id, json_body(app)
    )
    return json_response(answer)


@app.not_found
def not_found(_: Exception) -> Response[Any]:
    """A path this function does not serve (API Gateway never sends one; the local stack might)."""
    return json_response(error_body(NotFound("No such resource", code="ROUTE_NOT_FOUND")), 404)


lambda_handler = api_handler(app)
