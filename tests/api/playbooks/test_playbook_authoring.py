"""Playbook authoring over real proxy events: create, list, read versions, update, deactivate, stats."""

from __future__ import annotations

import re
from typing import Any

from exception_playbooks.repository.bundle import Repositories
from exception_playbooks.repository.dynamo import Transaction

from tests.api.conftest import TENANT_A, ApiClient, assert_error, seed_playbook, snapshot, step

from .support import (
    ADMIN,
    DOMAIN,
    VIEWER,
    check_detail,
    check_playbook,
    create,
    playbook_body,
    simple_body,
)

ONE = "/api/playbooks/{playbook_id}"


def test_create_answers_201_with_version_1_and_ordered_steps(api: ApiClient, tenant: Repositories) -> None:
    created = create(api)

    assert re.fullmatch(r"pb-settlement-fail-standard-[a-z0-9]{1,8}", created["playbook_id"])
    assert created["version"] == 1
    assert created["active"] is True
    assert created["created_by"] == "ada"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", created["created_at"])
    assert [s["step_order"] for s in created["steps"]] == [1, 2, 3, 4, 5]
    assert [s["name"] for s in created["steps"]] == [s["name"] for s in playbook_body()["steps"]]
    assert created["steps"][4]["requires_approval"] is True and created["steps"][4]["skippable"] is False
    assert created["steps"][0]["requires_approval"] is False and created["steps"][0]["skippable"] is True
    assert created["conditions"] == playbook_body()["conditions"]


def test_created_playbook_is_readable_and_listed(api: ApiClient, tenant: Repositories) -> None:
    created = create(api)

    got = api.call("GET", ONE, {"playbook_id": created["playbook_id"]}, user=VIEWER)
    detail = check_detail(got)
    assert {k: v for k, v in detail.items() if k not in ("latest_version", "versions")} == created
    assert detail["latest_version"] == 1
    assert detail["versions"] == [
        {"version": 1, "created_at": created["created_at"], "created_by": "ada", "name": created["name"]}
    ]

    listed = api.call("GET", "/api/playbooks", user=VIEWER)
    assert listed.status == 200
    assert listed.body == {"items": [created]}


def test_ids_are_unique_even_for_the_same_name(api: ApiClient, tenant: Repositories) -> None:
    first = create(api, simple_body("Same name"))
    second = create(api, simple_body("Same name"))
    assert first["playbook_id"] != second["playbook_id"]


def test_a_name_without_ascii_letters_still_gets_a_valid_id(api: ApiClient, tenant: Repositories) -> None:
    created = create(api, simple_body("Ärger über Überweisung ✓"))
    assert re.fullmatch(r"pb-arger-uber-uberweisung-[a-z0-9]+", created["playbook_id"])
    assert create(api, simple_body("✓✓✓"))["playbook_id"].startswith("pb-")


def test_list_is_sorted_by_name_and_shows_latest_versions_with_active(
    api: ApiClient, tenant: Repositories
) -> None:
    zulu = create(api, simple_body("zulu"))
    alpha = create(api, simple_body("Alpha"))
    api.call("PUT", ONE, {"playbook_id": zulu["playbook_id"]}, body=simple_body("zulu"), user=ADMIN)
    api.call("DELETE", ONE, {"playbook_id": alpha["playbook_id"]}, user=ADMIN)

    items = api.call("GET", "/api/playbooks", user=VIEWER).body["items"]

    assert [(i["name"], i["version"], i["active"]) for i in items] == [("Alpha", 1, False), ("zulu", 2, True)]


def test_list_is_empty_for_a_new_tenant(api: ApiClient, repos: Repositories) -> None:
    assert api.call("GET", "/api/playbooks", user=VIEWER).body == {"items": []}


# --- versions ---------------------------------------------------------------------------------


