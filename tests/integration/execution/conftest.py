"""Fixtures of the execution tests (helpers live in ``world``)."""

from __future__ import annotations

import pytest
from exception_playbooks.repository.bundle import Repositories

from .world import build_world


@pytest.fixture
def world(repos: Repositories) -> Repositories:
    """Packs, the settlement playbook (v1, Finance) and EX-1 (open, high, nothing assigned)."""
    return build_world(repos)
