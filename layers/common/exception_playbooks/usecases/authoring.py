"""Safe authoring: drafts, publish-time lint, impact preview, simulation on a draft, version diffs.

A draft is an authoring document saved without going live: it is its own item, outside the
active-candidates index, so matching, simulation and the agents never see it. Publishing lints
it afresh (errors refuse with 422 and every finding) and writes it as the next version of its
playbook (or version 1 of a new one) and deletes the draft in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from ..api.http import parse_model
from ..auth import AUTHOR, VIEW, Principal
from ..errors import Conflict, NotFound, Problem, ValidationFailed
from ..execution import operations
from ..matching.effective import effective_view
from ..models.draft import Draft
from ..models.enums import ExceptionStatus
from ..models.exception import ExceptionRecord
from ..models.packs import PackSet
from ..models.playbook import PlaybookInput, PlaybookVersion
from ..ports import iso
from ..repository.bundle import Repositories, build_repositories
from ..repository.drafts import draft_or_playbook_changed
from ..repository.dynamo import CountingDynamo, Transaction
from ..repository.exceptions import ExceptionFilters
from ..repository.matching_reads import newest_exceptions
from .playbooks import TenantPacks, new_playbook_id, new_version
from .simulate import SimulateRequest, ad_hoc_record
from .validation import validate_playbook

if TYPE_CHECKING:
    from ..authoring.lint import Finding, LintContext

# The lint, impact and diff engines are imported by the use cases that run them, not here: the
# playbooks function serves them on its rare routes, and its cold start should not pay for them
# (tests/unit/test_handler_imports.py). Every model here is built on first use (defer_build).

DRAFT_ID_PREFIX = "dr-"
ATTRIBUTE_SAMPLE = 100  # recent exceptions whose attribute names the lint compares templates with
TERMINAL = frozenset({ExceptionStatus.RESOLVED, ExceptionStatus.CLOSED})


class LintFailed(ValidationFailed):
    """Publishing refused: the lint found errors. ``details`` also carries every finding."""

    code = "LINT_FAILED"

    def __init__(self, findings: list[Finding]):
        errors = [Problem(f.path, f.message) for f in findings if f.severity == "error"]
        super().__init__(errors, "The draft has lint errors; fix them before publishing")
        assert self.details is not None
        self.details["findings"] = [f.as_dict() for f in findings]


# --- request bodies ---------------------------------------------------------------------------


class DraftCreate(BaseModel):
    """A new draft: of a new playbook (``playbook``), or of the next version of ``playbook_id``
    (``playbook`` omitted: start from its latest version)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook_id: str | None = Field(default=None, description="the playbook this draft will update")
    playbook: dict[str, Any] | None = Field(default=None, description="the authoring document")


class DraftUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook: dict[str, Any] = Field(description="the whole authoring document")
    revision: int | None = Field(default=None, ge=1, description="the revision you read (409 if it moved)")
    base_version: int | None = Field(
        default=None, ge=1, description="rebase on this version of the playbook (after reviewing its diff)"
    )


class PublishRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    revision: int | None = Field(default=None, ge=1, description="the revision you linted (409 if it moved)")


class LintRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook: dict[str, Any] = Field(description="any authoring document")
    playbook_id: str | None = Field(default=None, description="lint it as the next version of this playbook")


# --- lint -------------------------------------------------------------------------------------


def lint_context(
    repos: Repositories, tenant: str, playbook: PlaybookVersion, packs: TenantPacks
) -> LintContext:
    """Read what the rules need: packs (fresh), the live catalogue, recent exceptions' attributes."""
    from ..authoring.lint import LintContext, seen_paths

    domain = playbook.domain
    if domain is not None:
        catalogue = repos.playbooks.candidates(tenant, domain)
    else:
        catalogue = [p for p in repos.playbooks.list_latest(tenant) if p.active]
    catalogue = [p for p in catalogue if p.playbook_id != playbook.playbook_id]
    recent = repos.exceptions.list(tenant, ExceptionFilters(), ATTRIBUTE_SAMPLE, None).items
    if domain is not None:
        recent = [r for r in recent if r.domain.casefold() == domain.casefold()]
    return LintContext(
        policy=packs.policy(),
        domain_pack=packs.domain(domain) if domain else None,
        catalogue=catalogue,
        seen_attributes=seen_paths([r.attributes for r in recent]) if recent else None,
        sample_size=len(recent),
    )


