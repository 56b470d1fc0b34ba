"""Who is calling: the principal from the verified token claims, and role rules (API.md)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .bus import AGENTS
from .errors import Forbidden, Unauthorized
from .models.common import is_identifier
from .models.enums import ActorType, Role
from .models.event import SYSTEM_ACTOR

# The tenant of an ID token (the user's immutable attribute, which Cognito puts in ID tokens only).
ID_TOKEN_TENANT_CLAIM = "custom:tenant_id"
# Claims the pre-token-generation trigger adds to access tokens (identity.py sets them).
TENANT_CLAIM = "tenant_id"
ACTOR_CLAIM = "actor"
ROLES_CLAIM = "roles"
# A token's username: 1 to 128 characters, none of them whitespace or control characters.
_USERNAME = re.compile(r"[^\s\x00-\x1f\x7f]{1,128}")
# Actor ids the service itself writes (agents, the system): no token may act under them.
RESERVED_ACTOR_IDS = frozenset({SYSTEM_ACTOR.actor_id, *(rule.name for rule in AGENTS)})

# What each role may do; a token may hold several roles.
VIEW = frozenset({Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.AUTOMATION, Role.APPROVER})
OPERATE = frozenset({Role.OPERATOR, Role.ADMIN})
CREATE_EXCEPTION = frozenset({Role.OPERATOR, Role.ADMIN, Role.AUTOMATION})
ACT_ON_STEPS = frozenset({Role.OPERATOR, Role.ADMIN, Role.AUTOMATION})
AUTHOR = frozenset({Role.ADMIN})
# Approve/reject: people who may hold an approver role; automation reaches the use case only to be
# refused with a clear code (APPROVAL_BY_AUTOMATION). Which roles count is the tenant policy's say.
DECIDE_APPROVAL = frozenset({Role.OPERATOR, Role.ADMIN, Role.APPROVER, Role.AUTOMATION})


@dataclass(frozen=True)
class Principal:
    tenant_id: str
    username: str
    roles: frozenset[Role]

    def require(self, allowed: frozenset[Role]) -> None:
        if not self.roles & allowed:
            raise Forbidden("Your role does not allow this action", code="FORBIDDEN_ROLE")

    def resolve_actor(self, actor_type: ActorType, actor_id: str | None) -> tuple[ActorType, str]:
        """Who the timeline records. Every caller acts as itself (docs/api.md, "Actors"):

        - ``human`` (operator/admin): the token's username, nothing else;
        - ``agent`` / ``system`` (automation role only): the token's username, or
          ``<username>:<label>`` to name a part of that machine client. A machine client can thus
          never write a human's name or a built-in agent's name into the audit trail.
        """
        if self.username in RESERVED_ACTOR_IDS:
            raise Forbidden(
                f"{self.username!r} names one of the service's own actors; this token may not act on steps",
                code="FORBIDDEN_ACTOR",
            )
        if actor_type is ActorType.HUMAN:
            if not self.roles & OPERATE:
                raise Forbidden("Only operators act on steps as a human", code="FORBIDDEN_ACTOR")
            if actor_id is not None and actor_id != self.username:
                raise Forbidden("A human may only act as themselves", code="FORBIDDEN_ACTOR")
            return actor_type, self.username
        if Role.AUTOMATION not in self.roles:
            raise Forbidden("Only the automation role may act as an agent or system", code="FORBIDDEN_ACTOR")
        if actor_id is None or actor_id == self.username:
            return actor_type, self.username
        if actor_id.startswith(self.username + ":") and len(actor_id) > len(self.username) + 1:
            return actor_type, actor_id
        raise Forbidden(
            f"A machine client acts as itself: actor_id must be {self.username!r} or "
            f"'{self.username}:<label>'",
            code="FORBIDDEN_ACTOR",
            details={"allowed_actor_ids": [self.username, f"{self.username}:<label>"]},
        )


def is_username(value: object) -> bool:
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


def _roles(groups: object) -> frozenset[Role]:
    """Groups/roles as a list, or as API Gateway flattens one: "a,b", "a b" or "[a b]"."""
    if isinstance(groups, str):
        groups = [g for g in re.split(r"[,\s\[\]]+", groups) if g]
    if not isinstance(groups, list):
        return frozenset()
    return frozenset(Role(g) for g in groups if isinstance(g, str) and g in Role._value2member_map_)


def _tenant_username_groups(claims: dict[str, Any]) -> tuple[object, object, object]:
    """The three things a principal needs, from whichever token shape the claims are.

    - ID token (the API contract; the local stack's tokens): ``custom:tenant_id``,
      ``cognito:username``, ``cognito:groups``;
    - access token of a person (deployed web UI): ``tenant_id`` (added by the pre-token-generation
      trigger, identity.py), ``username``, ``cognito:groups``;
    - access token of a machine (client-credentials grant): ``client_id`` and no ``username``;
      ``tenant_id``, ``actor`` and ``roles`` from the client's mapping (identity.py).
    """
    if claims.get("token_use") != "access":
        username = claims.get("cognito:username") or claims.get("username") or claims.get("sub")
        return claims.get(ID_TOKEN_TENANT_CLAIM), username, claims.get("cognito:groups")
    if "username" in claims:
        if ACTOR_CLAIM in claims or ROLES_CLAIM in claims:
            return None, None, None  # a person's token never carries a machine's claims
        return claims.get(TENANT_CLAIM), claims.get("username"), claims.get("cognito:groups")
    if not claims.get("client_id") or "cognito:groups" in claims:
        return None, None, None
    return claims.get(TENANT_CLAIM), claims.get(ACTOR_CLAIM), claims.get(ROLES_CLAIM)


def principal_from_claims(claims: dict[str, Any] | None) -> Principal:
    """Claims as the Cognito user-pool authorizer passes them (strings; groups comma-separated or list)."""
    if not claims:
        raise Unauthorized("A valid bearer token is required")
    tenant, username, groups = _tenant_username_groups(claims)
    if (
        not isinstance(tenant, str)
        or not is_identifier(tenant)
        or not isinstance(username, str)
        or not is_username(username)
    ):
        raise Unauthorized("The token does not carry a tenant and a username")
    return Principal(tenant_id=tenant, username=username, roles=_roles(groups or []))
