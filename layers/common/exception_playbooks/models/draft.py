"""Playbook drafts: an authoring document saved without going live (never matched)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Draft(BaseModel):
    """A draft of a new playbook (``playbook_id`` None) or of the next version of one."""

    model_config = ConfigDict(extra="ignore")

    draft_id: str
    playbook_id: str | None = None  # the playbook it will become the next version of
    base_version: int | None = None  # that playbook's latest version when the draft was based on it
    body: dict[str, Any]  # the validated authoring document (what POST/PUT /api/playbooks take)
    revision: int = 1  # bumps on every save: optimistic locking for edits, discard and publish
    created_at: str
    created_by: str | None = None
    updated_at: str
    updated_by: str | None = None

    API_FIELDS: ClassVar[tuple[str, ...]] = (
        "draft_id",
        "playbook_id",
        "base_version",
        "body",
        "revision",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
    )

    def to_api(self) -> dict[str, Any]:
        return self.model_dump(mode="json", include=set(self.API_FIELDS))
