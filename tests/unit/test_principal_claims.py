"""The principal parser: ID-token claims (the contract, local tokens) and deployed access-token claims."""

from __future__ import annotations

from typing import Any

import pytest
from exception_playbooks.auth import principal_from_claims
from exception_playbooks.errors import Unauthorized
from exception_playbooks.models.enums import ActorType, Role


def _id_token(**extra: Any) -> dict[str, Any]:
    return {
        "token_use": "id",
        "custom:tenant_id": "acme",
        "cognito:username": "alice",
        "cognito:groups": "operator,automation",
        **extra,
    }


def _user_access_token(**extra: Any) -> dict[str, Any]:
    """What API Gateway passes for the web client's access token (claims flattened to strings)."""
    return {
        "token_use": "access",
        "client_id": "web1234",
        "username": "alice",
        "cognito:groups": "[operator automation]",
        "scope": "openid exception-playbooks/api",
        "tenant_id": "acme",
        **extra,
    }


def _machine_access_token(**extra: Any) -> dict[str, Any]:
    """A client-credentials token: no user; the trigger added tenant_id, actor and roles."""
    return {
        "token_use": "access",
        "client_id": "machine42",
        "sub": "machine42",
        "scope": "exception-playbooks/automation",
        "tenant_id": "acme",
        "actor": "erp-sync",
        "roles": "[automation]",
        **extra,
    }


def test_id_token_claims_as_the_contract_states() -> None:
    principal = principal_from_claims(_id_token())
    assert (principal.tenant_id, principal.username) == ("acme", "alice")
    assert principal.roles == {Role.OPERATOR, Role.AUTOMATION}


def test_a_persons_access_token() -> None:
    principal = principal_from_claims(_user_access_token())
    assert (principal.tenant_id, principal.username) == ("acme", "alice")
    assert principal.roles == {Role.OPERATOR, Role.AUTOMATION}
    # as a JSON list too (a local authorizer, or a future API Gateway format)
    listed = principal_from_claims(_user_access_token(**{"cognito:groups": ["viewer"]}))
    assert listed.roles == {Role.VIEWER}


def test_a_machines_access_token_acts_as_its_mapped_actor() -> None:
    principal = principal_from_claims(_machine_access_token())
    assert (principal.tenant_id, principal.username) == ("acme", "erp-sync")
    assert principal.roles == {Role.AUTOMATION}
    assert principal.resolve_actor(ActorType.AGENT, "erp-sync:nightly") == (
        ActorType.AGENT,
        "erp-sync:nightly",
    )
    assert principal_from_claims(_machine_access_token(roles=["automation"])).roles == {Role.AUTOMATION}


@pytest.mark.parametrize(
    "claims",
    [
        # an access token's tenant is only the trigger's tenant_id claim, never custom:tenant_id
        {k: v for k, v in _user_access_token().items() if k != "tenant_id"} | {"custom:tenant_id": "acme"},
        _user_access_token(tenant_id="acme\n"),
        _user_access_token(tenant_id="a b"),
        _user_access_token(username="al ice"),
        _user_access_token(username=""),
        _user_access_token(actor="erp-sync"),  # a person's token never carries a machine's claims
        _user_access_token(roles="[admin]"),
        {k: v for k, v in _machine_access_token().items() if k != "actor"},
        {k: v for k, v in _machine_access_token().items() if k != "client_id"},
        _machine_access_token(actor="erp sync"),
        _machine_access_token(tenant_id=""),
        _machine_access_token(**{"cognito:groups": "admin"}),
        # an ID-token shape never reads the access-token claims
        {"token_use": "id", "tenant_id": "acme", "username": "alice", "cognito:groups": "admin"},
    ],
)
def test_malformed_or_mixed_claims_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized):
        principal_from_claims(claims)


def test_a_machine_gets_only_the_roles_its_token_names() -> None:
    assert principal_from_claims(_machine_access_token(roles="[viewer]")).roles == {Role.VIEWER}
    assert principal_from_claims(_machine_access_token(roles="[superuser]")).roles == frozenset()
