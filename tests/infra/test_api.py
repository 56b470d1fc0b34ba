"""REST API wired from routes.ROUTES behind a Cognito authorizer; the user pool's tenant attribute."""

from __future__ import annotations

from typing import Any

from exception_playbooks.identity import parse_mapping
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


def _clients(synthesized: Synthesized) -> dict[str, dict[str, Any]]:
    auth = synthesized.stack.node.find_child("Auth")
    return {
        name: synthesized.resources[synthesized.logical_id(client)]["Properties"]
        for name, client in (("web", auth.client), ("automation", auth.automation_client))
    }


def _scopes(synthesized: Synthesized, client: dict[str, Any]) -> list[str]:
    """AllowedOAuthScopes with the resource server's Ref (its identifier) resolved."""
    ((server_id, server),) = synthesized.of_type("AWS::Cognito::UserPoolResourceServer").items()
    scopes = []
    for scope in client["AllowedOAuthScopes"]:
        if isinstance(scope, dict):
            ref, name = scope["Fn::Join"][1]
            assert ref == {"Ref": server_id}  # also orders the client after its scopes
            scope = server["Properties"]["Identifier"] + name
        scopes.append(scope)
    return scopes


def test_tenant_id_is_an_immutable_attribute_no_client_may_write(synthesized: Synthesized) -> None:
    (pool,) = synthesized.of_type("AWS::Cognito::UserPool").values()
    schema = {attribute["Name"]: attribute for attribute in pool["Properties"]["Schema"]}
    assert schema["tenant_id"]["AttributeDataType"] == "String"
    assert schema["tenant_id"]["Mutable"] is False
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True

    clients = list(synthesized.of_type("AWS::Cognito::UserPoolClient").values())
    assert len(clients) == 2  # the web UI's and the demo automation client
    for client in clients:
        assert "custom:tenant_id" not in client["Properties"].get("WriteAttributes", [])
        assert "custom:tenant_id" in client["Properties"]["ReadAttributes"]


def test_the_api_scopes_live_on_a_resource_server(synthesized: Synthesized) -> None:
    (server,) = synthesized.of_type("AWS::Cognito::UserPoolResourceServer").values()
    props = server["Properties"]
    assert props["Identifier"] == "exception-playbooks"
    assert sorted(s["ScopeName"] for s in props["Scopes"]) == ["api", "automation"]


def test_the_web_client_is_public_and_uses_the_code_flow_with_the_api_scope(synthesized: Synthesized) -> None:
    web = _clients(synthesized)["web"]
    assert web["GenerateSecret"] is False  # a browser cannot keep one; PKCE instead (ui/js/auth.js)
    assert web["AllowedOAuthFlows"] == ["code"]  # never implicit, never client credentials
    assert web["AllowedOAuthFlowsUserPoolClient"] is True
    assert _scopes(synthesized, web) == ["openid", "email", "profile", "exception-playbooks/api"]
    assert sorted(web["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]


def test_machine_clients_use_client_credentials_only(synthesized: Synthesized) -> None:
    automation = _clients(synthesized)["automation"]
    assert automation["GenerateSecret"] is True
    assert automation["AllowedOAuthFlows"] == ["client_credentials"]
    assert _scopes(synthesized, automation) == ["exception-playbooks/automation"]
    # No user sign-in flow (no password, no SRP): only the flag a client needs to exist.
    assert automation["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]
    assert automation["TokenValidityUnits"]["AccessToken"] == "minutes"
    assert automation["AccessTokenValidity"] <= 15


def test_the_demo_automation_client_has_its_mapping(synthesized: Synthesized) -> None:
    client_id = synthesized.logical_id(synthesized.stack.node.find_child("Auth").automation_client)
    (parameter,) = synthesized.of_type("AWS::SSM::Parameter").values()
    props = parameter["Properties"]
    prefix, ref = props["Name"]["Fn::Join"][1]
    assert prefix == f"/{synthesized.stack.stack_name}/automation-clients/"
    assert ref == {"Ref": client_id}
    assert props["Type"] == "String"
    assert parse_mapping(props["Value"]).roles == ("automation",)


def test_every_api_method_wants_an_access_token_with_an_api_scope(synthesized: Synthesized) -> None:
    methods = list(synthesized.of_type("AWS::ApiGateway::Method").values())
    guarded = [m["Properties"] for m in methods if m["Properties"]["HttpMethod"] != "OPTIONS"]
    assert len(guarded) == len(ROUTES)
    for method in guarded:
        assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
        assert sorted(method["AuthorizationScopes"]) == [
            "exception-playbooks/api",
            "exception-playbooks/automation",
        ]
    for method in methods:  # the CORS preflight stays open: browsers send it without credentials
        if method["Properties"]["HttpMethod"] == "OPTIONS":
            assert method["Properties"]["AuthorizationType"] == "NONE"


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
