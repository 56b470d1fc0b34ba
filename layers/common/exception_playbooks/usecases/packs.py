"""Tenant policy pack and domain packs: read, and replace as a new version.

Reads here are fresh (not the short-lived cache matching uses): an admin who just saved a pack
must see it, whichever warm Lambda answers. A PUT may echo the read-only fields a GET answers
(``version``, ``updated_at``, and ``domain`` for domain packs); an echoed ``version`` makes the
write conditional on the pack still being at that version (409 ``VERSION_CONFLICT`` otherwise).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from ..auth import AUTHOR, VIEW, Principal
from ..errors import NotFound
from ..models.packs import DomainPack, DomainPackInput, PolicyPack, PolicyPackInput
from ..repository.bundle import Repositories
from .playbooks import inline_schema
from .validation import validate_domain_pack, validate_policy_pack


def get_policy(repos: Repositories, principal: Principal) -> dict[str, Any]:
    """The tenant policy pack; before its first PUT, the defaults with ``version: 0``."""
    principal.require(VIEW)
    return repos.packs.policy(principal.tenant_id, cached=False).to_api()


def put_policy(repos: Repositories, principal: Principal, raw: Any) -> dict[str, Any]:
    principal.require(AUTHOR)
    write = validate_policy_pack(raw)
    pack = repos.packs.put_policy(principal.tenant_id, write.body, expected_version=write.expected_version)
    return pack.to_api()


def get_domain_pack(repos: Repositories, principal: Principal, domain: str) -> dict[str, Any]:
    """The domain pack (the domain is matched case-insensitively); 404 before its first PUT."""
    principal.require(VIEW)
    pack = repos.packs.domain(principal.tenant_id, domain, cached=False)
    if pack is None:
        raise NotFound(f"There is no domain pack for {domain!r}", code="DOMAIN_PACK_NOT_FOUND")
    return pack.to_api()


def put_domain_pack(repos: Repositories, principal: Principal, domain: str, raw: Any) -> dict[str, Any]:
    principal.require(AUTHOR)
    write = validate_domain_pack(raw, domain)
    pack = repos.packs.put_domain(
        principal.tenant_id, domain, write.body, expected_version=write.expected_version
    )
    return pack.to_api()


# --- documents (OpenAPI; the API tests check real answers against them) -------------------------


class PolicyPackOut(PolicyPack):
    model_config = ConfigDict(defer_build=True)  # documentation only: built on first use

    version: int = Field(ge=0, description="0: the defaults, before the first PUT")
    updated_at: str | None = None


class DomainPackOut(DomainPack):
    model_config = ConfigDict(defer_build=True)  # documentation only: built on first use

    domain: str = Field(description="as spelled by its first PUT; looked up case-insensitively")


def _with_read_only(schema: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "properties": {**schema.get("properties", {}), **extra}}


_VERSION_DOC = {
    "type": "integer",
    "minimum": 0,
    "description": "optional: the version you read; the write fails with 409 if the pack changed since",
}
_UPDATED_AT_DOC = {"description": "ignored (read-only, echoed from GET)"}


def policy_input_schema() -> dict[str, Any]:
    return _with_read_only(
        inline_schema(PolicyPackInput.model_json_schema()),
        {"version": _VERSION_DOC, "updated_at": _UPDATED_AT_DOC},
    )


def domain_input_schema() -> dict[str, Any]:
    return _with_read_only(
        inline_schema(DomainPackInput.model_json_schema()),
        {
            "version": _VERSION_DOC,
            "updated_at": _UPDATED_AT_DOC,
            "domain": {"type": "string", "description": "optional; must equal the path's domain"},
        },
    )