def test_put_writes_version_n_plus_1_and_older_versions_stay_immutable(
    api: ApiClient, tenant: Repositories
) -> None:
    v1 = create(api)
    pid = v1["playbook_id"]
    changed = playbook_body(name="Settlement fail - v2", steps=playbook_body()["steps"][1:])

    put = api.call("PUT", ONE, {"playbook_id": pid}, body=changed, user=ADMIN)

    v2 = check_playbook(put)
    assert put.status == 200
    assert (v2["playbook_id"], v2["version"], v2["name"], len(v2["steps"])) == (
        pid,
        2,
        "Settlement fail - v2",
        4,
    )
    assert v2["steps"][0]["step_order"] == 1 and v2["steps"][0]["name"] == "Page the desk"
    assert v2["created_at"] > v1["created_at"]

    old = check_detail(api.call("GET", ONE, {"playbook_id": pid}, query={"version": "1"}, user=VIEWER))
    assert {k: v for k, v in old.items() if k not in ("latest_version", "versions")} == v1
    assert old["latest_version"] == 2
    assert [v["version"] for v in old["versions"]] == [1, 2]

    latest = check_detail(api.call("GET", ONE, {"playbook_id": pid}, user=VIEWER))
    assert latest["version"] == 2 and latest["name"] == "Settlement fail - v2"
    explicit = check_detail(api.call("GET", ONE, {"playbook_id": pid}, query={"version": "2"}, user=VIEWER))
    assert explicit == latest

    # Also from a cold Lambda (no version cache): what is stored is what was answered.
    tenant.playbooks.get(TENANT_A, pid, 1)  # warm
    from exception_playbooks.repository import playbooks as playbook_repo

    playbook_repo.clear_cache()
    again = api.call("GET", ONE, {"playbook_id": pid}, query={"version": "1"}, user=VIEWER)
    assert check_detail(again)["steps"] == v1["steps"]


def test_a_version_that_does_not_exist_is_404(api: ApiClient, tenant: Repositories) -> None:
    pid = create(api, simple_body())["playbook_id"]
    missing = api.call("GET", ONE, {"playbook_id": pid}, query={"version": "2"}, user=VIEWER)
    assert_error(missing, 404, "PLAYBOOK_VERSION_NOT_FOUND")


def test_version_must_be_a_positive_integer(api: ApiClient, tenant: Repositories) -> None:
    pid = create(api, simple_body())["playbook_id"]
    for bad in ("0", "-1", "one", "1.5"):
        response = api.call("GET", ONE, {"playbook_id": pid}, query={"version": bad}, user=VIEWER)
        assert_error(response, 422)
        assert [e["path"] for e in response.body["details"]["errors"]] == ["version"]


def test_put_on_a_missing_playbook_is_404_and_writes_nothing(
    api: ApiClient, tenant: Repositories, aws: Any
) -> None:
    before = snapshot(aws)
    response = api.call("PUT", ONE, {"playbook_id": "pb-nope"}, body=simple_body(), user=ADMIN)
    assert_error(response, 404, "PLAYBOOK_NOT_FOUND")
    assert snapshot(aws) == before


def test_invalid_put_is_422_before_404(api: ApiClient, tenant: Repositories) -> None:
    """API.md orders checks 401, 403, 422, then 404."""
    response = api.call("PUT", ONE, {"playbook_id": "pb-nope"}, body={"name": "x"}, user=ADMIN)
    assert_error(response, 422)


def test_a_put_that_loses_the_race_is_409_and_writes_nothing(
    api: ApiClient, tenant: Repositories, aws: Any
) -> None:
    pid = create(api, simple_body())["playbook_id"]
    latest = tenant.playbooks.get(TENANT_A, pid)
    client = tenant.dynamo.client
    raced: list[int] = []

    def concurrent_writer(**_: Any) -> None:
        if not raced:  # another admin publishes version 2 between our read and our write
            raced.append(1)
            tenant.playbooks.save_version(
                TENANT_A, latest.model_copy(update={"version": 2, "name": "theirs"})
            )

    client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems", concurrent_writer, unique_id="race"
    )
    try:
        before_ours = snapshot(aws)
        response = api.call("PUT", ONE, {"playbook_id": pid}, body=simple_body("ours"), user=ADMIN)
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", unique_id="race")

    assert_error(response, 409, "CONCURRENT_MODIFICATION")
    after = snapshot(aws)
    assert after != before_ours  # theirs landed ...
    detail = check_detail(api.call("GET", ONE, {"playbook_id": pid}, user=VIEWER))
    assert (detail["version"], detail["name"]) == (2, "theirs")  # ... and ours did not
    assert [v["version"] for v in detail["versions"]] == [1, 2]


