"""Playbook authoring: create, list, read (any version), update (new version), deactivate, stats.

Versions are immutable: an update writes version N+1 next to the older ones and moves the
LATEST pointer with optimistic locking (a concurrent update loses with 409). Exceptions stay on
the version they started with. Deactivating drops a playbook from matching and keeps its history;
updating a deactivated playbook publishes a new version, which makes it active again (an author
who edits a playbook means it to be used; DELETE it again otherwise).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..auth import AUTHOR, VIEW, Principal
from ..errors import Conflict, NotFound
from ..models.common import MAX_NAME
from ..models.packs import DomainPack, PolicyPack
from ..models.playbook import Conditions, PlaybookInput, PlaybookVersion, Step
from ..ports import iso
from ..repository.bundle import Repositories
from .validation import validate_playbook

PLAYBOOK_ID_PREFIX = "pb-"
_SLUG_LENGTH = 48
_SUFFIX_LENGTH = 8
_CREATE_ATTEMPTS = 3  # a new id collides only by bad luck; try a fresh suffix


class TenantPacks:
    """``PackLookup`` over the repositories: read on first use, fresh (authoring must not see a
    copy cached by this warm Lambda from before an admin's last pack change)."""

    def __init__(self, repos: Repositories, tenant_id: str):
        self._repos = repos
        self._tenant_id = tenant_id
        self._policy: PolicyPack | None = None
        self._domains: dict[str, DomainPack | None] = {}

    def policy(self) -> PolicyPack:
        if self._policy is None:
            self._policy = self._repos.packs.policy(self._tenant_id, cached=False)
        return self._policy

    def domain(self, domain: str) -> DomainPack | None:
        key = domain.lower()
        if key not in self._domains:
            self._domains[key] = self._repos.packs.domain(self._tenant_id, domain, cached=False)
        return self._domains[key]


def create_playbook(repos: Repositories, principal: Principal, raw: Any) -> dict[str, Any]:
    """Validate the body and store it as version 1 under a new ``playbook_id``."""
    principal.require(AUTHOR)
    body = validate_playbook(raw, TenantPacks(repos, principal.tenant_id))
    for attempt in range(_CREATE_ATTEMPTS):
        playbook = new_version(repos, principal, body, new_playbook_id(body.name, repos), 1)
        try:
            return _api(repos.playbooks.save_version(principal.tenant_id, playbook))
        except Conflict:
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def update_playbook(repos: Repositories, principal: Principal, playbook_id: str, raw: Any) -> dict[str, Any]:
    """Validate the body (422 first, as API.md orders checks), then write version N+1 (404 if absent)."""
    principal.require(AUTHOR)
    body = validate_playbook(raw, TenantPacks(repos, principal.tenant_id))
    latest = repos.playbooks.get(principal.tenant_id, playbook_id)
    playbook = new_version(repos, principal, body, playbook_id, latest.version + 1)
    return _api(repos.playbooks.save_version(principal.tenant_id, playbook, previous=latest))


def list_playbooks(repos: Repositories, principal: Principal) -> dict[str, Any]:
    """The latest version of every playbook, active or not, by name (then id: deterministic)."""
    principal.require(VIEW)
    latest = repos.playbooks.list_latest(principal.tenant_id)
    latest.sort(key=lambda p: (p.name.casefold(), p.playbook_id))
    return {"items": [_api(p) for p in latest]}


def get_playbook(
    repos: Repositories, principal: Principal, playbook_id: str, version: int | None = None
) -> dict[str, Any]:
    """One version (the latest by default) with its ordered steps, plus the version history.

    ``active`` and ``latest_version`` describe the playbook as it is now: a version item keeps the
    flag it was written with, while deactivation only touches the LATEST pointer.
    """
    principal.require(VIEW)
    latest = repos.playbooks.get(principal.tenant_id, playbook_id)
    chosen = latest
    if version is not None and version != latest.version:
        if version > latest.version:
            raise NotFound(
                f"Playbook {playbook_id!r} has no version {version} (latest is {latest.version})",
                code="PLAYBOOK_VERSION_NOT_FOUND",
            )
        chosen = repos.playbooks.get(principal.tenant_id, playbook_id, version)
    answer = _api(chosen)
    answer["active"] = latest.active
    answer["latest_version"] = latest.version
    answer["versions"] = repos.playbooks.versions(principal.tenant_id, playbook_id)
    return answer


def deactivate_playbook(repos: Repositories, principal: Principal, playbook_id: str) -> dict[str, Any]:
    """Never matched again (it leaves the candidates index); versions and runs in progress stay."""
    principal.require(AUTHOR)
    return _api(repos.playbooks.deactivate(principal.tenant_id, playbook_id))


def playbook_stats(repos: Repositories, principal: Principal, playbook_id: str) -> dict[str, Any]:
    """Run statistics; 404 for a playbook the tenant does not have (even if counters existed)."""
    principal.require(VIEW)
    repos.playbooks.get(principal.tenant_id, playbook_id)
    return repos.stats.get(principal.tenant_id, playbook_id)


def new_playbook_id(name: str, repos: Repositories) -> str:
    """``pb-`` + a slug of the name + a short random suffix: readable in URLs and logs, unique."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:_SLUG_LENGTH].strip("-")
    # The id generator's tail is its random part (ports.random_id is time-ordered).
    suffix = re.sub(r"[^a-z0-9]", "", repos.ids().lower())[-_SUFFIX_LENGTH:]
    return PLAYBOOK_ID_PREFIX + "-".join(part for part in (slug, suffix) if part)


def new_version(
    repos: Repositories, principal: Principal, body: PlaybookInput, playbook_id: str, version: int
) -> PlaybookVersion:
    return PlaybookVersion(
        playbook_id=playbook_id,
        version=version,
        name=body.name,
        description=body.description,
        conditions=Conditions(match=body.conditions.match, priority=body.conditions.priority),
        steps=tuple(
            Step(
                step_order=order,
                name=step.name,
                action_type=step.action_type,
                params=step.params,
                requires_approval=step.requires_approval,
                skippable=step.skippable,
            )
            for order, step in enumerate(body.steps, start=1)
        ),
        created_at=iso(repos.clock()),
        created_by=principal.username,
        active=True,
    )


def _api(playbook: PlaybookVersion) -> dict[str, Any]:
    return playbook.to_api()


# --- response documents (OpenAPI; the API tests check real answers against them) ----------------
# Documentation only: each is built on first use (defer_build), never on a cold start.


class StepOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    step_order: int = Field(ge=1, description="1-based position; steps run in this order")
    name: str
    action_type: str
    params: dict[str, Any]
    requires_approval: bool
    skippable: bool


class ConditionsDocOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    match: dict[str, Any] = Field(description="the match object (always stored in this normalised form)")
    priority: int


class PlaybookOut(BaseModel):
    """One immutable playbook version."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook_id: str
    version: int = Field(ge=1)
    name: str = Field(max_length=MAX_NAME)
    description: str | None
    conditions: ConditionsDocOut
    steps: list[StepOut]
    created_at: str
    created_by: str | None
    active: bool = Field(description="false once deleted (deactivated): never matched again")


class VersionHeaderOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: int
    created_at: str | None
    created_by: str | None
    name: str | None


class PlaybookDetailOut(PlaybookOut):
    """A version plus where it stands in the playbook's history."""

    latest_version: int
    versions: list[VersionHeaderOut] = Field(description="every version, oldest first")


class PlaybookListOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    items: list[PlaybookOut] = Field(description="the latest version of each playbook, with active")


class PlaybookStatsOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook_id: str
    runs_started: int
    runs_completed: int
    steps_completed: int
    steps_skipped: int
    mean_time_to_complete_seconds: float | None = Field(description="null until a run completes")
    p90_time_to_complete_seconds: float | None = Field(description="null until a run completes")


@cache
def playbook_input_schema() -> dict[str, Any]:
    """The request body schema of POST/PUT, self-contained (its ``$defs`` inlined)."""
    return inline_schema(PlaybookInput.model_json_schema())


def inline_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Replace ``#/$defs/...`` references by the definitions (input models are not recursive)."""
    definitions = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                merged = {
                    **definitions[ref.removeprefix("#/$defs/")],
                    **{k: v for k, v in node.items() if k != "$ref"},
                }
                return resolve(merged)
            return {k: resolve(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved
