"""422 answers of playbook writes: every problem at once, each with its exact path; nothing written."""

from __future__ import annotations

import json
from typing import Any

from exception_playbooks.repository.bundle import Repositories

from tests.api.conftest import TENANT_A, ApiClient, assert_error, seed_packs, snapshot

from .support import (
    ADMIN,
    DOMAIN,
    DOMAIN_PACK,
    POLICY_PACK,
    create,
    messages,
    paths,
    playbook_body,
    simple_body,
)


def post(api: ApiClient, body: Any = None, raw_body: str | None = None) -> Any:
    return api.call("POST", "/api/playbooks", body=body, raw_body=raw_body, user=ADMIN)


def test_every_problem_is_reported_once_with_its_path(api: ApiClient, tenant: Repositories, aws: Any) -> None:
    body = {
        "name": "",
        "colour": "red",
        "conditions": {
            "match": {"domain": DOMAIN, "severity_in": ["high", "urgent"], "sevrity": "low"},
            "priority": "high",
        },
        "steps": [
            {
                "name": "Notify",
                "action_type": "notify",
                "params": {
                    "channel": "pigeon",
                    "subject": "{exception.nope}",
                    "message": "{secrets.key}",
                    "cc": 1,
                },
                "requires_approval": "yes",
            },
            {"name": "Owner", "action_type": "assign_owner", "params": {"user_id": "u1", "queue": "q1"}},
            {"name": "Status", "action_type": "set_status", "params": {"status": "done"}},
            {"name": "Comment", "action_type": "add_comment", "params": {}},
            {
                "name": "Tool",
                "action_type": "call_tool",
                "params": {"tool_id": "unapproved_tool", "payload": {}},
            },
            {
                "name": "Retry",
                "action_type": "call_tool",
                "params": {
                    "tool_id": "retry_settlement",
                    "payload": {"trade_id": "{exception.attributes.t}", "x": 1},
                },
            },
            {"name": "Boom", "action_type": "self_destruct", "params": {}},
            {"action_type": "add_comment", "params": {"text": "ok"}, "skippable": 0, "extra": True},
            "not a step",
        ],
    }
    before = snapshot(aws)

    response = post(api, body)

    assert_error(response, 422, "VALIDATION_ERROR")
    assert snapshot(aws) == before
    found = messages(response)
    assert set(found) == {
        "colour",
        "conditions.match.severity_in[1]",
        "conditions.match.sevrity",
        "conditions.priority",
        "name",
        "steps[0].params",  # neither recipient nor group
        "steps[0].params.cc",
        "steps[0].params.channel",
        "steps[0].params.message",
        "steps[0].params.subject",
        "steps[0].requires_approval",
        "steps[1].params",
        "steps[2].params.status",
        "steps[3].params.text",
        "steps[4].params.tool_id",
        "steps[5].params.payload.ssi_id",
        "steps[5].params.payload.x",
        "steps[6].action_type",
        "steps[7].extra",
        "steps[7].name",
        "steps[7].skippable",
        "steps[8]",
    }
    assert all(len(m) == 1 for path, m in found.items() if path != "steps[0].params"), found
    assert "did you mean 'severity'" in found["conditions.match.sevrity"][0]
    assert "secrets" in found["steps[0].params.message"][0]
    assert "not approved" in found["steps[4].params.tool_id"][0]
    assert "self_destruct" in found["steps[6].action_type"][0]
    # Paths come in document order (indices numerically).
    assert paths(response) == sorted(
        paths(response),
        key=lambda p: [int(x) if x.isdigit() else x for x in p.replace("[", ".").replace("]", "").split(".")],
    )


