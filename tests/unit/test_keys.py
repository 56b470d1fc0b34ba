"""keys: every partition key (table and index) starts with the tenant prefix; tenant ids are checked."""

from __future__ import annotations

import pytest
from exception_playbooks import keys

TENANT = "acme-01"
PREFIX = "T#acme-01#"


def _partition_keys(tenant: str) -> dict[str, str]:
    return {
        "exception_pk": keys.exception_pk(tenant, "EX-1"),
        "exception_key": keys.exception_key(tenant, "EX-1")["pk"],
        "agent_marker": keys.agent_marker_key(tenant, "EX-1", "TriageAgent", "ev-1")["pk"],
        "exceptions_list": keys.exceptions_list_pk(tenant),
        "playbook_pk": keys.playbook_pk(tenant, "pb-1"),
        "playbook_version": keys.playbook_version_key(tenant, "pb-1", 3)["pk"],
        "playbook_latest": keys.playbook_latest_key(tenant, "pb-1")["pk"],
        "playbook_stats": keys.playbook_stats_key(tenant, "pb-1")["pk"],
        "active_playbooks": keys.active_playbooks_pk(tenant),
        "all_playbooks": keys.all_playbooks_pk(tenant),
        "policy_pack": keys.policy_pack_pk(tenant),
        "domain_pack": keys.domain_pack_pk(tenant, "Finance"),
        "pack_latest": keys.pack_latest_key(keys.policy_pack_pk(tenant))["pk"],
        "pack_version": keys.pack_version_key(keys.domain_pack_pk(tenant, "x"), 1)["pk"],
        "idempotency": keys.idempotency_key(tenant, "complete:EX-1:1", "k-1")["pk"],
        "events": keys.events_pk(tenant, "EX-1"),
    }


@pytest.mark.parametrize("name", sorted(_partition_keys(TENANT)))
def test_every_partition_key_starts_with_the_tenant_prefix(name):
    assert keys.tenant_prefix(TENANT) == PREFIX
    assert _partition_keys(TENANT)[name].startswith(PREFIX)


def test_no_key_of_one_tenant_is_a_key_of_another_even_with_prefix_like_ids():
    # 'acme' is a prefix of 'acme-01' as text, but never as a key prefix.
    mine = set(_partition_keys("acme").values())
    theirs = set(_partition_keys("acme-01").values())
    assert not mine & theirs
    assert not any(k.startswith(keys.tenant_prefix("acme")) for k in theirs)


@pytest.mark.parametrize("bad", ["", "a#b", "#", "acme#", "#acme"])
def test_tenant_with_hash_or_empty_is_refused(bad):
    for build in (
        lambda: keys.exception_pk(bad, "EX-1"),
        lambda: keys.exceptions_list_pk(bad),
        lambda: keys.policy_pack_pk(bad),
        lambda: keys.idempotency_key(bad, "s", "k"),
        lambda: keys.tenant_prefix(bad),
    ):
        with pytest.raises(ValueError):
            build()


def test_sort_keys_and_layout():
    assert keys.exception_key(TENANT, "EX-1") == {"pk": "T#acme-01#EX#EX-1", "sk": "EXCEPTION"}
    assert keys.agent_marker_key(TENANT, "EX-1", "PolicyAgent", "e9")["sk"] == "AGENT#PolicyAgent#e9"
    assert keys.playbook_version_key(TENANT, "pb", 12)["sk"] == "V#0000000012"
    assert keys.playbook_latest_key(TENANT, "pb")["sk"] == keys.LATEST_SK
    assert keys.playbook_stats_key(TENANT, "pb")["sk"] == keys.STATS_SK
    assert keys.idempotency_key(TENANT, "s", "k")["sk"] == keys.IDEMPOTENCY_SK
    assert keys.exceptions_list_sk("2026-01-01T00:00:00.000Z", "EX-1") == "2026-01-01T00:00:00.000Z#EX-1"


def test_version_sort_keys_sort_numerically():
    versions = [1, 2, 9, 10, 11, 100, 12345]
    assert sorted(keys.version_sk(v) for v in versions) == [keys.version_sk(v) for v in versions]


def test_domain_index_values_are_case_insensitive_and_domainless_has_its_own():
    assert keys.domain_index_value("Finance") == keys.domain_index_value("FINANCE") == "finance"
    assert keys.domain_index_value(None) == keys.domain_index_value("") == keys.ANY_DOMAIN
    assert keys.active_playbook_sk("Finance", "pb-1") == "finance#pb-1"
    assert keys.active_playbook_sk(None, "pb-1") == "~any#pb-1"
    assert keys.domain_pack_pk(TENANT, "Finance") == keys.domain_pack_pk(TENANT, "finance")
