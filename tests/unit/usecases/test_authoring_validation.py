"""Pure tests of usecases.validation: playbook and pack documents, every problem with its path."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from exception_playbooks.errors import Problem, ValidationFailed
from exception_playbooks.models.enums import ActionType
from exception_playbooks.models.packs import DomainPack, PolicyPack
from exception_playbooks.usecases.validation import (
    validate_domain_pack,
    validate_playbook,
    validate_policy_pack,
)

TOOLS = {
    "lookup": {
        "parameters": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    },
    "strict": {
        "parameters": {
            "type": "object",
            "required": ["a"],
            "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            "additionalProperties": False,
        }
    },
    "unapproved": {"parameters": {"type": "object"}},
}


class FakePacks:
    """PackLookup with fixed packs; records which domain packs were asked for."""

    def __init__(
        self, approved: tuple[str, ...] = ("lookup", "strict"), domains: dict[str, Any] | None = None
    ):
        self._policy = PolicyPack(approved_tools=list(approved))
        self._domains = {
            name.lower(): DomainPack.model_validate({"domain": name, "version": 1, "tools": tools})
            for name, tools in (domains if domains is not None else {"Finance": TOOLS}).items()
        }
        self.asked: list[str] = []

    def policy(self) -> PolicyPack:
        return self._policy

    def domain(self, domain: str) -> DomainPack | None:
        self.asked.append(domain)
        return self._domains.get(domain.lower())


def step(action: str, params: Any, **extra: Any) -> dict[str, Any]:
    return {"name": f"{action} step", "action_type": action, "params": params, **extra}


def body(*steps: dict[str, Any], match: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Playbook",
        "conditions": {"match": {"domain": "Finance"} if match is None else match, "priority": 1},
        "steps": list(steps) or [step("add_comment", {"text": "hello"})],
        **extra,
    }


def problems(raw: Any, packs: FakePacks | None = None) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        validate_playbook(raw, packs or FakePacks())
    assert caught.value.details == {"errors": [p.as_dict() for p in caught.value.problems]}
    return [(p.path, p.message) for p in caught.value.problems]


def problem_paths(raw: Any, packs: FakePacks | None = None) -> list[str]:
    return [path for path, _ in problems(raw, packs)]


# --- valid documents --------------------------------------------------------------------------


def test_a_valid_playbook_is_returned_as_the_input_model() -> None:
    raw = body(
        step(
            "notify",
            {"channel": "email", "recipient": "a@b.c", "subject": "s", "message": "{exception.summary}"},
        ),
        step("assign_owner", {"user_id": "{exception.attributes.owner.id}"}),
        step("set_status", {"status": "pending_review"}, requires_approval=True, skippable=False),
        step("add_comment", {"text": "{domain.desk} {policy.queue} {step.name} {step.step_order}"}),
        step("call_tool", {"tool_id": "lookup", "payload": {"id": "{exception.exception_id}", "n": 3}}),
    )
    model = validate_playbook(raw, FakePacks())
    assert [s.action_type for s in model.steps] == list(ActionType)
    assert model.steps[2].requires_approval is True and model.steps[2].skippable is False
    assert model.conditions.match == {"domain": "Finance"}


def test_legacy_conditions_are_normalised() -> None:
    raw = body(match={})
    raw["conditions"] = {"domain": "Finance", "severity_in": ["high"], "priority": 9}
    model = validate_playbook(raw, FakePacks())
    assert (model.conditions.match, model.conditions.priority) == (
        {"domain": "Finance", "severity_in": ["high"]},
        9,
    )


def test_packs_are_only_read_when_a_call_tool_step_needs_them() -> None:
    packs = FakePacks()
    validate_playbook(body(), packs)
    assert packs.asked == []


# --- shape ------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, [], "x", 3, True])
def test_a_body_that_is_not_an_object(raw: Any) -> None:
    assert problems(raw) == [("body", "must be a JSON object")]


def test_shape_and_meaning_problems_come_together_sorted_by_path() -> None:
    raw = body(
        step("notify", {"channel": "fax"}),
        step("add_comment", {"text": "x"}, skippable="no"),
        match={"severity": "urgent"},
        extra=1,
    )
    raw["name"] = "   "
    raw["steps"].extend([step("add_comment", {"text": "x"})] * 9 + [step("nope", {})])
    assert problem_paths(raw) == [
        "conditions.match.severity",
        "extra",
        "name",
        "steps[0].params",
        "steps[0].params.channel",
        "steps[0].params.message",
        "steps[0].params.subject",
        "steps[1].skippable",
        "steps[11].action_type",
    ]


def test_pydantic_messages_for_owned_paths_are_not_duplicated() -> None:
    raw = body(step("add_comment", {"text": "x"}, requires_approval="maybe"))
    raw["conditions"]["priority"] = "high"
    found = problems(raw)
    assert found == [
        ("conditions.priority", "must be an integer"),
        ("steps[0].requires_approval", "must be true or false"),
    ]


@pytest.mark.parametrize("flag", [1, 0, "true", "false", None, []])
def test_flags_must_be_json_booleans(flag: Any) -> None:
    assert problem_paths(body(step("add_comment", {"text": "x"}, skippable=flag))) == ["steps[0].skippable"]


def test_missing_and_unknown_action_types() -> None:
    missing = body({"name": "x", "params": {}})
    assert problems(missing) == [("steps[0].action_type", "is required")]
    unknown = problems(body(step("Notify", {})))
    assert unknown[0][0] == "steps[0].action_type" and "'Notify'" in unknown[0][1]


@pytest.mark.parametrize("value", [[], {}, ["notify"], {"a": 1}, 1.5, True])
def test_values_of_the_wrong_type_anywhere_are_problems_not_crashes(value: Any) -> None:
    """Unhashable or odd JSON values where a name is expected must not reach a set or dict lookup."""
    raw = body(
        {"name": "x", "action_type": value, "params": {}},
        step("set_status", {"status": value}),
        step("notify", {"channel": value, "recipient": value, "subject": value, "message": value}),
        step("call_tool", {"tool_id": value, "payload": value}),
        step("assign_owner", {"user_id": value}),
        match={"domain": value, "severity": value, "any_of": value},
    )
    raw["conditions"]["priority"] = value
    assert problem_paths(raw)


def test_params_must_be_an_object_and_default_to_empty() -> None:
    assert problems(body(step("add_comment", ["x"]))) == [("steps[0].params", "must be an object")]
    no_params = body({"name": "c", "action_type": "add_comment"})
    assert problems(no_params) == [("steps[0].params.text", "is required")]


def test_unknown_params_are_named_with_the_allowed_ones() -> None:
    found = problems(body(step("set_status", {"status": "escalated", "reason": "x"})))
    assert found == [("steps[0].params.reason", "unknown parameter 'reason' for set_status; allowed: status")]


# --- per action -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"channel": "sms", "group": "g", "subject": "s", "message": "m"}, []),
        ({"channel": "SMS", "group": "g", "subject": "s", "message": "m"}, ["steps[0].params.channel"]),
        ({"channel": "sms", "subject": "s", "message": "m"}, ["steps[0].params"]),
        (
            {"channel": "sms", "recipient": None, "group": "", "subject": "s", "message": "m"},
            ["steps[0].params.group"],
        ),
        ({"channel": "sms", "group": "g", "subject": 1, "message": "m"}, ["steps[0].params.subject"]),
        ({"channel": "sms", "group": "g", "subject": "s" * 501, "message": "m"}, ["steps[0].params.subject"]),
        ({"channel": "sms", "group": "g", "subject": "s", "message": " "}, ["steps[0].params.message"]),
    ],
)
def test_notify(params: dict[str, Any], expected: list[str]) -> None:
    raw = body(step("notify", params))
    if expected:
        assert problem_paths(raw) == expected
    else:
        validate_playbook(raw, FakePacks())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"queue": "Ops"}, []),
        ({"user_id": "ada"}, []),
        ({"user_id": "ada", "queue": None}, []),
        ({}, ["steps[0].params"]),
        ({"user_id": "ada", "queue": "Ops"}, ["steps[0].params"]),
        ({"queue": "x" * 257}, ["steps[0].params.queue"]),
    ],
)
def test_assign_owner(params: dict[str, Any], expected: list[str]) -> None:
    raw = body(step("assign_owner", params))
    if expected:
        assert problem_paths(raw) == expected
    else:
        validate_playbook(raw, FakePacks())


@pytest.mark.parametrize("status", ["in_progress", "pending_review", "escalated", "resolved", "closed"])
def test_set_status_accepts_every_reachable_status(status: str) -> None:
    validate_playbook(body(step("set_status", {"status": status})), FakePacks())


def test_set_status_refuses_open_which_no_transition_reaches() -> None:
    assert problem_paths(body(step("set_status", {"status": "open"}))) == ["steps[0].params.status"]


def test_add_comment_text_is_bounded() -> None:
    assert problem_paths(body(step("add_comment", {"text": "x" * 4001}))) == ["steps[0].params.text"]
    validate_playbook(body(step("add_comment", {"text": "x" * 4000})), FakePacks())


# --- call_tool ----------------------------------------------------------------------------------


def tool(tool_id: Any, payload: Any = None, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"tool_id": tool_id, **extra}
    if payload is not None:
        params["payload"] = payload
    return step("call_tool", params)


def test_call_tool_payload_must_provide_required_parameters() -> None:
    assert problems(body(tool("lookup", {}))) == [
        ("steps[0].params.payload.id", "is required by tool 'lookup'")
    ]


def test_call_tool_refuses_unknown_parameters_when_the_schema_is_closed() -> None:
    found = problem_paths(body(tool("strict", {"a": "x", "c": "y"}), tool("lookup", {"id": "1", "extra": 2})))
    assert found == ["steps[0].params.payload.c"]


def test_call_tool_tool_must_be_approved_and_defined() -> None:
    found = problems(body(tool("unapproved", {}), tool("ghost", {})), FakePacks(approved=("lookup", "ghost")))
    assert [p for p, _ in found] == ["steps[0].params.tool_id", "steps[1].params.tool_id"]
    assert "not approved" in found[0][1] and "unknown tool 'ghost'" in found[1][1]


def test_call_tool_needs_a_domain_with_a_pack() -> None:
    no_domain = problems(body(tool("lookup", {"id": "x"}), match={}))
    assert no_domain == [
        (
            "steps[0].params.tool_id",
            "call_tool steps need conditions.match.domain: the tool is looked up in its pack",
        )
    ]
    other = problems(body(tool("lookup", {"id": "x"}), match={"domain": "Payments"}))
    assert other[0][0] == "steps[0].params.tool_id" and "no domain pack for 'Payments'" in other[0][1]


def test_call_tool_domain_lookup_is_case_insensitive_and_done_once() -> None:
    packs = FakePacks()
    validate_playbook(
        body(tool("lookup", {"id": "x"}), tool("lookup", {"id": "y"}), match={"domain": "FINANCE"}), packs
    )
    assert {d.lower() for d in packs.asked} == {"finance"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tool_id": "lookup"}, ["steps[0].params.payload"]),
        ({"tool_id": "lookup", "payload": "id=1"}, ["steps[0].params.payload"]),
        ({"payload": {}}, ["steps[0].params.tool_id"]),
        ({"tool_id": 5, "payload": {}}, ["steps[0].params.tool_id"]),
    ],
)
def test_call_tool_params_shape(params: dict[str, Any], expected: list[str]) -> None:
    assert problem_paths(body(step("call_tool", params))) == expected


# --- templates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{secrets.key}", "unknown context 'secrets'"),
        ("{exception.colour}", "names no exception field"),
        ("{exception.severity.rank}", "exception.severity has no nested fields"),
        ("{step.owner}", "names no step field"),
        ("{step.name.first}", "names no step field"),
    ],
)
def test_placeholders_that_cannot_resolve(text: str, fragment: str) -> None:
    found = problems(body(step("add_comment", {"text": f"see {text}"})))
    assert len(found) == 1 and found[0][0] == "steps[0].params.text" and fragment in found[0][1]


@pytest.mark.parametrize(
    "text",
    [
        "{exception.attributes.a.b.c}",
        "{exception.raw_payload.x}",
        "{exception.owner.id}",
        "{exception.policy_tags.0}",
        "{domain.name}",
        "{domain.anything_the_pack_may_define}",
        "{policy.queue}",
        "{not a placeholder}",
        "{exception}",
        "plain {{braces}}",
    ],
)
def test_placeholders_that_may_resolve(text: str) -> None:
    validate_playbook(body(step("add_comment", {"text": text})), FakePacks())


def test_placeholders_are_checked_anywhere_in_params_with_their_path() -> None:
    payload = {"id": "{exception.exception_id}", "deep": {"list": [1, {"x": "{bad.one}"}], "y": "{bad.two}"}}
    found = problem_paths(body(tool("lookup", payload)))
    assert found == ["steps[0].params.payload.deep.list[1].x", "steps[0].params.payload.deep.y"]


# --- conditions and storability -------------------------------------------------------------


def test_condition_problems_carry_their_paths() -> None:
    match = {
        "severity_in": ["high", "urgent"],
        "attributes": {"amount": {"gte": "x", "between": [1, 2]}},
        "any_of": [{"domain": ""}, {}],
    }
    assert problem_paths(body(match=match)) == [
        "conditions.match.any_of[0].domain",
        "conditions.match.any_of[1]",
        "conditions.match.attributes.amount.between",
        "conditions.match.severity_in[1]",
    ]


def test_conditions_that_are_not_an_object() -> None:
    raw = body()
    raw["conditions"] = ["domain", "Finance"]
    assert problem_paths(raw) == ["conditions"]


def test_values_dynamodb_cannot_store_are_refused() -> None:
    nested: Any = "x"
    for _ in range(40):
        nested = [nested]
    assert problem_paths(body(step("add_comment", {"text": "x", "n": 10**38}))) == [
        "steps[0].params",
        "steps[0].params.n",
    ]
    assert "steps[0].params" in problem_paths(body(tool("lookup", {"id": nested})))
    assert problem_paths(body(match={"attributes": {"a": {"eq": float("inf")}}}))[0] == "conditions"


def test_problem_is_a_value_object() -> None:
    assert Problem("a", "b") == Problem("a", "b")


# --- packs --------------------------------------------------------------------------------------


def pack_problems(validate: Any, *args: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        validate(*args)
    return [p.path for p in caught.value.problems]


def test_a_valid_policy_pack_with_its_read_only_fields() -> None:
    write = validate_policy_pack(
        {
            "approved_tools": ["lookup"],
            "tag_rules": [{"when": {"exception_type": "REG_*"}, "tags": ["regulatory"]}],
            "severity_overrides": {"Cash Break": "high"},
            "fields": {"escalation_queue": "Tier2", "nested": {"ok": [1, 2]}},
            "version": 4,
            "updated_at": "2026-01-01T00:00:00.000Z",
        }
    )
    assert write.expected_version == 4
    assert write.body.approved_tools == ["lookup"]
    assert validate_policy_pack({}).expected_version is None


def test_policy_pack_problems() -> None:
    raw = {
        "tag_rules": [{"when": {"severity": "urgent"}, "tags": ["x"]}, {"when": [], "tags": ["y"]}],
        "severity_overrides": {"A?": "high"},
        "approved_tools": ["a b"],
        "fields": {"a.b": 1},
        "version": -1,
    }
    assert pack_problems(validate_policy_pack, raw) == [
        "approved_tools[0]",
        "fields.a.b",
        "severity_overrides.A?",
        "tag_rules[0].when.severity",
        "tag_rules[1].when",
        "version",
    ]


def test_a_valid_domain_pack() -> None:
    raw = {
        "exception_types": {"SETTLEMENT_FAIL": {"default_severity": "high"}, "Trade break (FX)": {}},
        "severity_rules": [{"when": {"attributes": {"days": {"gt": 2}}}, "severity": "critical"}],
        "tools": copy.deepcopy(TOOLS)
        | {
            "refs": {
                "parameters": {
                    "type": "object",
                    "$defs": {"id": {"type": "string"}},
                    "properties": {"a": {"$ref": "#/$defs/id"}},
                }
            }
        },
        "fields": {"desk": "London"},
        "domain": "finance",
        "version": 0,
    }
    write = validate_domain_pack(raw, "Finance")
    assert set(write.body.tools) == {"lookup", "strict", "unapproved", "refs"}
    assert write.expected_version == 0


def test_domain_pack_problems() -> None:
    raw = {
        "exception_types": {"ok": {}, "trailing ": {}, "": {}},
        "severity_rules": [{"when": {"nope": 1}, "severity": "high"}],
        "tools": {
            "bad/id": {},
            "schema": {"parameters": {"type": "object", "properties": {"a": {"minimum": "one"}}}},
            "kind": {"parameters": {"type": ["string", "null"]}},
            "remote": {"parameters": {"$ref": "other.json"}},
            "dangling": {"parameters": {"properties": {"a": {"$ref": "#/definitions/a"}}}},
            "flag": {"parameters": True},
        },
        "domain": "Other",
    }
    assert pack_problems(validate_domain_pack, raw, "Finance") == [
        "domain",
        "exception_types.",
        "exception_types.trailing ",
        "severity_rules[0].when.nope",
        "tools.bad/id",
        "tools.dangling.parameters.properties.a.$ref",
        "tools.flag.parameters",
        "tools.kind.parameters.type",
        "tools.remote.parameters.$ref",
        "tools.schema.parameters.properties.a.minimum",
    ]


@pytest.mark.parametrize("raw", [None, [], "pack"])
def test_pack_bodies_must_be_objects(raw: Any) -> None:
    assert pack_problems(validate_policy_pack, raw) == ["body"]
    assert pack_problems(validate_domain_pack, raw, "Finance") == ["body"]