def lint_summary(findings: list[Finding]) -> dict[str, Any]:
    errors = sum(f.severity == "error" for f in findings)
    return {
        "ok": errors == 0,
        "errors": errors,
        "warnings": len(findings) - errors,
        "findings": [f.as_dict() for f in findings],
    }


def lint_playbook(repos: Repositories, principal: Principal, raw: Any) -> dict[str, Any]:
    """Lint any document. Invalid documents answer 200 with their 422 problems as error findings."""
    from ..authoring.lint import Finding, lint

    principal.require(VIEW)
    request: LintRequest = parse_model(LintRequest, raw)
    packs = TenantPacks(repos, principal.tenant_id)
    try:
        body = validate_playbook(request.playbook, packs)
    except ValidationFailed as failure:
        findings = [Finding("error", "invalid", p.path, p.message) for p in failure.problems]
        return lint_summary(findings)
    base = request.playbook_id
    version = 1
    if base is not None:
        version = repos.playbooks.get(principal.tenant_id, base).version + 1
    candidate = new_version(repos, principal, body, base or "draft", version)
    findings = lint(candidate, lint_context(repos, principal.tenant_id, candidate, packs))
    return lint_summary(findings)


# --- drafts -----------------------------------------------------------------------------------


def create_draft(repos: Repositories, principal: Principal, raw: Any) -> dict[str, Any]:
    principal.require(AUTHOR)
    request: DraftCreate = parse_model(DraftCreate, raw)
    tenant = principal.tenant_id
    packs = TenantPacks(repos, tenant)
    if request.playbook is None and request.playbook_id is None:
        raise ValidationFailed([Problem("playbook", "is required (or give playbook_id to start from it)")])
    body = validate_playbook(request.playbook, packs) if request.playbook is not None else None
    base: PlaybookVersion | None = None
    if request.playbook_id is not None:
        base = repos.playbooks.get(tenant, request.playbook_id)
    if body is None:
        assert base is not None
        body = PlaybookInput.model_validate(authoring_document(base))
    now = iso(repos.clock())
    draft = Draft(
        draft_id=DRAFT_ID_PREFIX + repos.ids(),
        playbook_id=base.playbook_id if base else None,
        base_version=base.version if base else None,
        body=_document(body),
        created_at=now,
        created_by=principal.username,
        updated_at=now,
        updated_by=principal.username,
    )
    repos.drafts.save(tenant, draft, expected_revision=None)
    return _draft_answer(repos, principal, draft, packs)


def update_draft(repos: Repositories, principal: Principal, draft_id: str, raw: Any) -> dict[str, Any]:
    principal.require(AUTHOR)
    request: DraftUpdate = parse_model(DraftUpdate, raw)
    tenant = principal.tenant_id
    packs = TenantPacks(repos, tenant)
    body = validate_playbook(request.playbook, packs)
    draft = repos.drafts.get(tenant, draft_id)
    if request.revision is not None and request.revision != draft.revision:
        raise _revision_moved(draft)
    base_version = draft.base_version
    if request.base_version is not None:
        if draft.playbook_id is None:
            raise ValidationFailed([Problem("base_version", "a draft of a new playbook has no base")])
        latest = repos.playbooks.get(tenant, draft.playbook_id)
        if request.base_version > latest.version:
            raise ValidationFailed(
                [Problem("base_version", f"the playbook's latest version is {latest.version}")]
            )
        base_version = request.base_version
    updated = draft.model_copy(
        update={
            "body": _document(body),
            "base_version": base_version,
            "revision": draft.revision + 1,
            "updated_at": iso(repos.clock()),
            "updated_by": principal.username,
        }
    )
    repos.drafts.save(tenant, updated, expected_revision=draft.revision)
    return _draft_answer(repos, principal, updated, packs)