def test_put_on_a_deactivated_playbook_reactivates_it(api: ApiClient, tenant: Repositories) -> None:
    pid = create(api, simple_body())["playbook_id"]
    api.call("DELETE", ONE, {"playbook_id": pid}, user=ADMIN)
    assert tenant.playbooks.candidates(TENANT_A, DOMAIN) == []

    put = api.call("PUT", ONE, {"playbook_id": pid}, body=simple_body(), user=ADMIN)

    assert check_playbook(put)["active"] is True
    assert [(p.playbook_id, p.version) for p in tenant.playbooks.candidates(TENANT_A, DOMAIN)] == [(pid, 2)]


# --- conditions ---------------------------------------------------------------------------------


def test_legacy_conditions_are_normalised_on_input_and_stored_normalised(
    api: ApiClient, tenant: Repositories, aws: Any
) -> None:
    legacy = simple_body(conditions={"domain": DOMAIN, "exception_type": "SETTLEMENT_*", "priority": 7})

    created = create(api, legacy)

    expected = {"match": {"domain": DOMAIN, "exception_type": "SETTLEMENT_*"}, "priority": 7}
    assert created["conditions"] == expected
    stored = aws.get_item(
        TableName="api-test-state",
        Key={"pk": {"S": f"T#{TENANT_A}#PB#{created['playbook_id']}"}, "sk": {"S": "V#0000000001"}},
    )["Item"]
    assert set(stored["conditions"]["M"]) == {"match", "priority"}
    assert stored["conditions"]["M"]["priority"] == {"N": "7"}
    assert set(stored["conditions"]["M"]["match"]["M"]) == {"domain", "exception_type"}


def test_legacy_conditions_without_priority_default_to_0(api: ApiClient, tenant: Repositories) -> None:
    created = create(api, simple_body(conditions={"severity": "high"}))
    assert created["conditions"] == {"match": {"severity": "high"}, "priority": 0}


def test_omitted_conditions_make_a_catch_all(api: ApiClient, tenant: Repositories) -> None:
    body = simple_body()
    del body["conditions"]
    assert create(api, body)["conditions"] == {"match": {}, "priority": 0}


# --- deactivate -------------------------------------------------------------------------------


def test_delete_deactivates_removes_from_candidates_and_keeps_history(
    api: ApiClient, tenant: Repositories
) -> None:
    keep = create(api, simple_body("Keep"))
    pid = create(api, simple_body("Drop"))["playbook_id"]
    api.call("PUT", ONE, {"playbook_id": pid}, body=simple_body("Drop"), user=ADMIN)
    assert {p.playbook_id for p in tenant.playbooks.candidates(TENANT_A, DOMAIN)} == {
        keep["playbook_id"],
        pid,
    }

    deleted = api.call("DELETE", ONE, {"playbook_id": pid}, user=ADMIN)

    body = check_playbook(deleted)
    assert deleted.status == 200 and body["active"] is False and body["version"] == 2
    assert {p.playbook_id for p in tenant.playbooks.candidates(TENANT_A, DOMAIN)} == {keep["playbook_id"]}
    for version in ("1", "2"):
        old = check_detail(
            api.call("GET", ONE, {"playbook_id": pid}, query={"version": version}, user=VIEWER)
        )
        assert old["active"] is False and old["latest_version"] == 2
    listed = {
        i["playbook_id"]: i["active"] for i in api.call("GET", "/api/playbooks", user=VIEWER).body["items"]
    }
    assert listed == {keep["playbook_id"]: True, pid: False}


def test_delete_twice_is_harmless(api: ApiClient, tenant: Repositories) -> None:
    pid = create(api, simple_body())["playbook_id"]
    assert api.call("DELETE", ONE, {"playbook_id": pid}, user=ADMIN).status == 200
    again = api.call("DELETE", ONE, {"playbook_id": pid}, user=ADMIN)
    assert again.status == 200 and again.body["active"] is False


def test_delete_of_a_missing_playbook_is_404(api: ApiClient, tenant: Repositories, aws: Any) -> None:
    before = snapshot(aws)
    assert_error(api.call("DELETE", ONE, {"playbook_id": "pb-nope"}, user=ADMIN), 404, "PLAYBOOK_NOT_FOUND")
    assert snapshot(aws) == before


def test_get_of_a_missing_playbook_is_404(api: ApiClient, tenant: Repositories) -> None:
    assert_error(api.call("GET", ONE, {"playbook_id": "pb-nope"}, user=VIEWER), 404, "PLAYBOOK_NOT_FOUND")


