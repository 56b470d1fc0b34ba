"""The tenant-data role's policy, and a botocore hook that enforces it on a local client.

``TENANT_DATA_ACTIONS`` is the one list of what the tenant-data role may do on each table; the
CDK role (infra ``tenant_access.py``) is generated from it, and ``install_tenant_guard`` refuses,
before anything is sent, every call that policy would refuse:

* an action the role does not hold on that table (Scan, PartiQL, BatchWriteItem, anything but
  put and read on the events table, anything on an unknown table) -> AccessDeniedException;
* any partition key value outside the bound tenant's prefix ``T#<tenant>#`` (the
  ``dynamodb:LeadingKeys`` condition): Key/Item of single-item calls, every BatchGet key, every
  transaction item, the partition key of a Query's key condition (table or index);
* a call with no tenant bound (the function's own role holds no DynamoDB permission).

IAM cannot see condition expressions, so the append-only rule for the events table is enforced
here in code: a Put of an event must carry ``attribute_not_exists(...)`` (no overwrite).

Partition key attributes are named ``pk`` on the tables and ``gsi<N>pk`` on the indexes
(``keys.py``); a key condition names exactly one of them with ``=``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from . import keys
from .config import Settings

STATE = "state"
EVENTS = "events"
# The events table is append-only: put and read, nothing else (its resource policy denies
# UpdateItem, DeleteItem, BatchWriteItem and PartiQL to everyone but the break-glass role).
TENANT_DATA_ACTIONS: dict[str, frozenset[str]] = {
    STATE: frozenset(
        {
            "dynamodb:GetItem",
            "dynamodb:BatchGetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",  # playbook drafts are deleted (conditionally) or consumed on publish
            "dynamodb:ConditionCheckItem",
            "dynamodb:Query",
        }
    ),
    EVENTS: frozenset({"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"}),
}
# Indexes are only ever queried.
INDEX_ACTIONS = frozenset({"dynamodb:Query"})

_PARTITION_KEY = re.compile(r"^(gsi\d+)?pk$")
_EQUALITY = re.compile(r"(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)")
_SINGLE_ITEM = {"GetItem": "Key", "PutItem": "Item", "UpdateItem": "Key", "DeleteItem": "Key"}
_TRANSACT_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
_NO_OVERWRITE = re.compile(r"attribute_not_exists\s*\(")
_HOOK_EVENT = "before-parameter-build.dynamodb"
_HOOK_ID = "exception-playbooks-tenant-guard"


class TenantGuard:
    """Decides, for the bound tenant, whether the tenant-data role would allow one call."""

    def __init__(
        self,
        config: Settings,
        tenant: Callable[[], str | None],
        *,
        allow_unscoped: bool = False,
    ):
        self._tables = {config.state_table: STATE, config.events_table: EVENTS}
        self._tenant = tenant
        self._allow_unscoped = allow_unscoped

    def check(self, operation: str, params: dict[str, Any]) -> None:
        """Raises AccessDeniedException (a ClientError) where IAM would; returns otherwise."""
        tenant_id = self._tenant()
        if tenant_id is None:
            if self._allow_unscoped:
                return  # test set-up acting with table-wide rights (like an operator)
            self._deny(operation, "no tenant session is bound")
        assert tenant_id is not None
        prefix = keys.tenant_prefix(tenant_id)
        for action, table, index, leading, item, condition in self._requests(operation, params):
            kind = self._tables.get(table)
            allowed = INDEX_ACTIONS if index else TENANT_DATA_ACTIONS.get(kind or "", frozenset())
            if kind is None or (index and kind != STATE) or action not in allowed:
                self._deny(
                    operation, f"{action} is not allowed on {table}{'/index/' + index if index else ''}"
                )
            if leading is None or not leading.startswith(prefix):
                self._deny(operation, f"leading key {leading!r} is outside tenant {tenant_id!r}")
            if (
                kind == EVENTS
                and action == "dynamodb:PutItem"
                and item
                and not _NO_OVERWRITE.search(condition)
            ):
                self._deny(operation, "timeline events are append-only: a Put needs attribute_not_exists")

    def _deny(self, operation: str, message: str) -> None:
        from .tenancy import access_denied

        raise access_denied(operation, f"tenant guard: {message}")

    def _requests(
        self, operation: str, params: dict[str, Any]
    ) -> Iterable[tuple[str, str, str | None, str | None, bool, str]]:
        """(action, table, index, leading key, is a put, condition) for each item the call touches."""
        if operation in _SINGLE_ITEM:
            field = _SINGLE_ITEM[operation]
            yield (
                f"dynamodb:{operation}",
                params.get("TableName", ""),
                None,
                _leading(params.get(field)),
                operation == "PutItem",
                params.get("ConditionExpression", ""),
            )
        elif operation == "Query":
            yield (
                "dynamodb:Query",
                params.get("TableName", ""),
                params.get("IndexName"),
                _query_leading_key(params),
                False,
                "",
            )
        elif operation == "BatchGetItem":
            for table, request in (params.get("RequestItems") or {}).items():
                for key in request.get("Keys") or [None]:
                    yield "dynamodb:BatchGetItem", table, None, _leading(key), False, ""
        elif operation in ("TransactWriteItems", "TransactGetItems"):
            for entry in params.get("TransactItems") or []:
                for kind, body in entry.items():
                    field = "Item" if kind == "Put" else "Key"
                    yield (
                        _TRANSACT_ACTIONS.get(kind, f"dynamodb:{kind}"),
                        body.get("TableName", ""),
                        None,
                        _leading(body.get(field)),
                        kind == "Put",
                        body.get("ConditionExpression", ""),
                    )
        else:  # Scan, BatchWriteItem, PartiQL, DescribeTable, ...: the role holds none of them
            yield f"dynamodb:{operation}", params.get("TableName", "*"), None, None, False, ""


def _leading(key: Any) -> str | None:
    if not isinstance(key, dict):
        return None
    value = key.get("pk")
    return value.get("S") if isinstance(value, dict) else None


def _query_leading_key(params: dict[str, Any]) -> str | None:
    """The value the key condition gives the partition key (``pk`` or ``gsi<N>pk``), if exactly one."""
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    found = [
        values.get(placeholder)
        for name, placeholder in _EQUALITY.findall(params.get("KeyConditionExpression", ""))
        if _PARTITION_KEY.match(names.get(name, name))
    ]
    if len(found) != 1 or not isinstance(found[0], dict):
        return None
    value = found[0].get("S")
    return value if isinstance(value, str) else None


def install_tenant_guard(
    client: Any,
    config: Settings,
    *,
    allow_unscoped: bool = False,
    tenant: Callable[[], str | None] | None = None,
) -> TenantGuard:
    """Run every call of ``client`` through the guard (a ``before-parameter-build`` hook)."""
    from .tenancy import current_tenant

    guard = TenantGuard(config, tenant or current_tenant, allow_unscoped=allow_unscoped)

    def hook(params: dict[str, Any], model: Any, **_: Any) -> None:
        guard.check(model.name, params)

    # Re-installing (a test with other table names) replaces the previous guard of this client.
    client.meta.events.unregister(_HOOK_EVENT, unique_id=_HOOK_ID)
    client.meta.events.register(_HOOK_EVENT, hook, unique_id=_HOOK_ID)
    return guard


def remove_tenant_guard(client: Any) -> None:
    client.meta.events.unregister(_HOOK_EVENT, unique_id=_HOOK_ID)
