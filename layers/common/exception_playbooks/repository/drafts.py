"""Playbook drafts: one item each, listed through the ``playbooks`` index under their own key.

A draft item carries no ``gsi1`` keys, so it is never in the active-candidates index: matching,
simulation and the agents cannot see it. Publishing stages the new version (see
``PlaybookRepository.stage_version``) and the draft's deletion in one transaction.
"""

from __future__ import annotations

from typing import Any

from .. import keys
from ..errors import Conflict, NotFound
from ..models.draft import Draft
from .dynamo import ConditionFailed, Dynamo, Transaction
from .playbooks import PLAYBOOKS_INDEX

MAX_DRAFTS_LISTED = 500


def draft_or_playbook_changed() -> Conflict:
    """Publishing a draft lost a race: the draft or its playbook moved (nothing was written)."""
    return Conflict(
        "The draft or its playbook changed concurrently; reload and retry", code="CONCURRENT_MODIFICATION"
    )


def draft_not_found(draft_id: str) -> NotFound:
    return NotFound(f"Draft {draft_id!r} was not found", code="DRAFT_NOT_FOUND")


def draft_changed() -> Conflict:
    return Conflict("The draft changed concurrently; reload and retry", code="CONCURRENT_MODIFICATION")


class DraftRepository:
    def __init__(self, dynamo: Dynamo):
        self.dynamo = dynamo

    def get(self, tenant_id: str, draft_id: str) -> Draft:
        item = self.dynamo.get(self.dynamo.state_table, keys.draft_key(tenant_id, draft_id))
        if not item:
            raise draft_not_found(draft_id)
        return Draft.model_validate(item)

    def list(self, tenant_id: str) -> list[Draft]:
        """Every draft of the tenant (bounded), oldest id first."""
        items, _ = self.dynamo.query_page(
            self.dynamo.state_table,
            index=PLAYBOOKS_INDEX,
            key_condition="gsi2pk = :pk",
            values={":pk": keys.drafts_list_pk(tenant_id)},
            limit=MAX_DRAFTS_LISTED,
        )
        return [Draft.model_validate(item) for item in items]

    def save(self, tenant_id: str, draft: Draft, *, expected_revision: int | None) -> Draft:
        """Create (``expected_revision`` None) or replace the draft at that revision."""
        item = self._item(tenant_id, draft)
        try:
            if expected_revision is None:
                self.dynamo.call(
                    "put_item",
                    TableName=self.dynamo.state_table,
                    Item=self.dynamo.serialize(item),
                    ConditionExpression="attribute_not_exists(pk)",
                )
            else:
                self.dynamo.call(
                    "put_item",
                    TableName=self.dynamo.state_table,
                    Item=self.dynamo.serialize(item),
                    ConditionExpression="revision = :r",
                    ExpressionAttributeValues=self.dynamo.serialize({":r": expected_revision}),
                )
        except ConditionFailed as error:
            raise draft_changed() from error
        return draft

    def delete(self, tenant_id: str, draft_id: str, *, expected_revision: int | None = None) -> None:
        condition, values = "attribute_exists(pk)", None
        if expected_revision is not None:
            condition, values = "revision = :r", {":r": expected_revision}
        try:
            self.dynamo.call(
                "delete_item",
                TableName=self.dynamo.state_table,
                Key=self.dynamo.serialize(keys.draft_key(tenant_id, draft_id)),
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": self.dynamo.serialize(values)} if values else {}),
            )
        except ConditionFailed as error:
            raise (draft_changed() if expected_revision is not None else draft_not_found(draft_id)) from error

    def stage_removal(self, transaction: Transaction, tenant_id: str, draft: Draft) -> None:
        """Publishing consumes the draft: it must still be at the revision that was linted."""
        transaction.delete(
            self.dynamo.state_table,
            keys.draft_key(tenant_id, draft.draft_id),
            condition="revision = :r",
            values={":r": draft.revision},
            label="draft",
        )

    @staticmethod
    def _item(tenant_id: str, draft: Draft) -> dict[str, Any]:
        return {
            **draft.model_dump(mode="json"),
            **keys.draft_key(tenant_id, draft.draft_id),
            "tenant_id": tenant_id,
            "gsi2pk": keys.drafts_list_pk(tenant_id),
            "gsi2sk": draft.draft_id,
        }
