"""WAF on the API stage, the CloudFront CSP, Cognito threat protection and token lifetimes."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Synthesized
from .support import referenced_ids


def _only(synthesized: Synthesized, resource_type: str) -> dict[str, Any]:
    (resource,) = synthesized.of_type(resource_type).values()
    return resource["Properties"]


def test_the_api_stage_has_a_waf_acl_with_common_rules_and_a_rate_rule(synthesized: Synthesized) -> None:
    acl = _only(synthesized, "AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    rules = {rule["Name"]: rule for rule in acl["Rules"]}
    managed = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert managed == {"VendorName": "AWS", "Name": "AWSManagedRulesCommonRuleSet"}
    rate = rules["RatePerIp"]
    assert rate["Action"] == {"Block": {}}
    assert rate["Statement"]["RateBasedStatement"]["AggregateKeyType"] == "IP"
    association = _only(synthesized, "AWS::WAFv2::WebACLAssociation")
    stage_id = synthesized.logical_id(synthesized.stack.node.find_child("Api").rest_api.deployment_stage)
    assert stage_id in referenced_ids(association["ResourceArn"])


def test_the_ui_answers_with_a_strict_csp_naming_the_api_and_cognito(synthesized: Synthesized) -> None:
    policy = _only(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = policy["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    rendered = str(csp)
    assert "frame-ancestors 'none'" in rendered and "default-src 'none'" in rendered
    assert "'unsafe-inline'" not in rendered and "*" not in rendered.replace("*.", "")
    api = synthesized.stack.node.find_child("Api").rest_api
    domain = synthesized.stack.node.find_child("Auth").domain
    assert {synthesized.logical_id(api), synthesized.logical_id(domain)} <= referenced_ids(csp)
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    distribution = _only(synthesized, "AWS::CloudFront::Distribution")["DistributionConfig"]
    policy_id = synthesized.logical_id(
        synthesized.stack.node.find_child("Web").node.find_child("SecurityHeaders")
    )
    assert referenced_ids(distribution["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]) == {policy_id}


def test_cognito_threat_protection_and_short_tokens(synthesized: Synthesized) -> None:
    pool = _only(synthesized, "AWS::Cognito::UserPool")
    assert pool["UserPoolTier"] == "PLUS"  # also what the V3_0 (M2M) trigger event needs
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    for client in synthesized.of_type("AWS::Cognito::UserPoolClient").values():
        props = client["Properties"]
        units = props["TokenValidityUnits"]
        assert units["AccessToken"] == "minutes" and props["AccessTokenValidity"] <= 30
        if "IdTokenValidity" in props:  # client-credentials clients get no ID token
            assert (props["IdTokenValidity"], units["IdToken"]) == (30, "minutes")
        if "RefreshTokenValidity" in props:
            assert props["RefreshTokenValidity"] <= 12 * 60 and units["RefreshToken"] == "minutes"


def test_the_hosted_ui_domain_prefix_is_unique_per_stack_and_account() -> None:
    import stack

    assert "mystack-prod" in str(stack.default_domain_prefix("MyStack_Prod"))
    assert "aws" not in str(stack.default_domain_prefix("aws-Cognito-Test")).split("-${")[0]


def test_mfa_is_required_with_an_authenticator_app_only(synthesized: Synthesized) -> None:
    pool = _only(synthesized, "AWS::Cognito::UserPool")
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]  # TOTP; no SMS


def test_the_pre_token_trigger_is_v3_and_reads_only_its_mappings(synthesized: Synthesized) -> None:
    pool = _only(synthesized, "AWS::Cognito::UserPool")
    trigger = synthesized.stack.node.find_child("Auth").pre_token
    trigger_id = synthesized.logical_id(trigger)
    config = pool["LambdaConfig"]["PreTokenGenerationConfig"]
    assert config["LambdaVersion"] == "V3_0"  # V2_0 would leave client-credentials tokens alone
    assert referenced_ids(config["LambdaArn"]) == {trigger_id}
    environment = synthesized.resources[trigger_id]["Properties"]["Environment"]["Variables"]
    path = f"/{synthesized.stack.stack_name}/automation-clients/"
    assert environment["AUTOMATION_CLIENTS_PATH"] == path

    role_id = synthesized.logical_id(trigger.role)
    statements = [
        s
        for p in synthesized.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    ssm = [s for s in statements if any(a.startswith("ssm:") for a in _actions(s))]
    assert len(ssm) == 1 and _actions(ssm[0]) == ["ssm:GetParameter"]
    resource = json.dumps(ssm[0]["Resource"])
    assert resource.endswith(f':parameter{path}*"]]}}') and resource.count("*") == 1
    assert not any(a.startswith(("cognito-idp:", "dynamodb:")) for s in statements for a in _actions(s))


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)
