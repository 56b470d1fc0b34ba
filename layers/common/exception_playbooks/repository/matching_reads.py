"""Exceptions read for matching in bulk (the impact preview): the list index, newest first,
projected to what matching and the preview need.

Separate from ``ExceptionRepository.list`` (the API's page, with opaque cursors and filters): a
preview reads many pages in one request and never needs ``raw_payload``, ``summary`` or the
owner, which are most of an item's bytes (and of the time spent decoding it).
"""

from __future__ import annotations

from typing import Any

from .. import keys
from ..models.exception import ExceptionRecord
from .dynamo import Dynamo
from .exceptions import BY_TENANT_INDEX

# What ``effective_view`` and the preview read, plus the index keys to page on.
MATCHING_FIELDS = (
    "exception_id",
    "domain",
    "exception_type",
    "severity",
    "given_severity",
    "severity_set_by_human",
    "status",
    "sla_deadline",
    "policy_tags",
    "attributes",
    "created_at",
    "updated_at",
    "projection",
    "pk",
    "sk",
    "gsi1pk",
    "gsi1sk",
)
_NAMES = {f"#f{i}": name for i, name in enumerate(MATCHING_FIELDS)}
_PROJECTION = ", ".join(_NAMES)


def newest_exceptions(
    dynamo: Dynamo, tenant_id: str, limit: int, start: dict[str, Any] | None
) -> tuple[list[ExceptionRecord], dict[str, Any] | None]:
    """One Query: up to ``limit`` exceptions after ``start`` (None: the newest), and where to go on."""
    items, last = dynamo.query_page(
        dynamo.state_table,
        index=BY_TENANT_INDEX,
        key_condition="gsi1pk = :pk",
        values={":pk": keys.exceptions_list_pk(tenant_id)},
        names=dict(_NAMES),
        projection=_PROJECTION,
        limit=limit,
        start_key=start,
        forward=False,
    )
    return [ExceptionRecord.model_validate(item) for item in items], last
