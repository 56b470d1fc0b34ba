"""Cognito pre-token-generation trigger (V3_0): tenant claims in access tokens (identity.py).

Automation clients' mappings are SSM parameters under ``AUTOMATION_CLIENTS_PATH`` (the role may read
nothing else), read on first use and cached per warm container for a minute.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from exception_playbooks.identity import AutomationClients, customize_tokens


@lru_cache(maxsize=1)
def _ssm() -> Any:
    import boto3

    return boto3.client("ssm")


def _read_mapping(client_id: str) -> str | None:
    client = _ssm()
    try:
        answer = client.get_parameter(Name=os.environ["AUTOMATION_CLIENTS_PATH"] + client_id)
    except client.exceptions.ParameterNotFound:
        return None
    value: str = answer["Parameter"]["Value"]
    return value


CLIENTS = AutomationClients(_read_mapping)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return customize_tokens(event, CLIENTS)
