"""Simulate matching: which playbook an exception would get and why. Nothing is written.

The same path as real matching: the tenant's packs, the effective view (severity overrides and
rules, tag rules, SLA from the current time), the active candidates and the guardrails.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from ..auth import VIEW, Principal
from ..execution import operations
from ..models.common import MAX_TAGS, BoundedObject, Identifier, InputModel, Name, Tag
from ..models.enums import Severity
from ..models.exception import AwareDatetime, DomainName, ExceptionRecord
from ..ports import iso
from ..repository.bundle import Repositories
from ..repository.playbooks import UNREAD

SIMULATED_EXCEPTION_ID = "SIMULATION"


class SimulatedException(InputModel):
    """An ad-hoc exception to match (as it would be created)."""

    domain: DomainName
    exception_type: Name
    severity: Severity | None = None
    sla_deadline: AwareDatetime | None = None
    policy_tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = Field(default_factory=list)
    attributes: BoundedObject = Field(default_factory=dict)


class SimulateRequest(InputModel):
    """Exactly one of ``exception`` (ad hoc) or ``exception_id`` (a stored one of the tenant)."""

    exception: SimulatedException | None = None
    exception_id: Identifier | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SimulateRequest:
        if (self.exception is None) == (self.exception_id is None):
            raise ValueError("give exactly one of 'exception' or 'exception_id'")
        return self


def simulate(repos: Repositories, principal: Principal, request: SimulateRequest) -> dict[str, Any]:
    """The recalculate answer shape with ``changed: false`` and ``current_step: null``."""
    principal.require(VIEW)
    tenant = principal.tenant_id
    if request.exception_id is not None:
        # What recalculate would decide now: one BatchGetItem (exception, packs head, catalogue
        # stamps), matched under the packs in force.
        current = operations.load_current(repos, tenant, request.exception_id, catalogue=True)
        record, packs, catalogue = current.record, current.packs, current.catalogue
        exception_id: str | None = record.exception_id
    else:
        assert request.exception is not None  # the model guarantees exactly one
        record = ad_hoc_record(request.exception, iso(repos.clock()))
        exception_id = None
        packs, catalogue = repos.packs.pack_set(tenant, record.domain), UNREAD
    result = operations.match(repos, tenant, record, packs, catalogue)
    return {
        "exception_id": exception_id,
        "changed": False,
        "playbook": result.winner.summary_dict() if result.winner else None,
        "current_step": None,
        "reasoning": result.reasoning_dict(),
    }


def ad_hoc_record(exception: SimulatedException, now: str) -> ExceptionRecord:
    """The record ``exception`` would be once created (severity given, nothing set by a person)."""
    return ExceptionRecord(
        exception_id=SIMULATED_EXCEPTION_ID,
        domain=exception.domain,
        exception_type=exception.exception_type,
        severity=exception.severity,
        given_severity=exception.severity,
        sla_deadline=iso(exception.sla_deadline) if exception.sla_deadline else None,
        policy_tags=list(exception.policy_tags),
        attributes=dict(exception.attributes),
        created_at=now,
        updated_at=now,
    )
