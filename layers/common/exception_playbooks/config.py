"""Environment configuration, parsed once per process into a pydantic model."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    state_table: str = "exception-playbooks-state"
    events_table: str = "exception-playbooks-events"
    event_bus_name: str = "exception-playbooks"
    aws_region: str = "us-east-1"
    service_name: str = "exception-playbooks"
    pack_cache_seconds: float = 30.0
    idempotency_ttl_seconds: int = 24 * 3600
    local_stack: bool = False
    # The web UI's origin (CloudFront); API answers carry CORS headers for it. Empty: no CORS.
    cors_allow_origin: str = ""
    # Deployed: the role assumed per tenant (tenancy.StsTenantClients). Empty: the local guard.
    tenant_data_role_arn: str = ""


ENV_NAMES = {
    "state_table": "STATE_TABLE",
    "events_table": "EVENTS_TABLE",
    "event_bus_name": "EVENT_BUS_NAME",
    "aws_region": "AWS_REGION",
    "service_name": "POWERTOOLS_SERVICE_NAME",
    "pack_cache_seconds": "PACK_CACHE_SECONDS",
    "idempotency_ttl_seconds": "IDEMPOTENCY_TTL_SECONDS",
    "local_stack": "LOCAL_STACK",
    "cors_allow_origin": "CORS_ALLOW_ORIGIN",
    "tenant_data_role_arn": "TENANT_DATA_ROLE_ARN",
}


@lru_cache(maxsize=1)
def settings() -> Settings:
    values = {field: os.environ[env] for field, env in ENV_NAMES.items() if env in os.environ}
    return Settings.model_validate(values)


def reset_settings() -> None:
    """Tests change the environment; this forgets the parsed copy."""
    settings.cache_clear()
