"""The one stack of Exception Playbooks: composes the per-concern constructs, holds no resources itself."""

from __future__ import annotations

import re
from typing import Any

from aws_cdk import Aws, CfnOutput, Stack
from constructs import Construct
from exception_playbooks_infra.agents import Agents, TimelineBus
from exception_playbooks_infra.api import Api, Auth
from exception_playbooks_infra.data import DataStores
from exception_playbooks_infra.functions import CommonLayer, SharedFunctionProps, function_environment
from exception_playbooks_infra.monitoring import Monitoring
from exception_playbooks_infra.nag import suppress_accepted_findings
from exception_playbooks_infra.sla import SlaClock
from exception_playbooks_infra.tenant_access import TenantDataAccess
from exception_playbooks_infra.web import WebHosting


def default_domain_prefix(stack_name: str) -> str:
    """``<stack name>-<account>``, lower-case letters, digits and hyphens only (Cognito's rule).

    Cognito refuses prefixes containing "aws", "amazon" or "cognito"; those become "x".
    """
    slug = re.sub(r"[^a-z0-9]+", "-", stack_name.lower()).strip("-") or "exception-playbooks"
    slug = re.sub(r"aws|amazon|cognito", "x", slug)[:40].strip("-")
    return f"{slug}-{Aws.ACCOUNT_ID}"


class ExceptionPlaybooksStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cognito_domain_prefix: str | None = None,
        alarm_email: str | None = None,
        reserved_concurrency: int | None = None,
        cloudfront_web_acl_arn: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        data = DataStores(self, "Data")
        tenant_data = TenantDataAccess(self, "TenantData", data=data)
        timeline = TimelineBus(self, "Timeline", data=data)
        shared = SharedFunctionProps(
            layer=CommonLayer(self, "CommonLayer").layer,
            environment=function_environment(
                state_table_name=data.state_table.table_name,
                events_table_name=data.events_table.table_name,
                event_bus_name=timeline.bus.event_bus_name,
                tenant_data_role_arn=tenant_data.role.role_arn,
            ),
            data=data,
            event_bus=timeline.bus,
            tenant_data=tenant_data,
            reserved_concurrency=reserved_concurrency,
        )
        agents = Agents(self, "Agents", bus=timeline.bus, shared=shared)
        sla = SlaClock(self, "SlaClock", bus=timeline.bus, shared=shared)

        web = WebHosting(self, "Web")
        auth = Auth(
            self,
            "Auth",
            ui_origin=web.origin,
            # Cognito domain prefixes are unique per region across all accounts; a stack name is
            # unique per account and region, so (stack, account) never collides.
            domain_prefix=cognito_domain_prefix or default_domain_prefix(self.stack_name),
            shared=shared,
        )
        api = Api(
            self,
            "Api",
            shared=shared,
            user_pool=auth.user_pool,
            authorization_scopes=auth.authorization_scopes,
            ui_origin=web.origin,
        )
        web.protect(
            api_origin=f"https://{api.rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}",
            cognito_origin=auth.domain_url,
            web_acl_arn=cloudfront_web_acl_arn,
        )
        web.deploy_site(
            {
                "apiUrl": api.base_url,
                "region": Aws.REGION,
                "userPoolId": auth.user_pool.user_pool_id,
                "userPoolClientId": auth.client.user_pool_client_id,
                "cognitoDomain": auth.domain_url,
                "apiScope": auth.people_scope,  # the web client's access token carries it (ui/js/auth.js)
                "redirectUrl": f"{web.origin}/",
            }
        )

        monitoring = Monitoring(
            self,
            "Monitoring",
            rest_api=api.rest_api,
            functions={
                **{f"Api{group.capitalize()}": function for group, function in api.functions.items()},
                **{f"Agent{name}": function for name, function in agents.functions.items()},
                "PreTokenGeneration": auth.pre_token,
                "SlaClock": sla.function,
            },
            dead_letter_queues={
                "OutboxPipe": timeline.pipe_dlq,
                "TimelineTamper": timeline.tamper_queue,
                **{f"Agent{name}": queue for name, queue in agents.dead_letter_queues.items()},
                "SlaSchedules": sla.schedule_dlq,
                "SlaSync": sla.sync_dlq,
            },
            async_functions={f"Agent{name}": function for name, function in agents.functions.items()},
            pipe_names={"OutboxPipe": timeline.pipe.ref, "TamperPipe": timeline.tamper_pipe.ref},
            rules={f"Agent{name}": rule for name, rule in agents.rules.items()},
            event_bus_name=timeline.bus.event_bus_name,
            tables={"StateTable": data.state_table, "EventsTable": data.events_table},
            alarm_email=alarm_email,
        )
        suppress_accepted_findings(self)

        for name, value in {
            "ApiUrl": api.base_url,
            "WebUrl": web.origin,
            "UserPoolId": auth.user_pool.user_pool_id,
            "UserPoolClientId": auth.client.user_pool_client_id,
            "AutomationClientId": auth.automation_client.user_pool_client_id,
            "CognitoDomain": auth.domain_url,
            "StateTableName": data.state_table.table_name,
            "EventsTableName": data.events_table.table_name,
            "EventBusName": timeline.bus.event_bus_name,
            "TenantDataRoleArn": tenant_data.role.role_arn,
            "TimelineBreakGlassRoleArn": data.break_glass_role.role_arn,
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "SiteBucketName": web.site_bucket.bucket_name,
        }.items():
            CfnOutput(self, name, value=value)