# Each step is one case of BEHAVIOUR.md's params table; all of them are answered in one 422.
PARAM_CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("notify", {"channel": "email", "subject": "s", "message": "m"}, {""}),
    ("notify", {"channel": "email", "recipient": "", "subject": "s", "message": "m"}, {".recipient"}),
    ("notify", {"channel": "email", "group": 5, "subject": "s", "message": "m"}, {".group"}),
    ("notify", {"recipient": "a@b.c", "subject": "s", "message": "m"}, {".channel"}),
    ("notify", {"channel": "log", "recipient": "a", "message": "m"}, {".subject"}),
    ("notify", {"channel": "log", "recipient": "a", "subject": "s"}, {".message"}),
    ("notify", {"channel": "log", "recipient": "a", "subject": "s", "message": "m" * 4001}, {".message"}),
    (
        "notify",
        {"channel": "slack", "recipient": "@ada", "group": "#ops", "subject": "s", "message": "m"},
        set(),
    ),
    ("assign_owner", {}, {""}),
    ("assign_owner", {"user_id": "a", "queue": "b"}, {""}),
    ("assign_owner", {"queue": ""}, {".queue"}),
    ("assign_owner", {"user_id": ["a"]}, {".user_id"}),
    ("assign_owner", {"queue": "q", "team": "t"}, {".team"}),
    ("assign_owner", {"user_id": "ada"}, set()),
    ("set_status", {"status": "open"}, {".status"}),
    ("set_status", {"status": "OPEN"}, {".status"}),
    ("set_status", {"status": "{exception.status}"}, {".status"}),
    ("set_status", {}, {".status"}),
    ("set_status", {"status": 3}, {".status"}),
    ("set_status", {"status": "resolved"}, set()),
    ("add_comment", {"text": ""}, {".text"}),
    ("add_comment", {"text": "x", "html": True}, {".html"}),
]


def test_action_params_follow_the_behaviour_table(api: ApiClient, tenant: Repositories) -> None:
    steps = [{"name": f"case {i}", "action_type": a, "params": p} for i, (a, p, _) in enumerate(PARAM_CASES)]
    response = post(api, simple_body(steps=steps))
    assert_error(response, 422)
    expected = {
        f"steps[{i}].params{suffix}" for i, (_, _, found) in enumerate(PARAM_CASES) for suffix in found
    }
    assert set(paths(response)) == expected


def test_call_tool_rules(api: ApiClient, tenant: Repositories) -> None:
    def tool_step(params: dict[str, Any]) -> dict[str, Any]:
        return {"name": "t", "action_type": "call_tool", "params": params}

    body = simple_body(
        steps=[
            tool_step({"tool_id": "nope", "payload": {}}),
            tool_step({"tool_id": "get_settlement"}),
            tool_step({"tool_id": "get_settlement", "payload": []}),
            tool_step({"tool_id": "get_settlement", "payload": {"trade": "{exception.attributes.trade_id}"}}),
            tool_step({"payload": {}}),
            tool_step({"tool_id": "get_settlement", "payload": {"trade_id": "T-1"}}),  # fine
        ]
    )
    found = messages(post(api, body))
    assert set(found) == {
        "steps[0].params.tool_id",
        "steps[1].params.payload",
        "steps[2].params.payload",
        "steps[3].params.payload.trade_id",
        "steps[4].params.tool_id",
    }
    assert len(found["steps[0].params.tool_id"]) == 2  # not approved, and not in the domain pack
    assert "required by tool 'get_settlement'" in found["steps[3].params.payload.trade_id"][0]


def test_call_tool_needs_a_domain(api: ApiClient, tenant: Repositories) -> None:
    body = simple_body(
        conditions={"match": {"exception_type": "SETTLEMENT_FAIL"}},
        steps=[
            {
                "name": "t",
                "action_type": "call_tool",
                "params": {"tool_id": "get_settlement", "payload": {"trade_id": "x"}},
            }
        ],
    )
    found = messages(post(api, body))
    assert list(found) == ["steps[0].params.tool_id"]
    assert "conditions.match.domain" in found["steps[0].params.tool_id"][0]


def test_call_tool_in_a_domain_without_a_pack(api: ApiClient, tenant: Repositories) -> None:
    body = playbook_body(conditions={"match": {"domain": "Payments"}, "priority": 1})
    found = messages(post(api, body))
    assert list(found) == ["steps[0].params.tool_id"]
    assert "no domain pack for 'Payments'" in found["steps[0].params.tool_id"][0]


def test_the_domain_of_a_tool_is_matched_case_insensitively(api: ApiClient, tenant: Repositories) -> None:
    create(api, playbook_body(conditions={"match": {"domain": DOMAIN.lower()}, "priority": 1}))


def test_pack_changes_count_at_once(api: ApiClient, repos: Repositories) -> None:
    """Validation reads the packs fresh: a tool approved a moment ago may be used right away."""
    seed_packs(repos, TENANT_A, policy={**POLICY_PACK, "approved_tools": []}, domains={DOMAIN: DOMAIN_PACK})
    assert_error(post(api, playbook_body()), 422)  # the packs are now in this Lambda's cache
    put = api.call("PUT", "/api/packs/policy", body=POLICY_PACK, user=ADMIN)
    assert put.status == 200
    create(api, playbook_body())


