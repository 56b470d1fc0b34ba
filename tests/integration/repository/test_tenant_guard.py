"""Every repository method, run in one tenant's session for another tenant, is refused by the guard.

The guard (``tenant_guard``) applies the tenant-data role's policy to each call of the
repositories' client, as IAM would in AWS; inside the owner's session the same call works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from exception_playbooks import keys
from exception_playbooks.errors import Conflict
from exception_playbooks.models.draft import Draft
from exception_playbooks.models.packs import DomainPackInput, PolicyPackInput
from exception_playbooks.repository import packs as packs_module
from exception_playbooks.repository import playbooks as playbooks_module
from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.repository.candidates import summary_from_item, summary_item
from exception_playbooks.repository.dynamo import Transaction
from exception_playbooks.repository.exceptions import ExceptionFilters, ExceptionOrder
from exception_playbooks.tenancy import tenant_scope

from ..factories import create_exception, now_iso, playbook

OWNER = "acme"
INTRUDER = "globex"
DOMAIN = "payments"


def _draft(draft_id: str) -> Draft:
    at = "2026-01-01T00:00:00.000Z"
    return Draft(draft_id=draft_id, body={"name": "d"}, created_at=at, updated_at=at)


def _staged(stage: Callable[[Transaction], None]) -> Callable[[Repositories], Any]:
    def run(repos: Repositories) -> None:
        transaction = Transaction()
        stage(transaction)
        repos.dynamo.commit(transaction)

    return run


def _calls(tenant: str) -> dict[str, Callable[[Repositories], Any]]:
    """One call per repository method, each for ``tenant``'s data."""
    return {
        "exceptions.get": lambda r: r.exceptions.get(tenant, "EX-1"),
        # Everything read with the exception: packs head, catalogue stamps, an idempotency record.
        "exceptions.get_with": lambda r: r.exceptions.get_with(
            tenant,
            "EX-1",
            [
                keys.packs_head_key(tenant),
                keys.catalogue_key(tenant),
                keys.idempotency_key(tenant, "complete:EX-1:1", "k-1"),
            ],
        ),
        "exceptions.list": lambda r: r.exceptions.list(tenant, ExceptionFilters(), 10, None),
        "exceptions.list+sla": lambda r: r.exceptions.list(
            tenant, ExceptionFilters(severities=("high",)), 10, None, ExceptionOrder.SLA_DEADLINE
        ),
        "exceptions.open_queue": lambda r: r.exceptions.open_queue(tenant),
        "exceptions.events": lambda r: r.exceptions.events(tenant, "EX-1", 10, None),
        "exceptions.all_events": lambda r: r.exceptions.all_events(tenant, "EX-1"),
        "exceptions.stage+commit": lambda r: create_exception(r, tenant, "EX-NEW"),
        "playbooks.get": lambda r: r.playbooks.get(tenant, "pb-1"),
        "playbooks.get_version": lambda r: r.playbooks.get_version(tenant, "pb-1", 1),
        "playbooks.versions": lambda r: r.playbooks.versions(tenant, "pb-1"),
        "playbooks.list_latest": lambda r: r.playbooks.list_latest(tenant),
        "playbooks.candidates": lambda r: r.playbooks.candidates(tenant, DOMAIN),
        "playbooks.full": lambda r: r.playbooks.full(
            tenant, summary_from_item(summary_item(tenant, playbook("pb-1", version=1)))
        ),
        "playbooks.save_version": lambda r: r.playbooks.save_version(tenant, playbook("pb-2", version=1)),
        "playbooks.stage_version+commit": lambda r: _staged(
            lambda t: r.playbooks.stage_version(t, tenant, playbook("pb-3", version=1))
        )(r),
        "playbooks.commit_catalogue_change": lambda r: r.playbooks.commit_catalogue_change(
            lambda t: r.playbooks.stage_version(t, tenant, playbook("pb-4", version=1)),
            lambda: Conflict("lost"),
        ),
        "playbooks.deactivate": lambda r: r.playbooks.deactivate(tenant, "pb-1"),
        "packs.policy": lambda r: r.packs.policy(tenant, cached=False),
        "packs.domain": lambda r: r.packs.domain(tenant, DOMAIN, cached=False),
        "packs.pack_set": lambda r: r.packs.pack_set(tenant, DOMAIN),
        "packs.current_pack_set": lambda r: r.packs.current_pack_set(tenant, DOMAIN, 10**6),
        "packs.put_policy": lambda r: r.packs.put_policy(tenant, PolicyPackInput()),
        "packs.put_domain": lambda r: r.packs.put_domain(tenant, DOMAIN, DomainPackInput()),
        "stats.get": lambda r: r.stats.get(tenant, "pb-1"),
        "stats.get_raw": lambda r: r.stats.get_raw(tenant, "pb-1"),
        "stats.stage_counters": lambda r: _staged(
            lambda t: r.stats.stage_counters(tenant, "pb-1", t, runs_started=1)
        )(r),
        "stats.stage_completion": lambda r: _staged(
            lambda t: r.stats.stage_completion(tenant, "pb-1", 12.5, t, current={})
        )(r),
        "idempotency.get": lambda r: r.idempotency.get(tenant, "create", "k-1"),
        "idempotency.get_with_exception": lambda r: r.idempotency.get_with_exception(
            tenant, "create", "k-1", "EX-1"
        ),
        "idempotency.stage": lambda r: _staged(
            lambda t: r.idempotency.stage(tenant, "create", "k-2", "hash", {"status": 201}, t)
        )(r),
        "drafts.get": lambda r: r.drafts.get(tenant, "d-1"),
        "drafts.list": lambda r: r.drafts.list(tenant),
        "drafts.save": lambda r: r.drafts.save(tenant, _draft("d-2"), expected_revision=None),
        "drafts.delete": lambda r: r.drafts.delete(tenant, "d-1"),
        "drafts.stage_removal+commit": lambda r: _staged(
            lambda t: r.drafts.stage_removal(t, tenant, _draft("d-1"))
        )(r),
        "agent_markers.seen": lambda r: r.agent_markers.seen(tenant, "EX-1", "TriageAgent", "ev-1"),
        "agent_markers.stage": lambda r: _staged(
            lambda t: r.agent_markers.stage(tenant, "EX-1", "TriageAgent", "ev-2", now_iso(r), t)
        )(r),
    }