def get_draft(repos: Repositories, principal: Principal, draft_id: str) -> dict[str, Any]:
    """The draft with its lint as of now (packs and the catalogue may have moved since it was saved)."""
    principal.require(VIEW)
    draft = repos.drafts.get(principal.tenant_id, draft_id)
    return _draft_answer(repos, principal, draft, TenantPacks(repos, principal.tenant_id))


def list_drafts(repos: Repositories, principal: Principal) -> dict[str, Any]:
    principal.require(VIEW)
    drafts = repos.drafts.list(principal.tenant_id)
    drafts.sort(key=lambda d: (d.updated_at, d.draft_id), reverse=True)
    return {"items": [_header(d) for d in drafts]}


def discard_draft(repos: Repositories, principal: Principal, draft_id: str) -> dict[str, Any]:
    principal.require(AUTHOR)
    draft = repos.drafts.get(principal.tenant_id, draft_id)
    repos.drafts.delete(principal.tenant_id, draft_id, expected_revision=draft.revision)
    return {"draft_id": draft_id, "discarded": True}


def publish_draft(repos: Repositories, principal: Principal, draft_id: str, raw: Any) -> dict[str, Any]:
    """Lint afresh; on no errors write the next version and delete the draft in one transaction."""
    principal.require(AUTHOR)
    request: PublishRequest = parse_model(PublishRequest, raw)
    tenant = principal.tenant_id
    draft = repos.drafts.get(tenant, draft_id)
    if request.revision is not None and request.revision != draft.revision:
        raise _revision_moved(draft)
    packs = TenantPacks(repos, tenant)
    body = validate_playbook(draft.body, packs)  # the packs may have changed since it was saved
    if draft.playbook_id is not None:
        latest = repos.playbooks.get(tenant, draft.playbook_id)
        if latest.version != draft.base_version:
            raise Conflict(
                f"Version {latest.version} of the playbook was published after this draft was based on "
                f"version {draft.base_version}; review the diff and save the draft with base_version "
                f"{latest.version} to publish over it",
                code="DRAFT_OUTDATED",
                details={"base_version": draft.base_version, "latest_version": latest.version},
            )
        playbook = new_version(repos, principal, body, draft.playbook_id, latest.version + 1)
    else:
        playbook = new_version(repos, principal, body, new_playbook_id(body.name, repos), 1)
    from ..authoring.lint import has_errors, lint

    findings = lint(playbook, lint_context(repos, tenant, playbook, packs))
    if has_errors(findings):
        raise LintFailed(findings)

    def stage(transaction: Transaction) -> None:
        repos.playbooks.stage_version(transaction, tenant, playbook)
        repos.drafts.stage_removal(transaction, tenant, draft)

    repos.playbooks.commit_catalogue_change(stage, draft_or_playbook_changed)
    return {"playbook": playbook.to_api(), "lint": lint_summary(findings)}


def _revision_moved(draft: Draft) -> Conflict:
    return Conflict(
        f"The draft is at revision {draft.revision} now; reload it and retry",
        code="CONCURRENT_MODIFICATION",
        details={"revision": draft.revision},
    )


def _draft_answer(
    repos: Repositories, principal: Principal, draft: Draft, packs: TenantPacks
) -> dict[str, Any]:
    from ..authoring.lint import lint

    playbook = draft_version(repos, principal, draft)
    findings = lint(playbook, lint_context(repos, principal.tenant_id, playbook, packs))
    return {**draft.to_api(), "lint": lint_summary(findings)}


