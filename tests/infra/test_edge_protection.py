"""WAF on the API stage, the CloudFront CSP, Cognito threat protection and token lifetimes."""

from __future__ import annotations

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
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    for client in synthesized.of_type("AWS::Cognito::UserPoolClient").values():
        props = client["Properties"]
        units = props["TokenValidityUnits"]
        assert (props["IdTokenValidity"], units["IdToken"]) == (30, "minutes")
        assert (props["AccessTokenValidity"], units["AccessToken"]) == (30, "minutes")
        assert props["RefreshTokenValidity"] <= 12 * 60 and units["RefreshToken"] == "minutes"


def test_the_hosted_ui_domain_prefix_is_unique_per_stack_and_account() -> None:
    import stack

    assert "mystack-prod" in str(stack.default_domain_prefix("MyStack_Prod"))
    assert "aws" not in str(stack.default_domain_prefix("aws-Cognito-Test")).split("-${")[0]


def test_admin_mfa_is_enforced_by_the_pre_token_generation_trigger(synthesized: Synthesized) -> None:
    pool = _only(synthesized, "AWS::Cognito::UserPool")
    trigger_id = synthesized.logical_id(synthesized.stack.node.find_child("Auth").pre_token)
    config = pool["LambdaConfig"]["PreTokenGenerationConfig"]
    assert config["LambdaVersion"] == "V2_0"
    assert referenced_ids(config["LambdaArn"]) == {trigger_id}
    assert pool["MfaConfiguration"] == "OPTIONAL" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    pool_id = next(iter(synthesized.of_type("AWS::Cognito::UserPool")))
    lookups = [
        s
        for p in synthesized.of_type("AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "cognito-idp:AdminGetUser"
    ]
    assert [referenced_ids(s["Resource"]) for s in lookups] == [{pool_id}]
