"""Cognito pre-token-generation rules (trigger event V3_0): the claims the API reads from access tokens.

Deployed, every API method asks the Cognito authorizer for an access token carrying one of the
API's scopes (infra api.py), so the tenant must be *in the access token*, which Cognito does not do
by itself. This trigger adds it:

- a person (web client, authorization code + PKCE; MFA is required pool-wide): ``tenant_id`` from
  the immutable ``custom:tenant_id`` attribute; Cognito keeps ``username`` and ``cognito:groups``;
- a machine (client-credentials grant, ``TokenGeneration_ClientCredentials``): the app client has
  no user, so its tenant, the actor name it writes to timelines and its roles come from a per-client
  mapping an operator stores (SSM parameter ``<prefix><client_id>``, docs/operations.md). A client
  without a valid mapping gets no token at all.

Claim names: Cognito reserves the ``cognito:`` namespace and the registered JWT claims (``sub``,
``client_id``, ``username``, ``scope``, ...) in access tokens, so the added ones are plain
``tenant_id``, ``actor`` and ``roles`` (exception_playbooks.auth reads them).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .auth import (
    ACTOR_CLAIM,
    ID_TOKEN_TENANT_CLAIM,
    RESERVED_ACTOR_IDS,
    ROLES_CLAIM,
    TENANT_CLAIM,
    is_username,
)
from .cache import BoundedCache
from .models.common import is_identifier
from .models.enums import Role

TENANT_ATTRIBUTE = ID_TOKEN_TENANT_CLAIM  # the user attribute the ID token's claim comes from
CLIENT_CREDENTIALS = "TokenGeneration_ClientCredentials"

# Cognito app client ids are letters and digits; anything else never names a parameter.
_CLIENT_ID = re.compile(r"[A-Za-z0-9]{1,128}")
MAX_MAPPING_BYTES = 4096  # an SSM standard parameter holds at most 4 KB
MAPPING_TTL_SECONDS = 60.0  # a changed or deleted mapping takes effect within a minute
MAPPING_CACHE_ENTRIES = 256

# client id -> the stored mapping (JSON text), or None when there is none
MappingLookup = Callable[[str], "str | None"]


class TokenRefused(Exception):
    """Raised inside the trigger: Cognito answers the token request with an error and no tokens."""


@dataclass(frozen=True)
class AutomationClient:
    """What one client-credentials app client is: a machine of one tenant with fixed roles."""

    tenant_id: str
    username: str
    roles: tuple[str, ...]


def parse_mapping(raw: str) -> AutomationClient:
    """``{"tenant_id": ..., "username": ..., "roles": [...]}``, strictly; anything else is refused."""
    if len(raw.encode()) > MAX_MAPPING_BYTES:
        raise TokenRefused("The automation client's mapping is too large")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise TokenRefused("The automation client's mapping is not JSON") from exc
    if not isinstance(data, dict) or set(data) != {"tenant_id", "username", "roles"}:
        raise TokenRefused("The automation client's mapping needs exactly tenant_id, username and roles")
    tenant, username, roles = data["tenant_id"], data["username"], data["roles"]
    if not is_identifier(tenant):
        raise TokenRefused("The automation client's tenant_id is not a valid id")
    if not is_username(username) or username in RESERVED_ACTOR_IDS:
        raise TokenRefused("The automation client's username is not a valid username of its own")
    if (
        not isinstance(roles, list)
        or not roles
        or len(roles) > len(Role)
        or not all(isinstance(r, str) and r in Role._value2member_map_ for r in roles)
    ):
        raise TokenRefused(f"The automation client's roles must be a non-empty list of {sorted(Role)}")
    return AutomationClient(tenant_id=tenant, username=username, roles=tuple(dict.fromkeys(roles)))


class AutomationClients:
    """Client id -> mapping, read lazily, cached bounded and for at most ``ttl_seconds``.

    Only found mappings are cached, so a newly onboarded client works at once; a removed or
    changed one stops working within ``ttl_seconds``.
    """

    def __init__(
        self,
        lookup: MappingLookup,
        *,
        ttl_seconds: float = MAPPING_TTL_SECONDS,
        max_entries: int = MAPPING_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: BoundedCache[str, tuple[float, AutomationClient]] = BoundedCache(
            max_entries, max_entries * MAX_MAPPING_BYTES
        )

    def get(self, client_id: object) -> AutomationClient:
        if not isinstance(client_id, str) or _CLIENT_ID.fullmatch(client_id) is None:
            raise TokenRefused("The app client id is not valid")
        now = self._clock()
        cached = self._cache.get(client_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        raw = self._lookup(client_id)
        if raw is None:
            self._cache.discard(client_id)
            raise TokenRefused("This app client is not registered as an automation client")
        client = parse_mapping(raw)
        self._cache.put(client_id, (now + self._ttl, client), len(raw.encode()))
        return client


def _add_access_claims(event: dict[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
    event["response"] = {
        "claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"claimsToAddOrOverride": claims}}
    }
    return event


def customize_tokens(event: dict[str, Any], clients: AutomationClients) -> dict[str, Any]:
    """The trigger's answer: the event with the access-token claims added, or TokenRefused."""
    # A client-credentials event has no user; either sign makes it one (unproven against a real
    # pool: a user event for a machine would find no tenant and be refused, so it fails closed).
    if event.get("triggerSource") == CLIENT_CREDENTIALS or not event.get("userName"):
        client = clients.get((event.get("callerContext") or {}).get("clientId"))
        return _add_access_claims(
            event,
            {TENANT_CLAIM: client.tenant_id, ACTOR_CLAIM: client.username, ROLES_CLAIM: list(client.roles)},
        )
    tenant = ((event.get("request") or {}).get("userAttributes") or {}).get(TENANT_ATTRIBUTE)
    if not is_identifier(tenant):
        raise TokenRefused("This user belongs to no tenant; an administrator must set custom:tenant_id")
    return _add_access_claims(event, {TENANT_CLAIM: tenant})