METHODS = sorted(_calls(OWNER))


@pytest.fixture
def owned(repos: Repositories) -> Repositories:
    """The owner's exception and playbook, written outside any session (test set-up)."""
    packs_module.clear_cache()
    playbooks_module.clear_cache()
    create_exception(repos, OWNER, "EX-1")
    repos.playbooks.save_version(OWNER, playbook("pb-1", version=1))
    repos.drafts.save(OWNER, _draft("d-1"), expected_revision=None)
    return repos


def _is_access_denied(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error.response["Error"]["Code"] == "AccessDeniedException"


def test_every_repository_method_is_covered() -> None:
    public = {
        f"{name}.{method}"
        for name, cls in (
            ("exceptions", "ExceptionRepository"),
            ("playbooks", "PlaybookRepository"),
            ("packs", "PackRepository"),
            ("stats", "StatsRepository"),
            ("idempotency", "IdempotencyRepository"),
            ("agent_markers", "AgentMarkerRepository"),
            ("drafts", "DraftRepository"),
        )
        for method in vars(getattr(__import__(f"exception_playbooks.repository.{name}", fromlist=[cls]), cls))
        if not method.startswith("_") and method not in ("materialize", "commit", "stage")
    }
    covered = {name.split("+")[0] for name in METHODS} | {"exceptions.stage"}
    assert public <= covered, sorted(public - covered)


@pytest.mark.parametrize("method", METHODS)
def test_another_tenants_session_is_refused(owned: Repositories, method: str) -> None:
    with tenant_scope(INTRUDER), pytest.raises(ClientError) as raised:
        _calls(OWNER)[method](owned)
    assert _is_access_denied(raised.value), raised.value


@pytest.mark.parametrize("method", METHODS)
def test_the_owners_session_passes_the_guard(owned: Repositories, method: str) -> None:
    with tenant_scope(OWNER):
        try:
            _calls(OWNER)[method](owned)
        except Exception as error:  # a domain answer (not found, conflict) is fine; a refusal is not
            assert not _is_access_denied(error), error
