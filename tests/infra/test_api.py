"""REST API wired from routes.ROUTES behind a Cognito authorizer; the user pool's tenant attribute."""

from __future__ import annotations

from typing import Any

from exception_playbooks.models.enums import Role
from exception_playbooks.routes import ROUTES

from .conftest import Synthesized
from .support import referenced_ids


def _resource_paths(synthesized: Synthesized) -> dict[str, str]:
    """{resource logical id: full path} from the PathPart/ParentId chain."""
    resources = synthesized.of_type("AWS::ApiGateway::Resource")
    paths: dict[str, str] = {}

    def path_of(logical_id: str) -> str:
        if logical_id not in paths:
            props = resources[logical_id]["Properties"]
            parent = props["ParentId"]
            prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
            paths[logical_id] = f"{prefix}/{props['PathPart']}"
        return paths[logical_id]

    for logical_id in resources:
        path_of(logical_id)
    return paths


def _methods(synthesized: Synthesized) -> list[tuple[str, str, dict[str, Any]]]:
    paths = _resource_paths(synthesized)
    return [
        (m["Properties"]["HttpMethod"], paths[m["Properties"]["ResourceId"]["Ref"]], m["Properties"])
        for m in synthesized.of_type("AWS::ApiGateway::Method").values()
        if "Ref" in m["Properties"]["ResourceId"]
    ]


def test_every_route_is_served_by_its_function_group(synthesized: Synthesized) -> None:
    api = synthesized.stack.node.find_child("Api")
    function_ids = {group: synthesized.logical_id(fn) for group, fn in api.functions.items()}
    served = {(method, path): props for method, path, props in _methods(synthesized) if method != "OPTIONS"}
    assert set(served) == {(route.method, route.path) for route in ROUTES}
    for route in ROUTES:
        integration = served[(route.method, route.path)]["Integration"]
        assert integration["Type"] == "AWS_PROXY"
        assert referenced_ids(integration["Uri"]) == {function_ids[route.function]}, route


def test_cognito_authorizer_guards_every_api_method(synthesized: Synthesized) -> None:
    (authorizer_id, authorizer), *others = synthesized.of_type("AWS::ApiGateway::Authorizer").items()
    assert not others
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    user_pool = synthesized.logical_id(synthesized.stack.node.find_child("Auth").user_pool)
    assert referenced_ids(authorizer["Properties"]["ProviderARNs"]) == {user_pool}

    guarded = 0
    for method, path, props in _methods(synthesized):
        assert path.startswith("/api")
        if method == "OPTIONS":  # CORS preflight: browsers never send credentials with it
            assert props["AuthorizationType"] == "NONE"
            assert props["Integration"]["Type"] == "MOCK"
            continue
        assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (method, path)
        assert props["AuthorizerId"] == {"Ref": authorizer_id}, (method, path)
        guarded += 1
    assert guarded == len(ROUTES)


def test_path_parameters_are_required(synthesized: Synthesized) -> None:
    for method, path, props in _methods(synthesized):
        if method == "OPTIONS":
            continue
        names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
        assert props.get("RequestParameters", {}) == {f"method.request.path.{n}": True for n in names}, path
        assert "RequestValidatorId" in props


def test_cors_allows_only_the_ui_origin(synthesized: Synthesized) -> None:
    distribution = synthesized.logical_id(synthesized.stack.node.find_child("Web").distribution)
    preflights = [props for method, _, props in _methods(synthesized) if method == "OPTIONS"]
    assert preflights
    for props in preflights:
        headers = props["Integration"]["IntegrationResponses"][0]["ResponseParameters"]
        origin = headers["method.response.header.Access-Control-Allow-Origin"]
        assert referenced_ids(origin) == {distribution}
    for response in synthesized.of_type("AWS::ApiGateway::GatewayResponse").values():
        origin = response["Properties"]["ResponseParameters"][
            "gatewayresponse.header.Access-Control-Allow-Origin"
        ]
        assert referenced_ids(origin) == {distribution}


def test_stage_is_throttled_traced_and_access_logged(synthesized: Synthesized) -> None:
    (stage,) = synthesized.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    (settings,) = props["MethodSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["DataTraceEnabled"] is False
    (log_group,) = referenced_ids(props["AccessLogSetting"]["DestinationArn"])
    assert synthesized.resources[log_group]["Properties"]["RetentionInDays"] > 0
    assert props["AccessLogSetting"]["Format"].startswith("{")


def test_tenant_id_is_an_immutable_attribute_no_client_may_write(synthesized: Synthesized) -> None:
    (pool,) = synthesized.of_type("AWS::Cognito::UserPool").values()
    schema = {attribute["Name"]: attribute for attribute in pool["Properties"]["Schema"]}
    assert schema["tenant_id"]["AttributeDataType"] == "String"
    assert schema["tenant_id"]["Mutable"] is False
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True

    clients = list(synthesized.of_type("AWS::Cognito::UserPoolClient").values())
    assert len(clients) == 2  # the web UI's and the machine clients'
    for client in clients:
        assert "custom:tenant_id" not in client["Properties"].get("WriteAttributes", [])
        assert "custom:tenant_id" in client["Properties"]["ReadAttributes"]
        assert client["Properties"]["GenerateSecret"] is False


def test_machine_clients_sign_in_with_a_password_and_no_oauth(synthesized: Synthesized) -> None:
    flows = {
        tuple(sorted(c["Properties"]["ExplicitAuthFlows"])): c["Properties"]
        for c in synthesized.of_type("AWS::Cognito::UserPoolClient").values()
    }
    automation = flows[("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH")]
    assert automation.get("AllowedOAuthFlowsUserPoolClient") in (None, False)
    web = flows[("ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH")]
    assert web["AllowedOAuthFlows"] == ["code"]  # with PKCE (ui/js/auth.js); never implicit


def test_gateway_errors_use_the_api_error_shape(synthesized: Synthesized) -> None:
    responses = list(synthesized.of_type("AWS::ApiGateway::GatewayResponse").values())
    assert {r["Properties"]["ResponseType"] for r in responses} == {"DEFAULT_4XX", "DEFAULT_5XX"}
    for response in responses:
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        assert '"code":"$context.error.responseType"' in template
        assert '"message":$context.error.messageString' in template


def test_user_pool_groups(synthesized: Synthesized) -> None:
    groups = {
        g["Properties"]["GroupName"] for g in synthesized.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {role.value for role in Role}
