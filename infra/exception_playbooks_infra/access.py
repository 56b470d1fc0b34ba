"""Which DynamoDB actions each function may use: the single, reviewable source of every data grant.

IAM evaluates the items of TransactWriteItems / TransactGetItems with the per-item actions
(Put -> dynamodb:PutItem, Update -> dynamodb:UpdateItem, ConditionCheck ->
dynamodb:ConditionCheckItem, Get -> dynamodb:GetItem); there is no separate transaction action
to grant. The events table is append-only: functions may only put and read events there.

These lists say what each function uses; the grants themselves are on the tenant-data role
(``tenant_access.py``, actions from ``tenant_guard.TENANT_DATA_ACTIONS``, each under a
``dynamodb:LeadingKeys`` condition), which every table-using function assumes per tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

from exception_playbooks.bus import AgentRule
from exception_playbooks.repository.exceptions import QUEUE_INDEXES as QUEUES

GET_ITEM = "dynamodb:GetItem"
BATCH_GET_ITEM = "dynamodb:BatchGetItem"
PUT_ITEM = "dynamodb:PutItem"
UPDATE_ITEM = "dynamodb:UpdateItem"
DELETE_ITEM = "dynamodb:DeleteItem"
CONDITION_CHECK_ITEM = "dynamodb:ConditionCheckItem"
QUERY = "dynamodb:Query"

BY_TENANT_INDEX = "by_tenant"
PLAYBOOKS_INDEX = "playbooks"
QUEUE_INDEXES = tuple(queue.name for queue in QUEUES.values())  # the exception list's orders
STATE_INDEXES = (BY_TENANT_INDEX, PLAYBOOKS_INDEX, *QUEUE_INDEXES)

# The only actions any function may hold on the append-only events table.
EVENTS_TABLE_ALLOWED_ACTIONS = frozenset({PUT_ITEM, QUERY, GET_ITEM})


@dataclass(frozen=True)
class TableAccess:
    """Actions on the table's own ARN, plus Query on the named indexes."""

    table_actions: frozenset[str]
    query_indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FunctionAccess:
    state: TableAccess | None = None
    events: TableAccess | None = None
    publish_notifications: bool = False  # events:PutEvents on the bus, source NOTIFICATION_SOURCE only

    def __post_init__(self) -> None:
        if self.events is not None:
            forbidden = self.events.table_actions - EVENTS_TABLE_ALLOWED_ACTIONS
            if forbidden or self.events.query_indexes:
                raise ValueError(f"the events table is append-only; refused {sorted(forbidden)}")
        if self.state is not None:
            unknown = set(self.state.query_indexes) - set(STATE_INDEXES)
            if unknown:
                raise ValueError(f"the state table has no index {sorted(unknown)}")


def _actions(*actions: str) -> frozenset[str]:
    return frozenset(actions)


API_ACCESS: dict[str, FunctionAccess] = {
    "exceptions": FunctionAccess(
        state=TableAccess(
            # Query on the table: a PATCH that re-matches reads candidate summaries by key
            _actions(GET_ITEM, PUT_ITEM, UPDATE_ITEM, BATCH_GET_ITEM, QUERY, CONDITION_CHECK_ITEM),
            query_indexes=(BY_TENANT_INDEX, *QUEUE_INDEXES),
        ),
        events=TableAccess(_actions(PUT_ITEM, QUERY)),
    ),
    "status": FunctionAccess(state=TableAccess(_actions(GET_ITEM))),
    "match": FunctionAccess(
        # BatchGetItem: the exception with the catalogue stamps; Query: candidate summaries by key
        state=TableAccess(
            # (the same BatchGetItem carries the packs head: decisions use the policy in force)
            _actions(GET_ITEM, BATCH_GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM, CONDITION_CHECK_ITEM),
            query_indexes=(BY_TENANT_INDEX,),
        ),
        events=TableAccess(_actions(PUT_ITEM, QUERY)),
    ),
    "execute": FunctionAccess(
        state=TableAccess(_actions(GET_ITEM, BATCH_GET_ITEM, PUT_ITEM, UPDATE_ITEM, CONDITION_CHECK_ITEM)),
        events=TableAccess(_actions(PUT_ITEM)),
    ),
    "playbooks": FunctionAccess(
        state=TableAccess(
            # DeleteItem: drafts (deleted, or consumed by publishing), a deactivated playbook's
            # candidate summary (in the deactivating transaction).
            # BatchGetItem: a pack write reads LATEST with the packs head (generation).
            _actions(
                GET_ITEM, BATCH_GET_ITEM, PUT_ITEM, UPDATE_ITEM, DELETE_ITEM, QUERY, CONDITION_CHECK_ITEM
            ),
            query_indexes=STATE_INDEXES,
        ),
    ),
}

AGENT_ACCESS = FunctionAccess(
    # BatchGetItem + Query on the table: matching agents read the exception with the catalogue
    # stamps and the packs head, then candidate summaries by key
    state=TableAccess(
        _actions(GET_ITEM, BATCH_GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM, CONDITION_CHECK_ITEM),
        query_indexes=(BY_TENANT_INDEX,),
    ),
    events=TableAccess(_actions(PUT_ITEM, QUERY)),
)

# The relay only turns a committed NotificationSent (all it needs is in the event) into a
# NotificationRequested on the bus: no table access at all.
NOTIFICATION_RELAY_HANDLER = "notification_relay_handler"
NOTIFICATION_RELAY_ACCESS = FunctionAccess(publish_notifications=True)


def agent_access(rule: AgentRule) -> FunctionAccess:
    return NOTIFICATION_RELAY_ACCESS if rule.handler == NOTIFICATION_RELAY_HANDLER else AGENT_ACCESS


def api_access(function: str) -> FunctionAccess:
    try:
        return API_ACCESS[function]
    except KeyError:
        raise KeyError(f"routes.py names function group {function!r}: add its grants to API_ACCESS") from None