def test_templates_with_unknown_contexts_anywhere_in_params_are_rejected(
    api: ApiClient, tenant: Repositories
) -> None:
    body = playbook_body()
    body["steps"][0]["params"]["payload"] = {
        "trade_id": "{exception.attributes.trade_id}",
        "nested": {"list": ["ok", "{env.HOME}"]},
    }
    body["steps"][2]["params"]["queue"] = "{step.owner}"
    body["steps"][4]["params"]["text"] = (
        "{exception.summary.first} and {exception.attributes.deep.path} and {domain.anything}"
    )
    found = messages(post(api, body))
    assert set(found) == {
        "steps[0].params.payload.nested.list[1]",
        "steps[2].params.queue",
        "steps[4].params.text",
    }
    assert "exception.summary has no nested fields" in found["steps[4].params.text"][0]


def test_flags_must_be_booleans_and_steps_bounded(api: ApiClient, tenant: Repositories) -> None:
    response = post(api, simple_body(steps=[]))
    assert paths(response) == ["steps"]
    many = [{"name": f"s{i}", "action_type": "add_comment", "params": {"text": "x"}} for i in range(101)]
    assert paths(post(api, simple_body(steps=many))) == ["steps"]
    create(api, simple_body(steps=many[:100]))
    assert paths(post(api, simple_body(steps="nope"))) == ["steps"]
    missing = simple_body()
    del missing["steps"]
    assert paths(post(api, missing)) == ["steps"]


def test_malformed_bodies_are_422(api: ApiClient, tenant: Repositories) -> None:
    for raw in ("{not json", "[1, 2]", '"text"', "null", '{"name": NaN}', "[" * 5000 + "]" * 5000):
        response = post(api, raw_body=raw)
        assert_error(response, 422)
        assert paths(response) == ["body"], raw[:20]


def test_an_empty_body_is_422(api: ApiClient, tenant: Repositories) -> None:
    response = post(api)
    assert_error(response, 422)
    assert paths(response) == ["body"]


def test_unstorable_values_are_422_not_500(api: ApiClient, tenant: Repositories) -> None:
    too_deep: Any = "x"
    for _ in range(40):
        too_deep = {"k": too_deep}
    for params, where in (
        ({"text": "x", "n": 10**40}, "steps[0].params"),
        ({"text": "x", "deep": too_deep}, "steps[0].params"),
        ({"text": "x", "": 1}, "steps[0].params"),
    ):
        response = post(
            api, simple_body(steps=[{"name": "c", "action_type": "add_comment", "params": params}])
        )
        assert_error(response, 422)
        assert where in paths(response)
    tool = {"tool_id": "get_settlement", "payload": {"trade_id": 10**38}}  # 39 digits: boto3 refuses it
    response = post(api, playbook_body(steps=[{"name": "t", "action_type": "call_tool", "params": tool}]))
    assert_error(response, 422)
    assert paths(response) == ["steps[0].params"]
    response = post(api, simple_body(conditions={"match": {"attributes": {"amount": {"gt": 1e300}}}}))
    assert_error(response, 422)
    assert "conditions" in paths(response)


def test_the_put_body_is_validated_like_the_post_body(api: ApiClient, tenant: Repositories, aws: Any) -> None:
    pid = create(api)["playbook_id"]
    before = snapshot(aws)
    body = playbook_body()
    body["steps"][1]["params"]["channel"] = "fax"
    response = api.call("PUT", "/api/playbooks/{playbook_id}", {"playbook_id": pid}, body=body, user=ADMIN)
    assert_error(response, 422)
    assert paths(response) == ["steps[1].params.channel"]
    assert snapshot(aws) == before


def test_a_client_chosen_id_or_version_is_refused(api: ApiClient, tenant: Repositories) -> None:
    response = post(api, simple_body(playbook_id="mine", version=3))
    assert sorted(paths(response)) == ["playbook_id", "version"]


def test_problems_never_echo_huge_inputs(api: ApiClient, tenant: Repositories) -> None:
    body = simple_body(steps=[{"name": "c", "action_type": "add_comment", "params": {"text": "y" * 100_000}}])
    response = post(api, body)
    assert_error(response, 422)
    assert len(json.dumps(response.body)) < 2_000
