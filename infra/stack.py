"""The one stack of Exception Playbooks: composes the per-concern constructs, holds no resources itself."""

from __future__ import annotations

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
from exception_playbooks_infra.web import WebHosting


class ExceptionPlaybooksStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cognito_domain_prefix: str | None = None,
        alarm_email: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)

        data = DataStores(self, "Data")
        timeline = TimelineBus(self, "Timeline", data=data)
        shared = SharedFunctionProps(
            layer=CommonLayer(self, "CommonLayer").layer,
            environment=function_environment(
                state_table_name=data.state_table.table_name,
                events_table_name=data.events_table.table_name,
                event_bus_name=timeline.bus.event_bus_name,
            ),
            data=data,
            event_bus=timeline.bus,
        )
        agents = Agents(self, "Agents", bus=timeline.bus, shared=shared)
        sla = SlaClock(self, "SlaClock", bus=timeline.bus, shared=shared)

        web = WebHosting(self, "Web")
        auth = Auth(
            self,
            "Auth",
            ui_origin=web.origin,
            # Cognito domain prefixes are unique per region across all accounts.
            domain_prefix=cognito_domain_prefix or f"exception-playbooks-{Aws.ACCOUNT_ID}",
        )
        api = Api(self, "Api", shared=shared, user_pool=auth.user_pool, ui_origin=web.origin)
        web.deploy_site(
            {
                "apiUrl": api.base_url,
                "region": Aws.REGION,
                "userPoolId": auth.user_pool.user_pool_id,
                "userPoolClientId": auth.client.user_pool_client_id,
                "cognitoDomain": auth.domain_url,
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
                "SlaClock": sla.function,
            },
            dead_letter_queues={
                "OutboxPipe": timeline.pipe_dlq,
                **{f"Agent{name}": queue for name, queue in agents.dead_letter_queues.items()},
                "SlaSchedules": sla.schedule_dlq,
                "SlaSync": sla.sync_dlq,
            },
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
            "AlarmTopicArn": monitoring.topic.topic_arn,
            "SiteBucketName": web.site_bucket.bucket_name,
        }.items():
            CfnOutput(self, name, value=value)
