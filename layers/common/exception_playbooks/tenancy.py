"""Tenant-scoped DynamoDB access: the session's tenant, and the port that yields its client.

In AWS a function's own role holds no DynamoDB permission at all. For each tenant it assumes the
tenant-data role with a ``tenant_id`` session tag; that role allows the two tables and their
indexes only where ``dynamodb:LeadingKeys`` is like ``T#${aws:PrincipalTag/tenant_id}#*``
(infra: ``tenant_access.py``). So a missing tenant check, or a compromised function, can reach
one tenant's items, never another's.

Who the tenant is comes from the entry point, never from a key: the API handler binds the tenant
of the verified token, an agent the tenant of a checked timeline event (``tenant_scope``). The
binding lives in a ``ContextVar``, so two threads (the local stack) never see each other's.

``ClientProvider`` implementations:

* ``StsTenantClients`` (deployed): AssumeRole + TagSession per tenant, credentials cached per
  tenant in the warm container (bounded LRU) and refreshed before they expire;
* ``GuardedClient`` (local stack, tests): one client with ``tenant_guard`` installed, which
  refuses what the tenant-data role's policy would refuse (AccessDeniedException).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from .config import Settings

TENANT_TAG = "tenant_id"  # the session tag the tenant-data role's LeadingKeys condition reads
# AssumeRole's minimum; refreshed REFRESH_BEFORE_SECONDS before the end, so a call never carries
# credentials that expire in flight.
SESSION_SECONDS = 900
REFRESH_BEFORE_SECONDS = 300
# Tenants whose credentials (and client) a warm container keeps; the least recently used goes.
MAX_CACHED_TENANTS = 32

_TENANT: ContextVar[str | None] = ContextVar("exception_playbooks_tenant", default=None)


@contextmanager
def tenant_scope(tenant_id: str) -> Iterator[None]:
    """Every DynamoDB call inside runs with ``tenant_id``'s credentials (or guard)."""
    token = _TENANT.set(tenant_id)
    try:
        yield
    finally:
        _TENANT.reset(token)


def current_tenant() -> str | None:
    return _TENANT.get()


def access_denied(operation: str, message: str) -> Exception:
    """The error DynamoDB answers when IAM refuses a call (a botocore ClientError)."""
    from botocore.exceptions import ClientError

    return ClientError(
        {
            "Error": {"Code": "AccessDeniedException", "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        },
        operation,
    )


class ClientProvider(Protocol):
    def client(self, tenant_id: str | None) -> Any:
        """A DynamoDB client whose calls can reach ``tenant_id``'s items only."""


class SharedClient:
    """One client for every tenant, as given (tests that install the guard themselves)."""

    def __init__(self, client: Any):
        self._client = client

    def client(self, tenant_id: str | None) -> Any:
        return self._client


class GuardedClient:
    """One lazily created client with the local tenant guard installed (no STS locally)."""

    def __init__(self, config: Settings, client: Any = None):
        self._config = config
        self._client = client
        self._lock = threading.Lock()

    def client(self, tenant_id: str | None) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    from .tenant_guard import install_tenant_guard

                    client = boto3.client("dynamodb", region_name=self._config.aws_region)
                    install_tenant_guard(client, self._config)
                    self._client = client
        return self._client


@dataclass
class _Session:
    client: Any
    expires_at: float


class StsTenantClients:
    """Per-tenant clients on credentials of the tenant-data role, tagged with the tenant.

    Cost: one AssumeRole per tenant per container and then one per ~10 minutes per active tenant
    (``SESSION_SECONDS`` - ``REFRESH_BEFORE_SECONDS``); ``assume_calls`` counts them.
    """

    def __init__(
        self,
        role_arn: str,
        region: str,
        *,
        max_tenants: int = MAX_CACHED_TENANTS,
        sts: Any = None,
        clock: Callable[[], float] = time.time,
        client_factory: Callable[[dict[str, str]], Any] | None = None,
    ):
        if max_tenants < 1:
            raise ValueError("max_tenants must be at least 1")
        self.role_arn = role_arn
        self.region = region
        self.max_tenants = max_tenants
        self.assume_calls = 0
        self._sts = sts
        self._clock = clock
        self._client_factory = client_factory
        self._boto_session: Any = None
        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._lock = threading.Lock()

    def client(self, tenant_id: str | None) -> Any:
        if not tenant_id:
            # The function's own role holds no DynamoDB permission: refuse here, as AWS would.
            raise access_denied("DynamoDB", "no tenant session is bound (tenancy.tenant_scope)")
        with self._lock:
            session = self._sessions.get(tenant_id)
            if session is None or session.expires_at - self._clock() <= REFRESH_BEFORE_SECONDS:
                session = self._assume(tenant_id)
                self._sessions[tenant_id] = session
            self._sessions.move_to_end(tenant_id)
            while len(self._sessions) > self.max_tenants:
                self._sessions.popitem(last=False)
            return session.client

    def cached_tenants(self) -> list[str]:
        with self._lock:
            return list(self._sessions)

    def _boto(self) -> Any:
        if self._boto_session is None:
            import boto3

            self._boto_session = boto3.session.Session(region_name=self.region)
        return self._boto_session

    def _assume(self, tenant_id: str) -> _Session:
        if self._sts is None:
            self._sts = self._boto().client("sts", region_name=self.region)
        response = self._sts.assume_role(
            RoleArn=self.role_arn,
            RoleSessionName=f"tenant-{tenant_id}"[:64].replace(":", "-"),
            DurationSeconds=SESSION_SECONDS,
            Tags=[{"Key": TENANT_TAG, "Value": tenant_id}],
        )
        self.assume_calls += 1
        credentials = response["Credentials"]
        secrets = {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        }
        if self._client_factory is not None:
            client = self._client_factory(secrets)
        else:
            client = self._boto().client("dynamodb", region_name=self.region, **secrets)
        return _Session(client=client, expires_at=credentials["Expiration"].timestamp())


def default_client_provider(config: Settings) -> ClientProvider:
    """Deployed (a tenant-data role is configured): STS sessions; otherwise the guarded local client."""
    if config.tenant_data_role_arn:
        return StsTenantClients(config.tenant_data_role_arn, config.aws_region)
    return GuardedClient(config)
