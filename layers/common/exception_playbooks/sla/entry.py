"""What the SLA function does with one invocation (the handler only supplies the ports).

Three shapes arrive:

* ``{"kind": "sla_mark", "tenant_id", "exception_id", "threshold", "deadline"}`` from a schedule:
  ring the mark (``clock.ring``);
* ``{"kind": "approval_expiry", "tenant_id", "exception_id"}`` from a schedule: record
  ApprovalExpired when the pending request has run out;
* a timeline event envelope from the bus (``bus.SLA_SYNC_RULE``): sync the exception's schedules.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..agents.envelope import parse_trigger
from ..execution.approvals import expire_approval
from ..models.common import ID_PATTERN
from ..repository.bundle import Repositories
from ..tenancy import tenant_scope
from . import marks
from .clock import ring, sync_schedules
from .scheduler import Scheduler

_Id = Field(pattern=ID_PATTERN)


class MarkInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    tenant_id: str = _Id
    exception_id: str = _Id
    threshold: str = Field(pattern=r"^(breach|warn:[0-9]{1,5})$")
    deadline: str = Field(max_length=40)


class ExpiryInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str
    tenant_id: str = _Id
    exception_id: str = _Id


def handle(event: dict[str, Any], repos: Repositories, scheduler: Scheduler) -> dict[str, Any]:
    # Every DynamoDB call runs in the tenant session of the validated input (tenancy.py).
    kind = event.get("kind")
    if kind == marks.KIND_MARK:
        mark = MarkInput.model_validate(event)
        with tenant_scope(mark.tenant_id):
            outcome = ring(repos, mark.tenant_id, mark.exception_id, mark.threshold, mark.deadline)
        return {"kind": kind, **outcome.as_dict()}
    if kind == marks.KIND_APPROVAL_EXPIRY:
        expiry = ExpiryInput.model_validate(event)
        with tenant_scope(expiry.tenant_id):
            expired = expire_approval(repos, expiry.tenant_id, expiry.exception_id)
        return {"kind": kind, "expired": expired}
    trigger = parse_trigger(event)
    with tenant_scope(trigger.tenant_id):
        result = sync_schedules(repos, scheduler, trigger.tenant_id, trigger.exception_id)
    return {
        "kind": "sync",
        "put": result.put,
        "deleted": result.deleted,
        "rung": [outcome.as_dict() for outcome in result.rung],
    }