def test_an_id_that_is_not_an_id_is_422(api: ApiClient, tenant: Repositories) -> None:
    for bad in ("a#b", "-x", "x" * 129):
        response = api.call("GET", ONE, {"playbook_id": bad}, user=VIEWER)
        assert_error(response, 422)
        assert [e["path"] for e in response.body["details"]["errors"]] == ["playbook_id"]


# --- stats ------------------------------------------------------------------------------------


def test_stats_start_at_zero_with_null_times(api: ApiClient, tenant: Repositories) -> None:
    pid = create(api, simple_body())["playbook_id"]
    stats = api.call("GET", ONE + "/stats", {"playbook_id": pid}, user=VIEWER)
    assert stats.status == 200
    assert stats.body == {
        "playbook_id": pid,
        "runs_started": 0,
        "runs_completed": 0,
        "steps_completed": 0,
        "steps_skipped": 0,
        "mean_time_to_complete_seconds": None,
        "p90_time_to_complete_seconds": None,
    }


def test_stats_report_the_counters_and_times(api: ApiClient, tenant: Repositories) -> None:
    pid = seed_playbook(
        tenant, TENANT_A, "pb-stats", [step("Note", "add_comment", {"text": "x"})]
    ).playbook_id
    transaction = Transaction()
    tenant.stats.stage_counters(
        TENANT_A, pid, transaction, runs_started=3, steps_completed=5, steps_skipped=1
    )
    tenant.dynamo.commit(transaction)
    for seconds in (60.0, 120.0):
        transaction = Transaction()
        tenant.stats.stage_completion(TENANT_A, pid, seconds, transaction)
        tenant.dynamo.commit(transaction)

    stats = api.call("GET", ONE + "/stats", {"playbook_id": pid}, user=VIEWER).body

    assert stats == {
        "playbook_id": pid,
        "runs_started": 3,
        "runs_completed": 2,
        "steps_completed": 5,
        "steps_skipped": 1,
        "mean_time_to_complete_seconds": 90.0,
        "p90_time_to_complete_seconds": 120.0,
    }


def test_stats_of_a_missing_playbook_are_404(api: ApiClient, tenant: Repositories) -> None:
    # Counters without a playbook (e.g. of another tenant's id) are never shown.
    transaction = Transaction()
    tenant.stats.stage_counters(TENANT_A, "pb-ghost", transaction, runs_started=1)
    tenant.dynamo.commit(transaction)
    assert_error(api.call("GET", ONE + "/stats", {"playbook_id": "pb-ghost"}, user=VIEWER), 404)


# --- edge: body size and auth -----------------------------------------------------------------


def test_a_body_over_256_kib_is_413_and_writes_nothing(
    api: ApiClient, tenant: Repositories, aws: Any
) -> None:
    before = snapshot(aws)
    huge = simple_body(description="x" * (256 * 1024))
    assert_error(api.call("POST", "/api/playbooks", body=huge, user=ADMIN), 413, "PAYLOAD_TOO_LARGE")
    pid = seed_playbook(tenant, TENANT_A, "pb-big", [step("Note", "add_comment", {"text": "x"})]).playbook_id
    before = snapshot(aws)
    assert_error(api.call("PUT", ONE, {"playbook_id": pid}, body=huge, user=ADMIN), 413)
    assert_error(api.call("PUT", "/api/packs/policy", body={"fields": {"x": "y" * 300_000}}, user=ADMIN), 413)
    assert snapshot(aws) == before


def test_no_token_is_401(api: ApiClient, tenant: Repositories) -> None:
    for method, resource, params in (
        ("POST", "/api/playbooks", {}),
        ("GET", "/api/playbooks", {}),
        ("GET", ONE, {"playbook_id": "pb-x"}),
        ("GET", "/api/packs/policy", {}),
    ):
        response = api.call(
            method, resource, params, body=simple_body() if method == "POST" else None, anonymous=True
        )
        assert_error(response, 401, "UNAUTHORIZED")


def test_claims_without_a_tenant_are_401(api: ApiClient, tenant: Repositories) -> None:
    claims = {"sub": "x", "cognito:username": "ada", "cognito:groups": "admin"}
    assert_error(api.call("GET", "/api/playbooks", as_claims=claims), 401)
