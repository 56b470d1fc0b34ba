"""Fixtures of the functions/playbooks API tests (shared ones: ``tests/api/conftest.py``)."""

from __future__ import annotations

import pytest
from exception_playbooks.repository.bundle import Repositories

from tests.api.conftest import TENANT_A, seed_packs

from .support import DOMAIN, DOMAIN_PACK, POLICY_PACK


@pytest.fixture
def tenant(repos: Repositories) -> Repositories:
    """Tenant A with the capital-markets policy and domain packs."""
    seed_packs(repos, TENANT_A, policy=POLICY_PACK, domains={DOMAIN: DOMAIN_PACK})
    return repos