def _header(draft: Draft) -> dict[str, Any]:
    return {
        "draft_id": draft.draft_id,
        "playbook_id": draft.playbook_id,
        "base_version": draft.base_version,
        "name": draft.body.get("name"),
        "revision": draft.revision,
        "updated_at": draft.updated_at,
        "updated_by": draft.updated_by,
    }


def _document(body: PlaybookInput) -> dict[str, Any]:
    return body.model_dump(mode="json")


def authoring_document(playbook: PlaybookVersion) -> dict[str, Any]:
    """The part of a stored version an author edits (what POST/PUT /api/playbooks take)."""
    return {
        "name": playbook.name,
        "description": playbook.description,
        "conditions": playbook.conditions.model_dump(mode="json"),
        "steps": [
            s.model_dump(
                mode="json", include={"name", "action_type", "params", "requires_approval", "skippable"}
            )
            for s in playbook.steps
        ],
    }


def draft_version(repos: Repositories, principal: Principal, draft: Draft) -> PlaybookVersion:
    """The draft as the version it would publish as (created now; its base's id, or the draft id)."""
    body = PlaybookInput.model_validate(draft.body)
    return new_version(
        repos, principal, body, draft.playbook_id or draft.draft_id, (draft.base_version or 0) + 1
    )


# --- simulation and impact ----------------------------------------------------------------------


def with_draft(live: list[PlaybookVersion], draft: PlaybookVersion) -> list[PlaybookVersion]:
    """The live catalogue as it would be once the draft is published (it replaces its base)."""
    return [p for p in live if p.playbook_id != draft.playbook_id] + [draft]


def simulate_draft(repos: Repositories, principal: Principal, draft_id: str, raw: Any) -> dict[str, Any]:
    """Simulate (the same request and answer as ``POST /api/playbooks/simulate``) with the draft live."""
    principal.require(VIEW)
    request: SimulateRequest = parse_model(SimulateRequest, raw)
    tenant = principal.tenant_id
    draft = draft_version(repos, principal, repos.drafts.get(tenant, draft_id))
    if request.exception_id is not None:
        record = operations.load_exception(repos, tenant, request.exception_id)
        exception_id: str | None = record.exception_id
    else:
        assert request.exception is not None
        record = ad_hoc_record(request.exception, iso(repos.clock()))
        exception_id = None
    packs = repos.packs.pack_set(tenant, record.domain)
    view = effective_view(record, packs, repos.clock())
    from ..matching.engine import select_for_view  # lazily: the authoring handler's rare paths

    result = select_for_view(
        view, with_draft(repos.playbooks.candidates(tenant, record.domain), draft), packs
    )
    return {
        "exception_id": exception_id,
        "changed": False,
        "playbook": result.winner.summary_dict() if result.winner else None,
        "current_step": None,
        "reasoning": result.reasoning_dict(),
        "draft_id": draft_id,
    }


@dataclass(frozen=True)
class ImpactBudget:
    days: int = 7  # exceptions created within this many days are in scope (and every open one)
    max_exceptions: int = 2000  # items examined at most
    page_size: int = 200  # items per list-index Query
    max_seconds: float = 5.0  # wall time at most (checked between pages)
    max_domains: int = 50  # distinct domains evaluated (each costs a candidates query and packs)


