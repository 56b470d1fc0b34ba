"""Every service function: runtime, architecture, the common layer, its own log group, environment."""

from __future__ import annotations

from typing import Any

from exception_playbooks import bus
from exception_playbooks.config import ENV_NAMES
from exception_playbooks.routes import API_FUNCTIONS

from .conftest import Synthesized
from .support import referenced_ids


def service_functions(synthesized: Synthesized) -> dict[str, str]:
    """{name: logical id} of the API and agent functions (not aws-cdk-lib's deployment helper)."""
    api = synthesized.stack.node.find_child("Api")
    agents = synthesized.stack.node.find_child("Agents")
    named = {f"api:{group}": fn for group, fn in api.functions.items()}
    named.update({f"agent:{name}": fn for name, fn in agents.functions.items()})
    named["auth:PreTokenGeneration"] = synthesized.stack.node.find_child("Auth").pre_token
    named["sla:SlaClock"] = synthesized.stack.node.find_child("SlaClock").function
    return {name: synthesized.logical_id(fn) for name, fn in named.items()}


def test_one_function_per_endpoint_group_and_agent(synthesized: Synthesized) -> None:
    functions = service_functions(synthesized)
    assert set(functions) == {f"api:{g}" for g in API_FUNCTIONS} | {f"agent:{a.name}" for a in bus.AGENTS} | {
        "auth:PreTokenGeneration",
        "sla:SlaClock",
    }
    # Plus the single BucketDeployment handler of aws-cdk-lib.
    assert len(synthesized.of_type("AWS::Lambda::Function")) == len(functions) + 1


def test_functions_run_python312_on_arm64_with_tracing(synthesized: Synthesized) -> None:
    for name, logical_id in service_functions(synthesized).items():
        props = synthesized.resources[logical_id]["Properties"]
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "PassThrough"}, name
        assert 512 <= props["MemorySize"] <= 1024, name
        assert 3 <= props["Timeout"] <= 60, name


def test_functions_use_the_common_layer(synthesized: Synthesized) -> None:
    layer = synthesized.stack.node.find_child("CommonLayer").layer
    layer_id = synthesized.logical_id(layer)
    layer_props = synthesized.resources[layer_id]["Properties"]
    assert layer_props["CompatibleRuntimes"] == ["python3.12"]
    assert layer_props["CompatibleArchitectures"] == ["arm64"]
    for name, logical_id in service_functions(synthesized).items():
        assert synthesized.resources[logical_id]["Properties"]["Layers"] == [{"Ref": layer_id}], name


def test_each_function_logs_to_its_own_group_with_retention(synthesized: Synthesized) -> None:
    log_groups = set()
    for name, logical_id in service_functions(synthesized).items():
        (log_group_id,) = referenced_ids(synthesized.resources[logical_id]["Properties"]["LoggingConfig"])
        log_group = synthesized.resources[log_group_id]
        assert log_group["Type"] == "AWS::Logs::LogGroup", name
        assert log_group["Properties"]["RetentionInDays"] > 0, name
        log_groups.add(log_group_id)
    assert len(log_groups) == len(service_functions(synthesized))


def _environment(synthesized: Synthesized, logical_id: str) -> dict[str, Any]:
    variables: dict[str, Any] = synthesized.resources[logical_id]["Properties"]["Environment"]["Variables"]
    return variables


def test_environment_carries_every_deployed_setting(synthesized: Synthesized) -> None:
    data = synthesized.stack.node.find_child("Data")
    state_table = synthesized.logical_id(data.state_table)
    events_table = synthesized.logical_id(data.events_table)
    event_bus = synthesized.logical_id(synthesized.stack.node.find_child("Timeline").bus)
    deployed = {name for field, name in ENV_NAMES.items() if field not in {"aws_region", "local_stack"}}

    for name, logical_id in service_functions(synthesized).items():
        env = _environment(synthesized, logical_id)
        assert deployed <= set(env), name
        assert "AWS_REGION" not in env and "LOCAL_STACK" not in env, name  # reserved / local only
        assert env["STATE_TABLE"] == {"Ref": state_table}, name
        assert env["EVENTS_TABLE"] == {"Ref": events_table}, name
        assert env["EVENT_BUS_NAME"] == {"Ref": event_bus}, name
        assert env["POWERTOOLS_SERVICE_NAME"] == "exception-playbooks", name
        assert env["POWERTOOLS_METRICS_NAMESPACE"] and env["LOG_LEVEL"], name


def test_api_functions_know_the_ui_origin_for_cors(synthesized: Synthesized) -> None:
    distribution = synthesized.logical_id(synthesized.stack.node.find_child("Web").distribution)
    for name, logical_id in service_functions(synthesized).items():
        if name.startswith("api:"):
            assert referenced_ids(_environment(synthesized, logical_id)["CORS_ALLOW_ORIGIN"]) == {
                distribution
            }
