"""Playbooks: authoring input and immutable stored versions with ordered steps."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from .common import MAX_DESCRIPTION, MAX_STEPS, InputModel, Name
from .enums import ActionType


def _normalise_legacy_conditions(raw: Any) -> Any:
    """Accept the legacy form (match keys at the root) and store it as ``{"match", "priority"}``."""
    # Imported lazily: ``matching`` imports this module.
    from ..matching.language import normalise_conditions

    return normalise_conditions(raw)


class DerivedCache:
    """Holder for values derived from an immutable model (e.g. its compiled conditions).

    A derived value never takes part in equality, copying or pickling: two equal versions stay
    equal whether or not one of them has been compiled, and a copy recompiles on first use.
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: Any = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DerivedCache)

    __hash__ = None  # type: ignore[assignment]

    def __deepcopy__(self, memo: dict[int, Any]) -> DerivedCache:
        return DerivedCache()

    def __reduce__(self) -> tuple[type[DerivedCache], tuple[()]]:
        return (DerivedCache, ())

    def __repr__(self) -> str:
        return "DerivedCache()"


class StepInput(InputModel):
    name: Name
    action_type: ActionType
    params: dict[str, Any] = Field(default_factory=dict)
    requires_approval: bool = False
    skippable: bool = True


class ConditionsInput(InputModel):
    match: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)

    _legacy = model_validator(mode="before")(_normalise_legacy_conditions)


class PlaybookInput(InputModel):
    name: Name
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None
    conditions: ConditionsInput = Field(default_factory=ConditionsInput)
    steps: Annotated[list[StepInput], Field(min_length=1, max_length=MAX_STEPS)]


class Step(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    step_order: int
    name: str
    action_type: ActionType
    params: dict[str, Any] = Field(default_factory=dict)
    requires_approval: bool = False
    skippable: bool = True


class Conditions(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    match: dict[str, Any] = Field(default_factory=dict)
    priority: int = 0

    _legacy = model_validator(mode="before")(_normalise_legacy_conditions)


class PlaybookVersion(BaseModel):
    """One immutable version of a playbook. Safe to cache forever by (tenant, id, version)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    playbook_id: str
    version: int
    name: str
    description: str | None = None
    conditions: Conditions
    steps: tuple[Step, ...]
    created_at: str
    created_by: str | None = None
    active: bool = True
    # Compiled conditions, filled by ``matching`` on first use (versions are immutable).
    _derived: DerivedCache = PrivateAttr(default_factory=DerivedCache)

    @property
    def domain(self) -> str | None:
        value = self.conditions.match.get("domain")
        return value if isinstance(value, str) else None

    def step(self, order: int) -> Step | None:
        if 1 <= order <= len(self.steps):
            return self.steps[order - 1]
        return None

    def summary_dict(self) -> dict[str, Any]:
        """The playbook header as the status and recalculate answers show it."""
        return {
            "playbook_id": self.playbook_id,
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "conditions": self.conditions.model_dump(mode="json"),
        }

    def to_api(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["steps"] = [s.model_dump(mode="json") for s in self.steps]
        return data
