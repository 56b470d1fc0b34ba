"""All repositories over one DynamoDB client: the production default, injectable in tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..ports import Clock, IdGenerator, random_id, system_clock
from .agent_markers import AgentMarkerRepository
from .drafts import DraftRepository
from .dynamo import Dynamo
from .exceptions import ExceptionRepository
from .idempotency import IdempotencyRepository
from .packs import PackRepository
from .playbooks import PlaybookRepository
from .stats import StatsRepository


@dataclass
class Repositories:
    dynamo: Dynamo
    exceptions: ExceptionRepository
    playbooks: PlaybookRepository
    packs: PackRepository
    stats: StatsRepository
    idempotency: IdempotencyRepository
    agent_markers: AgentMarkerRepository
    clock: Clock
    ids: IdGenerator
    drafts: DraftRepository


def build_repositories(
    dynamo: Dynamo | None = None, clock: Clock = system_clock, ids: IdGenerator = random_id
) -> Repositories:
    dynamo = dynamo or Dynamo()
    return Repositories(
        dynamo=dynamo,
        exceptions=ExceptionRepository(dynamo, clock, ids),
        playbooks=PlaybookRepository(dynamo),
        packs=PackRepository(dynamo, clock),
        stats=StatsRepository(dynamo),
        idempotency=IdempotencyRepository(dynamo, clock),
        agent_markers=AgentMarkerRepository(dynamo, clock),
        clock=clock,
        ids=ids,
        drafts=DraftRepository(dynamo),
    )


@lru_cache(maxsize=1)
def default_repositories() -> Repositories:
    """Created on first use and reused across warm invocations."""
    return build_repositories()


def reset_default_repositories() -> None:
    default_repositories.cache_clear()