def preview_impact(
    repos: Repositories,
    principal: Principal,
    draft_id: str,
    budget: ImpactBudget,
    monotonic: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """What publishing the draft would change, over the tenant's open and recent exceptions.

    Pages through the exceptions list index newest first (never a scan) until the index ends or
    a budget runs out; the answer says which, with the reads it made."""
    from ..authoring.impact import ImpactTally  # lazily: the authoring handler's rare paths
    from ..matching.engine import select_for_view

    principal.require(VIEW)
    started = monotonic()
    counted = CountingDynamo(repos.dynamo)
    reads = build_repositories(counted, repos.clock, repos.ids)
    tenant = principal.tenant_id
    stored = reads.drafts.get(tenant, draft_id)
    draft = draft_version(repos, principal, stored)
    now = repos.clock()
    since = iso(now - timedelta(days=budget.days))
    tally = ImpactTally(draft_playbook_id=draft.playbook_id, base_playbook_id=stored.playbook_id)
    live: dict[str, tuple[list[PlaybookVersion], list[PlaybookVersion], PackSet]] = {}
    examined = in_window = open_older = pages = other_domains = 0
    start: dict[str, Any] | None = None
    stopped_by = "end_of_index"
    records: list[ExceptionRecord] = []
    while True:
        if examined >= budget.max_exceptions:
            stopped_by = "max_exceptions"
            break
        if monotonic() - started > budget.max_seconds:
            stopped_by = "max_seconds"
            break
        size = min(budget.page_size, budget.max_exceptions - examined)
        records, start = newest_exceptions(counted, tenant, size, start)
        pages += 1
        for record in records:
            examined += 1
            recent = record.created_at >= since
            if not recent and record.status in TERMINAL:
                continue
            in_window += recent
            open_older += not recent
            key = record.domain.casefold()
            if key not in live and len(live) >= budget.max_domains:
                other_domains += 1  # bounded reads: a domain beyond the budget is not evaluated
                continue
            if key not in live:
                current = reads.playbooks.candidates(tenant, record.domain)
                packs = reads.packs.pack_set(tenant, record.domain)
                live[key] = (current, with_draft(current, draft), packs)
            current, future, packs = live[key]
            view = effective_view(record, packs, now)
            tally.add(record, select_for_view(view, current, packs), select_for_view(view, future, packs))
        if start is None:
            break
    oldest = _oldest(records)
    return {
        "draft_id": draft_id,
        "playbook_id": stored.playbook_id,
        "scope": {
            "days": budget.days,
            "created_since": since,
            "recent": in_window,
            "open_older": open_older,
            "oldest_examined": oldest,
        },
        **tally.as_dict(),
        "cost": {
            "examined": examined,
            "pages": pages,
            "reads": counted.total,
            "calls": dict(sorted(counted.calls.items())),
            "domains": len(live),
            "skipped_other_domains": other_domains,
            "seconds": round(monotonic() - started, 3),
            "truncated": stopped_by != "end_of_index",
            "stopped_by": stopped_by,
            "budget": {
                "max_exceptions": budget.max_exceptions,
                "page_size": budget.page_size,
                "max_seconds": budget.max_seconds,
                "max_domains": budget.max_domains,
            },
        },
    }


def _oldest(records: list[ExceptionRecord]) -> str | None:
    return min((r.created_at for r in records), default=None)


# --- diffs --------------------------------------------------------------------------------------


def diff_versions(
    repos: Repositories, principal: Principal, playbook_id: str, before: int | None, after: int | None
) -> dict[str, Any]:
    """Two versions of a playbook (default: the latest against the one before it)."""
    from ..authoring.diff import diff_playbooks

    principal.require(VIEW)
    tenant = principal.tenant_id
    latest = repos.playbooks.get(tenant, playbook_id)
    to = after or latest.version
    frm = before or max(to - 1, 1)
    for name, number in (("from", frm), ("to", to)):
        if number > latest.version:
            raise NotFound(
                f"Playbook {playbook_id!r} has no version {number} (latest is {latest.version})",
                code="PLAYBOOK_VERSION_NOT_FOUND",
                details={"parameter": name},
            )
    old = repos.playbooks.get(tenant, playbook_id, frm)
    new = repos.playbooks.get(tenant, playbook_id, to)
    return {
        "playbook_id": playbook_id,
        "from": {"version": frm, "document": authoring_document(old)},
        "to": {"version": to, "document": authoring_document(new)},
        **diff_playbooks(authoring_document(old), authoring_document(new)),
    }


def diff_draft(repos: Repositories, principal: Principal, draft_id: str) -> dict[str, Any]:
    """A draft against the version it is based on (a new playbook's draft: against nothing)."""
    from ..authoring.diff import diff_playbooks

    principal.require(VIEW)
    tenant = principal.tenant_id
    draft = repos.drafts.get(tenant, draft_id)
    base: dict[str, Any] = {}
    if draft.playbook_id is not None and draft.base_version is not None:
        base = authoring_document(repos.playbooks.get(tenant, draft.playbook_id, draft.base_version))
    document = authoring_document(draft_version(repos, principal, draft))
    return {
        "draft_id": draft_id,
        "playbook_id": draft.playbook_id,
        "from": {"version": draft.base_version, "document": base or None},
        "to": {"version": None, "document": document},
        **diff_playbooks(base, document),
    }


# --- response documents (OpenAPI; the API tests check real answers against them) ----------------


class FindingOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    severity: str = Field(description="error (blocks publishing) or warning")
    rule: str = Field(description="never_holds, dead_branch, unknown_domain, shadowed, shadows, ...")
    path: str = Field(description="JSON path in the authoring document, 0-based (steps[1].params.tool_id)")
    message: str


class LintOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    ok: bool = Field(description="true when no finding is an error (publishing would be allowed)")
    errors: int
    warnings: int
    findings: list[FindingOut]


class DraftOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    draft_id: str
    playbook_id: str | None = Field(description="the playbook it will update; null for a new playbook")
    base_version: int | None = Field(description="the version it is based on (publishing needs it latest)")
    body: dict[str, Any] = Field(description="the authoring document")
    revision: int
    created_at: str
    created_by: str | None
    updated_at: str
    updated_by: str | None
    lint: LintOut = Field(description="the lint of the draft as of this answer")


class DraftHeaderOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    draft_id: str
    playbook_id: str | None
    base_version: int | None
    name: str | None
    revision: int
    updated_at: str
    updated_by: str | None


class DraftListOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    items: list[DraftHeaderOut] = Field(description="every draft of the tenant, last edited first")


class DiscardOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    draft_id: str
    discarded: bool


class PublishOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook: dict[str, Any] = Field(description="the version now live (as GET /api/playbooks/{id} shows it)")
    lint: LintOut


class ImpactSideOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    count: int
    by_playbook: list[dict[str, Any]] = Field(description="{from|to: playbook_id or null, name, count}")
    samples: list[dict[str, Any]] = Field(description="{exception_id, from, to, mid_run}, at most 20")


class ImpactOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    draft_id: str
    playbook_id: str | None
    scope: dict[str, Any] = Field(description="days, created_since, recent, open_older, oldest_examined")
    evaluated: int = Field(description="exceptions matched twice (before and after)")
    matched: int = Field(description="how many the draft's conditions hold for")
    would_win: int = Field(description="how many it would be chosen for")
    unchanged: int
    captured: ImpactSideOut = Field(description="would switch to the draft, by the playbook they leave")
    released: ImpactSideOut = Field(description="the base playbook would lose them, by what they get")
    mid_run_pinned: int = Field(description="changed ones whose run has moved on: they stay pinned")
    matched_samples: list[str]
    cost: dict[str, Any] = Field(description="examined, pages, reads, calls, seconds, truncated, stopped_by")


class DiffSideOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    version: int | None
    document: dict[str, Any] | None


class DiffOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    playbook_id: str | None
    draft_id: str | None = None
    changed: bool
    fields: list[dict[str, Any]] = Field(description="name/description changes")
    conditions: list[dict[str, Any]] = Field(
        description="{path, change: added|removed|changed, before, after}"
    )
    priority: dict[str, Any] | None
    steps: list[dict[str, Any]] = Field(
        description="{change: unchanged|changed|moved|added|removed, before_order, after_order, "
        "before, after, changed_fields}"
    )
    from_: DiffSideOut = Field(alias="from")
    to: DiffSideOut


class DraftSimulateOut(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    exception_id: str | None
    changed: bool
    playbook: dict[str, Any] | None
    current_step: int | None
    reasoning: dict[str, Any]
    draft_id: str
