"""PackRepository against moto: a new version per put, latest reads, defaults, short cache."""

from __future__ import annotations

import pytest
from exception_playbooks import config, keys
from exception_playbooks.errors import Conflict
from exception_playbooks.models.enums import ActionType, Severity
from exception_playbooks.models.packs import DomainPackInput, PolicyPack, PolicyPackInput
from exception_playbooks.repository import packs as packs_module

from ..support import snapshot, stored_items

TENANT = "acme"
OTHER = "globex"


def _policy(**fields) -> PolicyPackInput:
    return PolicyPackInput.model_validate(fields)


def _domain(**fields) -> DomainPackInput:
    return DomainPackInput.model_validate(fields)


def test_policy_defaults_before_any_put_are_version_0(repos):
    pack = repos.packs.policy(TENANT)
    assert pack == PolicyPack()
    assert pack.version == 0
    assert pack.approved_tools == []
    assert pack.auto_resolve_on_completion is False
    assert pack.updated_at is None


def test_each_policy_put_is_a_new_version_and_latest_wins(repos, dynamodb, clock):
    first = repos.packs.put_policy(TENANT, _policy(approved_tools=["retry"]))
    clock.advance(60)
    second = repos.packs.put_policy(
        TENANT,
        _policy(
            approved_tools=["retry", "cancel"],
            human_approval={"action_types": ["call_tool"], "severities": ["critical"]},
            severity_overrides={"TradeSettlementFailure": "high"},
            auto_resolve_on_completion=True,
            fields={"desk": "FX"},
        ),
    )
    packs_module.clear_cache()

    assert (first.version, second.version) == (1, 2)
    assert second.updated_at == "2026-01-05T09:01:00.000Z"
    latest = repos.packs.policy(TENANT)
    assert latest == second
    assert latest.human_approval.action_types == [ActionType.CALL_TOOL]
    assert latest.severity_overrides == {"TradeSettlementFailure": Severity.HIGH}
    stored = sorted(i["sk"] for i in stored_items("test-state") if i["pk"] == keys.policy_pack_pk(TENANT))
    assert stored == ["LATEST", "V#0000000001", "V#0000000002"]
    v1 = next(i for i in stored_items("test-state") if i["sk"] == "V#0000000001")
    assert v1["approved_tools"] == ["retry"]


def test_domain_pack_is_none_before_its_first_put_and_versions_per_domain(repos):
    assert repos.packs.domain(TENANT, "Finance") is None
    first = repos.packs.put_domain(
        TENANT,
        "Finance",
        _domain(
            exception_types={"TradeSettlementFailure": {"default_severity": "high"}},
            tools={"retry": {"parameters": {"type": "object"}, "risk": "high"}},
            fields={"desk": "FX"},
        ),
    )
    second = repos.packs.put_domain(TENANT, "finance", _domain(fields={"desk": "Rates"}))
    repos.packs.put_domain(TENANT, "Claims", _domain())
    packs_module.clear_cache()

    assert (first.version, second.version) == (1, 2)
    latest = repos.packs.domain(TENANT, "FINANCE")  # the domain is case-insensitive
    assert latest.version == 2
    assert latest.domain == "Finance"  # spelled as first written
    assert latest.fields == {"desk": "Rates"}
    assert repos.packs.domain(TENANT, "Claims").version == 1
    assert repos.packs.domain(TENANT, "Ops") is None


def test_pack_set_combines_policy_and_domain(repos):
    repos.packs.put_policy(TENANT, _policy(approved_tools=["retry"]))
    repos.packs.put_domain(TENANT, "Finance", _domain(fields={"a": 1}))
    packs_module.clear_cache()
    pack_set = repos.packs.pack_set(TENANT, "finance")
    assert pack_set.policy.approved_tools == ["retry"]
    assert pack_set.domain is not None and pack_set.domain.fields == {"a": 1}
    empty = repos.packs.pack_set(OTHER, "finance")
    assert (empty.policy.version, empty.domain) == (0, None)


def test_reads_are_cached_and_a_put_refreshes_the_cache(repos, calls):
    repos.packs.put_policy(TENANT, _policy(approved_tools=["a"]))
    packs_module.clear_cache()
    calls.reset()

    repos.packs.policy(TENANT)
    repos.packs.policy(TENANT)
    repos.packs.domain(TENANT, "Finance")  # a missing pack is cached too
    repos.packs.domain(TENANT, "finance")
    assert calls.operations == ["GetItem", "GetItem"]

    calls.reset()
    repos.packs.put_policy(TENANT, _policy(approved_tools=["b"]))
    assert calls.operations == ["BatchGetItem", "TransactWriteItems"]  # the put reads latest + head uncached
    calls.reset()
    assert repos.packs.policy(TENANT).approved_tools == ["b"]
    assert calls.operations == []


def test_cache_expires_after_pack_cache_seconds(repos, calls, monkeypatch, request):
    monkeypatch.setenv("PACK_CACHE_SECONDS", "0")
    config.reset_settings()
    request.addfinalizer(config.reset_settings)
    repos.dynamo._config = None  # pick up the new setting
    repos.packs.policy(TENANT)
    repos.packs.policy(TENANT)
    assert calls.operations == ["GetItem", "GetItem"]


def test_concurrent_puts_one_wins_the_other_conflicts(repos, dynamodb, calls):
    repos.packs.put_policy(TENANT, _policy(approved_tools=["a"]))
    calls.reset()
    # Another admin commits version 2 between our read of the latest and our transaction.
    calls.before(1, lambda: repos.packs.put_policy(TENANT, _policy(approved_tools=["theirs"])))
    with pytest.raises(Conflict):
        repos.packs.put_policy(TENANT, _policy(approved_tools=["ours"]))
    packs_module.clear_cache()
    latest = repos.packs.policy(TENANT)
    assert (latest.version, latest.approved_tools) == (2, ["theirs"])


def test_tenant_isolation_for_packs(repos, dynamodb):
    repos.packs.put_policy(TENANT, _policy(approved_tools=["secret"], fields={"x": 1}))
    repos.packs.put_domain(TENANT, "Finance", _domain(fields={"secret": True}))
    packs_module.clear_cache()

    assert repos.packs.policy(OTHER).version == 0
    assert repos.packs.domain(OTHER, "Finance") is None
    before = snapshot(dynamodb)
    theirs = repos.packs.put_policy(OTHER, _policy(approved_tools=["mine"]))
    assert theirs.version == 1  # their own first version, not acme's third
    packs_module.clear_cache()
    assert repos.packs.policy(TENANT).approved_tools == ["secret"]
    after = snapshot(dynamodb)
    assert set(before["test-state"]) <= set(after["test-state"])  # nothing of acme's changed


def test_a_put_based_on_a_stale_read_is_a_version_conflict(repos, dynamodb):
    repos.packs.put_policy(TENANT, _policy(approved_tools=["a"]))
    repos.packs.put_domain(TENANT, "Finance", _domain())
    assert repos.packs.put_policy(TENANT, _policy(approved_tools=["b"]), expected_version=1).version == 2
    before = snapshot(dynamodb)
    for stale in (
        lambda: repos.packs.put_policy(TENANT, _policy(approved_tools=["c"]), expected_version=1),
        lambda: repos.packs.put_domain(TENANT, "finance", _domain(), expected_version=0),
    ):
        with pytest.raises(Conflict) as caught:
            stale()
        assert caught.value.code == "VERSION_CONFLICT"
    assert snapshot(dynamodb) == before
    assert repos.packs.policy(TENANT, cached=False).approved_tools == ["b"]
