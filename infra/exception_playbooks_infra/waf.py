"""WAF web ACLs: AWS managed common rules plus a per-IP rate-based rule.

The API's ACL is REGIONAL and lives in this stack. A CloudFront ACL must be created in
us-east-1 (scope CLOUDFRONT), which a stack in another region cannot do: give its ARN with the
``cloudfrontWebAclArn`` context value (``web_acl(..., scope="CLOUDFRONT")`` in a us-east-1 stack
makes one); without it the distribution serves only the static UI bundle unprotected by WAF
(the data path, the API, is behind its own ACL).
"""

from __future__ import annotations

from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

# Requests per 5 minutes from one IP before WAF blocks it (the stage throttle still applies).
RATE_LIMIT_PER_5_MINUTES = 2000
COMMON_RULE_SET = "AWSManagedRulesCommonRuleSet"


def _visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
    )


def web_acl(scope: Construct, construct_id: str, *, acl_scope: str, metric_prefix: str) -> wafv2.CfnWebACL:
    return wafv2.CfnWebACL(
        scope,
        construct_id,
        scope=acl_scope,
        default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
        visibility_config=_visibility(metric_prefix),
        rules=[
            wafv2.CfnWebACL.RuleProperty(
                name=COMMON_RULE_SET,
                priority=0,
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=COMMON_RULE_SET
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}Common"),
            ),
            wafv2.CfnWebACL.RuleProperty(
                name="RatePerIp",
                priority=1,
                action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                statement=wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=RATE_LIMIT_PER_5_MINUTES, aggregate_key_type="IP"
                    )
                ),
                visibility_config=_visibility(f"{metric_prefix}Rate"),
            ),
        ],
    )
