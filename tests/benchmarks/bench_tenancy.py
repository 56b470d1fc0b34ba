"""Tenant-scoped credentials: what AssumeRole per tenant costs a warm container.

Measured against moto's STS in-process (no network), so the "cold tenant" figure is this
process's work only: the AssumeRole call and building a DynamoDB client on the new credentials.
Add the real STS round trip in the function's region (typically 10-40 ms) for AWS.

* cold tenant: ``StsTenantClients.client(tenant)`` the first time (AssumeRole + client);
* warm tenant: the same call again (a dict lookup under a lock);
* STS calls per warm container: a simulated hour of traffic from N tenants, one request per
  tenant per minute, with the session refresh (every 10 min per tenant) and the LRU bound.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from typing import Any

SAMPLES = 30


class _ClockedSts:
    """For the simulated hour: credentials expiring SESSION_SECONDS after the simulated now."""

    def __init__(self, clock: _Clock, duration: int):
        self.clock = clock
        self.duration = duration

    def assume_role(self, **_: Any) -> dict[str, Any]:
        from datetime import UTC, datetime

        expires = datetime.fromtimestamp(self.clock.now + self.duration, tz=UTC)
        keys = {"AccessKeyId": "a", "SecretAccessKey": "s", "SessionToken": "t"}
        return {"Credentials": {**keys, "Expiration": expires}}


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def bench_tenant_credentials() -> dict[str, Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    import boto3
    from exception_playbooks.tenancy import MAX_CACHED_TENANTS, SESSION_SECONDS, StsTenantClients
    from moto import mock_aws

    with mock_aws():
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
        }
        role = boto3.client("iam").create_role(
            RoleName="tenant-data", AssumeRolePolicyDocument=json.dumps(trust)
        )
        arn = role["Role"]["Arn"]
        sts = boto3.client("sts")
        clients = StsTenantClients(arn, "us-east-1", sts=sts)
        clients.client("warmup")  # first boto3 session/model load: a container's cold start, not a tenant's

        cold, warm = [], []
        for index in range(SAMPLES):
            tenant = f"tenant-{index}"
            started = time.perf_counter()
            clients.client(tenant)
            cold.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            clients.client(tenant)
            warm.append((time.perf_counter() - started) * 1000)

        per_hour = {}
        for tenants in (1, 10, MAX_CACHED_TENANTS, 2 * MAX_CACHED_TENANTS):
            clock = _Clock()
            hour = StsTenantClients(
                arn,
                "us-east-1",
                sts=_ClockedSts(clock, SESSION_SECONDS),
                clock=clock,
                client_factory=lambda _: object(),
            )
            for _minute in range(60):  # every tenant calls once a minute for an hour
                clock.now += 60
                for tenant in range(tenants):
                    hour.client(f"t{tenant}")
            per_hour[tenants] = hour.assume_calls

    result = {
        "cold_tenant_ms_median": round(statistics.median(cold), 2),
        "cold_tenant_ms_max": round(max(cold), 2),
        "warm_tenant_ms_median": round(statistics.median(warm), 4),
        "sts_calls_per_container_hour": per_hour,
    }
    print(f"cold tenant (AssumeRole on moto + client): median {result['cold_tenant_ms_median']} ms")
    print(f"warm tenant: median {result['warm_tenant_ms_median']} ms")
    for tenants, calls in per_hour.items():
        print(f"{tenants:3d} active tenants for an hour: {calls} AssumeRole calls")
    return result
